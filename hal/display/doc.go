// Package display drives a driver display from the station's hal.Screens.
//
// LCD lays a screen out on a character display that periph.io drives
// (display.TextDisplay: an AIP31068 or other HD44780-compatible LCD on
// I²C, a SparkFun SerLCD, a Matrix Orbital module), two or four lines of
// 16 or 20 characters. A character display cannot draw a QR code: the
// screen says a receipt is available instead.
//
// OLED draws a screen on a small monochrome graphic display (periph's
// display.Drawer; NewSSD1306 opens the common 128x64 SSD1306 module on
// I²C): the price text in a built-in 5x7 font, the cost in double size,
// and the receipt's QR code (package qr) in a square at the right edge.
package display
