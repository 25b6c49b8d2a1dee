package vips

// Internal tests of the kill hook: they reach the unexported killer, which
// the external tests exercise only through Process.

import (
	"context"
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

// TestKillerAfterClose: a killer that was closed (or disarmed) never
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
		if k.disarm() {
			t.Error("disarm after the kill reported true")
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
