package transform

import (
	"math"
	"strconv"
)

// check adds the errors that involve more than one parameter.
func (p *Params) check(errs *Errors) {
	if p.ColorLevelWhite > 0 && p.ColorLevelBlack >= p.ColorLevelWhite {
		errs.add("colorlevel.black", strconv.Itoa(p.ColorLevelBlack), "must be below colorlevel.white ("+strconv.Itoa(p.ColorLevelWhite)+")")
	}
}

// ToneCurve returns the 8-bit lookup table of colorlevel.black and
// .white, exposure, shadows and highlights, applied in that order to each
// colour band; ok is false when none of them is set. Levels stretch
// black..white to 0..255; exposure multiplies by 2^(exposure/100) (one
// stop at ±100); shadows and highlights add a bump of up to ±30 % of full
// scale that peaks at a third and at two thirds of the range and is zero
// at black and white.
func (p *Params) ToneCurve() (lut [256]uint8, ok bool) {
	black, white := float64(p.ColorLevelBlack), float64(p.ColorLevelWhite)
	if white <= 0 {
		white = 255
	}
	if black == 0 && white == 255 && p.Exposure == 0 && p.Shadows == 0 && p.Highlights == 0 {
		return lut, false
	}
	gain := math.Exp2(float64(p.Exposure) / 100)
	sh, hi := float64(p.Shadows)/100, float64(p.Highlights)/100
	for i := range lut {
		t := (float64(i) - black) / (white - black)
		t = math.Min(math.Max(t, 0), 1) * gain
		t = math.Min(t, 1)
		u := 1 - t
		t += sh*2*t*u*u + hi*2*t*t*u
		lut[i] = uint8(math.Round(math.Min(math.Max(t, 0), 1) * 255))
	}
	return lut, true
}

// colortonePresets are the colortone presets: the colour a mid-grey
// becomes, and the default level.
var colortonePresets = map[string]struct {
	c     Color
	level int
}{
	"sepia":    {Color{R: 0xa0, G: 0x80, B: 0x5a, A: 255, Set: true}, 100},
	"warm":     {Color{R: 0xc0, G: 0x80, B: 0x50, A: 255, Set: true}, 50},
	"cold":     {Color{R: 0x50, G: 0x80, B: 0xc0, A: 255, Set: true}, 50},
	"sunlight": {Color{R: 0xd8, G: 0xa8, B: 0x40, A: 255, Set: true}, 40},
	"sunset":   {Color{R: 0xd0, G: 0x60, B: 0x40, A: 255, Set: true}, 60},
	"texas":    {Color{R: 0xb0, G: 0x70, B: 0x30, A: 255, Set: true}, 70},
	"aurora":   {Color{R: 0x40, G: 0xb0, B: 0x90, A: 255, Set: true}, 60},
	"purple":   {Color{R: 0x90, G: 0x50, B: 0xb0, A: 255, Set: true}, 60},
	"emerald":  {Color{R: 0x30, G: 0xa0, B: 0x60, A: 255, Set: true}, 60},
}

// ColortoneFor returns the colour tone to apply: the colour at mid-grey,
// the level (0..100) and the mode (solid, highlights or shadows). The
// preset's colour and level apply unless colortone.color and .level are
// given; ok is false when no tone applies (no preset and no colour, or
// level 0).
func (p *Params) ColortoneFor() (c Color, level int, mode string, ok bool) {
	preset, found := colortonePresets[p.Colortone]
	c, level = preset.c, preset.level
	if !found {
		level = 100
	}
	if p.ColortoneColor.Set {
		c = p.ColortoneColor
	}
	level = p.ColortoneLevel.Or(level)
	mode = p.ColortoneMode
	if mode == "" {
		mode = "solid"
	}
	return c, level, mode, c.Set && level > 0
}

// Duotone returns the value of one colour channel of tone colour c for
// grey level l: black at 0, c at mid-grey (128), white at 255.
func Duotone(c uint8, l int) uint8 {
	if l < 128 {
		return uint8((int(c)*l + 64) / 128)
	}
	return uint8(int(c) + ((255-int(c))*(l-128)+63)/127)
}

// VignetteAlpha returns the vignette's opacity (0..1) at the point whose
// distance from the centre is r, as a fraction of half the image's
// diagonal (0 at the centre, 1 in the corners): none inside 40 % of the
// way out, then rising smoothly to vignette.value percent in the corners.
func (p *Params) VignetteAlpha(r float64) float64 {
	t := math.Min(math.Max((r-0.4)/0.6, 0), 1)
	return float64(p.VignetteValue) / 100 * t * t * (3 - 2*t)
}
