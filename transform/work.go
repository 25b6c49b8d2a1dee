package transform

import (
	"math"
	"strconv"
)

// Work returns the planned work of p on a srcW×srcH source, in pixel
// operations: the source pixels, four passes over the largest image of the
// pipeline (scaled, cropped, on its canvas, turned) plus one per pass of
// Sirv's colour options (see extraPasses), and that image's
// pixels times the taps of blur and sharpen. A Gaussian of sigma σ costs
// about 12σ+2 taps per pixel (two passes of a ±3σ mask); blur=b has
// σ = b/5 and sharpen=s has σ = 0.5 + s/100, as in the libvips engine. The
// figure is an estimate for bounding work, not a prediction of time.
func (p *Params) Work(srcW, srcH int) (total, filter int64) {
	l := p.Plan(srcW, srcH)
	big := max(area(l.Scale.W, l.Scale.H), area(l.CanvasW, l.CanvasH), area(l.OutW+2*l.Frame, l.OutH+2*l.Frame))
	base := area(srcW, srcH) + int64(4+p.extraPasses())*big
	taps := 0.0
	if p.Blur > 0 {
		taps += 12*p.Blur/5 + 2
	}
	if p.Sharpen > 0 {
		taps += 12*(0.5+p.Sharpen/100) + 2
	}
	f := float64(big) * taps
	if f > math.MaxInt64/2 {
		f = math.MaxInt64 / 2
	}
	return base + int64(f), int64(f)
}

// extraPasses counts the passes over the image of Sirv's light, colour
// and output options: one for the tone curve, colorize and opacity, four
// for colortone (grey, two lookups, blend), two for the vignette.
func (p *Params) extraPasses() int {
	n := 0
	if _, ok := p.ToneCurve(); ok {
		n++
	}
	if _, _, _, ok := p.ColortoneFor(); ok {
		n += 4
	}
	if p.ColorizeColor.Set {
		n++
	}
	if p.VignetteValue > 0 {
		n += 2
	}
	if p.Opacity.Set {
		n++
	}
	return n
}

func area(w, h int) int64 { return int64(max(w, 0)) * int64(max(h, 0)) }

// MaxUninterruptiblePixels bounds the output of the AVIF and GIF
// encoders (16 megapixels): once their pixels are computed, these encoders
// run to the end and cannot be stopped by the time limit, so their work is
// bounded by size instead.
const MaxUninterruptiblePixels = 1 << 24

// CheckWork refuses p on a srcW×srcH source, encoded as out, when its
// planned work (see Work) exceeds lim.MaxWork, or when out is AVIF or GIF
// and the output exceeds MaxUninterruptiblePixels. The error is a *Errors
// naming the parameter to change (blur, else sharpen, else w; format for
// the encoder bound), safe to send in a 400 response. Engines call it
// after reading the source's header and before decoding any pixel. Zero
// fields of lim take their defaults.
func (p *Params) CheckWork(srcW, srcH int, out Format, lim Limits) error {
	lim = lim.WithDefaults()
	var errs Errors
	if out == FormatAVIF || out == FormatGIF {
		l := p.Plan(srcW, srcH)
		if area(l.OutW, l.OutH) > MaxUninterruptiblePixels {
			errs.add("format", string(out), "AVIF and GIF outputs are limited to "+
				strconv.Itoa(MaxUninterruptiblePixels/1_000_000)+" megapixels; use a smaller size or another format")
			return errs.err()
		}
	}
	total, filter := p.Work(srcW, srcH)
	if total <= lim.MaxWork {
		return nil
	}
	reason := "too much work for this image: " + strconv.FormatInt(total/1_000_000, 10) +
		" million pixel operations planned, at most " + strconv.FormatInt(lim.MaxWork/1_000_000, 10) +
		" million allowed; use a smaller size or a weaker filter"
	switch {
	case filter > 0 && p.Blur > 0:
		errs.add("blur", formatNumber(p.Blur), reason)
	case filter > 0:
		errs.add("sharpen", formatNumber(p.Sharpen), reason)
	default:
		errs.add("w", "", reason)
	}
	return errs.err()
}
