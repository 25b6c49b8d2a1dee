package vips

// Internal tests of the kill hook: they reach the unexported killer, which
// the external tests exercise only through Process.

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"testing"
	"time"

	govips "github.com/davidbyttow/govips/v2/vips"
)

func black(tb testing.TB, w, h int) *govips.ImageRef {
	tb.Helper()
	img, err := govips.Black(w, h)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(img.Close)
	return img
}

// TestKillerReachesTheImage: the pointer read from the ImageRef is the
// image libvips computes, so a kill makes the next export fail, and only
// that one.
func TestKillerReachesTheImage(t *testing.T) {
	field, err := imageField()
	if err != nil {
		t.Fatal(err)
	}
	img := black(t, 256, 256)
	ctx, cancel := context.WithCancel(context.Background())
	k := newKiller(ctx, field)
	k.arm(img)
	cancel()
	// AfterFunc runs kill in its own goroutine; wait for it.
	for deadline := time.Now().Add(10 * time.Second); !k.killed(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("kill did not run after cancel")
		}
	}
	_, _, err = img.ExportPng(govips.NewPngExportParams())
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("export of a killed image: err = %v, want libvips' kill error", err)
	}
	k.close()
	// libvips clears the flag when it reports it: the image works again.
	if _, _, err := img.ExportPng(govips.NewPngExportParams()); err != nil {
		t.Fatalf("export after the kill was reported: %v", err)
	}
}

// TestKillerAfterClose: a killer that was closed never
// touches an image again, and one armed after the context ended kills at
// once.
func TestKillerAfterClose(t *testing.T) {
	field, err := imageField()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("closed", func(t *testing.T) {
		img := black(t, 64, 64)
		ctx, cancel := context.WithCancel(context.Background())
		k := newKiller(ctx, field)
		k.arm(img)
		k.close()
		cancel()
		k.kill() // as a late AfterFunc would
		if k.killed() {
			t.Error("killed() after close")
		}
		if _, _, err := img.ExportPng(govips.NewPngExportParams()); err != nil {
			t.Errorf("export after close: %v", err)
		}
	})
	t.Run("armed late", func(t *testing.T) {
		img := black(t, 64, 64)
		ctx, cancel := context.WithCancel(context.Background())
		k := newKiller(ctx, field)
		defer k.close()
		k.kill()
		cancel()
		k.arm(img)
		if _, _, err := img.ExportPng(govips.NewPngExportParams()); err == nil {
			t.Error("export of an image armed after the kill succeeded")
		}
	})
}

// BenchmarkKillerHook is the whole cost the hook adds to one Process call:
// a killer on a cancellable context, armed once per stage (13) with
// alternating images so every arm takes and drops a reference, then
// closed. Compare with BenchmarkSmallTransform (milliseconds per call).
func BenchmarkKillerHook(b *testing.B) {
	field, err := imageField()
	if err != nil {
		b.Fatal(err)
	}
	imgs := []*govips.ImageRef{black(b, 8, 8), black(b, 8, 8)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		k := newKiller(ctx, field)
		for i := range len(pipeline) {
			k.arm(imgs[i%2])
		}
		k.close()
	}
}

// photoJPEG is a 600×400 gradient with noise, encoded as JPEG.
func photoJPEG(tb testing.TB) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 600, 400))
	seed := uint32(1)
	for y := range 400 {
		for x := range 600 {
			seed = seed*1664525 + 1013904223
			n := uint8(seed >> 28)
			img.Set(x, y, color.RGBA{uint8(x * 255 / 600), uint8(y * 255 / 400), 128 + n, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// webpChunks returns the chunks of a WebP file by id.
func webpChunks(tb testing.TB, data []byte) map[string][]byte {
	tb.Helper()
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		tb.Fatalf("not a WebP file: % x", data[:min(len(data), 12)])
	}
	m := map[string][]byte{}
	for p := data[12:]; len(p) >= 8; {
		n := int(binary.LittleEndian.Uint32(p[4:8]))
		if 8+n > len(p) {
			tb.Fatalf("chunk %q of %d bytes overruns the file", p[:4], n)
		}
		m[string(p[:4])] = p[8 : 8+n]
		p = p[min(len(p), 8+n+n&1):]
	}
	return m
}

// TestWebPSameAsLibvips: the engine's own WebP encoder produces what
// libvips' webpsave (through govips, with the engine's former settings)
// produces, for RGB, RGBA and grey images.
func TestWebPSameAsLibvips(t *testing.T) {
	field, err := imageField()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		prep func(*govips.ImageRef) error
	}{
		{"rgb", func(*govips.ImageRef) error { return nil }},
		{"rgba", func(img *govips.ImageRef) error {
			// A translucent alpha channel from the green band.
			g, err := img.Copy()
			if err != nil {
				return err
			}
			defer g.Close()
			if err := g.ExtractBand(1, 1); err != nil {
				return err
			}
			return img.BandJoin(g)
		}},
		{"grey", func(img *govips.ImageRef) error { return img.ToColorSpace(govips.InterpretationBW) }},
	}
	src := photoJPEG(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, err := govips.NewImageFromBuffer(src)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if err := c.prep(img); err != nil {
				t.Fatal(err)
			}
			want, _, err := img.ExportWebp(&govips.WebpExportParams{StripMetadata: true, Quality: 80, ReductionEffort: WebPEffort})
			if err != nil {
				t.Fatal(err)
			}
			k := &killer{field: field}
			got, err := webpSave(k.pointer(img), 80, WebPEffort)
			if err != nil {
				t.Fatal(err)
			}
			// libvips 8.14 adds an EXIF chunk despite strip; the image
			// data must be the same, and ours carries no metadata.
			g, w := webpChunks(t, got), webpChunks(t, want)
			for _, id := range []string{"EXIF", "XMP ", "ICCP"} {
				if _, ok := g[id]; ok {
					t.Errorf("webpSave wrote a %q chunk", id)
				}
			}
			for _, id := range []string{"VP8 ", "VP8L", "ALPH"} {
				if !bytes.Equal(g[id], w[id]) {
					t.Errorf("%q chunk: webpSave %d bytes, libvips %d bytes; they differ", id, len(g[id]), len(w[id]))
				}
			}
			if len(g["VP8 "]) == 0 {
				t.Error("webpSave wrote no lossy image data")
			}
			if c.name == "rgba" && len(g["ALPH"]) == 0 {
				t.Error("webpSave wrote no alpha")
			}
		})
	}
}
