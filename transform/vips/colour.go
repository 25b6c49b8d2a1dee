package vips

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"

	govips "github.com/davidbyttow/govips/v2/vips"

	"github.com/keyhole-dev/keyhole/transform"
)

// sirvAdjust applies Sirv's light and colour options after the basic
// adjustments, in this order: the tone curve (colorlevel, exposure,
// shadows, highlights), colortone, colorize, vignette, opacity.
func (j *job) sirvAdjust() error {
	p, img := j.p, j.img
	if lut, ok := p.ToneCurve(); ok {
		if err := applyLUT(img, lut[:]); err != nil {
			return err
		}
	}
	if c, level, mode, ok := p.ColortoneFor(); ok {
		if err := colortone(img, c, level, mode); err != nil {
			return err
		}
	}
	if c := p.ColorizeColor; c.Set {
		if err := colorize(img, c, float64(p.ColorizeOpacity.Or(100))/100); err != nil {
			return err
		}
	}
	if p.VignetteValue > 0 {
		if err := j.vignette(); err != nil {
			return err
		}
	}
	if p.Opacity.Set && p.Opacity.Value < 100 {
		if err := img.AddAlpha(); err != nil {
			return err
		}
		n := img.Bands()
		a, b := make([]float64, n), make([]float64, n)
		for i := range a {
			a[i] = 1
		}
		a[n-1] = float64(p.Opacity.Value) / 100
		if err := img.Linear(a, b); err != nil {
			return err
		}
		return img.Cast(govips.BandFormatUchar)
	}
	return nil
}

// lutImage returns a 256×1 image of bands bands whose entry i, band k is
// values[i*bands+k], for Maplut.
func lutImage(values []uint8, bands int) (*govips.ImageRef, error) {
	var m image.Image
	if bands == 1 {
		g := image.NewGray(image.Rect(0, 0, 256, 1))
		copy(g.Pix, values)
		m = g
	} else {
		c := image.NewNRGBA(image.Rect(0, 0, 256, 1))
		for i := range 256 {
			c.SetNRGBA(i, 0, color.NRGBA{R: values[i*3], G: values[i*3+1], B: values[i*3+2], A: 255})
		}
		m = c
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		return nil, err
	}
	lut, err := govips.NewImageFromBuffer(buf.Bytes())
	if err != nil {
		return nil, err
	}
	if bands == 3 && lut.Bands() == 4 {
		if err := lut.ExtractBand(0, 3); err != nil {
			lut.Close()
			return nil, err
		}
	}
	return lut, nil
}

// applyLUT maps the colour bands of img (not alpha) through the 256-entry
// table.
func applyLUT(img *govips.ImageRef, table []uint8) error {
	lut, err := lutImage(table, 1)
	if err != nil {
		return err
	}
	defer lut.Close()
	return onColour(img, func(c *govips.ImageRef) error { return c.Maplut(lut) })
}

// onColour runs fn on the colour bands of img, keeping its alpha band.
func onColour(img *govips.ImageRef, fn func(*govips.ImageRef) error) error {
	if !img.HasAlpha() {
		return fn(img)
	}
	alpha, err := img.ExtractBandToImage(img.Bands()-1, 1)
	if err != nil {
		return err
	}
	defer alpha.Close()
	if err := img.ExtractBand(0, img.Bands()-1); err != nil {
		return err
	}
	if err := fn(img); err != nil {
		return err
	}
	return img.BandJoin(alpha)
}

// colortone maps the image's grey levels to the duotone of c (see
// transform.Duotone) and blends it in at level percent: evenly (solid),
// in proportion to the grey level (highlights) or to its inverse
// (shadows).
func colortone(img *govips.ImageRef, c transform.Color, level int, mode string) error {
	if err := ensureRGB(img); err != nil {
		return err
	}
	grey, err := img.Copy()
	if err != nil {
		return err
	}
	defer grey.Close()
	if grey.HasAlpha() {
		if err := grey.ExtractBand(0, 3); err != nil {
			return err
		}
	}
	if err := grey.ToColorSpace(govips.InterpretationBW); err != nil {
		return err
	}
	if err := grey.Cast(govips.BandFormatUchar); err != nil {
		return err
	}
	tone := make([]uint8, 256*3)
	weight := make([]uint8, 256)
	l := float64(level) / 100
	for i := range 256 {
		tone[i*3], tone[i*3+1], tone[i*3+2] = transform.Duotone(c.R, i), transform.Duotone(c.G, i), transform.Duotone(c.B, i)
		w := l
		switch mode {
		case "highlights":
			w *= float64(i) / 255
		case "shadows":
			w *= 1 - float64(i)/255
		}
		weight[i] = uint8(math.Round(w * 255))
	}
	toneLUT, err := lutImage(tone, 3)
	if err != nil {
		return err
	}
	defer toneLUT.Close()
	weightLUT, err := lutImage(weight, 1)
	if err != nil {
		return err
	}
	defer weightLUT.Close()
	toned, err := grey.Copy()
	if err != nil {
		return err
	}
	defer toned.Close()
	if err := toned.Maplut(toneLUT); err != nil {
		return err
	}
	if err := grey.Maplut(weightLUT); err != nil {
		return err
	}
	if err := toned.BandJoin(grey); err != nil {
		return err
	}
	layer, err := toned.CopyChangingInterpretation(govips.InterpretationSRGB)
	if err != nil {
		return err
	}
	defer layer.Close()
	return onColour(img, func(col *govips.ImageRef) error { return overlay(col, layer, 0, 0) })
}

// colorize lays colour c over the image at opacity (times c's alpha).
func colorize(img *govips.ImageRef, c transform.Color, opacity float64) error {
	if err := ensureRGB(img); err != nil {
		return err
	}
	a := float64(c.A) / 255 * opacity
	return onColour(img, func(col *govips.ImageRef) error {
		as := []float64{1 - a, 1 - a, 1 - a}
		bs := []float64{float64(c.R) * a, float64(c.G) * a, float64(c.B) * a}
		if err := col.Linear(as, bs); err != nil {
			return err
		}
		return col.Cast(govips.BandFormatUchar)
	})
}

// vignetteMaskSize is the side of the vignette mask drawn in Go; libvips
// stretches it to the image, which keeps the gradient smooth.
const vignetteMaskSize = 256

// vignette darkens (or colours) the edges: a radial mask of
// Params.VignetteAlpha, stretched to the image, paints vignette.color
// (default black).
func (j *job) vignette() error {
	img := j.img
	w, h := img.Width(), img.Height()
	g := image.NewGray(image.Rect(0, 0, vignetteMaskSize, vignetteMaskSize))
	half := float64(vignetteMaskSize) / 2
	for y := range vignetteMaskSize {
		for x := range vignetteMaskSize {
			dx, dy := (float64(x)+0.5-half)/half, (float64(y)+0.5-half)/half
			r := math.Sqrt(dx*dx+dy*dy) / math.Sqrt2
			g.Pix[y*g.Stride+x] = uint8(math.Round(j.p.VignetteAlpha(r) * 255))
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, g); err != nil {
		return err
	}
	mask, err := govips.NewImageFromBuffer(j.pin(buf.Bytes()))
	if err != nil {
		return err
	}
	defer mask.Close()
	if err := mask.ResizeWithVScale(float64(w)/vignetteMaskSize, float64(h)/vignetteMaskSize, govips.KernelLinear); err != nil {
		return err
	}
	if err := exactSize(mask, w, h); err != nil {
		return err
	}
	if mask.Bands() > 1 {
		if err := mask.ExtractBand(0, 1); err != nil {
			return err
		}
	}
	c := j.p.VignetteColor
	if !c.Set {
		c = transform.Color{A: 255, Set: true}
	}
	layer, err := solid(w, h, transform.Color{}, 1)
	if err != nil {
		return err
	}
	defer layer.Close()
	if err := paint(layer, mask, c, 1); err != nil {
		return err
	}
	if err := ensureRGB(img); err != nil {
		return err
	}
	return onColour(img, func(col *govips.ImageRef) error { return overlay(col, layer, 0, 0) })
}
