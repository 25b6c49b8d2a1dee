package vips

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	govips "github.com/davidbyttow/govips/v2/vips"

	"github.com/keyhole-dev/keyhole/transform"
)

// text renders each text layer (Params.Text, then Params.MoreText; drawn
// in Go with the Go fonts, see textMask) and composites it:
// the font size is text.size percent of the image width (by default, the
// size at which the longest line about fills the width, at most a fifth of
// the image height), reduced when the
// text block would cover more than the whole image; lines wrap at the image
// width less a margin; text.color (default black) at text.opacity (default
// 100), optional text.outline and text.background box; position is a
// compass point or center (default). The text is drawn as given: there is
// no markup to inject.
func (j *job) text() error {
	for _, l := range j.p.TextLayers() {
		if l.Text == "" {
			continue
		}
		q := j.p.WithText(l)
		if err := j.drawText(&q); err != nil {
			return err
		}
	}
	return nil
}

// drawText draws p's text (layer 0 of p) over the current image.
func (j *job) drawText(p *transform.Params) error {
	runes := utf8.RuneCountInString(p.Text)
	if runes > j.e.limits.MaxTextRunes {
		return fmt.Errorf("%w: text has %d runes, limit %d", transform.ErrOutputTooLarge, runes, j.e.limits.MaxTextRunes)
	}
	img := j.img
	w, h := img.Width(), img.Height()
	margin := transform.TextMargin(w, h)
	wrap := max(1, w-2*margin)
	px := p.TextFontSize(w, h)

	pos := p.TextPosition
	if p.TextGravity != "" {
		pos = p.TextGravity
	}
	gx, _ := transform.Gravity(pos)
	align := govips.AlignCenter
	switch {
	case p.TextAlign == "left", p.TextAlign == "" && gx == 0:
		align = govips.AlignLow
	case p.TextAlign == "right", p.TextAlign == "" && gx == 1:
		align = govips.AlignHigh
	}
	png, err := textMask(p.Text, fontCut{family: p.TextFontFamily, bold: p.TextBold, italic: p.TextItalic}, px, wrap, align)
	if err != nil {
		return err
	}
	mask, err := govips.NewImageFromBuffer(j.pin(png))
	if err != nil {
		return err
	}
	defer mask.Close()
	if err := j.checkSize("text", mask.Width(), mask.Height()); err != nil {
		return err
	}
	if err := mask.ExtractBand(0, 1); err != nil {
		return err
	}
	if mask.Width() < 3 || mask.Height() < 3 {
		// libvips' trim filters with a 3×3 window; a text this small (on
		// an image a few pixels across) has no legible pixel to draw.
		return nil
	}
	l, t, mw, mh, err := mask.FindTrim(10, &govips.Color{})
	if err != nil {
		return err
	}
	if mw <= 0 || mh <= 0 || mw > mask.Width() || mh > mask.Height() {
		return nil // nothing visible (whitespace only, or no glyphs)
	}
	if err := mask.ExtractArea(l, t, mw, mh); err != nil {
		return err
	}

	opacity := float64(p.TextOpacity) / 100
	if p.TextOpacity <= 0 {
		opacity = 1
	}
	outline, outlineColor := 0, p.TextOutline
	if p.TextOutline.Set || p.TextOutlineWidth > 0 {
		outline = max(1, int(math.Round(px/16)))
		if p.TextOutlineWidth > 0 {
			outline = p.TextOutlineWidth
		}
		if !outlineColor.Set {
			outlineColor = transform.Color{A: 255, Set: true}
		}
	}
	blur := 0
	if outline > 0 {
		blur = p.TextOutlineBlur
	}
	pad := 0
	if p.TextBackground.Set {
		pad = max(2, int(math.Round(px/4)))
	}
	off := outline + pad + 2*blur
	lw, lh := mw+2*off, mh+2*off

	fg := p.TextColor
	if !fg.Set {
		fg = transform.Color{A: 255, Set: true}
	}
	bg := transform.Color{}
	if p.TextBackground.Set {
		bg = p.TextBackground
	}
	layer, err := solid(lw, lh, bg, opacity*float64(p.TextBackgroundOpacity.Or(100))/100)
	if err != nil {
		return err
	}
	defer layer.Close()
	if err := mask.Embed(off, off, lw, lh, govips.ExtendBlack); err != nil {
		return err
	}
	if outline > 0 {
		ring, err := mask.Copy()
		if err != nil {
			return err
		}
		defer ring.Close()
		k := 2*outline + 1
		if err := ring.Rank(k, k, k*k-1); err != nil {
			return err
		}
		if blur > 0 {
			if err := ring.GaussianBlur(float64(blur) / 2); err != nil {
				return err
			}
			if err := ring.Cast(govips.BandFormatUchar); err != nil {
				return err
			}
		}
		if err := paint(layer, ring, outlineColor, opacity*float64(p.TextOutlineOpacity.Or(100))/100); err != nil {
			return err
		}
	}
	if err := paint(layer, mask, fg, opacity); err != nil {
		return err
	}
	x, y := p.TextAt(w, h, lw, lh, margin)
	return overlay(img, layer, x, y)
}

// solid returns a w×h sRGB image with alpha filled with c at opacity.
func solid(w, h int, c transform.Color, opacity float64) (*govips.ImageRef, error) {
	img, err := govips.Black(w, h)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	a := float64(c.A) * opacity
	if !c.Set {
		a = 0
	}
	if err := img.Linear([]float64{0, 0, 0, 0}, []float64{float64(c.R), float64(c.G), float64(c.B), a}); err != nil {
		return nil, err
	}
	return asRGBA(img)
}

// paint composites colour c through the one-band mask (same size) onto
// layer.
func paint(layer, mask *govips.ImageRef, c transform.Color, opacity float64) error {
	ink, err := mask.Copy()
	if err != nil {
		return err
	}
	defer ink.Close()
	a := float64(c.A) / 255 * opacity
	if err := ink.Linear([]float64{0, 0, 0, a}, []float64{float64(c.R), float64(c.G), float64(c.B), 0}); err != nil {
		return err
	}
	rgba, err := asRGBA(ink)
	if err != nil {
		return err
	}
	defer rgba.Close()
	return layer.Composite(rgba, govips.BlendModeOver, 0, 0)
}

// asRGBA returns a four-band image built by Linear as 8-bit sRGB with alpha.
func asRGBA(img *govips.ImageRef) (*govips.ImageRef, error) {
	if err := img.Cast(govips.BandFormatUchar); err != nil {
		return nil, err
	}
	return img.CopyChangingInterpretation(govips.InterpretationSRGB)
}

// overlay composites layer (sRGB with alpha) over img at x, y, keeping img's
// size and its band layout (no alpha is added to an opaque image).
func overlay(img, layer *govips.ImageRef, x, y int) error {
	if err := ensureRGB(img); err != nil {
		return err
	}
	hadAlpha := img.HasAlpha()
	if err := img.Composite(layer, govips.BlendModeOver, x, y); err != nil {
		return err
	}
	if err := img.Cast(govips.BandFormatUchar); err != nil {
		return err
	}
	if !hadAlpha && img.Bands() == 4 {
		return img.ExtractBand(0, 3)
	}
	return nil
}

// behind returns layer (sRGB with alpha) at x, y with img drawn over it:
// only img's transparent parts show the layer. The result has img's size
// and band layout.
func behind(img, layer *govips.ImageRef, x, y int) (*govips.ImageRef, error) {
	if err := ensureRGB(img); err != nil {
		return nil, err
	}
	hadAlpha := img.HasAlpha()
	base, err := solid(img.Width(), img.Height(), transform.Color{}, 1)
	if err != nil {
		return nil, err
	}
	err = base.Composite(layer, govips.BlendModeOver, x, y)
	if err == nil {
		err = base.Composite(img, govips.BlendModeOver, 0, 0)
	}
	if err == nil {
		err = base.Cast(govips.BandFormatUchar)
	}
	if err == nil && !hadAlpha {
		err = base.ExtractBand(0, 3)
	}
	if err != nil {
		base.Close()
		return nil, err
	}
	return base, nil
}

// watermark composites the image at Params.Watermark, read with
// Request.ReadFile and held to the same source limits as the main image. It
// is scaled to watermark.scale.width/height (pixels or percent of the image,
// aspect ratio kept; by default its own size, reduced to fit the image),
// made watermark.opacity percent opaque (default 100) and placed at
// watermark.position: a compass point, center (default) or tile.
func (j *job) watermark() error {
	for _, l := range j.p.WatermarkLayers() {
		if l.Watermark == "" {
			continue
		}
		q := j.p.WithWatermark(l)
		if err := j.drawWatermark(&q); err != nil {
			return err
		}
	}
	return nil
}

// drawWatermark draws p's watermark (layer 0 of p) over the current image.
func (j *job) drawWatermark(p *transform.Params) error {
	if j.req.ReadFile == nil {
		return wrapNotFound(p.Watermark, errNoReader)
	}
	data, err := j.req.ReadFile(p.Watermark)
	if err != nil {
		return wrapNotFound(p.Watermark, err)
	}
	j.pin(data)
	lim := j.e.limits
	if int64(len(data)) > lim.MaxSourceBytes {
		return fmt.Errorf("%w: watermark has %d bytes, limit %d", transform.ErrSourceTooLarge, len(data), lim.MaxSourceBytes)
	}
	typ, err := sniff(data, lim.AllowVector)
	if err != nil {
		return fmt.Errorf("watermark: %w", err)
	}
	hd, err := readHeader(data, typ, lim)
	if err != nil {
		return fmt.Errorf("watermark: %w", err)
	}
	img := j.img
	w, h := img.Width(), img.Height()
	lay := p.WatermarkLayoutFor(w, h, hd.w, hd.h)
	plan := lay.Scale
	if err := j.checkSize("watermark", plan.W, plan.H); err != nil {
		return err
	}
	if err := j.checkSize("watermark", lay.W, lay.H); err != nil {
		return err
	}
	shrink := 1
	if typ == govips.ImageTypeJPEG && lay.Crop.W == 0 {
		shrink = jpegShrink(hd.w, hd.h, plan.W, plan.H)
	}
	wm, err := decode(data, typ, shrink, 0)
	if err != nil {
		return fmt.Errorf("watermark: %w", err)
	}
	defer wm.Close()
	if c := lay.Crop; c.W > 0 {
		if err := wm.ExtractArea(c.X, c.Y, c.W, c.H); err != nil {
			return err
		}
	}
	if plan.Resizes(wm.Width(), wm.Height()) {
		hs, vs := float64(plan.W)/float64(wm.Width()), float64(plan.H)/float64(wm.Height())
		if err := wm.ResizeWithVScale(hs, vs, govips.KernelLanczos3); err != nil {
			return err
		}
		if err := exactSize(wm, plan.W, plan.H); err != nil {
			return err
		}
	}
	if f := plan.Fill; f.W > 0 {
		if err := wm.ExtractArea(f.X, f.Y, f.W, f.H); err != nil {
			return err
		}
	}
	if err := ensureRGB(wm); err != nil {
		return err
	}
	if err := wm.AddAlpha(); err != nil {
		return err
	}
	if op := p.WatermarkOpacity; op > 0 && op < 100 {
		if err := wm.Linear([]float64{1, 1, 1, float64(op) / 100}, []float64{0, 0, 0, 0}); err != nil {
			return err
		}
		if err := wm.Cast(govips.BandFormatUchar); err != nil {
			return err
		}
	}
	if lay.CanvasW != lay.At.W || lay.CanvasH != lay.At.H || p.WatermarkCanvasColor.Set {
		c := p.WatermarkCanvasColor
		canvas, err := solid(lay.CanvasW, lay.CanvasH, c, float64(p.WatermarkCanvasOpacity.Or(100))/100)
		if err != nil {
			return err
		}
		defer canvas.Close()
		if err := canvas.Composite(wm, govips.BlendModeOver, lay.At.X, lay.At.Y); err != nil {
			return err
		}
		if err := canvas.Cast(govips.BandFormatUchar); err != nil {
			return err
		}
		wm = canvas
	}
	if a, right := transform.RightAngle(p.WatermarkRotate); right && a != 0 {
		if err := wm.Rotate(map[float64]govips.Angle{90: govips.Angle90, 180: govips.Angle180, 270: govips.Angle270}[a]); err != nil {
			return err
		}
	} else if a != 0 {
		clear := govips.ColorRGBA{}
		if err := wm.Similarity(1, a, &clear, 0, 0, 0, 0); err != nil {
			return err
		}
		if err := exactSize(wm, lay.W, lay.H); err != nil {
			return err
		}
	}
	ww, wh := wm.Width(), wm.Height()
	x, y := 0, 0
	if strings.EqualFold(string(p.WatermarkPosition), string(transform.PositionTile)) && p.WatermarkGravity == "" && !p.WatermarkX.Set && !p.WatermarkY.Set {
		if err := wm.Replicate(ceilDiv(w, ww), ceilDiv(h, wh)); err != nil {
			return err
		}
		if err := wm.ExtractArea(0, 0, w, h); err != nil {
			return err
		}
	} else {
		x, y = p.WatermarkAt(w, h, ww, wh)
	}
	if p.WatermarkBack {
		out, err := behind(img, wm, x, y)
		if err != nil {
			return err
		}
		j.set(out)
		return nil
	}
	return overlay(img, wm, x, y)
}
