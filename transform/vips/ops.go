package vips

import (
	"errors"
	"fmt"
	"math"

	govips "github.com/davidbyttow/govips/v2/vips"

	"github.com/keyhole-dev/keyhole/transform"
)

// normalise converts a freshly loaded image to 8-bit sRGB (or 8-bit grey
// for grey sources): an embedded ICC profile is applied and then dropped
// (browsers assume sRGB for untagged images), CMYK and 16-bit images are
// converted.
func normalise(img *govips.ImageRef) error {
	if img.HasICCProfile() {
		if err := img.TransformICCProfileWithFallback("srgb", "srgb"); err != nil {
			// A broken profile is not worth refusing the image for.
			if err := img.RemoveICCProfile(); err != nil {
				return err
			}
		}
	}
	switch img.Interpretation() {
	case govips.InterpretationSRGB, govips.InterpretationBW:
	case govips.InterpretationGrey16:
		if err := img.ToColorSpace(govips.InterpretationBW); err != nil {
			return err
		}
	default:
		if err := img.ToColorSpace(govips.InterpretationSRGB); err != nil {
			return err
		}
	}
	if img.BandFormat() != govips.BandFormatUchar {
		return img.Cast(govips.BandFormatUchar)
	}
	return nil
}

// ensureRGB makes a grey image sRGB, for operations that take colours.
func ensureRGB(img *govips.ImageRef) error {
	if img.Bands() >= 3 {
		return nil
	}
	return img.ToColorSpace(govips.InterpretationSRGB)
}

// background returns the fill colour for canvas (rotate is false) and
// rotation: canvas.color when given, else opaque white for the canvas (its
// documented default) and transparent white for the corners of a rotation
// (white once flattened for JPEG).
func (j *job) background(rotate bool) govips.ColorRGBA {
	c := j.p.CanvasColor
	switch {
	case c.Set:
		return govips.ColorRGBA{R: c.R, G: c.G, B: c.B, A: c.A}
	case rotate:
		return govips.ColorRGBA{R: 255, G: 255, B: 255, A: 0}
	}
	return govips.ColorRGBA{R: 255, G: 255, B: 255, A: 255}
}

// prepareFill readies the image for an operation that adds background
// pixels of colour bg: three colour bands, plus alpha when bg is not opaque.
func prepareFill(img *govips.ImageRef, bg govips.ColorRGBA) error {
	if err := ensureRGB(img); err != nil {
		return err
	}
	if bg.A < 255 {
		return img.AddAlpha()
	}
	return nil
}

// trim removes a border of the colour of the top-left pixel (crop.type=trim).
// An image that is all border is left alone.
func (j *job) trim() error {
	if j.p.CropType != transform.CropTrim {
		return nil
	}
	img := j.img
	if err := ensureRGB(img); err != nil {
		return err
	}
	px, err := img.GetPoint(0, 0)
	if err != nil {
		return err
	}
	bg := &govips.Color{R: clamp8(px[0]), G: clamp8(px[1]), B: clamp8(px[2])}
	l, t, w, h, err := img.FindTrim(10, bg)
	if err != nil {
		return err
	}
	if w <= 0 || h <= 0 || (w == img.Width() && h == img.Height()) {
		return nil
	}
	return img.ExtractArea(l, t, w, h)
}

// autoCrop cuts the automatic crop region (see Params.AutoCropFor) before
// scaling: placed by the libvips attention strategy for crop.type=smart,
// centred otherwise.
func (j *job) autoCrop() error {
	img := j.img
	w, h := img.Width(), img.Height()
	r, ok := j.p.AutoCropFor(w, h)
	if !ok {
		return nil
	}
	if j.p.CropType == transform.CropSmart {
		return img.SmartCrop(r.W, r.H, govips.InterestingAttention)
	}
	return img.ExtractArea(r.X, r.Y, r.W, r.H)
}

// scale resizes with the Lanczos3 kernel to the planned size (computed from
// the header before loading, so percentages refer to the source) and cuts
// the fill box.
func (j *job) scale() error {
	img := j.img
	w, h := img.Width(), img.Height()
	var plan transform.Scale
	if j.plan != nil {
		plan = *j.plan
	} else {
		plan = j.p.ScaleFor(w, h)
		if err := j.checkSize("scaled image", plan.W, plan.H); err != nil {
			return err
		}
	}
	if plan.Resizes(w, h) {
		hs, vs := float64(plan.W)/float64(w), float64(plan.H)/float64(h)
		if err := img.ResizeWithVScale(hs, vs, govips.KernelLanczos3); err != nil {
			return err
		}
		if err := exactSize(img, plan.W, plan.H); err != nil {
			return err
		}
	}
	if f := plan.Fill; f.W > 0 && f.H > 0 {
		if j.p.CropType == transform.CropSmart {
			return img.SmartCrop(f.W, f.H, govips.InterestingAttention)
		}
		return img.ExtractArea(f.X, f.Y, f.W, f.H)
	}
	return nil
}

// exactSize fixes a one-pixel rounding difference after a resize.
func exactSize(img *govips.ImageRef, w, h int) error {
	iw, ih := img.Width(), img.Height()
	if iw == w && ih == h {
		return nil
	}
	if iw >= w && ih >= h {
		return img.ExtractArea(0, 0, w, h)
	}
	return img.Embed(0, 0, w, h, govips.ExtendCopy)
}

// crop cuts cw×ch at cx, cy (or by crop.aspectratio) out of the scaled image.
// With crop.type=smart and no offsets the window is placed on the most
// interesting region (libvips attention strategy).
func (j *job) crop() error {
	r, smart, ok := j.p.CropFor(j.img.Width(), j.img.Height())
	if !ok {
		return nil
	}
	if smart {
		return j.img.SmartCrop(r.W, r.H, govips.InterestingAttention)
	}
	return j.img.ExtractArea(r.X, r.Y, r.W, r.H)
}

// canvas places the image on a canvas.width × canvas.height canvas
// (widened to canvas.aspectratio) of canvas.color (default white) at
// canvas.opacity, at canvas.position (default centre), then adds the
// canvas border in canvas.border.color (default the canvas colour) at
// canvas.border.opacity. A canvas smaller than the image clips it.
func (j *job) canvas() error {
	img := j.img
	c := j.p.CanvasPartsFor(img.Width(), img.Height())
	if !c.Changes {
		return nil
	}
	if err := j.checkSize("canvas", c.W+2*c.BorderW, c.H+2*c.BorderH); err != nil {
		return err
	}
	bg := withOpacity(j.background(false), j.p.CanvasOpacity)
	if c.W != img.Width() || c.H != img.Height() || c.At.X != 0 || c.At.Y != 0 {
		if err := prepareFill(img, bg); err != nil {
			return err
		}
		if err := img.EmbedBackgroundRGBA(c.At.X, c.At.Y, c.W, c.H, &bg); err != nil {
			return err
		}
	}
	if c.BorderW == 0 && c.BorderH == 0 {
		return nil
	}
	border := bg
	if bc := j.p.CanvasBorderColor; bc.Set {
		border = govips.ColorRGBA{R: bc.R, G: bc.G, B: bc.B, A: bc.A}
	}
	border = withOpacity(border, j.p.CanvasBorderOpacity)
	if err := prepareFill(img, border); err != nil {
		return err
	}
	return img.EmbedBackgroundRGBA(c.BorderW, c.BorderH, c.W+2*c.BorderW, c.H+2*c.BorderH, &border)
}

// withOpacity scales c's alpha by the level (percent, default 100).
func withOpacity(c govips.ColorRGBA, l transform.Level) govips.ColorRGBA {
	c.A = uint8(math.Round(float64(c.A) * float64(l.Or(100)) / 100))
	return c
}

// frame draws frame.style around the finished image: a band of
// frame.color (solid), of the image mirrored at its edges (mirror) or of
// its edge pixels stretched out (edge), and a rim of frame.rim.color on
// the band's inner edge.
func (j *job) frame() error {
	p, img := j.p, j.img
	w, h := img.Width(), img.Height()
	fw, rim := p.FrameFor(w, h)
	if fw <= 0 {
		return nil
	}
	if err := j.checkSize("framed image", w+2*fw, h+2*fw); err != nil {
		return err
	}
	switch p.FrameStyle {
	case "mirror":
		if err := img.Embed(fw, fw, w+2*fw, h+2*fw, govips.ExtendMirror); err != nil {
			return err
		}
	case "edge":
		if err := img.Embed(fw, fw, w+2*fw, h+2*fw, govips.ExtendCopy); err != nil {
			return err
		}
	default:
		c := p.FrameColor
		if !c.Set {
			c = transform.Color{A: 255, Set: true}
		}
		bg := govips.ColorRGBA{R: c.R, G: c.G, B: c.B, A: c.A}
		if err := prepareFill(img, bg); err != nil {
			return err
		}
		if err := img.EmbedBackgroundRGBA(fw, fw, w+2*fw, h+2*fw, &bg); err != nil {
			return err
		}
	}
	if rim <= 0 {
		return nil
	}
	c := p.FrameRimColor
	if !c.Set {
		c = transform.Color{R: 255, G: 255, B: 255, A: 255, Set: true}
	}
	// Four bars composited lazily (drawing would hold the whole image in
	// memory): above, below, left and right of the image.
	for _, r := range []transform.Rect{
		{X: fw - rim, Y: fw - rim, W: w + 2*rim, H: rim},
		{X: fw - rim, Y: fw + h, W: w + 2*rim, H: rim},
		{X: fw - rim, Y: fw, W: rim, H: h},
		{X: fw + w, Y: fw, W: rim, H: h},
	} {
		bar, err := solid(r.W, r.H, c, 1)
		if err != nil {
			return err
		}
		err = overlay(img, bar, r.X, r.Y)
		bar.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// rotate turns the image clockwise by Params.Rotate degrees (right angles
// losslessly, other angles with the background colour filling the
// corners), then applies flip (upside down) and flop (mirror).
func (j *job) rotate() error {
	p, img := j.p, j.img
	a, _ := transform.RightAngle(p.Rotate)
	switch a {
	case 0:
	case 90:
		if err := img.Rotate(govips.Angle90); err != nil {
			return err
		}
	case 180:
		if err := img.Rotate(govips.Angle180); err != nil {
			return err
		}
	case 270:
		if err := img.Rotate(govips.Angle270); err != nil {
			return err
		}
	default:
		nw, nh := transform.RotatedSize(a, img.Width(), img.Height())
		if err := j.checkSize("rotated image", nw, nh); err != nil {
			return err
		}
		bg := j.background(true)
		if err := prepareFill(img, bg); err != nil {
			return err
		}
		if err := img.Similarity(1, a, &bg, 0, 0, 0, 0); err != nil {
			return err
		}
	}
	if p.Flip {
		if err := img.Flip(govips.DirectionVertical); err != nil {
			return err
		}
	}
	if p.Flop {
		if err := img.Flip(govips.DirectionHorizontal); err != nil {
			return err
		}
	}
	return j.checkSize("rotated image", img.Width(), img.Height())
}

// adjust applies, in this order: brightness (multiplies, ±100 %), contrast
// (around mid-grey), lightness (adds up to ±100 % of full scale),
// saturation and hue (in LCh), grayscale, blur (Gaussian, sigma = blur/5
// pixels) and sharpen, then Sirv's light and colour options (see
// sirvAdjust).
func (j *job) adjust() error {
	p, img := j.p, j.img
	if p.Brightness != 0 || p.Contrast != 0 || p.Lightness != 0 {
		a := (1 + float64(p.Brightness)/100) * (1 + float64(p.Contrast)/100)
		b := 128*(1-(1+float64(p.Contrast)/100)) + 2.55*float64(p.Lightness)
		if err := linearColour(img, a, b); err != nil {
			return err
		}
	}
	if (p.Saturation != 0 || p.Hue != 0) && !p.Grayscale && img.Bands() >= 3 {
		if err := img.Modulate(1, 1+float64(p.Saturation)/100, float64(p.Hue)); err != nil {
			return err
		}
		if err := img.Cast(govips.BandFormatUchar); err != nil {
			return err
		}
	}
	if p.Grayscale && img.Interpretation() != govips.InterpretationBW {
		if err := img.ToColorSpace(govips.InterpretationBW); err != nil {
			return err
		}
	}
	if p.Blur > 0 {
		if err := img.GaussianBlur(p.Blur / 5); err != nil {
			return err
		}
	}
	if p.Sharpen > 0 {
		// libvips defaults are sigma 0.5, m2 3; sharpen=100 gives sigma 1.5, m2 12.
		if err := img.Sharpen(0.5+p.Sharpen/100, 2, 3*p.Sharpen/25); err != nil {
			return err
		}
		if err := img.Cast(govips.BandFormatUchar); err != nil {
			return err
		}
	}
	return j.sirvAdjust()
}

// linearColour computes a*v+b on the colour bands (not alpha), clipped to
// 8 bits.
func linearColour(img *govips.ImageRef, a, b float64) error {
	n := img.Bands()
	as, bs := make([]float64, n), make([]float64, n)
	colour := n
	if img.HasAlpha() {
		colour = n - 1
	}
	for i := range n {
		as[i], bs[i] = 1, 0
		if i < colour {
			as[i], bs[i] = a, b
		}
	}
	if err := img.Linear(as, bs); err != nil {
		return err
	}
	return img.Cast(govips.BandFormatUchar)
}

func clamp8(v float64) uint8 {
	return uint8(math.Round(min(max(v, 0), 255)))
}

// errNoReader is the cause when a watermark is requested but the request has
// no ReadFile function.
var errNoReader = errors.New("no ReadFile function in the request")

// wrapNotFound marks a watermark read failure.
func wrapNotFound(name string, err error) error {
	return fmt.Errorf("%w: %q: %w", transform.ErrWatermarkNotFound, name, err)
}
