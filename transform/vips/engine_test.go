package vips_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"io/fs"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	govips "github.com/davidbyttow/govips/v2/vips"

	"github.com/keyhole-dev/keyhole/transform"
	"github.com/keyhole-dev/keyhole/transform/vips"
)

var (
	red   = opaque(255, 0, 0)
	green = opaque(0, 255, 0)
	blue  = opaque(0, 0, 255)
	white = opaque(255, 255, 255)
)

func px(v float64) transform.Dim  { return transform.Dim{Value: v, Set: true} }
func pct(v float64) transform.Dim { return transform.Dim{Value: v, Percent: true, Set: true} }
func col(r, g, b, a uint8) transform.Color {
	return transform.Color{R: r, G: g, B: b, A: a, Set: true}
}

// quadrantPNG is a 400×200 PNG of four flat quadrants (see quadrants).
func quadrantPNG(t testing.TB) []byte { return encodePNG(t, quadrants(400, 200)) }

func TestScale(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	src := quadrantPNG(t)
	tests := []struct {
		name string
		p    transform.Params
		w, h int
	}{
		{"w", transform.Params{Width: px(100)}, 100, 50},
		{"h", transform.Params{Height: px(50)}, 100, 50},
		{"w%", transform.Params{Width: pct(50)}, 200, 100},
		{"h%", transform.Params{Height: pct(25)}, 100, 50},
		{"s", transform.Params{Side: 100}, 100, 50},
		{"fit", transform.Params{Width: px(100), Height: px(100)}, 100, 50},
		{"fit explicit", transform.Params{Width: px(100), Height: px(100), ScaleOption: "fit"}, 100, 50},
		{"fit enlarges", transform.Params{Width: px(800)}, 800, 400},
		{"fill", transform.Params{Width: px(100), Height: px(100), ScaleOption: "fill"}, 100, 100},
		{"ignore", transform.Params{Width: px(100), Height: px(100), ScaleOption: "ignore"}, 100, 100},
		{"noup keeps size", transform.Params{Width: px(800), Height: px(800), ScaleOption: "noup"}, 400, 200},
		{"noup shrinks", transform.Params{Width: px(100), ScaleOption: "noup"}, 100, 50},
		{"one side ignore", transform.Params{Height: px(20), ScaleOption: "ignore"}, 40, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, img := run(t, e, src, tt.p, transform.FormatPNG)
			if out.Width != tt.w || out.Height != tt.h {
				t.Fatalf("got %dx%d, want %dx%d", out.Width, out.Height, tt.w, tt.h)
			}
			w, h := out.Width, out.Height
			m := max(1, min(w, h)/10)
			// Every output still shows the quadrants in place.
			if tt.name != "fill" {
				if got := mean(img, inset(0, 0, w/2, h/2, m)); !near(got, red, 8) {
					t.Errorf("top-left = %v, want red", got)
				}
				if got := mean(img, inset(w/2, h/2, w, h, m)); !near(got, white, 8) {
					t.Errorf("bottom-right = %v, want white", got)
				}
			}
		})
	}
	t.Run("fill crops around the centre", func(t *testing.T) {
		// 400×200 → cover 100×100 = 200×100, centre crop keeps x 50..150.
		_, img := run(t, e, src, transform.Params{Width: px(100), Height: px(100), ScaleOption: "fill"}, transform.FormatPNG)
		if got := mean(img, inset(0, 0, 50, 50, 5)); !near(got, red, 8) {
			t.Errorf("top-left = %v, want red", got)
		}
		if got := mean(img, inset(50, 0, 100, 50, 5)); !near(got, green, 8) {
			t.Errorf("top-right = %v, want green", got)
		}
	})
}

// TestShrinkOnLoad checks that the shrink-on-load path gives the right size
// and a picture close to libvips' own thumbnail of the same source.
func TestShrinkOnLoad(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	for _, tt := range []struct {
		name string
		src  []byte
		w, h int
	}{
		{"4000x3000", bigPhoto(t), 300, 225},
		{"1200x800", smallPhoto(t), 300, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, img := run(t, e, tt.src, transform.Params{Width: px(300)}, transform.FormatJPEG)
			if out.Width != tt.w || out.Height != tt.h {
				t.Fatalf("got %dx%d, want %dx%d", out.Width, out.Height, tt.w, tt.h)
			}
			ref, err := govips.NewThumbnailFromBuffer(tt.src, tt.w, tt.h, govips.InterestingNone)
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Close()
			data, _, err := ref.ExportPng(govips.NewPngExportParams())
			if err != nil {
				t.Fatal(err)
			}
			want := decodeAny(t, data)
			if d := meanAbsDiff(img, want); d > 4 {
				t.Errorf("mean abs difference to libvips thumbnail = %.2f, want <= 4", d)
			}
		})
	}
}

func TestCrop(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	src := quadrantPNG(t)
	tests := []struct {
		name string
		p    transform.Params
		w, h int
		want rgba
	}{
		{"top-left by default", transform.Params{CropWidth: px(100), CropHeight: px(50)}, 100, 50, red},
		{"offset pixels", transform.Params{CropWidth: px(100), CropHeight: px(50), CropX: transform.Offset{Dim: px(250)}}, 100, 50, green},
		{"offset percent", transform.Params{CropWidth: pct(25), CropHeight: pct(25), CropX: transform.Offset{Dim: pct(75)}, CropY: transform.Offset{Dim: pct(75)}}, 100, 50, white},
		{"clamped to the image", transform.Params{CropWidth: px(100), CropHeight: px(50), CropX: transform.Offset{Dim: px(390)}, CropY: transform.Offset{Dim: px(190)}}, 100, 50, white},
		{"after scaling", transform.Params{Width: px(200), CropWidth: px(50), CropHeight: px(50), CropY: transform.Offset{Dim: px(50)}}, 50, 50, blue},
		{"centre", transform.Params{CropWidth: px(20), CropHeight: px(20), CropX: transform.Offset{Center: true}, CropY: transform.Offset{Dim: px(0)}}, 20, 20, opaque(128, 128, 0)},
		{"aspect ratio", transform.Params{CropAspect: [2]int{1, 1}}, 200, 200, opaque(128, 128, 128)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, img := run(t, e, src, tt.p, transform.FormatPNG)
			if out.Width != tt.w || out.Height != tt.h {
				t.Fatalf("got %dx%d, want %dx%d", out.Width, out.Height, tt.w, tt.h)
			}
			if got := mean(img, img.Bounds()); !near(got, tt.want, 10) {
				t.Errorf("mean colour %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTrim(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	img := flat(300, 200, color.RGBA{255, 255, 255, 255})
	for y := 40; y < 90; y++ {
		for x := 50; x < 150; x++ {
			img.SetRGBA(x, y, color.RGBA{200, 0, 0, 255})
		}
	}
	out, dec := run(t, e, encodePNG(t, img), transform.Params{CropType: "trim"}, transform.FormatPNG)
	if out.Width != 100 || out.Height != 50 {
		t.Fatalf("trimmed to %dx%d, want 100x50", out.Width, out.Height)
	}
	if got := mean(dec, dec.Bounds()); !near(got, opaque(200, 0, 0), 2) {
		t.Errorf("mean %v, want the red box", got)
	}
	// Trim comes before scaling: w=50 scales the trimmed box.
	out, _ = run(t, e, encodePNG(t, img), transform.Params{CropType: "trim", Width: px(50)}, transform.FormatPNG)
	if out.Width != 50 || out.Height != 25 {
		t.Errorf("trim+w=50 gave %dx%d, want 50x25", out.Width, out.Height)
	}
}

func TestSmartCrop(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	// A flat grey picture with a busy, saturated patch near its right edge.
	img := flat(400, 200, color.RGBA{128, 128, 128, 255})
	rng := xorshift(42)
	for y := 40; y < 160; y++ {
		for x := 300; x < 390; x++ {
			n := rng.next()
			img.SetRGBA(x, y, color.RGBA{uint8(n), uint8(n >> 8), 0, 255})
		}
	}
	src := encodePNG(t, img)
	for _, p := range []transform.Params{
		{CropType: "smart", CropAspect: [2]int{1, 1}},
		{CropType: "smart", Width: px(100), Height: px(100), ScaleOption: "fill"},
	} {
		out, dec := run(t, e, src, p, transform.FormatPNG)
		if out.Width != out.Height {
			t.Fatalf("%+v: got %dx%d, want a square", p, out.Width, out.Height)
		}
		// The patch is at x >= 300 of 400, so a centre crop (x 100..300) would
		// miss it; the smart crop must include it on its right.
		w := out.Width
		if got := mean(dec, image.Rect(w*3/4, w/4, w, w*3/4)); near(got, opaque(128, 128, 128), 10) {
			t.Errorf("%+v: right side is flat grey %v: the busy patch was cropped away", p, got)
		}
	}
}

func TestCanvas(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	src := encodePNG(t, flat(100, 50, color.RGBA{255, 0, 0, 255}))
	t.Run("colour and position", func(t *testing.T) {
		out, img := run(t, e, src, transform.Params{
			CanvasWidth: px(200), CanvasHeight: px(100), CanvasColor: col(0, 0, 255, 255), CanvasPosition: "northwest",
		}, transform.FormatPNG)
		if out.Width != 200 || out.Height != 100 {
			t.Fatalf("got %dx%d", out.Width, out.Height)
		}
		if got := mean(img, image.Rect(0, 0, 100, 50)); !near(got, red, 1) {
			t.Errorf("image corner %v, want red", got)
		}
		if got := mean(img, image.Rect(100, 0, 200, 100)); !near(got, blue, 1) {
			t.Errorf("canvas %v, want blue", got)
		}
	})
	t.Run("default white, centred", func(t *testing.T) {
		_, img := run(t, e, src, transform.Params{CanvasWidth: pct(100), CanvasHeight: px(150)}, transform.FormatPNG)
		if got := mean(img, image.Rect(0, 50, 100, 100)); !near(got, red, 1) {
			t.Errorf("middle %v, want red", got)
		}
		if got := mean(img, image.Rect(0, 0, 100, 50)); !near(got, white, 1) {
			t.Errorf("top %v, want white", got)
		}
	})
	t.Run("transparent", func(t *testing.T) {
		_, img := run(t, e, src, transform.Params{CanvasWidth: px(200), CanvasColor: col(0, 0, 0, 0), CanvasPosition: "east"}, transform.FormatPNG)
		if got := mean(img, image.Rect(0, 0, 100, 50)); got.A != 0 {
			t.Errorf("canvas %v, want transparent", got)
		}
		if got := mean(img, image.Rect(100, 0, 200, 50)); !near(got, red, 1) {
			t.Errorf("image %v, want red", got)
		}
	})
}

func TestRotateFlipFlop(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	src := encodePNG(t, quadrants(200, 100))
	// corner returns the mean colour of the 20×20 square at a corner:
	// 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right.
	corner := func(img image.Image, i int) rgba {
		b := img.Bounds()
		x, y := 5, 5
		if i%2 == 1 {
			x = b.Dx() - 25
		}
		if i >= 2 {
			y = b.Dy() - 25
		}
		return mean(img, image.Rect(x, y, x+20, y+20))
	}
	tests := []struct {
		name   string
		p      transform.Params
		w, h   int
		redAt  int
		whiteA int
	}{
		{"90 clockwise", transform.Params{Rotate: 90}, 100, 200, 1, 2},
		{"-90", transform.Params{Rotate: -90}, 100, 200, 2, 1},
		{"180", transform.Params{Rotate: 180}, 200, 100, 3, 0},
		{"-180", transform.Params{Rotate: -180}, 200, 100, 3, 0},
		{"flip", transform.Params{Flip: true}, 200, 100, 2, 1},
		{"flop", transform.Params{Flop: true}, 200, 100, 1, 2},
		{"flip+flop", transform.Params{Flip: true, Flop: true}, 200, 100, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, img := run(t, e, src, tt.p, transform.FormatPNG)
			if out.Width != tt.w || out.Height != tt.h {
				t.Fatalf("got %dx%d, want %dx%d", out.Width, out.Height, tt.w, tt.h)
			}
			if got := corner(img, tt.redAt); !near(got, red, 2) {
				t.Errorf("corner %d = %v, want red", tt.redAt, got)
			}
			if got := corner(img, tt.whiteA); !near(got, white, 2) {
				t.Errorf("corner %d = %v, want white", tt.whiteA, got)
			}
		})
	}
	t.Run("45", func(t *testing.T) {
		// The bounding box of a 200×100 image turned by 45° is 213×213.
		out, img := run(t, e, src, transform.Params{Rotate: 45}, transform.FormatPNG)
		if out.Width < 211 || out.Width > 214 || out.Height < 211 || out.Height > 214 {
			t.Fatalf("got %dx%d, want about 213x213", out.Width, out.Height)
		}
		if got := corner(img, 0); got.A != 0 {
			t.Errorf("PNG corner %v, want transparent", got)
		}
		// Clockwise: the centre of the red quadrant, (-50,-25) from the
		// middle, moves to about (-18,-53).
		c := image.Pt(out.Width/2-18, out.Height/2-53)
		if got := mean(img, image.Rectangle{c.Sub(image.Pt(4, 4)), c.Add(image.Pt(4, 4))}); !near(got, red, 10) {
			t.Errorf("rotated red quadrant %v, want red (clockwise)", got)
		}
		_, img = run(t, e, src, transform.Params{Rotate: 45}, transform.FormatJPEG)
		if got := corner(img, 0); !near(got, white, 3) {
			t.Errorf("JPEG corner %v, want white", got)
		}
		_, img = run(t, e, src, transform.Params{Rotate: 45, CanvasColor: col(0, 0, 255, 255)}, transform.FormatJPEG)
		if got := corner(img, 0); !near(got, blue, 6) {
			t.Errorf("JPEG corner with canvas.color %v, want blue", got)
		}
	})
}

func TestAdjust(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	grey := encodePNG(t, flat(64, 64, color.RGBA{100, 100, 100, 255}))
	redSrc := encodePNG(t, flat(64, 64, color.RGBA{200, 30, 30, 255}))
	tests := []struct {
		name  string
		src   []byte
		p     transform.Params
		check func(rgba) bool
	}{
		{"brightness", grey, transform.Params{Brightness: -50}, func(c rgba) bool { return near(c, opaque(50, 50, 50), 2) }},
		{"brightness up", grey, transform.Params{Brightness: 50}, func(c rgba) bool { return near(c, opaque(150, 150, 150), 2) }},
		{"contrast", grey, transform.Params{Contrast: 100}, func(c rgba) bool { return near(c, opaque(72, 72, 72), 2) }},
		{"lightness", grey, transform.Params{Lightness: 50}, func(c rgba) bool { return near(c, opaque(228, 228, 228), 2) }},
		{"saturation -100", redSrc, transform.Params{Saturation: -100}, func(c rgba) bool {
			return math.Abs(c.R-c.G) < 6 && math.Abs(c.G-c.B) < 6
		}},
		{"hue 180", redSrc, transform.Params{Hue: 180}, func(c rgba) bool { return c.R < c.G && c.R < c.B }},
		{"grayscale", redSrc, transform.Params{Grayscale: true}, func(c rgba) bool {
			return c.R == c.G && c.G == c.B && c.R > 40 && c.R < 120
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, img := run(t, e, tt.src, tt.p, transform.FormatPNG)
			if got := mean(img, img.Bounds()); !tt.check(got) {
				t.Errorf("mean colour %v", got)
			}
		})
	}
	t.Run("grayscale photo", func(t *testing.T) {
		_, img := run(t, e, smallPhoto(t), transform.Params{Grayscale: true, Width: px(200)}, transform.FormatJPEG)
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y += 7 {
			for x := b.Min.X; x < b.Max.X; x += 7 {
				r, g, bb, _ := img.At(x, y).RGBA()
				if r != g || g != bb {
					t.Fatalf("pixel (%d,%d) = %d,%d,%d, want R=G=B", x, y, r>>8, g>>8, bb>>8)
				}
			}
		}
	})
	t.Run("blur", func(t *testing.T) {
		// Across the red|green edge of the quadrants (x = 100 of 200), a blur
		// mixes the two colours.
		src := encodePNG(t, quadrants(200, 100))
		_, sharp := run(t, e, src, transform.Params{}, transform.FormatPNG)
		_, img := run(t, e, src, transform.Params{Blur: 30}, transform.FormatPNG)
		edge := image.Rect(97, 20, 103, 30)
		if got := mean(img, edge); got.R < 60 || got.G < 60 {
			t.Errorf("edge after blur %v, want red and green mixed", got)
		}
		if got := mean(sharp, image.Rect(97, 20, 100, 30)); !near(got, red, 1) {
			t.Errorf("edge without blur %v, want red", got)
		}
	})
	t.Run("sharpen", func(t *testing.T) {
		// Edges softened by downscaling get crisper; flat areas stay put.
		src := encodePNG(t, quadrants(400, 200))
		p := transform.Params{Width: px(150)}
		_, plain := run(t, e, src, p, transform.FormatPNG)
		p.Sharpen = 80
		_, img := run(t, e, src, p, transform.FormatPNG)
		edge := image.Rect(70, 5, 80, 30)
		if d := meanAbsDiff(img.(subImager).SubImage(edge), plain.(subImager).SubImage(edge)); d < 3 {
			t.Errorf("sharpen changed the edge by %.2f on average, want a visible change", d)
		}
		flatArea := image.Rect(10, 5, 40, 30)
		if d := meanAbsDiff(img.(subImager).SubImage(flatArea), plain.(subImager).SubImage(flatArea)); d > 0.5 {
			t.Errorf("sharpen changed a flat area by %.2f", d)
		}
	})
}

type subImager interface {
	SubImage(image.Rectangle) image.Image
}

func TestText(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	src := encodePNG(t, flat(400, 200, color.RGBA{255, 255, 255, 255}))
	dark := func(img image.Image, r image.Rectangle) int {
		n := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if c := color.GrayModel.Convert(img.At(x, y)).(color.Gray); c.Y < 128 {
					n++
				}
			}
		}
		return n
	}
	top, bottom := image.Rect(0, 0, 400, 100), image.Rect(0, 100, 400, 200)
	t.Run("north", func(t *testing.T) {
		_, img := run(t, e, src, transform.Params{Text: "Hello, Keyhole", TextSize: 8, TextPosition: "north"}, transform.FormatPNG)
		if n := dark(img, top); n < 200 {
			t.Errorf("%d dark pixels in the top half, want text", n)
		}
		if n := dark(img, bottom); n != 0 {
			t.Errorf("%d dark pixels in the bottom half, want none", n)
		}
	})
	t.Run("wraps at the image width", func(t *testing.T) {
		for _, family := range []string{"", "Go Mono Bold"} {
			_, img := run(t, e, src, transform.Params{
				Text: "one two three four five six seven eight nine ten", TextSize: 8, TextPosition: "north", TextFontFamily: family,
			}, transform.FormatPNG)
			// At 32 px a line holds about a dozen characters: the second and
			// third lines (rows ~40-110) have ink too.
			if n := dark(img, image.Rect(0, 45, 400, 75)); n < 100 {
				t.Errorf("family %q: %d dark pixels on the second line, want wrapped text", family, n)
			}
			if n := dark(img, image.Rect(0, 160, 400, 200)); n != 0 {
				t.Errorf("family %q: %d dark pixels near the bottom", family, n)
			}
		}
	})
	t.Run("south, colour, opacity", func(t *testing.T) {
		_, img := run(t, e, src, transform.Params{
			Text: "Hello", TextSize: 10, TextPosition: "south", TextColor: col(255, 0, 0, 255), TextOpacity: 50,
		}, transform.FormatPNG)
		if n := dark(img, top); n != 0 {
			t.Errorf("%d dark pixels in the top half, want none", n)
		}
		// Half-opaque red on white is (255,128,128): find such pixels below.
		found := false
		for y := 100; y < 200 && !found; y++ {
			for x := 0; x < 400; x++ {
				c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				if c.R > 240 && c.G > 110 && c.G < 150 && c.B > 110 && c.B < 150 {
					found = true
					break
				}
			}
		}
		if !found {
			t.Error("no half-opaque red text pixels in the bottom half")
		}
	})
	t.Run("background box and outline", func(t *testing.T) {
		_, img := run(t, e, src, transform.Params{
			Text: "Hi", TextSize: 10, TextColor: col(255, 255, 255, 255),
			TextBackground: col(0, 0, 255, 255), TextOutline: col(0, 0, 0, 255),
		}, transform.FormatPNG)
		// The box is centred; its middle row has blue pixels.
		blues := 0
		for x := 0; x < 400; x++ {
			c := color.NRGBAModel.Convert(img.At(x, 100)).(color.NRGBA)
			if c.B > 200 && c.R < 40 && c.G < 40 {
				blues++
			}
		}
		if blues < 20 {
			t.Errorf("%d blue pixels across the middle, want a background box", blues)
		}
		if n := dark(img, image.Rect(0, 0, 400, 200)); n == 0 {
			t.Error("no dark outline pixels")
		}
	})
	t.Run("markup is literal", func(t *testing.T) {
		// Not valid Pango markup: must render rather than fail.
		_, img := run(t, e, src, transform.Params{Text: `<span size="99999">&x</b>`, TextSize: 4}, transform.FormatPNG)
		if n := dark(img, img.Bounds()); n == 0 {
			t.Error("no text rendered")
		}
	})
	t.Run("auto size, opaque JPEG keeps three bands", func(t *testing.T) {
		out, img := run(t, e, smallPhoto(t), transform.Params{Width: px(300), Text: "© Keyhole"}, transform.FormatJPEG)
		if out.Height != 200 {
			t.Fatalf("got %dx%d", out.Width, out.Height)
		}
		_, plain := run(t, e, smallPhoto(t), transform.Params{Width: px(300)}, transform.FormatJPEG)
		if d := meanAbsDiff(img, plain); d < 1 {
			t.Errorf("text changed the image by only %.2f", d)
		}
	})
	t.Run("small outputs render", func(t *testing.T) {
		// Widths 1..16 with every text option: the overlay is drawn,
		// shrunk or skipped, never an error (libvips' rank refuses a
		// window larger than the image).
		for w := 1; w <= 16; w++ {
			for _, p := range []transform.Params{
				{Width: px(float64(w)), Text: "X"},
				{Width: px(float64(w)), Text: "Keyhole", TextSize: 50, TextOutline: col(0, 0, 0, 255)},
				{Width: px(float64(w)), Text: "Keyhole", TextBackground: col(0, 0, 255, 255), TextOutline: col(255, 0, 0, 255), TextPosition: "southeast"},
			} {
				p := p
				out, err := e.Process(context.Background(), transform.Request{Source: src, Params: &p, Format: transform.FormatPNG})
				if err != nil {
					t.Fatalf("w=%d %+v: %v", w, p, err)
				}
				if out.Width != w {
					t.Errorf("w=%d: got width %d", w, out.Width)
				}
			}
		}
	})
	t.Run("too long", func(t *testing.T) {
		p := transform.Params{Text: strings.Repeat("x", 257)}
		_, err := e.Process(context.Background(), transform.Request{Source: src, Params: &p, Format: transform.FormatPNG})
		if !errors.Is(err, transform.ErrOutputTooLarge) {
			t.Errorf("err = %v, want ErrOutputTooLarge", err)
		}
	})
}

func TestWatermark(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	src := encodeJPEG(t, flat(400, 200, color.RGBA{255, 255, 255, 255}), 95)
	files := map[string][]byte{
		"/wm/red.png":   encodePNG(t, flat(40, 20, color.RGBA{255, 0, 0, 255})),
		"/wm/big.png":   encodePNG(t, flat(800, 100, color.RGBA{0, 0, 255, 255})),
		"/wm/notimage":  []byte("hello"),
		"/wm/alpha.png": alphaPNG(t),
	}
	readFile := func(name string) ([]byte, error) {
		if b, ok := files[name]; ok {
			return b, nil
		}
		return nil, fs.ErrNotExist
	}
	process := func(p transform.Params) (image.Image, error) {
		out, err := e.Process(context.Background(), transform.Request{Source: src, Params: &p, Format: transform.FormatPNG, ReadFile: readFile})
		if err != nil {
			return nil, err
		}
		return decodeAny(t, out.Data), nil
	}
	tests := []struct {
		name    string
		p       transform.Params
		regions map[image.Rectangle]rgba
	}{
		{"northwest", transform.Params{Watermark: "/wm/red.png", WatermarkPosition: "northwest"}, map[image.Rectangle]rgba{
			image.Rect(2, 2, 38, 18): red, image.Rect(50, 2, 100, 18): white, image.Rect(180, 90, 220, 110): white,
		}},
		{"center by default", transform.Params{Watermark: "/wm/red.png"}, map[image.Rectangle]rgba{
			image.Rect(182, 92, 218, 108): red, image.Rect(2, 2, 38, 18): white,
		}},
		{"southeast, half opaque", transform.Params{Watermark: "/wm/red.png", WatermarkPosition: "southeast", WatermarkOpacity: 50}, map[image.Rectangle]rgba{
			image.Rect(362, 182, 398, 198): opaque(255, 128, 128),
		}},
		{"scaled by percent", transform.Params{Watermark: "/wm/red.png", WatermarkScaleWidth: pct(50)}, map[image.Rectangle]rgba{
			image.Rect(105, 55, 295, 145): red, image.Rect(0, 0, 95, 45): white,
		}},
		{"scaled by pixels", transform.Params{Watermark: "/wm/red.png", WatermarkScaleHeight: px(100), WatermarkPosition: "west"}, map[image.Rectangle]rgba{
			image.Rect(2, 52, 198, 148): red, image.Rect(205, 52, 398, 148): white,
		}},
		{"larger than the image fits inside", transform.Params{Watermark: "/wm/big.png"}, map[image.Rectangle]rgba{
			image.Rect(5, 80, 395, 120): blue, image.Rect(5, 5, 395, 45): white,
		}},
		{"tile", transform.Params{Watermark: "/wm/red.png", WatermarkPosition: "tile"}, map[image.Rectangle]rgba{
			image.Rect(0, 0, 400, 200): red,
		}},
		{"alpha watermark", transform.Params{Watermark: "/wm/alpha.png", WatermarkPosition: "northwest"}, map[image.Rectangle]rgba{
			image.Rect(5, 5, 95, 95): red, image.Rect(105, 5, 195, 95): white,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := process(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != 400 || b.Dy() != 200 {
				t.Fatalf("size %v, want the image's 400x200", b)
			}
			for r, want := range tt.regions {
				if got := mean(img, r); !near(got, want, 6) {
					t.Errorf("region %v = %v, want %v", r, got, want)
				}
			}
		})
	}
	for name, p := range map[string]transform.Params{
		"not found": {Watermark: "/wm/missing.png"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := process(p); !errors.Is(err, transform.ErrWatermarkNotFound) {
				t.Errorf("err = %v, want ErrWatermarkNotFound", err)
			}
		})
	}
	t.Run("no ReadFile", func(t *testing.T) {
		p := transform.Params{Watermark: "/wm/red.png"}
		_, err := e.Process(context.Background(), transform.Request{Source: src, Params: &p, Format: transform.FormatPNG})
		if !errors.Is(err, transform.ErrWatermarkNotFound) {
			t.Errorf("err = %v, want ErrWatermarkNotFound", err)
		}
	})
	t.Run("not an image", func(t *testing.T) {
		if _, err := process(transform.Params{Watermark: "/wm/notimage"}); !errors.Is(err, transform.ErrNotImage) {
			t.Errorf("err = %v, want ErrNotImage", err)
		}
	})
}

func TestFormats(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	src := quadrantPNG(t)
	for _, f := range []transform.Format{transform.FormatJPEG, transform.FormatPNG, transform.FormatWebP, transform.FormatAVIF, transform.FormatGIF} {
		t.Run(string(f), func(t *testing.T) {
			out, img := run(t, e, src, transform.Params{Width: px(200)}, f)
			if out.Format != f || sniffFormat(out.Data) != string(f) {
				t.Fatalf("format %q, data looks like %q, want %q", out.Format, sniffFormat(out.Data), f)
			}
			if out.Width != 200 || out.Height != 100 {
				t.Fatalf("got %dx%d", out.Width, out.Height)
			}
			tol := 6.0
			if f == transform.FormatAVIF || f == transform.FormatWebP {
				tol = 14 // lossy chroma at q80 on saturated flat colours
			}
			for r, want := range map[image.Rectangle]rgba{
				inset(0, 0, 100, 50, 8): red, inset(100, 0, 200, 50, 8): green,
				inset(0, 50, 100, 100, 8): blue, inset(100, 50, 200, 100, 8): white,
			} {
				if got := mean(img, r); !near(got, want, tol) {
					t.Errorf("region %v = %v, want %v", r, got, want)
				}
			}
		})
	}
	t.Run("original keeps the source format", func(t *testing.T) {
		for _, tt := range []struct {
			src  []byte
			want transform.Format
		}{{src, transform.FormatPNG}, {smallGIF(t), transform.FormatGIF}, {smallPhoto(t), transform.FormatJPEG}} {
			out, _ := run(t, e, tt.src, transform.Params{Width: px(50)}, transform.FormatOriginal)
			if out.Format != tt.want || sniffFormat(out.Data) != string(tt.want) {
				t.Errorf("got %q, want %q", out.Format, tt.want)
			}
		}
	})
	t.Run("alpha", func(t *testing.T) {
		_, img := run(t, e, alphaPNG(t), transform.Params{}, transform.FormatPNG)
		if got := mean(img, image.Rect(110, 10, 190, 90)); got.A != 0 {
			t.Errorf("PNG right half %v, want transparent", got)
		}
		_, img = run(t, e, alphaPNG(t), transform.Params{}, transform.FormatJPEG)
		if got := mean(img, image.Rect(110, 10, 190, 90)); !near(got, white, 2) {
			t.Errorf("JPEG right half %v, want white", got)
		}
		_, img = run(t, e, alphaPNG(t), transform.Params{Width: px(100)}, transform.FormatWebP)
		if got := mean(img, image.Rect(55, 5, 95, 45)); got.A != 0 {
			t.Errorf("WebP right half %v, want transparent", got)
		}
	})
	t.Run("GIF source", func(t *testing.T) {
		_, img := run(t, e, smallGIF(t), transform.Params{}, transform.FormatPNG)
		if got := mean(img, image.Rect(2, 2, 28, 38)); !near(got, blue, 1) {
			t.Errorf("left %v, want blue", got)
		}
	})
	t.Run("quality", func(t *testing.T) {
		lo, _ := run(t, e, smallPhoto(t), transform.Params{Quality: 20}, transform.FormatJPEG)
		hi, _ := run(t, e, smallPhoto(t), transform.Params{Quality: 95}, transform.FormatJPEG)
		if len(lo.Data) >= len(hi.Data) {
			t.Errorf("q=20 gave %d bytes, q=95 %d", len(lo.Data), len(hi.Data))
		}
	})
	t.Run("metadata stripped, baseline JPEG", func(t *testing.T) {
		src := withOrientation(t, encodeJPEG(t, quadrants(200, 100), 95), 1)
		out, _ := run(t, e, src, transform.Params{Width: px(100)}, transform.FormatJPEG)
		if bytes.Contains(out.Data, []byte("Exif\x00\x00")) || bytes.Contains(out.Data, []byte("ICC_PROFILE")) {
			t.Error("output keeps EXIF or ICC metadata")
		}
		if !bytes.Contains(out.Data, []byte{0xFF, 0xC0}) || bytes.Contains(out.Data, []byte{0xFF, 0xC2}) {
			t.Error("output is not a baseline JPEG")
		}
	})
}

// withOrientation inserts an EXIF APP1 segment with the given orientation
// after the SOI marker of a JPEG.
func withOrientation(t testing.TB, jpg []byte, orientation uint16) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2A")
	binary.Write(&tiff, binary.BigEndian, uint32(8))                // IFD0 offset
	binary.Write(&tiff, binary.BigEndian, uint16(1))                // one entry
	binary.Write(&tiff, binary.BigEndian, []uint16{0x0112, 3})      // Orientation, SHORT
	binary.Write(&tiff, binary.BigEndian, uint32(1))                // count
	binary.Write(&tiff, binary.BigEndian, []uint16{orientation, 0}) // value, padding
	binary.Write(&tiff, binary.BigEndian, uint32(0))                // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	var out bytes.Buffer
	out.Write(jpg[:2])
	out.Write([]byte{0xFF, 0xE1})
	binary.Write(&out, binary.BigEndian, uint16(len(payload)+2))
	out.Write(payload)
	out.Write(jpg[2:])
	return out.Bytes()
}

func TestEXIFOrientation(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	// Orientation 6: the stored picture must be turned 90° clockwise.
	src := withOrientation(t, encodeJPEG(t, quadrants(200, 100), 95), 6)
	for _, p := range []transform.Params{{}, {Width: px(50)}} {
		out, img := run(t, e, src, p, transform.FormatPNG)
		if out.Width*2 != out.Height {
			t.Fatalf("%+v: got %dx%d, want portrait", p, out.Width, out.Height)
		}
		w, h := out.Width, out.Height
		if got := mean(img, inset(w/2, 0, w, h/2, w/10)); !near(got, red, 10) {
			t.Errorf("%+v: top-right %v, want red", p, got)
		}
	}
}

func TestRefusedSources(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	svg := []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="100" height="50"><rect width="100" height="50" fill="#ff0000"/></svg>`)
	// Cut inside the IHDR chunk: no header. (Damaged pixel data after a
	// valid header decodes as far as it goes, as in browsers.)
	truncated := quadrantPNG(t)[:20]
	for _, tt := range []struct {
		name string
		src  []byte
	}{
		{"empty", nil},
		{"text", []byte("definitely not an image, just some words")},
		{"random", bytes.Repeat([]byte{0x13, 0x37, 0xC0, 0xDE}, 64)},
		{"truncated PNG", truncated},
		{"SVG", svg},
		{"PDF", []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")},
		{"BMP", append([]byte("BM"), make([]byte, 64)...)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := transform.Params{Width: px(50)}
			_, err := e.Process(context.Background(), transform.Request{Source: tt.src, Params: &p, Format: transform.FormatPNG})
			if !errors.Is(err, transform.ErrNotImage) {
				t.Errorf("err = %v, want ErrNotImage", err)
			}
			// govips appends a Go stack trace to libvips' text.
			if msg := err.Error(); strings.Contains(msg, "Stack:") || strings.Contains(msg, ".go:") || strings.Contains(msg, "\n") {
				t.Errorf("error text has a stack trace or several lines: %q", msg)
			}
		})
	}
	t.Run("SVG allowed", func(t *testing.T) {
		ev := newEngine(t, transform.Limits{AllowVector: true})
		out, img := run(t, ev, svg, transform.Params{Width: px(50)}, transform.FormatOriginal)
		if out.Format != transform.FormatPNG || out.Width != 50 || out.Height != 25 {
			t.Fatalf("got %s %dx%d", out.Format, out.Width, out.Height)
		}
		if got := mean(img, inset(0, 0, 50, 25, 3)); !near(got, red, 3) {
			t.Errorf("SVG rendered as %v, want red", got)
		}
	})
}

func TestLimits(t *testing.T) {
	src := quadrantPNG(t)
	tests := []struct {
		name   string
		limits transform.Limits
		p      transform.Params
		want   error
	}{
		{"output width", transform.Limits{}, transform.Params{Width: px(9000)}, transform.ErrOutputTooLarge},
		{"output height via aspect", transform.Limits{MaxOutputHeight: 300}, transform.Params{Width: px(800)}, transform.ErrOutputTooLarge},
		{"fill intermediate", transform.Limits{MaxOutputWidth: 1000}, transform.Params{Width: px(100), Height: px(1000), ScaleOption: "fill"}, transform.ErrOutputTooLarge},
		{"canvas", transform.Limits{MaxOutputWidth: 500}, transform.Params{CanvasWidth: px(600)}, transform.ErrOutputTooLarge},
		{"rotation", transform.Limits{MaxOutputWidth: 420, MaxOutputHeight: 420}, transform.Params{Rotate: 45}, transform.ErrOutputTooLarge},
		{"unscaled source over the output limit", transform.Limits{MaxOutputWidth: 300}, transform.Params{Grayscale: true}, transform.ErrOutputTooLarge},
		{"source pixels", transform.Limits{MaxSourcePixels: 400*200 - 1}, transform.Params{Width: px(10)}, transform.ErrSourceTooLarge},
		{"source bytes", transform.Limits{MaxSourceBytes: int64(len(src) - 1)}, transform.Params{Width: px(10)}, transform.ErrSourceTooLarge},
		{"text runes", transform.Limits{MaxTextRunes: 3}, transform.Params{Text: "four"}, transform.ErrOutputTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, tt.limits)
			_, err := e.Process(context.Background(), transform.Request{Source: src, Params: &tt.p, Format: transform.FormatPNG})
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("at the limit is fine", func(t *testing.T) {
		e := newEngine(t, transform.Limits{MaxSourcePixels: 400 * 200, MaxOutputWidth: 800, MaxOutputHeight: 400})
		run(t, e, src, transform.Params{Width: px(800)}, transform.FormatPNG)
	})
}

func TestContext(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	p := transform.Params{Width: px(100)}
	req := transform.Request{Source: quadrantPNG(t), Params: &p, Format: transform.FormatPNG}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := e.Process(ctx, req); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		if _, err := e.Process(ctx, req); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("Limits.Timeout", func(t *testing.T) {
		et := newEngine(t, transform.Limits{Timeout: time.Nanosecond})
		if _, err := et.Process(context.Background(), req); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want context.DeadlineExceeded", err)
		}
	})
}

func TestConcurrent(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	srcs := [][]byte{quadrantPNG(t), smallPhoto(t), smallGIF(t), alphaPNG(t)}
	formats := []transform.Format{transform.FormatJPEG, transform.FormatPNG, transform.FormatWebP, transform.FormatGIF}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			p := transform.Params{Width: px(float64(40 + i)), Text: "x", Rotate: 90}
			out, err := e.Process(context.Background(), transform.Request{Source: srcs[i%len(srcs)], Params: &p, Format: formats[i%len(formats)]})
			if err != nil {
				t.Error(err)
				return
			}
			if out.Height != 40+i {
				t.Errorf("worker %d: got %dx%d", i, out.Width, out.Height)
			}
		})
	}
	wg.Wait()
}

func TestNew(t *testing.T) {
	if _, err := vips.New(vips.Config{Limits: transform.Limits{MaxOutputWidth: -1}}); err == nil || !strings.Contains(err.Error(), "MaxOutputWidth") {
		t.Errorf("negative limit: err = %v, want one naming MaxOutputWidth", err)
	}
	e := newEngine(t, transform.Limits{MaxSourcePixels: 10})
	l := e.Limits()
	if l.MaxSourcePixels != 10 || l.MaxOutputWidth != transform.DefaultMaxOutputWidth || l.Timeout != transform.DefaultTimeout {
		t.Errorf("limits with defaults = %+v", l)
	}
	// Startup is idempotent.
	vips.Startup(vips.StartupConfig{})
}
