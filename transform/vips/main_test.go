package vips_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"sync"
	"testing"

	govips "github.com/davidbyttow/govips/v2/vips"

	"github.com/keyhole-dev/keyhole/transform"
	"github.com/keyhole-dev/keyhole/transform/vips"
)

func TestMain(m *testing.M) {
	vips.Startup(vips.StartupConfig{})
	code := m.Run()
	vips.Shutdown()
	os.Exit(code)
}

// xorshift is a tiny deterministic PRNG for test images.
type xorshift uint64

func (x *xorshift) next() uint64 {
	*x ^= *x << 13
	*x ^= *x >> 7
	*x ^= *x << 17
	return uint64(*x)
}

// photo returns a photo-like RGBA image: smooth diagonal gradients with a
// bright disc and fixed-seed noise, so JPEG encoding behaves like a photo.
func photo(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := xorshift(0x9E3779B97F4A7C15)
	cx, cy, r2 := float64(w)*0.3, float64(h)*0.4, math.Pow(float64(min(w, h))*0.2, 2)
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride:]
		for x := 0; x < w; x++ {
			n := rng.next()
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			r := 40 + 160*fx
			g := 60 + 120*fy
			b := 180 - 120*fx*fy
			if d := (float64(x)-cx)*(float64(x)-cx) + (float64(y)-cy)*(float64(y)-cy); d < r2 {
				r, g, b = r+60, g+50, b-40
			}
			row[4*x+0] = clamp(r + float64(int(n&15)) - 8)
			row[4*x+1] = clamp(g + float64(int(n>>4&15)) - 8)
			row[4*x+2] = clamp(b + float64(int(n>>8&15)) - 8)
			row[4*x+3] = 255
		}
	}
	return img
}

func clamp(v float64) uint8 { return uint8(min(max(v, 0), 255)) }

func encodeJPEG(tb testing.TB, img image.Image, q int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

var (
	bigOnce sync.Once
	bigJPEG []byte
)

// bigPhoto is a 4000×3000 photo-like JPEG, generated once per test binary.
func bigPhoto(tb testing.TB) []byte {
	tb.Helper()
	bigOnce.Do(func() { bigJPEG = encodeJPEG(tb, photo(4000, 3000), 90) })
	return bigJPEG
}

var (
	smallOnce sync.Once
	smallJPEG []byte
)

// smallPhoto is a 1200×800 photo-like JPEG.
func smallPhoto(tb testing.TB) []byte {
	tb.Helper()
	smallOnce.Do(func() { smallJPEG = encodeJPEG(tb, photo(1200, 800), 90) })
	return smallJPEG
}

// quadrants returns a w×h image with four flat quadrants:
// red (top-left), green (top-right), blue (bottom-left), white (bottom-right).
func quadrants(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var c color.RGBA
			switch {
			case x < w/2 && y < h/2:
				c = color.RGBA{255, 0, 0, 255}
			case y < h/2:
				c = color.RGBA{0, 255, 0, 255}
			case x < w/2:
				c = color.RGBA{0, 0, 255, 255}
			default:
				c = color.RGBA{255, 255, 255, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// flat returns a w×h image of one colour.
func flat(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

// alphaPNG is a 200×100 PNG, left half opaque red, right half transparent.
func alphaPNG(tb testing.TB) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 200, 100))
	for y := 0; y < 100; y++ {
		for x := 0; x < 100; x++ {
			img.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 255})
		}
	}
	return encodePNG(tb, img)
}

// smallGIF is a 60×40 paletted GIF with a blue left half and yellow right.
func smallGIF(tb testing.TB) []byte {
	tb.Helper()
	pal := color.Palette{color.RGBA{0, 0, 255, 255}, color.RGBA{255, 255, 0, 255}}
	img := image.NewPaletted(image.Rect(0, 0, 60, 40), pal)
	for y := 0; y < 40; y++ {
		for x := 30; x < 60; x++ {
			img.SetColorIndex(x, y, 1)
		}
	}
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func newEngine(tb testing.TB, l transform.Limits) *vips.Engine {
	tb.Helper()
	e, err := vips.New(vips.Config{Limits: l})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// run processes src with p into format f and decodes the output.
func run(tb testing.TB, e *vips.Engine, src []byte, p transform.Params, f transform.Format) (*transform.Output, image.Image) {
	tb.Helper()
	out, err := e.Process(context.Background(), transform.Request{Source: src, Params: &p, Format: f})
	if err != nil {
		tb.Fatalf("Process(%+v, %s): %v", p, f, err)
	}
	img := decodeAny(tb, out.Data)
	if b := img.Bounds(); b.Dx() != out.Width || b.Dy() != out.Height {
		tb.Fatalf("output says %dx%d, decoded %dx%d", out.Width, out.Height, b.Dx(), b.Dy())
	}
	return out, img
}

// decodeAny decodes with the standard library, or through libvips (WebP,
// AVIF) re-encoded as PNG.
func decodeAny(tb testing.TB, data []byte) image.Image {
	tb.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err == nil {
		return img
	}
	ref, err := govips.NewImageFromBuffer(data)
	if err != nil {
		tb.Fatalf("decode output: %v", err)
	}
	defer ref.Close()
	pngData, _, err := ref.ExportPng(govips.NewPngExportParams())
	if err != nil {
		tb.Fatal(err)
	}
	img, err = png.Decode(bytes.NewReader(pngData))
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// sniffFormat names the container of data by its magic bytes.
func sniffFormat(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return "jpg"
	case bytes.HasPrefix(data, []byte("\x89PNG")):
		return "png"
	case bytes.HasPrefix(data, []byte("GIF8")):
		return "gif"
	case len(data) > 12 && string(data[8:12]) == "WEBP":
		return "webp"
	case len(data) > 12 && string(data[4:8]) == "ftyp" && bytes.Contains(data[8:32], []byte("avif")):
		return "avif"
	}
	return "unknown"
}

// rgba is a mean colour with alpha, 0..255.
type rgba struct{ R, G, B, A float64 }

func (c rgba) String() string { return fmt.Sprintf("(%.0f,%.0f,%.0f,%.0f)", c.R, c.G, c.B, c.A) }

// mean is the average non-premultiplied colour of r in img.
func mean(img image.Image, r image.Rectangle) rgba {
	r = r.Intersect(img.Bounds())
	var s rgba
	n := 0.0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			s.R += float64(c.R)
			s.G += float64(c.G)
			s.B += float64(c.B)
			s.A += float64(c.A)
			n++
		}
	}
	if n == 0 {
		return s
	}
	return rgba{s.R / n, s.G / n, s.B / n, s.A / n}
}

// near reports whether every channel of got is within tol of want.
func near(got, want rgba, tol float64) bool {
	return math.Abs(got.R-want.R) <= tol && math.Abs(got.G-want.G) <= tol &&
		math.Abs(got.B-want.B) <= tol && math.Abs(got.A-want.A) <= tol
}

// opaque makes an rgba with full alpha.
func opaque(r, g, b float64) rgba { return rgba{r, g, b, 255} }

// inset returns the part of the w×h rectangle at (x0,y0) shrunk by m pixels
// on every side, to stay clear of resampling at region edges.
func inset(x0, y0, x1, y1, m int) image.Rectangle {
	return image.Rect(x0+m, y0+m, x1-m, y1-m)
}

// meanAbsDiff is the mean absolute per-channel difference between a and b
// (same size) over RGB.
func meanAbsDiff(a, b image.Image) float64 {
	bb := a.Bounds()
	var s float64
	for y := bb.Min.Y; y < bb.Max.Y; y++ {
		for x := bb.Min.X; x < bb.Max.X; x++ {
			ca := color.NRGBAModel.Convert(a.At(x, y)).(color.NRGBA)
			cb := color.NRGBAModel.Convert(b.At(x-bb.Min.X+b.Bounds().Min.X, y-bb.Min.Y+b.Bounds().Min.Y)).(color.NRGBA)
			s += math.Abs(float64(ca.R)-float64(cb.R)) + math.Abs(float64(ca.G)-float64(cb.G)) + math.Abs(float64(ca.B)-float64(cb.B))
		}
	}
	return s / float64(3*bb.Dx()*bb.Dy())
}
