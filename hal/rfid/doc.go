// Package rfid polls a contactless card reader (an MFRC522 over SPI,
// through periph.io/x/devices/v3/mfrc522) and reports the UIDs of presented
// cards as upper-case hexadecimal id tags in hal.CardPresented events.
//
// The reader is used through the small UIDReader interface, which
// *mfrc522.Dev satisfies: periph's MFRC522 driver waits for its IRQ pin in
// real time, so the polling and debounce logic here is tested against a
// fake reader rather than against spitest, and the real chip is exercised on
// hardware only.
//
// A card held on the reader is reported once; it is reported again only
// after it was absent for Gone consecutive polls, so that a card lifted and
// presented again counts as a new swipe while one resting on the reader does
// not repeat.
package rfid
