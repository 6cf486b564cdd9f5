// Package display drives a driver display from the station's hal.Screens:
// LCD lays a screen out on a character display that periph.io drives
// (display.TextDisplay: an AIP31068 or other HD44780-compatible LCD on
// I²C, a SparkFun SerLCD, a Matrix Orbital module), two or four lines of
// 16 or 20 characters.
//
// A character display cannot draw a QR code: the screen says a receipt is
// available instead, and the code itself needs a graphic display.
package display
