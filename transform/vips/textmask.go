package vips

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"sync"

	govips "github.com/davidbyttow/govips/v2/vips"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Text is drawn in Go with the Go fonts, not with Pango through libvips:
// Debian 12's libvips 8.14.1 with Pango 1.50 crashes the whole process
// (SIGFPE in a Pango font-loading thread) under concurrent text rendering
// (libvips#3660, fixed upstream in 8.14.2 by a private font map), which the
// bench suite reproduced within a minute. Drawing in Go also makes the
// output independent of the fonts a machine has installed.

var goFonts = sync.OnceValues(func() (map[string]*opentype.Font, error) {
	fonts := map[string]*opentype.Font{}
	for name, ttf := range map[string][]byte{
		"sans": goregular.TTF, "sans-bold": gobold.TTF,
		"mono": gomono.TTF, "mono-bold": gomonobold.TTF,
	} {
		f, err := opentype.Parse(ttf)
		if err != nil {
			return nil, err
		}
		fonts[name] = f
	}
	return fonts, nil
})

// goFont maps text.font.family to a Go font: a family naming "mono"
// (e.g. "DejaVu Sans Mono", "monospace") is Go Mono, any other is Go (a
// sans-serif); "bold" in the name picks the bold cut.
func goFont(family string) (*opentype.Font, error) {
	fonts, err := goFonts()
	if err != nil {
		return nil, err
	}
	f := strings.ToLower(family)
	name := "sans"
	if strings.Contains(f, "mono") {
		name = "mono"
	}
	if strings.Contains(f, "bold") {
		name += "-bold"
	}
	return fonts[name], nil
}

// textMask draws text, wrapped at width pixels, as a one-band mask (white
// on black, antialiased) px pixels high per em, each line aligned low
// (left), centre or high (right), and returns it PNG-encoded. Explicit
// newlines are kept. The mask is cut to the box of its visible pixels
// (coverage above 10 of 255), found here rather than with libvips'
// find_trim, whose median window is refused on images under 3 pixels;
// it returns nil when no pixel is visible.
func textMask(text, family string, px float64, width int, align govips.Align) ([]byte, error) {
	f, err := goFont(family)
	if err != nil {
		return nil, err
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil, err
	}
	defer face.Close()
	lines := wrapText(face, text, width)
	m := face.Metrics()
	lineH := m.Height.Ceil()
	mask := image.NewGray(image.Rect(0, 0, width, max(1, lineH*len(lines))))
	d := font.Drawer{Dst: mask, Src: image.White, Face: face}
	for i, line := range lines {
		adv := d.MeasureString(line)
		var x fixed.Int26_6
		switch align {
		case govips.AlignCenter:
			x = (fixed.I(width) - adv) / 2
		case govips.AlignHigh:
			x = fixed.I(width) - adv
		}
		d.Dot = fixed.Point26_6{X: max(0, x), Y: fixed.I(i*lineH) + m.Ascent}
		d.DrawString(line)
	}
	box := inkBox(mask, 10)
	if box.Empty() {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, mask.SubImage(box)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// inkBox is the smallest rectangle holding every pixel of m above
// threshold (empty when there is none).
func inkBox(m *image.Gray, threshold uint8) image.Rectangle {
	b := m.Bounds()
	box := image.Rectangle{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[(y-b.Min.Y)*m.Stride : (y-b.Min.Y)*m.Stride+b.Dx()]
		for x, v := range row {
			if v > threshold {
				box = box.Union(image.Rect(b.Min.X+x, y, b.Min.X+x+1, y+1))
			}
		}
	}
	return box
}

// wrapText breaks text into lines no wider than width: at spaces where it
// can, inside a word that is wider than a whole line.
func wrapText(face font.Face, text string, width int) []string {
	limit := fixed.I(width)
	var lines []string
	for para := range strings.SplitSeq(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			candidate := word
			if line != "" {
				candidate = line + " " + word
			}
			if font.MeasureString(face, candidate) <= limit {
				line = candidate
				continue
			}
			if line != "" {
				lines = append(lines, line)
			}
			line = ""
			for _, r := range word { // a word wider than the line
				if line != "" && font.MeasureString(face, line+string(r)) > limit {
					lines = append(lines, line)
					line = ""
				}
				line += string(r)
			}
		}
		lines = append(lines, line)
	}
	return lines
}
