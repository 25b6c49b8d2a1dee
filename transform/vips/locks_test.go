package vips_test

import (
	"context"
	"errors"
	"image"
	"image/color"
	"io/fs"
	"net/url"
	"slices"
	"testing"

	"github.com/keyhole-dev/keyhole/transform"
	"github.com/keyhole-dev/keyhole/transform/vips"
)

// The reported lock attacks, replayed through the real engine: the
// attacking query must render exactly what the lock alone renders, and
// that rendering must carry the locked overlay or size.

// lockedRender merges layers with the query (a raw query string), parses,
// and renders src as PNG. It returns the image and the ignored names.
func lockedRender(t *testing.T, e *vips.Engine, src []byte, layers transform.Layers, profiles map[string]map[string]string, query string) (image.Image, []string) {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	layers.Insecure = transform.FromQuery(q)
	merged, ignored, err := transform.Merge(layers, profiles)
	if err != nil {
		t.Fatal(err)
	}
	p, err := transform.Parse(merged, transform.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Process(context.Background(), transform.Request{
		Source: src, Params: p, Format: transform.FormatPNG,
		ReadFile: func(name string) ([]byte, error) {
			if name == "/wm/logo.png" {
				return encodePNG(t, flat(200, 100, color.RGBA{0, 0, 255, 255})), nil
			}
			return nil, fs.ErrNotExist
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return decodeAny(t, out.Data), ignored
}

func sameImage(a, b image.Image) bool {
	return a.Bounds().Size() == b.Bounds().Size() && meanAbsDiff(a, b) == 0
}

func TestAttack1CanvasCannotRemoveALockedOverlay(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	src := encodeJPEG(t, photo(1600, 1200), 90)
	profiles := map[string]map[string]string{
		"strict": {"watermark": "/wm/logo.png", "watermark.position": "center"},
	}
	attack := "format=png&canvas.width=2000&canvas.height=2000&canvas.position=northwest"
	tests := []struct {
		name   string
		layers transform.Layers
		plain  transform.Layers // the same without the overlay
		w, h   int
	}{
		{"token text", transform.Layers{Secure: m{"w": "400", "text": "CONFIDENTIAL", "text.color": "ff0000"}},
			transform.Layers{Secure: m{"w": "400"}}, 400, 300},
		{"token watermark", transform.Layers{Secure: m{"w": "400", "watermark": "/wm/logo.png"}},
			transform.Layers{Secure: m{"w": "400"}}, 400, 300},
		{"strict-profile watermark, no token", transform.Layers{Strict: "strict"},
			transform.Layers{}, 1600, 1200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ignored := lockedRender(t, e, src, tt.layers, profiles, attack)
			alone, _ := lockedRender(t, e, src, tt.layers, profiles, "format=png")
			plain, _ := lockedRender(t, e, src, tt.plain, profiles, "format=png")
			if b := got.Bounds(); b.Dx() != tt.w || b.Dy() != tt.h {
				t.Fatalf("output %dx%d, want %dx%d (the canvas must be ignored)", b.Dx(), b.Dy(), tt.w, tt.h)
			}
			if want := []string{"canvas.height", "canvas.position", "canvas.width"}; !slices.Equal(ignored, want) {
				t.Errorf("ignored = %q, want %q", ignored, want)
			}
			if !sameImage(got, alone) {
				t.Error("the attack renders differently from the lock alone")
			}
			// The overlay is over the photo's centre: that region differs
			// from the unmarked rendering.
			b := got.Bounds()
			centre := image.Rect(b.Dx()*3/8, b.Dy()*3/8, b.Dx()*5/8, b.Dy()*5/8)
			if d := meanAbsDiff(crop(got, centre), crop(plain, centre)); d < 10 {
				t.Errorf("centre differs from the unmarked image by %.1f on average: the overlay is missing", d)
			}
		})
	}
}

func TestAttack2WidthCannotUndoALockedSide(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	src := encodeJPEG(t, photo(1600, 1200), 90)
	layers := transform.Layers{Secure: m{"s": "300"}}
	alone, _ := lockedRender(t, e, src, layers, nil, "")
	if b := alone.Bounds(); b.Dx() != 300 || b.Dy() != 225 {
		t.Fatalf("s=300 alone gives %v", b)
	}
	for _, query := range []string{"w=1600", "w=100%25", "h=100%25", "w=1600&h=1200&scale.option=ignore"} {
		t.Run(query, func(t *testing.T) {
			got, ignored := lockedRender(t, e, src, layers, nil, query)
			if !sameImage(got, alone) {
				t.Errorf("output %v differs from the locked 300x225", got.Bounds())
			}
			if len(ignored) == 0 {
				t.Error("nothing reported in the ignored parameters")
			}
		})
	}
}

func TestAttack3LockedWidthLeaksNoFullResolutionStrip(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	src := encodeJPEG(t, photo(1600, 1200), 90)
	profiles := map[string]map[string]string{"w400": {"w": "400"}}
	tests := []struct {
		name   string
		layers transform.Layers
		w, h   int
	}{
		{"token w=300", transform.Layers{Secure: m{"w": "300"}}, 300, 225},
		{"strict profile w=400", transform.Layers{Strict: "w400"}, 400, 300},
	}
	for _, tt := range tests {
		for _, query := range []string{"h=100%25&scale.option=fill", "crop.aspectratio=1:4", "scale.option=ignore&h=1200"} {
			t.Run(tt.name+" "+query, func(t *testing.T) {
				got, ignored := lockedRender(t, e, src, tt.layers, profiles, query)
				if b := got.Bounds(); b.Dx() != tt.w || b.Dy() != tt.h {
					t.Errorf("output %dx%d, want %dx%d", b.Dx(), b.Dy(), tt.w, tt.h)
				}
				if len(ignored) == 0 {
					t.Error("nothing reported in the ignored parameters")
				}
			})
		}
	}
}

// crop returns the part of img in r, as its own image.
func crop(img image.Image, r image.Rectangle) image.Image {
	out := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			out.Set(x, y, img.At(r.Min.X+x, r.Min.Y+y))
		}
	}
	return out
}

// TestWorkBudgetRefusedBeforeDecoding: the engine refuses the attack of
// the time-limit report from the header, with an error naming blur.
func TestWorkBudgetRefusedBeforeDecoding(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	src := encodeJPEG(t, photo(1600, 1200), 90)
	p := transform.Params{Width: px(8192), Height: px(8192), ScaleOption: "ignore", Blur: 100}
	_, err := e.Process(context.Background(), transform.Request{Source: src, Params: &p, Format: transform.FormatPNG})
	var errs *transform.Errors
	if !errors.As(err, &errs) || len(errs.List) != 1 || errs.List[0].Name != "blur" {
		t.Fatalf("err = %v, want a *transform.Errors naming blur", err)
	}
}

type m = map[string]string
