package display

import (
	"strconv"

	"periph.io/x/devices/v3/ssd1306/image1bit"
)

// A 5x7 pixel font of printable ASCII for small graphic displays, drawn in
// a 6x8 cell (a column and a row of spacing). The module graph has no
// font package (golang.org/x/image is not in it), and a charger's display
// needs one size of plain characters only.
const (
	glyphW, glyphH = 5, 7
	cellW, cellH   = glyphW + 1, glyphH + 1
)

// glyphs holds the characters 0x20 to 0x7E, seven rows each as two hex
// digits, the leftmost pixel the 0x10 bit.
const glyphs = "" +
	"00000000000000" + // ' '
	"04040404040004" + // '!'
	"0A0A0A00000000" + // '"'
	"0A0A1F0A1F0A0A" + // '#'
	"040F140E051E04" + // '$'
	"18190204081303" + // '%'
	"0C121408151209" + // '&'
	"04040000000000" + // '\''
	"02040808080402" + // '('
	"08040202020408" + // ')'
	"0004150E150400" + // '*'
	"0004041F040400" + // '+'
	"000000000C0408" + // ','
	"0000001F000000" + // '-'
	"00000000000C0C" + // '.'
	"00010204081000" + // '/'
	"0E11131519110E" + // '0'
	"040C040404040E" + // '1'
	"0E11010204081F" + // '2'
	"1F02040201110E" + // '3'
	"02060A121F0202" + // '4'
	"1F101E0101110E" + // '5'
	"0608101E11110E" + // '6'
	"1F010204080808" + // '7'
	"0E11110E11110E" + // '8'
	"0E11110F01020C" + // '9'
	"000C0C000C0C00" + // ':'
	"000C0C000C0408" + // ';'
	"02040810080402" + // '<'
	"00001F001F0000" + // '='
	"08040201020408" + // '>'
	"0E110102040004" + // '?'
	"0E11010D15150E" + // '@'
	"0E1111111F1111" + // 'A'
	"1E11111E11111E" + // 'B'
	"0E11101010110E" + // 'C'
	"1C12111111121C" + // 'D'
	"1F10101E10101F" + // 'E'
	"1F10101E101010" + // 'F'
	"0E11101711110F" + // 'G'
	"1111111F111111" + // 'H'
	"0E04040404040E" + // 'I'
	"0702020202120C" + // 'J'
	"11121418141211" + // 'K'
	"1010101010101F" + // 'L'
	"111B1515111111" + // 'M'
	"11111915131111" + // 'N'
	"0E11111111110E" + // 'O'
	"1E11111E101010" + // 'P'
	"0E11111115120D" + // 'Q'
	"1E11111E141211" + // 'R'
	"0F10100E01011E" + // 'S'
	"1F040404040404" + // 'T'
	"1111111111110E" + // 'U'
	"11111111110A04" + // 'V'
	"1111111515150A" + // 'W'
	"11110A040A1111" + // 'X'
	"1111110A040404" + // 'Y'
	"1F01020408101F" + // 'Z'
	"0E08080808080E" + // '['
	"00100804020100" + // '\\'
	"0E02020202020E" + // ']'
	"040A1100000000" + // '^'
	"0000000000001F" + // '_'
	"08040200000000" + // '`'
	"00000E010F110F" + // 'a'
	"1010161911111E" + // 'b'
	"00000E1010110E" + // 'c'
	"01010D1311110F" + // 'd'
	"00000E111F100E" + // 'e'
	"0609081C080808" + // 'f'
	"000F11110F010E" + // 'g'
	"10101619111111" + // 'h'
	"04000C0404040E" + // 'i'
	"0200060202120C" + // 'j'
	"10101214181412" + // 'k'
	"0C04040404040E" + // 'l'
	"00001A15151111" + // 'm'
	"00001619111111" + // 'n'
	"00000E1111110E" + // 'o'
	"00001E111E1010" + // 'p'
	"00000D130F0101" + // 'q'
	"00001619101010" + // 'r'
	"00000E100E011E" + // 's'
	"08081C08080906" + // 't'
	"0000111111130D" + // 'u'
	"00001111110A04" + // 'v'
	"0000111115150A" + // 'w'
	"0000110A040A11" + // 'x'
	"000011110F010E" + // 'y'
	"00001F0204081F" + // 'z'
	"02040408040402" + // '{'
	"04040404040404" + // '|'
	"08040402040408" + // '}'
	"00000815020000" // '~'

// glyphRow returns row y (0 at the top) of r's glyph; characters outside
// printable ASCII are drawn as '?'.
func glyphRow(r byte, y int) byte {
	if r < 0x20 || r > 0x7e {
		r = '?'
	}
	i := (int(r)-0x20)*2*glyphH + 2*y
	v, _ := strconv.ParseUint(glyphs[i:i+2], 16, 8) // the table is hex
	return byte(v)
}

// drawText draws text (ASCII, see ascii) with its top left at x, y, each
// font pixel as a scale x scale square, lit on the dark background; what
// falls outside img is clipped. It returns the x after the text.
func drawText(img *image1bit.VerticalLSB, x, y int, text string, scale int) int {
	for i := 0; i < len(text); i++ {
		for gy := range glyphH {
			row := glyphRow(text[i], gy)
			for gx := range glyphW {
				if row&(0x10>>gx) == 0 {
					continue
				}
				for dy := range scale {
					for dx := range scale {
						img.SetBit(x+gx*scale+dx, y+gy*scale+dy, image1bit.On)
					}
				}
			}
		}
		x += cellW * scale
	}
	return x
}
