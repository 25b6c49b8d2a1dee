package vips

import (
	"math"
	"strings"

	"github.com/keyhole-dev/keyhole/transform"
)

// scalePlan is the outcome of the size parameters for one image: resize to
// W×H, then (scale.option=fill) cut a CropW×CropH window out of it.
type scalePlan struct {
	// W and H are the size after resizing.
	W, H int
	// CropW and CropH are the fill box; zero when no fill crop is needed.
	CropW, CropH int
}

// resizes reports whether the plan changes the size of a w×h image.
func (s scalePlan) resizes(w, h int) bool { return s.W != w || s.H != h }

// planScale applies w, h, s and scale.option to an image of w×h pixels.
// Percentages refer to w and h. With one of the sizes the other follows the
// aspect ratio; s (longest side) applies when neither w nor h is given.
func planScale(p *transform.Params, w, h int) scalePlan {
	plan := scalePlan{W: w, H: h}
	rw, rh := p.Width.Resolve(w), p.Height.Resolve(h)
	if !p.Width.Set {
		rw = 0
	}
	if !p.Height.Set {
		rh = 0
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
	opt := p.ScaleOption
	switch {
	case rw > 0 && rh > 0 && opt == "ignore":
		plan.W, plan.H = rw, rh
		return plan
	case rw > 0 && rh > 0 && opt == "fill":
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
			plan.CropW, plan.CropH = rw, rh
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
	if opt == "noup" && s > 1 {
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

// jpegShrink returns the largest libjpeg shrink-on-load factor (8, 4 or 2)
// that keeps a w×h source (or region of it) at least tw×th, or 1.
func jpegShrink(w, h, tw, th int) int {
	for _, f := range [...]int{8, 4, 2} {
		if w/f >= tw && h/f >= th {
			return f
		}
	}
	return 1
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// gravity maps a compass point ("north", "southeast", "center", also the
// short forms "n", "se", ...) to horizontal and vertical factors in
// {0, 0.5, 1}: the share of the free space left of and above the placed
// object. Unknown or empty positions centre.
func gravity(pos string) (gx, gy float64) {
	gx, gy = 0.5, 0.5
	switch p := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(pos, "-", ""), "_", "")); p {
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

// place returns the top-left corner of an ow×oh object placed in a w×h area
// at position pos, keeping margin pixels from the edges it touches.
func place(pos string, w, h, ow, oh, margin int) (x, y int) {
	gx, gy := gravity(pos)
	x = int(math.Round(gx * float64(w-ow)))
	y = int(math.Round(gy * float64(h-oh)))
	switch gx {
	case 0:
		x += margin
	case 1:
		x -= margin
	}
	switch gy {
	case 0:
		y += margin
	case 1:
		y -= margin
	}
	return x, y
}

// autoCropSize returns the size of the automatic crop before scaling on a
// w×h image: the largest region with the aspect ratio of crop.aspectratio,
// or with crop.type=smart and no ratio, of w:h when both w and h are given.
// ok is false when no automatic crop applies.
func autoCropSize(p *transform.Params, w, h int) (cw, ch int, ok bool) {
	aw, ah := float64(p.CropAspect[0]), float64(p.CropAspect[1])
	if (aw <= 0 || ah <= 0) && p.CropType == "smart" && p.Width.Set && p.Height.Set {
		aw, ah = float64(p.Width.Resolve(w)), float64(p.Height.Resolve(h))
	}
	if aw <= 0 || ah <= 0 {
		return w, h, false
	}
	ratio := aw / ah
	if float64(w)/float64(h) > ratio {
		cw, ch = max(1, int(math.Round(float64(h)*ratio))), h
	} else {
		cw, ch = w, max(1, int(math.Round(float64(w)/ratio)))
	}
	cw, ch = min(cw, w), min(ch, h)
	return cw, ch, cw != w || ch != h
}

// cropRect computes the crop window (cw, ch, cx, cy) on a w×h image. ok is
// false when no crop applies. The window is clamped to the image. Offsets
// default to the top-left corner (as Sirv); smart reports that the caller
// should place the window by image content instead, because
// crop.type=smart and no offset was given.
func cropRect(p *transform.Params, w, h int) (x, y, cw, ch int, smart, ok bool) {
	cw, ch = p.CropWidth.Resolve(w), p.CropHeight.Resolve(h)
	if !p.CropWidth.Set {
		cw = 0
	}
	if !p.CropHeight.Set {
		ch = 0
	}
	if cw <= 0 && ch <= 0 {
		return 0, 0, 0, 0, false, false
	}
	if cw <= 0 {
		cw = w
	}
	if ch <= 0 {
		ch = h
	}
	cw, ch = min(cw, w), min(ch, h)
	offset := func(o transform.Offset, size, win int) (int, bool) {
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
	smart = p.CropType == "smart" && !xSet && !ySet
	x = min(max(x, 0), w-cw)
	y = min(max(y, 0), h-ch)
	if x == 0 && y == 0 && cw == w && ch == h {
		return 0, 0, 0, 0, false, false
	}
	return x, y, cw, ch, smart, true
}
