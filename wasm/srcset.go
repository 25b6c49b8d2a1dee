//go:build js && wasm

package main

import (
	"math"
	"strconv"

	"github.com/keyhole-dev/keyhole/transform"
)

// maxSrcsetWidths bounds the number of widths in one srcset request; a
// responsive image rarely lists more than ten.
const maxSrcsetWidths = 32

// srcsetConflicts names the parameters a srcset request's args may not set,
// because each decides (or, for a profile, may decide) the output's width
// besides the w that srcset signs for each URL: the other sizes (h, s,
// scale.option), the crop after scaling (cw, ch, cx, cy), the canvas, a
// rotation, and a named profile. Crops before scaling (crop.type,
// crop.aspectratio), flips, colour, text and watermarks are allowed.
var srcsetConflicts = []string{
	"w", "h", "s", "scale.option",
	"cw", "ch", "cx", "cy",
	"canvas.width", "canvas.height",
	"rotate", "profile",
}

// checkSrcset decodes a srcset request:
//
//	u32    width count, then that many f64
//	value  args ('-' or an object)
//
// and refuses widths that are not whole numbers of pixels from 1 to the
// server's default maximum output width, repeated widths, more than
// maxSrcsetWidths of them, and args that are invalid or set a parameter of
// srcsetConflicts. The answer is empty: JavaScript then signs one URL per
// width with w added to the secure args, so each URL's token locks its
// width (and with it the whole geometry group) and no URL opens a larger
// size than listed.
func checkSrcset(r *reader) error {
	widths := make([]float64, r.count(8))
	for i := range widths {
		widths[i] = r.f64()
	}
	args, absent := r.value(0)
	if err := r.done(); err != nil {
		return err
	}
	if len(widths) == 0 {
		return badInput("widths must list at least one width")
	}
	if len(widths) > maxSrcsetWidths {
		return badInput("widths may list at most " + strconv.Itoa(maxSrcsetWidths) + " widths")
	}
	seen := make(map[float64]int, len(widths))
	for i, w := range widths {
		at := "widths[" + strconv.Itoa(i) + "]"
		if math.IsNaN(w) || w != math.Trunc(w) || w < 1 || w > float64(limits.MaxOutputWidth) {
			return badInput(at + " must be a whole number of pixels from 1 to " + strconv.Itoa(limits.MaxOutputWidth))
		}
		if j, dup := seen[w]; dup {
			return badInput(at + " repeats widths[" + strconv.Itoa(j) + "] (" + strconv.Itoa(int(w)) + ")")
		}
		seen[w] = i
	}
	if absent {
		return nil
	}
	m, ok := args.(map[string]any)
	if !ok {
		return badInput("args must be an object")
	}
	flat, err := transform.FromArgs(m)
	if err == nil {
		_, err = transform.Parse(flat, limits)
	}
	if err != nil {
		return paramsError("args", err)
	}
	for _, name := range srcsetConflicts {
		if _, set := flat[name]; set {
			return badInput("args." + name + " conflicts with the widths: srcset sets w for each URL and refuses args that also decide the output's size")
		}
	}
	return nil
}
