package qr

import (
	"encoding/xml"
	"errors"
	"image"
	"image/color"
	"regexp"
	"strconv"
	"strings"
	"testing"

	goqr "github.com/piglig/go-qr"
)

// render draws c as a grey image, scale pixels per module, with the quiet
// zone: what a camera would see.
func render(c *Code, scale int) image.Image {
	n := (c.Size() + 2*QuietZone) * scale
	img := image.NewGray(image.Rect(0, 0, n, n))
	for y := range n {
		for x := range n {
			v := uint8(255)
			if c.Dark(x/scale-QuietZone, y/scale-QuietZone) {
				v = 0
			}
			img.SetGray(x, y, color.Gray{Y: v})
		}
	}
	return img
}

func TestEncodeReadsBack(t *testing.T) {
	tests := []struct {
		name, text string
		size       int
	}{
		{"receipt link", "https://receipts.example/101", 25},
		{"digits", "0123456789", 21},
		{"utf-8 text", "Merci: 2,05 € — Zürich", 25},
		{"long link", "https://pay.example/s/" + strings.Repeat("a1b2c3d4", 12), 41},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Encode(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if c.Size() != tt.size || c.Text() != tt.text {
				t.Errorf("size %d text %q, want %d %q", c.Size(), c.Text(), tt.size, tt.text)
			}
			// The finder pattern's corner modules are dark, the quiet zone
			// light: the grid is not transposed or inverted.
			if !c.Dark(0, 0) || !c.Dark(c.Size()-1, 0) || !c.Dark(0, c.Size()-1) || c.Dark(7, 7) {
				t.Errorf("finder corners wrong")
			}
			if c.Dark(-1, 0) || c.Dark(0, c.Size()) {
				t.Error("the quiet zone is dark")
			}
			// The library's own reader decodes what a camera would see.
			got, err := goqr.Decode(render(c, 3))
			if err != nil || got != tt.text {
				t.Errorf("decoded %q, %v; want %q", got, err, tt.text)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	if _, err := Encode(""); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty text: %v, want ErrEmpty", err)
	}
	if _, err := Encode(strings.Repeat("\xff", 3000)); err == nil {
		t.Error("3000 bytes encoded, want an error: no symbol holds them")
	}
}

// The SVG's path covers exactly the dark modules, offset by the quiet zone.
func TestSVG(t *testing.T) {
	c, err := Encode("https://receipts.example/101")
	if err != nil {
		t.Fatal(err)
	}
	svg := c.SVG()
	var doc struct {
		XMLName xml.Name `xml:"svg"`
		ViewBox string   `xml:"viewBox,attr"`
		Path    struct {
			D string `xml:"d,attr"`
		} `xml:"path"`
	}
	if err := xml.Unmarshal(svg, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, svg)
	}
	n := c.Size() + 2*QuietZone
	if doc.ViewBox != "0 0 "+strconv.Itoa(n)+" "+strconv.Itoa(n) {
		t.Errorf("viewBox %q, want a square of %d modules", doc.ViewBox, n)
	}
	drawn := map[[2]int]bool{}
	for _, m := range regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`).FindAllStringSubmatch(doc.Path.D, -1) {
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		run, _ := strconv.Atoi(m[3])
		if m[3] != m[4] {
			t.Fatalf("run %s is not closed", m[0])
		}
		for i := range run {
			drawn[[2]int{x + i - QuietZone, y - QuietZone}] = true
		}
	}
	for y := -QuietZone; y < c.Size()+QuietZone; y++ {
		for x := -QuietZone; x < c.Size()+QuietZone; x++ {
			if drawn[[2]int{x, y}] != c.Dark(x, y) {
				t.Fatalf("module %d,%d drawn %v, dark %v", x, y, drawn[[2]int{x, y}], c.Dark(x, y))
			}
		}
	}
	if len(svg) > 4096 {
		t.Errorf("SVG of a short link is %d bytes", len(svg))
	}
}
