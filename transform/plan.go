package transform

import (
	"math"
	"strings"
	"unicode/utf8"
)

// This file is the geometry of a transform: where every stage of the
// engine's pipeline puts the image, computed from Params and image sizes
// alone. The libvips engine calls these functions for its sizes and
// offsets, and the lock tests call them to check what a query string can
// do to a locked token's output, so both see exactly one set of rules.

// Rect is a rectangle in pixels: the top-left corner X, Y and the size
// W×H.
type Rect struct{ X, Y, W, H int }

// Scale is the outcome of the size parameters (w, h, s, scale.option) for
// one image: resize to W×H, then, for scale.option=fill, cut the Fill
// window out of the resized image (Fill.W is 0 when no fill crop applies).
type Scale struct {
	W, H int
	Fill Rect
}

// Resizes reports whether s changes the size of a w×h image.
func (s Scale) Resizes(w, h int) bool { return s.W != w || s.H != h }

// ScaleFor applies w, h, s and scale.option to an image of w×h pixels.
// Percentages refer to w and h. With one of the sizes the other follows the
// aspect ratio; s (longest side) applies when neither w nor h is given.
// fit keeps the aspect ratio inside the box, fill covers the box and
// centres a box-sized Fill window, ignore stretches, noup is fit that never
// enlarges.
func (p *Params) ScaleFor(w, h int) Scale {
	plan := Scale{W: w, H: h}
	rw, rh := p.Width.Resolve(w), p.Height.Resolve(h)
	opt := p.ScaleOption
	if rw <= 0 && rh <= 0 && p.Side <= 0 && p.Thumbnail > 0 {
		rw, rh, opt = p.Thumbnail, p.Thumbnail, ScaleFill
	}
	if rw <= 0 && rh <= 0 {
		if p.Side <= 0 {
			return plan
		}
		rw, rh = p.Side, p.Side
		if w >= h {
			rh = 0
		} else {
			rw = 0
		}
	}
	fw, fh := float64(w), float64(h)
	sx, sy := float64(rw)/fw, float64(rh)/fh
	switch {
	case rw > 0 && rh > 0 && opt == ScaleIgnore:
		plan.W, plan.H = rw, rh
		return plan
	case rw > 0 && rh > 0 && opt == ScaleFill:
		s := math.Max(sx, sy)
		plan.W, plan.H = scaled(w, s), scaled(h, s)
		// Pin the covering side to the box exactly despite rounding.
		if sx >= sy {
			plan.W = rw
		} else {
			plan.H = rh
		}
		plan.W, plan.H = max(plan.W, rw), max(plan.H, rh)
		if plan.W != rw || plan.H != rh {
			plan.Fill = Rect{X: (plan.W - rw) / 2, Y: (plan.H - rh) / 2, W: rw, H: rh}
		}
		return plan
	}
	var s float64
	switch {
	case rw > 0 && rh > 0:
		s = math.Min(sx, sy)
	case rw > 0:
		s = sx
	default:
		s = sy
	}
	if opt == ScaleNoUp && s > 1 {
		return plan
	}
	plan.W, plan.H = scaled(w, s), scaled(h, s)
	// The side that decided the scale gets exactly the requested size.
	switch {
	case rw > 0 && (rh == 0 || sx <= sy):
		plan.W = rw
	case rh > 0:
		plan.H = rh
	}
	return plan
}

// scaled returns n*s rounded, at least 1.
func scaled(n int, s float64) int {
	return max(1, int(math.Round(float64(n)*s)))
}

// AutoCropFor returns the automatic crop before scaling on a w×h image: the
// largest region with the aspect ratio of crop.aspectratio (or, with
// crop.type=smart and no ratio, the ratio of w:h when both w and h are
// given), centred. ok is false when no automatic crop applies. With
// crop.type=smart the engine places the region by content instead of
// centring it; its size is the same.
func (p *Params) AutoCropFor(w, h int) (r Rect, ok bool) {
	aw, ah := float64(p.CropAspect[0]), float64(p.CropAspect[1])
	if (aw <= 0 || ah <= 0) && p.CropType == CropSmart && p.Width.Set && p.Height.Set {
		aw, ah = float64(p.Width.Resolve(w)), float64(p.Height.Resolve(h))
	}
	if aw <= 0 || ah <= 0 {
		return Rect{W: w, H: h}, false
	}
	ratio := aw / ah
	var cw, ch int
	if float64(w)/float64(h) > ratio {
		cw, ch = max(1, int(math.Round(float64(h)*ratio))), h
	} else {
		cw, ch = w, max(1, int(math.Round(float64(w)/ratio)))
	}
	cw, ch = min(cw, w), min(ch, h)
	return Rect{X: (w - cw) / 2, Y: (h - ch) / 2, W: cw, H: ch}, cw != w || ch != h
}

// CropFor returns the crop window (cw, ch, cx, cy) on a w×h (scaled) image,
// clamped to the image. ok is false when no crop applies. Offsets default
// to the top-left corner, as Sirv's do; byContent reports that the engine
// places the window by image content instead (crop.type=smart without
// offsets).
func (p *Params) CropFor(w, h int) (r Rect, byContent, ok bool) {
	cw, ch := p.CropWidth.Resolve(w), p.CropHeight.Resolve(h)
	if cw <= 0 && ch <= 0 {
		return Rect{}, false, false
	}
	if cw <= 0 {
		cw = w
	}
	if ch <= 0 {
		ch = h
	}
	padW, padH := p.CropPadWidth.Resolve(w), p.CropPadHeight.Resolve(h)
	cw, ch = min(cw+2*padW, w), min(ch+2*padH, h)
	offset := func(o Offset, size, win int) (int, bool) {
		switch {
		case o.Center:
			return (size - win) / 2, true
		case o.Set:
			return o.Resolve(size), true
		}
		return 0, false
	}
	x, xSet := offset(p.CropX, w, cw)
	y, ySet := offset(p.CropY, h, ch)
	if !p.CropX.Center {
		x -= padW // the pad widens the window around its offset
	}
	if !p.CropY.Center {
		y -= padH
	}
	byContent = p.CropType == CropSmart && !xSet && !ySet
	x = min(max(x, 0), w-cw)
	y = min(max(y, 0), h-ch)
	if x == 0 && y == 0 && cw == w && ch == h {
		return Rect{}, false, false
	}
	return Rect{X: x, Y: y, W: cw, H: ch}, byContent, true
}

// CanvasFor returns the canvas for a w×h image: its size and where the
// image sits on it (Rect's X, Y are the image's offset, which is negative
// when a canvas smaller than the image clips it). The size includes the
// canvas border. ok is false when no canvas parameter changes the size.
func (p *Params) CanvasFor(w, h int) (canvasW, canvasH int, at Rect, ok bool) {
	c := p.CanvasPartsFor(w, h)
	return c.W + 2*c.BorderW, c.H + 2*c.BorderH, Rect{X: c.At.X + c.BorderW, Y: c.At.Y + c.BorderH, W: w, H: h}, c.Changes
}

// CanvasParts is the canvas of a w×h image before its border: W×H (from
// canvas.width and .height, widened or heightened to
// canvas.aspectratio), where the image sits on it, and the border added
// on each side.
type CanvasParts struct {
	W, H             int
	At               Rect
	BorderW, BorderH int
	// Changes reports that the canvas changes the image's size.
	Changes bool
}

// CanvasPartsFor returns the canvas parts for a w×h image.
func (p *Params) CanvasPartsFor(w, h int) CanvasParts {
	c := CanvasParts{W: w, H: h, At: Rect{W: w, H: h}}
	if !p.CanvasWidth.Set && !p.CanvasHeight.Set && p.CanvasAspect[0] == 0 && !p.CanvasBorderWidth.Set && !p.CanvasBorderHeight.Set {
		return c
	}
	if p.CanvasWidth.Set {
		c.W = max(1, p.CanvasWidth.Resolve(w))
	}
	if p.CanvasHeight.Set {
		c.H = max(1, p.CanvasHeight.Resolve(h))
	}
	if a, b := p.CanvasAspect[0], p.CanvasAspect[1]; a > 0 && b > 0 {
		ratio := float64(a) / float64(b)
		if float64(c.W)/float64(c.H) > ratio {
			c.H = max(c.H, int(math.Round(float64(c.W)/ratio)))
		} else {
			c.W = max(c.W, int(math.Round(float64(c.H)*ratio)))
		}
	}
	c.BorderW, c.BorderH = p.CanvasBorderWidth.Resolve(c.W), p.CanvasBorderHeight.Resolve(c.H)
	x, y := Place(p.CanvasPosition, c.W, c.H, w, h, 0)
	c.At = Rect{X: x, Y: y, W: w, H: h}
	c.Changes = c.W != w || c.H != h || c.BorderW > 0 || c.BorderH > 0
	return c
}

// FrameFor returns the frame around a finished w×h image: the width of
// the frame on each side and of its rim (at most the frame's width).
// Both are 0 without a frame.style other than none.
func (p *Params) FrameFor(w, h int) (frame, rim int) {
	if p.FrameStyle == "" || p.FrameStyle == "none" {
		return 0, 0
	}
	frame = max(1, int(math.Round(0.05*float64(min(w, h)))))
	if p.FrameWidth.Set {
		frame = p.FrameWidth.Resolve(min(w, h))
	}
	return frame, min(p.FrameRimWidth, frame)
}

// RightAngle returns the rotation normalised to [0, 360) and whether it is
// a multiple of 90 degrees (a lossless turn without background corners).
func RightAngle(deg float64) (a float64, right bool) {
	a = math.Mod(deg, 360)
	if a < 0 {
		a += 360
	}
	return a, a == 0 || a == 90 || a == 180 || a == 270
}

// RotatedSize returns the size of a w×h image turned clockwise by deg
// degrees: swapped for 90 and 270, otherwise the bounding box of the turned
// image, whose corners the engine fills with the background.
func RotatedSize(deg float64, w, h int) (int, int) {
	a, right := RightAngle(deg)
	switch {
	case right && (a == 90 || a == 270):
		return h, w
	case right:
		return w, h
	}
	fw, fh := float64(w), float64(h)
	rad := a * math.Pi / 180
	nw := int(math.Ceil(math.Abs(fw*math.Cos(rad)) + math.Abs(fh*math.Sin(rad))))
	nh := int(math.Ceil(math.Abs(fw*math.Sin(rad)) + math.Abs(fh*math.Cos(rad))))
	return nw, nh
}

// Gravity maps a compass point ("north", "southeast", "center", also the
// short forms "n", "se", ...) to horizontal and vertical factors in
// {0, 0.5, 1}: the share of the free space left of and above the placed
// object. Unknown or empty positions centre.
func Gravity(pos Position) (gx, gy float64) {
	gx, gy = 0.5, 0.5
	switch p := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(string(pos), "-", ""), "_", "")); p {
	case "north", "n", "top":
		gy = 0
	case "south", "s", "bottom":
		gy = 1
	case "east", "e", "right":
		gx = 1
	case "west", "w", "left":
		gx = 0
	case "northeast", "ne", "topright":
		gx, gy = 1, 0
	case "northwest", "nw", "topleft":
		gx, gy = 0, 0
	case "southeast", "se", "bottomright":
		gx, gy = 1, 1
	case "southwest", "sw", "bottomleft":
		gx, gy = 0, 1
	}
	return gx, gy
}

// Place returns the top-left corner of an ow×oh object placed in a w×h area
// at position pos (see Gravity), keeping margin pixels from the edges it
// touches. The margin never pushes an object that fits off the area, so a
// text or watermark stays over even a tiny image; an object larger than
// the area overhangs it as its gravity says.
func Place(pos Position, w, h, ow, oh, margin int) (x, y int) {
	gx, gy := Gravity(pos)
	return placeAxis(gx, w, ow, margin), placeAxis(gy, h, oh, margin)
}

func placeAxis(g float64, size, obj, margin int) int {
	x := int(math.Round(g * float64(size-obj)))
	switch g {
	case 0:
		x += margin
	case 1:
		x -= margin
	}
	if obj <= size {
		x = min(max(x, 0), size-obj)
	}
	return x
}

// TextMargin is the engine's distance in pixels between text and the edges
// of a w×h image: 2 % of the shorter side, at least one pixel.
func TextMargin(w, h int) int {
	return max(1, int(math.Round(0.02*float64(min(w, h)))))
}

// TextFontSize returns the font size in pixels of p's text on a w×h image:
// text.font.size pixels, else text.size percent of the width, or by default the size at which the
// longest line about fills the width less the margins (a glyph is about
// 0.6 em wide), at most a fifth of the height. It is reduced when the text
// would cover more than the image (a glyph cell is about 0.6 × 1.25 em),
// and is at least one pixel.
func (p *Params) TextFontSize(w, h int) float64 {
	runes := max(1, utf8.RuneCountInString(p.Text))
	px := p.TextSize / 100 * float64(w)
	if p.TextFontPx > 0 {
		px = float64(p.TextFontPx)
	} else if p.TextSize <= 0 {
		wrap := max(1, w-2*TextMargin(w, h))
		longest := 1
		for line := range strings.SplitSeq(p.Text, "\n") {
			longest = max(longest, utf8.RuneCountInString(line))
		}
		px = math.Min(0.9*float64(wrap)/(0.6*float64(longest)), float64(h)/5)
	}
	if area := float64(runes) * 0.75 * px * px; area > float64(w*h) {
		px = math.Sqrt(float64(w*h) / (float64(runes) * 0.75))
	}
	return math.Max(1, math.Floor(px))
}

// WatermarkLayout is the geometry of a watermark on an image, stage by
// stage: a crop of the watermark image, its scale, a canvas behind it and
// a rotation.
type WatermarkLayout struct {
	// Crop is the window cut out of the watermark image; its W is 0 when
	// no crop applies.
	Crop Rect
	// Scale is the resize of the (cropped) watermark, with its fill
	// window for watermark.scale.option=fill.
	Scale Scale
	// CanvasW×CanvasH is the canvas behind the watermark (its scaled size
	// when no canvas is given); At is where the scaled watermark sits on
	// it (centred).
	CanvasW, CanvasH int
	At               Rect
	// W×H is the final size, after watermark.rotate.
	W, H int
}

// WatermarkLayoutFor returns the layout of a wmW×wmH watermark image on a
// w×h image: watermark.crop.* on the watermark's own pixels, then the
// scale of WatermarkScaleFor, the watermark.canvas.* canvas (pixels or
// percent of the image) and watermark.rotate.
func (p *Params) WatermarkLayoutFor(w, h, wmW, wmH int) WatermarkLayout {
	var l WatermarkLayout
	cw, ch := wmW, wmH
	if r, ok := p.WatermarkCrop.window(wmW, wmH); ok {
		l.Crop, cw, ch = r, r.W, r.H
	}
	l.Scale = p.WatermarkScaleFor(w, h, cw, ch)
	sw, sh := l.Scale.W, l.Scale.H
	if l.Scale.Fill.W > 0 {
		sw, sh = l.Scale.Fill.W, l.Scale.Fill.H
	}
	l.CanvasW, l.CanvasH = sw, sh
	if p.WatermarkCanvasWidth.Set {
		l.CanvasW = max(1, p.WatermarkCanvasWidth.Resolve(w))
	}
	if p.WatermarkCanvasHeight.Set {
		l.CanvasH = max(1, p.WatermarkCanvasHeight.Resolve(h))
	}
	l.At = Rect{X: (l.CanvasW - sw) / 2, Y: (l.CanvasH - sh) / 2, W: sw, H: sh}
	l.W, l.H = RotatedSize(p.WatermarkRotate, l.CanvasW, l.CanvasH)
	return l
}

// window returns the crop window on a w×h image, clamped to it; ok is
// false when it keeps the whole image.
func (b CropBox) window(w, h int) (r Rect, ok bool) {
	cw, ch := b.W.Resolve(w), b.H.Resolve(h)
	if cw <= 0 { // from the offset to the edge
		cw = w
		if !b.X.Center {
			cw = max(1, w-b.X.Resolve(w))
		}
	}
	if ch <= 0 {
		ch = h
		if !b.Y.Center {
			ch = max(1, h-b.Y.Resolve(h))
		}
	}
	cw, ch = min(cw, w), min(ch, h)
	at := func(o Offset, size, win int) int {
		if o.Center {
			return (size - win) / 2
		}
		return min(max(o.Resolve(size), 0), size-win)
	}
	r = Rect{X: at(b.X, w, cw), Y: at(b.Y, h, ch), W: cw, H: ch}
	return r, r != Rect{W: w, H: h}
}

// TextAt returns the top-left corner of a bw×bh text block on a w×h
// image: at text.position (keeping margin pixels from the edges it
// touches), or, when text.position.x, .y or .gravity is given, offset by
// x and y from the text.position.gravity point (default northwest) into
// the image. An offset never pushes a block that fits off the image.
func (p *Params) TextAt(w, h, bw, bh, margin int) (x, y int) {
	return placeAt(p.TextPosition, p.TextGravity, p.TextX, p.TextY, w, h, bw, bh, margin)
}

// WatermarkAt is TextAt for a ww×wh watermark (no margin): at
// watermark.position, or offset by watermark.position.x and .y from the
// watermark.position.gravity point.
func (p *Params) WatermarkAt(w, h, ww, wh int) (x, y int) {
	return placeAt(p.WatermarkPosition, p.WatermarkGravity, p.WatermarkX, p.WatermarkY, w, h, ww, wh, 0)
}

func placeAt(pos, gravity Position, ox, oy Offset, w, h, bw, bh, margin int) (x, y int) {
	if !ox.Set && !oy.Set && gravity == "" {
		return Place(pos, w, h, bw, bh, margin)
	}
	if gravity == "" {
		gravity = PositionNorthWest
	}
	gx, gy := Gravity(gravity)
	axis := func(g float64, o Offset, size, obj int) int {
		at := int(math.Round(g * float64(size-obj)))
		switch {
		case o.Center:
			at = (size - obj) / 2
		case o.Set:
			d := o.Resolve(size)
			if g == 1 {
				d = -d // from the far edge, into the image
			}
			at += d
		}
		if obj <= size {
			at = min(max(at, 0), size-obj)
		}
		return at
	}
	return axis(gx, ox, w, bw), axis(gy, oy, h, bh)
}

// WatermarkScaleFor returns the size of a wmW×wmH watermark image on a w×h
// image: watermark.scale.width and height (pixels, or percent of the image,
// at least one pixel), fitted keeping the watermark's aspect ratio; by
// default its own size, reduced to fit the image.
func (p *Params) WatermarkScaleFor(w, h, wmW, wmH int) Scale {
	sp := Params{ScaleOption: ScaleFit}
	if p.WatermarkScaleOption != "" {
		sp.ScaleOption = p.WatermarkScaleOption
	}
	if p.WatermarkScaleWidth.Set {
		sp.Width = Dim{Value: float64(max(1, p.WatermarkScaleWidth.Resolve(w))), Set: true}
	}
	if p.WatermarkScaleHeight.Set {
		sp.Height = Dim{Value: float64(max(1, p.WatermarkScaleHeight.Resolve(h))), Set: true}
	}
	if !sp.Width.Set && !sp.Height.Set && (wmW > w || wmH > h) {
		sp.Width = Dim{Value: float64(w), Set: true}
		sp.Height = Dim{Value: float64(h), Set: true}
	}
	return sp.ScaleFor(wmW, wmH)
}

// Layout is the geometry of a whole transform of a SrcW×SrcH source, stage
// by stage in the engine's fixed order: automatic crop, scale (with its
// fill window), crop, canvas, rotation and mirroring. Text and watermarks
// are drawn last, over the Out×OutH result.
type Layout struct {
	// SrcW and SrcH are the upright source size.
	SrcW, SrcH int
	// AutoCrop is the region of the source kept before scaling (the whole
	// source when no automatic crop applies).
	AutoCrop Rect
	// Scale is the resize of the auto-cropped region.
	Scale Scale
	// Crop is the crop window on the scaled (and fill-cropped) image; its
	// W is 0 when no crop applies.
	Crop Rect
	// CanvasW×CanvasH is the canvas; Image is where the cropped image sits
	// on it.
	CanvasW, CanvasH int
	Image            Rect
	// Angle is the clockwise rotation in [0, 360); Flip and Flop mirror
	// after it.
	Angle      float64
	Flip, Flop bool
	// OutW×OutH is the size of the output, before text and watermark.
	OutW, OutH int
	// Frame is the width of the frame drawn around the finished image on
	// each side (0 for none): the encoded image is OutW+2·Frame wide.
	Frame int
	// ByContent reports that the engine decides a region from the pixels
	// (crop.type=trim or smart), so the offsets above are the centred
	// estimate and, for trim, the sizes an upper bound.
	ByContent bool
}

// Plan returns the layout of p applied to a srcW×srcH source.
func (p *Params) Plan(srcW, srcH int) Layout {
	l := Layout{SrcW: srcW, SrcH: srcH, ByContent: p.CropType != ""}
	l.AutoCrop, _ = p.AutoCropFor(srcW, srcH)
	l.Scale = p.ScaleFor(l.AutoCrop.W, l.AutoCrop.H)
	w, h := l.Scale.W, l.Scale.H
	if l.Scale.Fill.W > 0 {
		w, h = l.Scale.Fill.W, l.Scale.Fill.H
	}
	if r, _, ok := p.CropFor(w, h); ok {
		l.Crop = r
		w, h = r.W, r.H
	}
	l.CanvasW, l.CanvasH, l.Image, _ = p.CanvasFor(w, h)
	l.Angle, _ = RightAngle(p.Rotate)
	l.Flip, l.Flop = p.Flip, p.Flop
	l.OutW, l.OutH = RotatedSize(p.Rotate, l.CanvasW, l.CanvasH)
	l.Frame, _ = p.FrameFor(l.OutW, l.OutH)
	return l
}

// PixelScale returns how many output pixels one source pixel becomes,
// horizontally and vertically (before rotation). A value above 1 means the
// source is enlarged.
func (l Layout) PixelScale() (sx, sy float64) {
	return float64(l.Scale.W) / float64(l.AutoCrop.W), float64(l.Scale.H) / float64(l.AutoCrop.H)
}

// ToSource maps the point (x, y) of the output (before text and watermark)
// back to source coordinates. onImage is false when the point falls on
// canvas padding, the corners a rotation fills, or outside the output.
func (l Layout) ToSource(x, y float64) (sx, sy float64, onImage bool) {
	if x < 0 || y < 0 || x > float64(l.OutW) || y > float64(l.OutH) {
		return 0, 0, false
	}
	// Undo flop and flip (applied after the rotation).
	if l.Flop {
		x = float64(l.OutW) - x
	}
	if l.Flip {
		y = float64(l.OutH) - y
	}
	// Undo the rotation about the centres of the two boxes.
	cw, ch := float64(l.CanvasW), float64(l.CanvasH)
	rad := -l.Angle * math.Pi / 180
	dx, dy := x-float64(l.OutW)/2, y-float64(l.OutH)/2
	x = dx*math.Cos(rad) - dy*math.Sin(rad) + cw/2
	y = dx*math.Sin(rad) + dy*math.Cos(rad) + ch/2
	// Canvas: the image's own pixels only.
	const eps = 1e-6
	if x < -eps || y < -eps || x > cw+eps || y > ch+eps {
		return 0, 0, false // a corner that the rotation filled
	}
	x -= float64(l.Image.X)
	y -= float64(l.Image.Y)
	if x < -eps || y < -eps || x > float64(l.Image.W)+eps || y > float64(l.Image.H)+eps {
		return 0, 0, false // canvas padding
	}
	// Crop and fill windows, then the scale, then the automatic crop.
	x += float64(l.Crop.X + l.Scale.Fill.X)
	y += float64(l.Crop.Y + l.Scale.Fill.Y)
	fx, fy := l.PixelScale()
	return x/fx + float64(l.AutoCrop.X), y/fy + float64(l.AutoCrop.Y), true
}
