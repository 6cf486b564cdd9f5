package hal

// Screen is what a driver display shows for one connector: the texts are
// ready to show (the station has chosen the language and formatted the
// amounts), so that a driver only lays them out. The zero value is a blank
// screen.
type Screen struct {
	// Connector is the outlet the screen is about (1-based).
	Connector int
	// Language is the RFC 5646 code of the texts ("en", "de"); "" when
	// unknown.
	Language string
	// PriceText is the price the driver will pay (the CSMS's text, or the
	// offline default); may be empty.
	PriceText string
	// Cost is the running or final cost with its currency, e.g.
	// "EUR 3.31"; empty before any is known.
	Cost string
	// Final says Cost is the session's final cost.
	Final bool
	// Estimated says Cost was computed by the charger itself (offline, or
	// between the CSMS's updates) rather than sent by the CSMS.
	Estimated bool
	// QRCode is the text to encode as a QR code (a receipt or payment
	// link); empty for none.
	QRCode string
	// Offline says the charger has no connection to its back end.
	Offline bool
}

// Display is a driver display: a character LCD, a small OLED, or the
// simulated board's record of what it would show. One display may serve
// several connectors (Show says which); a board gives each connector's
// hal.Connector the display that shows it.
type Display interface {
	Resource // Halt blanks the display.
	// Show replaces what the display shows for s.Connector. It may block
	// for the bus transfer (an I2C LCD takes milliseconds): the station
	// calls it off its loop.
	Show(s Screen) error
}
