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
	"golang.org/x/image/font/gofont/gobolditalic"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/gomonobolditalic"
	"golang.org/x/image/font/gofont/gomonoitalic"
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
		"sans-italic": goitalic.TTF, "sans-bold-italic": gobolditalic.TTF,
		"mono": gomono.TTF, "mono-bold": gomonobold.TTF,
		"mono-italic": gomonoitalic.TTF, "mono-bold-italic": gomonobolditalic.TTF,
	} {
		f, err := opentype.Parse(ttf)
		if err != nil {
			return nil, err
		}
		fonts[name] = f
	}
	return fonts, nil
})

// fontCut is the font a text asks for: text.font.family, and bold
// (text.font.weight 600 and more) and italic (text.font.style).
type fontCut struct {
	family       string
	bold, italic bool
}

// goFont maps a fontCut to a Go font: a family naming "mono" (e.g.
// "DejaVu Sans Mono", "monospace") is Go Mono, any other is Go (a
// sans-serif); "bold" in the name or bold picks the bold cut, "italic"
// in the name or italic the italic cut.
func goFont(c fontCut) (*opentype.Font, error) {
	fonts, err := goFonts()
	if err != nil {
		return nil, err
	}
	f := strings.ToLower(c.family)
	name := "sans"
	if strings.Contains(f, "mono") {
		name = "mono"
	}
	if c.bold || strings.Contains(f, "bold") {
		name += "-bold"
	}
	if c.italic || strings.Contains(f, "italic") {
		name += "-italic"
	}
	return fonts[name], nil
}

// textMask draws text, wrapped at width pixels, as a one-band mask (white
// on black, antialiased) px pixels high per em, each line aligned low
// (left), centre or high (right), and returns it PNG-encoded. Explicit
// newlines are kept.
func textMask(text string, cut fontCut, px float64, width int, align govips.Align) ([]byte, error) {
	f, err := goFont(cut)
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
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, mask); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
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
