package vips_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"math"
	"strings"
	"testing"

	"github.com/keyhole-dev/keyhole/transform"
)

// parsed parses Sirv-style values into Params, failing the test on an
// error, so the engine tests exercise the parser's grammar too.
func parsed(t testing.TB, values map[string]string) transform.Params {
	t.Helper()
	p, err := transform.Parse(values, transform.Limits{})
	if err != nil {
		t.Fatalf("Parse(%v): %v", values, err)
	}
	return *p
}

func TestSirvLightAndColour(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	grey := encodePNG(t, flat(64, 64, color.RGBA{100, 100, 100, 255}))
	dark := encodePNG(t, flat(64, 64, color.RGBA{60, 60, 60, 255}))
	light := encodePNG(t, flat(64, 64, color.RGBA{200, 200, 200, 255}))
	tests := []struct {
		name   string
		src    []byte
		values map[string]string
		check  func(rgba) bool
	}{
		{"exposure up one stop", grey, map[string]string{"exposure": "100"}, func(c rgba) bool { return near(c, opaque(200, 200, 200), 2) }},
		{"exposure down", grey, map[string]string{"exposure": "-100"}, func(c rgba) bool { return near(c, opaque(50, 50, 50), 2) }},
		{"shadows lift the dark tones", dark, map[string]string{"shadows": "100"}, func(c rgba) bool { return c.R > 100 }},
		{"shadows leave the light tones", light, map[string]string{"shadows": "100"}, func(c rgba) bool { return c.R > 200 && c.R < 225 }},
		{"highlights darken the light tones", light, map[string]string{"highlights": "-100"}, func(c rgba) bool { return c.R < 150 }},
		{"colorlevel", grey, map[string]string{"colorlevel.black": "50", "colorlevel.white": "150"}, func(c rgba) bool { return near(c, opaque(128, 128, 128), 2) }},
		{"colorlevel black crushes", dark, map[string]string{"colorlevel.black": "60"}, func(c rgba) bool { return near(c, opaque(0, 0, 0), 1) }},
		{"colortone sepia is warm", grey, map[string]string{"colortone": "sepia"}, func(c rgba) bool { return c.R > c.G && c.G > c.B }},
		{"colortone texas", grey, map[string]string{"colortone": "texas"}, func(c rgba) bool { return c.R > c.B+20 }},
		{"colortone colour at level 100", encodePNG(t, flat(8, 8, color.RGBA{128, 128, 128, 255})), map[string]string{"colortone.color": "3366cc"},
			func(c rgba) bool { return near(c, opaque(0x33, 0x66, 0xcc), 3) }},
		{"colortone level 0 changes nothing", grey, map[string]string{"colortone": "sepia", "colortone.level": "0"}, func(c rgba) bool { return near(c, opaque(100, 100, 100), 1) }},
		{"colortone highlights spare the shadows", dark, map[string]string{"colortone.color": "ff0000", "colortone.mode": "highlights"},
			func(c rgba) bool { return c.R-c.G < 35 }},
		{"colorize half red", grey, map[string]string{"colorize.color": "ff0000", "colorize.opacity": "50"}, func(c rgba) bool { return near(c, opaque(178, 50, 50), 2) }},
		{"colorize full", grey, map[string]string{"colorize.color": "00ff00"}, func(c rgba) bool { return near(c, opaque(0, 255, 0), 1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, img := run(t, e, tt.src, parsed(t, tt.values), transform.FormatPNG)
			if got := mean(img, img.Bounds()); !tt.check(got) {
				t.Errorf("mean colour %v", got)
			}
		})
	}
	t.Run("vignette darkens corners, not the centre", func(t *testing.T) {
		src := encodePNG(t, flat(200, 100, color.RGBA{250, 250, 250, 255}))
		_, img := run(t, e, src, parsed(t, map[string]string{"vignette.value": "80"}), transform.FormatPNG)
		centre, corner := mean(img, image.Rect(90, 40, 110, 60)), mean(img, image.Rect(0, 0, 8, 8))
		if !near(centre, opaque(250, 250, 250), 2) || corner.R > 100 {
			t.Errorf("centre %v, corner %v", centre, corner)
		}
		_, img = run(t, e, src, parsed(t, map[string]string{"vignette.value": "100", "vignette.color": "ff0000"}), transform.FormatPNG)
		if c := mean(img, image.Rect(0, 0, 4, 4)); c.R < 240 || c.G > 60 {
			t.Errorf("red vignette corner %v", c)
		}
	})
	t.Run("opacity", func(t *testing.T) {
		_, img := run(t, e, grey, parsed(t, map[string]string{"opacity": "40"}), transform.FormatPNG)
		if c := mean(img, img.Bounds()); math.Abs(c.A-102) > 2 {
			t.Errorf("alpha %v, want 40 %%", c)
		}
		_, img = run(t, e, grey, parsed(t, map[string]string{"opacity": "0"}), transform.FormatJPEG)
		if c := mean(img, img.Bounds()); !near(c, opaque(255, 255, 255), 2) {
			t.Errorf("JPEG at opacity 0 = %v, want the white it is flattened onto", c)
		}
	})
	t.Run("grey source and alpha source", func(t *testing.T) {
		g := image.NewGray(image.Rect(0, 0, 16, 16))
		for i := range g.Pix {
			g.Pix[i] = 128
		}
		_, img := run(t, e, encodePNG(t, g), parsed(t, map[string]string{"colortone": "cold", "colorize.color": "ff000040", "vignette.value": "50", "exposure": "20"}), transform.FormatPNG)
		if c := mean(img, img.Bounds()); c.R == c.B {
			t.Errorf("grey source stayed grey: %v", c)
		}
		_, img = run(t, e, alphaPNG(t), parsed(t, map[string]string{"shadows": "50", "colortone": "sepia", "colorize.color": "0000ff"}), transform.FormatPNG)
		if c := mean(img, image.Rect(150, 0, 200, 100)); c.A > 1 {
			t.Errorf("transparent half became %v", c)
		}
	})
	t.Run("black level must be below white", func(t *testing.T) {
		if _, err := transform.Parse(map[string]string{"colorlevel.black": "200", "colorlevel.white": "100"}, transform.Limits{}); err == nil {
			t.Error("accepted black above white")
		}
	})
}

func TestSirvOutputOptions(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	src := smallPhoto(t)
	base, _ := run(t, e, src, parsed(t, map[string]string{"w": "200"}), transform.FormatJPEG)
	prog, _ := run(t, e, src, parsed(t, map[string]string{"w": "200", "progressive": "true"}), transform.FormatJPEG)
	if !bytes.Contains(prog.Data, []byte{0xff, 0xc2}) || bytes.Contains(base.Data, []byte{0xff, 0xc2}) {
		t.Error("progressive JPEG lacks an SOF2 marker, or the default has one")
	}
	for _, c := range []struct {
		value   string
		h, v, n int
	}{{"4:4:4", 1, 1, 0}, {"4:2:0", 2, 2, 0}} {
		out, _ := run(t, e, src, parsed(t, map[string]string{"w": "200", "subsampling": c.value, "q": "95"}), transform.FormatJPEG)
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(out.Data))
		if err != nil {
			t.Fatal(err)
		}
		h, v := lumaSampling(out.Data)
		if h != c.h || v != c.v || cfg.Width != 200 {
			t.Errorf("subsampling=%s: luma sampling %dx%d, want %dx%d", c.value, h, v, c.h, c.v)
		}
	}
	if _, err := transform.Parse(map[string]string{"subsampling": "4:2:2"}, transform.Limits{}); err == nil {
		t.Error("4:2:2 accepted")
	}
	full, _ := run(t, e, src, parsed(t, map[string]string{"w": "200"}), transform.FormatPNG)
	opt, img := run(t, e, src, parsed(t, map[string]string{"w": "200", "png.optimize": "true"}), transform.FormatPNG)
	if len(opt.Data) >= len(full.Data) {
		t.Errorf("png.optimize: %d bytes, not smaller than %d", len(opt.Data), len(full.Data))
	}
	if _, ok := img.(*image.Paletted); !ok {
		t.Errorf("png.optimize decoded as %T, want a paletted image", img)
	}
}

// lumaSampling returns the sampling factors of the first component in a
// JPEG's start-of-frame segment.
func lumaSampling(data []byte) (h, v int) {
	for i := 0; i+11 < len(data); i++ {
		if data[i] == 0xff && (data[i+1] == 0xc0 || data[i+1] == 0xc2) {
			s := data[i+11]
			return int(s >> 4), int(s & 15)
		}
	}
	return 0, 0
}

func TestSirvPage(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	// A two-frame GIF: blue, then yellow.
	pal := color.Palette{color.RGBA{0, 0, 255, 255}, color.RGBA{255, 255, 0, 255}}
	anim := &gif.GIF{}
	for i := range 2 {
		f := image.NewPaletted(image.Rect(0, 0, 20, 10), pal)
		for j := range f.Pix {
			f.Pix[j] = uint8(i)
		}
		anim.Image, anim.Delay = append(anim.Image, f), append(anim.Delay, 10)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, anim); err != nil {
		t.Fatal(err)
	}
	_, img := run(t, e, buf.Bytes(), parsed(t, map[string]string{"page": "2", "format": "png"}), transform.FormatPNG)
	if c := mean(img, img.Bounds()); !near(c, opaque(255, 255, 0), 2) {
		t.Errorf("page 2 = %v, want yellow", c)
	}
	_, img = run(t, e, buf.Bytes(), parsed(t, map[string]string{"page": "1"}), transform.FormatPNG)
	if c := mean(img, img.Bounds()); !near(c, opaque(0, 0, 255), 2) {
		t.Errorf("page 1 = %v, want blue", c)
	}
	p := parsed(t, map[string]string{"page": "3"})
	_, err := e.Process(context.Background(), transform.Request{Source: buf.Bytes(), Params: &p, Format: transform.FormatPNG})
	var errs *transform.Errors
	if !errors.As(err, &errs) || errs.List[0].Name != "page" {
		t.Errorf("page 3 of 2: %v, want a *transform.Errors naming page", err)
	}
}

// ink returns the bounding box of the pixels of img that differ from the
// background colour bg by more than tol in some channel.
func ink(img image.Image, bg rgba, tol float64) image.Rectangle {
	var r image.Rectangle
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := mean(img, image.Rect(x, y, x+1, y+1))
			if math.Abs(c.R-bg.R) > tol || math.Abs(c.G-bg.G) > tol || math.Abs(c.B-bg.B) > tol {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

func TestSirvText(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	src := encodePNG(t, flat(300, 200, color.RGBA{255, 255, 255, 255}))
	white := opaque(255, 255, 255)
	draw := func(values map[string]string) image.Image {
		t.Helper()
		_, img := run(t, e, src, parsed(t, values), transform.FormatPNG)
		return img
	}
	t.Run("position x y from the gravity point", func(t *testing.T) {
		box := ink(draw(map[string]string{"text": "Hi", "text.font.size": "40", "text.position.x": "30", "text.position.y": "20"}), white, 60)
		if box.Min.X < 30 || box.Min.X > 40 || box.Min.Y < 20 || box.Min.Y > 40 {
			t.Errorf("text at %v, want its box at (30, 20) from the top left", box)
		}
		box = ink(draw(map[string]string{"text": "Hi", "text.font.size": "40", "text.position.gravity": "southeast", "text.position.x": "10", "text.position.y": "10"}), white, 60)
		if box.Max.X > 290 || box.Max.X < 270 || box.Max.Y > 190 || box.Max.Y < 165 {
			t.Errorf("text at %v, want it 10 px from the bottom right", box)
		}
		box = ink(draw(map[string]string{"text": "Hi", "text.font.size": "40", "text.position.x": "5000"}), white, 60)
		if box.Empty() || box.Max.X > 300 {
			t.Errorf("a huge offset put the text at %v, want it kept over the image", box)
		}
	})
	t.Run("font size in pixels", func(t *testing.T) {
		small := ink(draw(map[string]string{"text": "H", "text.font.size": "20"}), white, 60)
		big := ink(draw(map[string]string{"text": "H", "text.font.size": "80"}), white, 60)
		if big.Dy() < 3*small.Dy() || small.Dy() < 10 || small.Dy() > 20 {
			t.Errorf("H at 20 px is %d high, at 80 px %d", small.Dy(), big.Dy())
		}
	})
	t.Run("style and weight change the letters", func(t *testing.T) {
		base := map[string]string{"text": "Hello", "text.font.size": "50"}
		normal := draw(base)
		for _, extra := range []map[string]string{{"text.font.style": "italic"}, {"text.font.weight": "700"}, {"text.font.weight": "extra-bold"}} {
			v := map[string]string{}
			for k, x := range base {
				v[k] = x
			}
			for k, x := range extra {
				v[k] = x
			}
			if d := meanAbsDiff(normal, draw(v)); d < 0.3 {
				t.Errorf("%v: mean difference %.2f from the regular cut", extra, d)
			}
		}
		if d := meanAbsDiff(normal, draw(map[string]string{"text": "Hello", "text.font.size": "50", "text.font.weight": "300"})); d != 0 {
			t.Errorf("weight 300 differs from regular by %.2f; the Go fonts have no light cut", d)
		}
	})
	t.Run("outline width, opacity and blur", func(t *testing.T) {
		base := map[string]string{"text": "O", "text.font.size": "80", "text.color": "ffffff", "text.outline.color": "ff0000"}
		thin := mean(draw(base), image.Rect(0, 0, 300, 200))
		base["text.outline.width"] = "6"
		thick := mean(draw(base), image.Rect(0, 0, 300, 200))
		base["text.outline.opacity"] = "30"
		faint := mean(draw(base), image.Rect(0, 0, 300, 200))
		if !(thick.G < thin.G && faint.G > thick.G) {
			t.Errorf("green of white-on-red: thin %v, thick %v, faint %v", thin, thick, faint)
		}
		delete(base, "text.outline.opacity")
		sharp := ink(draw(base), white, 10)
		base["text.outline.blur"] = "10"
		soft := ink(draw(base), white, 10)
		if soft.Dx() <= sharp.Dx() {
			t.Errorf("blurred outline spans %v, sharp %v", soft, sharp)
		}
	})
	t.Run("background opacity", func(t *testing.T) {
		solid := mean(draw(map[string]string{"text": "x", "text.background.color": "000000"}), image.Rect(0, 0, 300, 200))
		faint := mean(draw(map[string]string{"text": "x", "text.background.color": "000000", "text.background.opacity": "20"}), image.Rect(0, 0, 300, 200))
		if 255-faint.R >= 0.5*(255-solid.R) {
			t.Errorf("background at 20 %%: %v, at 100 %%: %v", faint, solid)
		}
	})
	t.Run("align", func(t *testing.T) {
		// "WWWWWW ii" at 50 px wraps onto two lines on a 300 px image.
		secondLine := func(align string) image.Rectangle {
			img := draw(map[string]string{"text": "WWWWWW ii", "text.font.size": "50", "text.align": align}).(interface {
				SubImage(image.Rectangle) image.Image
			})
			all := ink(img.(image.Image), white, 60)
			return ink(img.SubImage(image.Rect(0, all.Max.Y-25, 300, all.Max.Y)), white, 60)
		}
		l, c, r := secondLine("left"), secondLine("center"), secondLine("right")
		if !(l.Min.X+40 < c.Min.X && c.Min.X+40 < r.Min.X) {
			t.Errorf("second line at x=%d (left), %d (center), %d (right)", l.Min.X, c.Min.X, r.Min.X)
		}
	})
	t.Run("text64 is text", func(t *testing.T) {
		a := draw(map[string]string{"text": "Hé ✓", "text.font.size": "30"})
		b := draw(map[string]string{"text.text64": "SMOpIOKckw", "text.font.size": "30"})
		if d := meanAbsDiff(a, b); d != 0 {
			t.Errorf("text.text64 differs from text by %.2f", d)
		}
		for _, bad := range []map[string]string{{"text.text64": "SMOpIOKckw", "text": "x"}, {"text.text64": "%%%"}, {"text.text64": "AA="}} {
			if _, err := transform.Parse(bad, transform.Limits{}); err == nil {
				t.Errorf("Parse(%v) accepted", bad)
			}
		}
	})
}

func TestSirvWatermark(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	white, red := opaque(255, 255, 255), opaque(255, 0, 0)
	// A 40×20 watermark: left half red, right half blue.
	wmImg := flat(40, 20, color.RGBA{255, 0, 0, 255})
	for y := range 20 {
		for x := 20; x < 40; x++ {
			wmImg.Set(x, y, color.RGBA{0, 0, 255, 255})
		}
	}
	files := map[string][]byte{"/wm/rb.png": encodePNG(t, wmImg)}
	readFile := func(name string) ([]byte, error) { return files[name], nil }
	draw := func(src []byte, values map[string]string) image.Image {
		t.Helper()
		values["watermark"] = "/wm/rb.png"
		p := parsed(t, values)
		out, err := e.Process(context.Background(), transform.Request{Source: src, Params: &p, Format: transform.FormatPNG, ReadFile: readFile})
		if err != nil {
			t.Fatalf("Process(%v): %v", values, err)
		}
		return decodeAny(t, out.Data)
	}
	src := encodePNG(t, flat(400, 200, color.RGBA{255, 255, 255, 255}))
	t.Run("offset from the gravity point", func(t *testing.T) {
		box := ink(draw(src, map[string]string{"watermark.position.gravity": "southeast", "watermark.position.x": "10", "watermark.position.y": "20"}), white, 30)
		if box != image.Rect(350, 160, 390, 180) {
			t.Errorf("watermark at %v, want (350,160)-(390,180)", box)
		}
		box = ink(draw(src, map[string]string{"watermark.position.x": "25%", "watermark.position.y": "5000"}), white, 30)
		if box != image.Rect(100, 180, 140, 200) {
			t.Errorf("watermark at %v, want (100,180)-(140,200), kept over the image", box)
		}
	})
	t.Run("crop of the watermark", func(t *testing.T) {
		img := draw(src, map[string]string{"watermark.crop.width": "50%", "watermark.position": "northwest"})
		if box := ink(img, white, 30); box != image.Rect(0, 0, 20, 20) || !near(mean(img, box), red, 3) {
			t.Errorf("cropped watermark at %v, mean %v; want its red half only", box, mean(img, box))
		}
		img = draw(src, map[string]string{"watermark.crop.x": "20", "watermark.position": "northwest"})
		if c := mean(img, image.Rect(0, 0, 20, 20)); !near(c, opaque(0, 0, 255), 3) {
			t.Errorf("crop from x=20: %v, want blue", c)
		}
	})
	t.Run("scale option", func(t *testing.T) {
		fill := ink(draw(src, map[string]string{"watermark.scale.width": "60", "watermark.scale.height": "60", "watermark.scale.option": "fill"}), white, 30)
		fit := ink(draw(src, map[string]string{"watermark.scale.width": "60", "watermark.scale.height": "60"}), white, 30)
		ignore := ink(draw(src, map[string]string{"watermark.scale.width": "60", "watermark.scale.height": "60", "watermark.scale.option": "ignore"}), white, 30)
		noup := ink(draw(src, map[string]string{"watermark.scale.width": "80", "watermark.scale.height": "80", "watermark.scale.option": "noup"}), white, 30)
		if fill.Size() != image.Pt(60, 60) || fit.Size() != image.Pt(60, 30) || ignore.Size() != image.Pt(60, 60) || noup.Size() != image.Pt(40, 20) {
			t.Errorf("fill %v, fit %v, ignore %v, noup %v", fill.Size(), fit.Size(), ignore.Size(), noup.Size())
		}
	})
	t.Run("canvas behind the watermark", func(t *testing.T) {
		img := draw(src, map[string]string{"watermark.canvas.width": "100", "watermark.canvas.height": "60", "watermark.canvas.color": "00ff00", "watermark.canvas.opacity": "50"})
		box := ink(img, white, 30)
		if box != image.Rect(150, 70, 250, 130) {
			t.Errorf("watermark with canvas at %v, want 100×60 centred", box)
		}
		if c := mean(img, image.Rect(152, 72, 160, 80)); !near(c, opaque(128, 255, 128), 3) {
			t.Errorf("canvas at 50 %% green = %v", c)
		}
	})
	t.Run("rotate", func(t *testing.T) {
		box := ink(draw(src, map[string]string{"watermark.rotate": "90"}), white, 30)
		if box.Size() != image.Pt(20, 40) {
			t.Errorf("turned watermark is %v, want 20×40", box.Size())
		}
		box = ink(draw(src, map[string]string{"watermark.rotate": "45"}), white, 30)
		if box.Dx() < 40 || box.Dy() < 40 {
			t.Errorf("watermark at 45° spans %v", box)
		}
	})
	t.Run("layer back", func(t *testing.T) {
		img := draw(src, map[string]string{"watermark.layer": "back"})
		if box := ink(img, white, 1); !box.Empty() {
			t.Errorf("watermark behind an opaque image shows at %v", box)
		}
		img = draw(alphaPNG(t), map[string]string{"watermark.layer": "back", "watermark.position": "east"})
		if c := mean(img, image.Rect(185, 42, 195, 58)); !near(c, opaque(0, 0, 255), 3) {
			t.Errorf("through the transparent half: %v, want the blue of the watermark", c)
		}
		img = draw(alphaPNG(t), map[string]string{"watermark.layer": "back", "watermark.position": "west"})
		if c := mean(img, image.Rect(2, 42, 18, 58)); !near(c, red, 3) {
			t.Errorf("behind the opaque half: %v, want the image's red", c)
		}
	})
}

func TestSirvCanvasAndFrame(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	src := encodePNG(t, flat(100, 50, color.RGBA{255, 0, 0, 255}))
	red := opaque(255, 0, 0)
	t.Run("aspect ratio and border", func(t *testing.T) {
		out, img := run(t, e, src, parsed(t, map[string]string{"canvas.aspectratio": "1:1", "canvas.color": "0000ff",
			"canvas.border.width": "10", "canvas.border.height": "5%", "canvas.border.color": "00ff00"}), transform.FormatPNG)
		if out.Width != 120 || out.Height != 110 {
			t.Fatalf("output %dx%d, want 120x110 (a 100×100 canvas with 10 px and 5 px borders)", out.Width, out.Height)
		}
		for r, want := range map[image.Rectangle]rgba{
			image.Rect(0, 0, 10, 110):    opaque(0, 255, 0),
			image.Rect(10, 0, 110, 5):    opaque(0, 255, 0),
			image.Rect(12, 7, 108, 25):   opaque(0, 0, 255),
			image.Rect(12, 32, 108, 78):  red,
			image.Rect(110, 0, 120, 110): opaque(0, 255, 0),
		} {
			if c := mean(img, r); !near(c, want, 2) {
				t.Errorf("%v = %v, want %v", r, c, want)
			}
		}
	})
	t.Run("canvas opacity", func(t *testing.T) {
		_, img := run(t, e, src, parsed(t, map[string]string{"canvas.width": "200", "canvas.opacity": "25"}), transform.FormatPNG)
		if c := mean(img, image.Rect(0, 0, 40, 50)); math.Abs(c.A-64) > 2 || !near(mean(img, image.Rect(60, 10, 140, 40)), red, 2) {
			t.Errorf("canvas at 25 %%: %v", c)
		}
	})
	t.Run("solid frame with rim", func(t *testing.T) {
		out, img := run(t, e, src, parsed(t, map[string]string{"frame.style": "solid", "frame.width": "10", "frame.color": "0000ff", "frame.rim.width": "2", "frame.rim.color": "00ff00"}), transform.FormatPNG)
		if out.Width != 120 || out.Height != 70 {
			t.Fatalf("framed output %dx%d, want 120x70", out.Width, out.Height)
		}
		for r, want := range map[image.Rectangle]rgba{
			image.Rect(0, 0, 7, 70):     opaque(0, 0, 255),
			image.Rect(8, 20, 10, 50):   opaque(0, 255, 0),
			image.Rect(12, 12, 108, 58): red,
		} {
			if c := mean(img, r); !near(c, want, 2) {
				t.Errorf("%v = %v, want %v", r, c, want)
			}
		}
	})
	t.Run("mirror and edge frames, default width", func(t *testing.T) {
		half := flat(100, 50, color.RGBA{255, 0, 0, 255})
		for y := range 50 {
			for x := 50; x < 100; x++ {
				half.Set(x, y, color.RGBA{0, 0, 255, 255})
			}
		}
		for _, style := range []string{"mirror", "edge"} {
			out, img := run(t, e, encodePNG(t, half), parsed(t, map[string]string{"frame.style": style}), transform.FormatPNG)
			// 5 % of the shorter side (50) is 3 px (rounded 2.5).
			if out.Width != 106 || out.Height != 56 {
				t.Fatalf("%s: %dx%d, want 106x56", style, out.Width, out.Height)
			}
			if l, r := mean(img, image.Rect(0, 10, 3, 40)), mean(img, image.Rect(103, 10, 106, 40)); !near(l, red, 2) || !near(r, opaque(0, 0, 255), 2) {
				t.Errorf("%s frame: left %v, right %v", style, l, r)
			}
		}
	})
	t.Run("frame is drawn after the text", func(t *testing.T) {
		big := encodePNG(t, flat(300, 200, color.RGBA{255, 255, 255, 255}))
		plain, _ := run(t, e, big, parsed(t, map[string]string{"text": "Hi", "text.font.size": "40"}), transform.FormatPNG)
		framed, img := run(t, e, big, parsed(t, map[string]string{"text": "Hi", "text.font.size": "40", "frame.style": "solid", "frame.width": "20"}), transform.FormatPNG)
		inner := img.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(image.Rect(20, 20, 320, 220))
		if d := meanAbsDiff(decodeAny(t, plain.Data), translated(inner)); d > 0.01 || framed.Width != 340 {
			t.Errorf("inside the frame differs from the unframed output by %.3f", d)
		}
	})
	t.Run("dither refused", func(t *testing.T) {
		if _, err := transform.Parse(map[string]string{"frame.style": "dither"}, transform.Limits{}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("not supported")) {
			t.Errorf("frame.style=dither: %v", err)
		}
	})
}

// translated copies img to an image whose bounds start at (0, 0).
func translated(img image.Image) image.Image {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			out.Set(x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}

func TestSirvThumbnail(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	out, _ := run(t, e, smallPhoto(t), parsed(t, map[string]string{"thumbnail": "64"}), transform.FormatJPEG)
	if out.Width != 64 || out.Height != 64 {
		t.Errorf("thumbnail=64: %dx%d", out.Width, out.Height)
	}
	out, _ = run(t, e, smallPhoto(t), parsed(t, map[string]string{"cw": "50", "ch": "40", "cx": "10", "cy": "10", "crop.pad.width": "5", "crop.pad.height": "5"}), transform.FormatPNG)
	if out.Width != 60 || out.Height != 50 {
		t.Errorf("padded crop: %dx%d, want 60x50", out.Width, out.Height)
	}
}

// TestSirvOptionsNeverFail runs every Sirv option Keyhole renders, with
// boundary values that the parser accepts, on tiny and transparent
// sources: each request either renders or is refused as too large or
// with a parameter error (a 400); none is an internal failure (a 500).
func TestSirvOptionsNeverFail(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	wm := encodePNG(t, flat(3, 2, color.RGBA{0, 0, 255, 128}))
	readFile := func(string) ([]byte, error) { return wm, nil }
	sources := map[string][]byte{
		"1x1 png":   encodePNG(t, flat(1, 1, color.RGBA{10, 20, 30, 255})),
		"3x2 jpeg":  encodeJPEG(t, flat(3, 2, color.RGBA{200, 100, 50, 255}), 90),
		"alpha png": alphaPNG(t),
	}
	candidates := []string{"0", "1", "2", "50", "100", "100%", "1%", "center", "-100", "255", "ffffff00", "true", "1:9", "bottom"}
	for _, o := range transform.SirvOptions() {
		if o.Status == transform.SirvRefused {
			continue
		}
		t.Run(o.Name, func(t *testing.T) {
			for _, v := range append(candidates, o.Example) {
				values := map[string]string{o.Name: v}
				switch {
				case strings.HasPrefix(o.Name, "text.") || o.AliasOf == "text":
					values["text"] = "Hi ✓"
				case strings.HasPrefix(o.Name, "watermark.") || o.AliasOf == "watermark":
					values["watermark"] = "/wm/a.png"
				}
				if o.Name == "text.text64" {
					delete(values, "text")
				}
				p, err := transform.Parse(values, transform.Limits{})
				if err != nil {
					continue
				}
				for name, src := range sources {
					_, err := e.Process(context.Background(), transform.Request{Source: src, Params: p, Format: transform.FormatPNG, ReadFile: readFile})
					var perrs *transform.Errors
					if err != nil && !errors.Is(err, transform.ErrOutputTooLarge) && !errors.As(err, &perrs) {
						t.Errorf("%v on %s: %v", values, name, err)
					}
				}
			}
		})
	}
}

func TestSirvTextLayers(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	src := encodePNG(t, flat(300, 200, color.RGBA{255, 255, 255, 255}))
	white := opaque(255, 255, 255)
	values := map[string]string{
		"text.0.text": "TOP", "text.0.position": "north", "text.0.font.size": "30", "text.0.color": "ff0000",
		"text.1.text": "LOW", "text.1.position": "south", "text.1.font.size": "30", "text.1.color": "0000ff",
		"text.3.text64": "wqk", "text.3.position.x": "5", "text.3.position.y": "90", "text.3.font.size": "20",
	}
	_, img := run(t, e, src, parsed(t, values), transform.FormatPNG)
	top, low := ink(subImage(img, image.Rect(0, 0, 300, 60)), white, 60), ink(subImage(img, image.Rect(0, 140, 300, 200)), white, 60)
	if top.Empty() || low.Empty() {
		t.Fatalf("layers missing: top %v, bottom %v", top, low)
	}
	if c := mean(img, top); c.R < c.B {
		t.Errorf("layer 0 is %v, want red", c)
	}
	if c := mean(img, low); c.B < c.R {
		t.Errorf("layer 1 is %v, want blue", c)
	}
	if mid := ink(subImage(img, image.Rect(0, 85, 60, 120)), white, 60); mid.Empty() || mid.Min.X > 12 {
		t.Errorf("layer 3 (©) at %v, want it near (5, 90)", mid)
	}
	// A layer is drawn like the same text alone as layer 0.
	_, alone := run(t, e, src, parsed(t, map[string]string{"text": "LOW", "text.position": "south", "text.font.size": "30", "text.color": "0000ff"}), transform.FormatPNG)
	if d := meanAbsDiff(subImage(alone, image.Rect(0, 140, 300, 200)), subImage(img, image.Rect(0, 140, 300, 200))); d != 0 {
		t.Errorf("layer 1 differs from the same text as layer 0 by %.3f", d)
	}
}

func subImage(img image.Image, r image.Rectangle) image.Image {
	return translated(img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(r))
}

func TestSirvWatermarkLayers(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	files := map[string][]byte{
		"/wm/red.png":  encodePNG(t, flat(40, 20, color.RGBA{255, 0, 0, 255})),
		"/wm/blue.png": encodePNG(t, flat(20, 20, color.RGBA{0, 0, 255, 255})),
	}
	readFile := func(name string) ([]byte, error) { return files[name], nil }
	p := parsed(t, map[string]string{
		"watermark.0.image": "/wm/red.png", "watermark.0.position": "northwest",
		"watermark.1.image": "/wm/blue.png", "watermark.1.position": "southeast",
		"watermark.2.image": "/wm/blue.png", "watermark.2.position.x": "100", "watermark.2.position.y": "50", "watermark.2.opacity": "50",
	})
	src := encodePNG(t, flat(300, 200, color.RGBA{255, 255, 255, 255}))
	out, err := e.Process(context.Background(), transform.Request{Source: src, Params: &p, Format: transform.FormatPNG, ReadFile: readFile})
	if err != nil {
		t.Fatal(err)
	}
	img := decodeAny(t, out.Data)
	for r, want := range map[image.Rectangle]rgba{
		image.Rect(2, 2, 38, 18):       opaque(255, 0, 0),
		image.Rect(282, 182, 298, 198): opaque(0, 0, 255),
		image.Rect(102, 52, 118, 68):   opaque(128, 128, 255),
		image.Rect(150, 100, 250, 150): opaque(255, 255, 255),
	} {
		if c := mean(img, r); !near(c, want, 3) {
			t.Errorf("%v = %v, want %v", r, c, want)
		}
	}
}

// TestSirvOptionCombinations renders random combinations of Sirv's
// options (each with a value from the parity table's example or a few
// boundary values) on small opaque, transparent and grey sources, in
// every output format: each either renders or is a 400, never an
// internal failure.
func TestSirvOptionCombinations(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	wm := encodePNG(t, flat(5, 3, color.RGBA{0, 0, 255, 128}))
	readFile := func(string) ([]byte, error) { return wm, nil }
	g := image.NewGray(image.Rect(0, 0, 9, 7))
	sources := [][]byte{encodeJPEG(t, flat(16, 12, color.RGBA{200, 100, 50, 255}), 90), alphaPNG(t), encodePNG(t, g), smallGIF(t)}
	formats := []transform.Format{transform.FormatPNG, transform.FormatJPEG, transform.FormatWebP, transform.FormatGIF}
	var opts []transform.SirvOption
	for _, o := range transform.SirvOptions() {
		if o.Status != transform.SirvRefused {
			opts = append(opts, o)
		}
	}
	values := []string{"1", "2", "50", "100", "50%", "center", "-30", "ffffff80", "true", "2:1", "southeast"}
	n := 400
	if testing.Short() {
		n = 60
	}
	var seed uint64 = 22
	next := func(k int) int {
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		return int(seed % uint64(k))
	}
	rendered := 0
	for i := range n {
		q := map[string]string{"text": "Hi", "watermark": "/wm/a.png"}
		if i%3 == 0 {
			delete(q, "text")
		}
		for range 3 + next(5) {
			o := opts[next(len(opts))]
			v := o.Example
			if next(2) == 0 {
				v = values[next(len(values))]
			}
			q[o.Name] = v
		}
		p, err := transform.Parse(q, transform.Limits{})
		if err != nil {
			continue
		}
		src, f := sources[next(len(sources))], formats[next(len(formats))]
		_, err = e.Process(context.Background(), transform.Request{Source: src, Params: p, Format: f, ReadFile: readFile})
		var perrs *transform.Errors
		switch {
		case err == nil:
			rendered++
		case errors.Is(err, transform.ErrOutputTooLarge), errors.As(err, &perrs):
		default:
			t.Errorf("%v as %s: %v", q, f, err)
		}
	}
	if rendered < n/10 {
		t.Errorf("only %d of %d combinations rendered", rendered, n)
	}
}
