package main

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

// copies is how many names each source gets (hard links to one file).
// Keyhole's variant key and ETag hold the file name, so rotating through
// the names keeps concurrent requests from being merged by singleflight,
// and every request really transforms.
const copies = 64

// input is one generated source image.
type input struct {
	Name   string // base name under private/, e.g. "big"
	Ext    string // ".jpg" or ".png"
	Desc   string
	W, H   int
	Format string
	Bytes  int64
}

// path returns the request path of copy i.
func (in input) path(i int) string {
	return fmt.Sprintf("/private/%s-%02d%s", in.Name, i%copies, in.Ext)
}

// paths returns the request paths of every copy, each followed by query.
func (in input) paths(query string) []string {
	out := make([]string, copies)
	for i := range out {
		out[i] = in.path(i) + query
	}
	return out
}

// makeInputs draws the suite's sources into root/private/ with fixed seeds
// and returns them: a 12 MP and a 1 MP photo-like JPEG (q90), and a 1 MP
// PNG of the same kind of picture.
func makeInputs(root string) (big, small, shot input, err error) {
	dir := filepath.Join(root, "private")
	if err = os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	big = input{Name: "big", Ext: ".jpg", Desc: "12 MP photo-like JPEG, q90", W: 4000, H: 3000, Format: "JPEG"}
	small = input{Name: "small", Ext: ".jpg", Desc: "1 MP photo-like JPEG, q90", W: 1200, H: 800, Format: "JPEG"}
	shot = input{Name: "shot", Ext: ".png", Desc: "1 MP photo-like PNG", W: 1200, H: 800, Format: "PNG"}
	for _, in := range []*input{&big, &small, &shot} {
		img := photo(in.W, in.H, uint64(in.W*in.H))
		var buf bytes.Buffer
		if in.Format == "PNG" {
			err = png.Encode(&buf, img)
		} else {
			err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
		}
		if err != nil {
			return
		}
		in.Bytes = int64(buf.Len())
		first := filepath.Join(dir, in.Name+"-00"+in.Ext)
		if err = os.WriteFile(first, buf.Bytes(), 0o644); err != nil {
			return
		}
		for i := 1; i < copies; i++ {
			if err = os.Link(first, filepath.Join(root, in.path(i))); err != nil {
				return
			}
		}
	}
	return
}

// photo returns a photo-like image: smooth diagonal gradients, a bright
// disc and fixed-seed noise (as in transform/vips tests), so encoders and
// decoders work as hard as on a photograph, run after run.
func photo(w, h int, seed uint64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	x := seed | 1
	cx, cy, r2 := float64(w)*0.3, float64(h)*0.4, math.Pow(float64(min(w, h))*0.2, 2)
	for py := 0; py < h; py++ {
		row := img.Pix[py*img.Stride:]
		fy := float64(py) / float64(h)
		for px := 0; px < w; px++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			fx := float64(px) / float64(w)
			r, g, b := 40+160*fx, 60+120*fy, 180-120*fx*fy
			if dx, dy := float64(px)-cx, float64(py)-cy; dx*dx+dy*dy < r2 {
				r, g, b = r+60, g+50, b-40
			}
			row[4*px+0] = clamp(r + float64(x&15) - 8)
			row[4*px+1] = clamp(g + float64(x>>4&15) - 8)
			row[4*px+2] = clamp(b + float64(x>>8&15) - 8)
			row[4*px+3] = 255
		}
	}
	return img
}

func clamp(v float64) uint8 { return uint8(min(max(v, 0), 255)) }
