//go:build ignore

// gen draws the demo images that keyhole serve embeds when it runs without
// a config file. Run it with `go generate ./cmd/keyhole/...`; it is
// deterministic, so the committed files only change when this code does.
package main

import (
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"log"
	"math"
	"math/rand/v2"
	"os"
)

func main() {
	writeJPEG("files/protected/photo.jpg", photo(1200, 800), 82)
	writeJPEG("files/public/landscape.jpg", photo(640, 427), 80)
	writePNG("files/protected/logo.png", logo(240, 80))
	if err := os.WriteFile("files/protected/notes.txt", []byte("A protected text file: not an image, served as-is.\n"), 0o644); err != nil {
		log.Fatal(err)
	}
}

// photo paints a landscape-like scene: sky gradient, sun, hills, grain.
func photo(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	fw, fh := float64(w), float64(h)
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/fw, float64(y)/fh
			r, g, b := 70+120*fy, 140+80*fy, 235-60*fy // sky
			if d := math.Hypot(fx-0.72, fy-0.3); d < 0.09 {
				r, g, b = 255, 214, 90 // sun
			}
			hill1 := 0.62 + 0.08*math.Sin(fx*7.0)
			hill2 := 0.74 + 0.06*math.Sin(fx*11.0+1.3)
			switch {
			case fy > hill2:
				r, g, b = 40+30*fx, 110+40*fy, 50
			case fy > hill1:
				r, g, b = 80, 140+30*fx, 80
			}
			n := rng.Float64()*18 - 9
			img.Set(x, y, color.RGBA{clamp(r + n), clamp(g + n), clamp(b + n), 255})
		}
	}
	return img
}

// logo is a translucent badge for the watermark demo.
func logo(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			inside := x > 4 && x < w-4 && y > 4 && y < h-4
			stripe := (x/12+y/12)%2 == 0
			switch {
			case inside && stripe:
				img.Set(x, y, color.NRGBA{255, 255, 255, 200})
			case inside:
				img.Set(x, y, color.NRGBA{200, 30, 60, 200})
			}
		}
	}
	return img
}

func clamp(v float64) uint8 { return uint8(math.Max(0, math.Min(255, v))) }

func writeJPEG(name string, img image.Image, q int) {
	f := create(name)
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: q}); err != nil {
		log.Fatal(err)
	}
	closeFile(f)
}

func writePNG(name string, img image.Image) {
	f := create(name)
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	closeFile(f)
}

func create(name string) *os.File {
	f, err := os.Create(name)
	if err != nil {
		log.Fatal(err)
	}
	return f
}

func closeFile(f *os.File) {
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
