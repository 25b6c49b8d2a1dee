package vips_test

import (
	"context"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/transform"
)

// BenchmarkSmallTransform measures ordinary small transforms, the ones the
// cancellation hook must not slow down: a 1200×800 photo to a 300-pixel
// JPEG and WebP, and a 400×200 PNG to a 100-pixel PNG. Each runs with the
// caller's context cancellable, as a request's is, and under the default
// 10 s timeout. Compare a tree without the hook against one with it:
//
//	go test ./transform/vips -run '^$' -bench SmallTransform -count 6 > new.txt
//	benchstat old.txt new.txt
func BenchmarkSmallTransform(b *testing.B) {
	cases := []struct {
		name string
		src  func(testing.TB) []byte
		w    float64
		f    transform.Format
	}{
		{"1200x800-to-300.jpg", smallPhoto, 300, transform.FormatJPEG},
		{"1200x800-to-300.webp", smallPhoto, 300, transform.FormatWebP},
		{"400x200-to-100.png", quadrantPNG, 100, transform.FormatPNG},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			e := newEngine(b, transform.Limits{})
			req := transform.Request{
				Source: c.src(b),
				Params: &transform.Params{Width: transform.Dim{Value: c.w, Set: true}},
				Format: c.f,
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Process(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
