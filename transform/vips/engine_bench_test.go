package vips_test

import (
	"context"
	"testing"

	govips "github.com/davidbyttow/govips/v2/vips"

	"github.com/keyhole-dev/keyhole/transform"
)

// BenchmarkResize compares the engine (shrink-on-load picked from the
// header, Lanczos3 for the rest, JPEG q80 with optimised Huffman tables)
// with a naive govips thumbnail of the same box encoded with govips' default
// JPEG settings at q80, and with the same encoder settings as the engine
// ("thumbnail-same-encoder"). Compare with
//
//	go test ./transform/vips -run '^$' -bench Resize -count 6 | tee /tmp/vips.bench
//	benchstat -col /impl /tmp/vips.bench
func BenchmarkResize(b *testing.B) {
	cases := []struct {
		name string
		src  func(testing.TB) []byte
	}{
		{"4000x3000", bigPhoto},
		{"1200x800", smallPhoto},
	}
	const width = 300
	for _, c := range cases {
		src := c.src(b)
		b.Run("src="+c.name+"/impl=engine", func(b *testing.B) {
			e := newEngine(b, transform.Limits{})
			req := transform.Request{
				Source: src,
				Params: &transform.Params{Width: transform.Dim{Value: width, Set: true}},
				Format: transform.FormatJPEG,
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if _, err := e.Process(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("src="+c.name+"/impl=thumbnail", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				thumb(b, src, width, govips.NewJpegExportParams())
			}
		})
		// The floor: the JPEG decode alone at the engine's shrink factor (8
		// for 4000x3000 -> 300), with no resize or encode. Huffman decoding
		// of the whole file costs the same at any factor, so thumbnail /
		// floor bounds the speed-up any engine can reach over the baseline.
		b.Run("src="+c.name+"/impl=decode-floor", func(b *testing.B) {
			shrink := 8 // 4000x3000 -> 500x375, still >= 300x225
			if c.name == "1200x800" {
				shrink = 4 // 1200x800 -> 300x200, exactly w=300
			}
			p := &govips.ImportParams{}
			p.JpegShrinkFactor.Set(shrink)
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				img, err := govips.LoadImageFromBuffer(src, p)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := img.ToBytes(); err != nil {
					b.Fatal(err)
				}
				img.Close()
			}
		})
		b.Run("src="+c.name+"/impl=thumbnail-same-encoder", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			ep := &govips.JpegExportParams{Quality: 80, StripMetadata: true, OptimizeCoding: true}
			for b.Loop() {
				thumb(b, src, width, ep)
			}
		})
	}
}

// thumb is the naive baseline: vips_thumbnail_buffer into a width×width
// box (for landscape sources the same size as w=width), JPEG export.
func thumb(b *testing.B, src []byte, width int, ep *govips.JpegExportParams) {
	img, err := govips.NewThumbnailFromBuffer(src, width, width, govips.InterestingNone)
	if err != nil {
		b.Fatal(err)
	}
	ep.Quality = 80
	if _, _, err := img.ExportJpeg(ep); err != nil {
		b.Fatal(err)
	}
	img.Close()
}
