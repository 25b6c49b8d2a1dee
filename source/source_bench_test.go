package source_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/internal/seaweed"
	"github.com/keyhole-dev/keyhole/source"
	"github.com/keyhole-dev/keyhole/transform/vips"
)

// BenchmarkOriginal serves one 100 KiB original through handler.New from
// a local directory and from SeaweedFS over loopback, with and without
// the metadata cache, and from a warm memory tier. Compare ns/op: the ratio is the req/s ratio of a
// single client.
//
//	go test -run '^$' -bench Original ./source
func BenchmarkOriginal(b *testing.B) {
	srv := seaweed.Start(b)
	srv.CreateBucket(b, "bench")
	raw, err := blob.OpenBucket(context.Background(), srv.URL("bench")+"&response_checksum_validation=when_required")
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	data := pattern(100 << 10)
	if err := raw.WriteAll(context.Background(), "photo.bin", data, nil); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "photo.bin"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	disk, err := handler.Dir(dir)
	if err != nil {
		b.Fatal(err)
	}
	warm, err := source.Open(context.Background(), srv.URL("bench"), source.Config{MetadataTTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	cold, err := source.Open(context.Background(), srv.URL("bench"), source.Config{MetadataTTL: -1})
	if err != nil {
		b.Fatal(err)
	}
	tier, err := source.NewTier(source.TierConfig{FreshFor: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer tier.Close()
	tiered, err := source.Open(context.Background(), srv.URL("bench"), source.Config{Tier: tier})
	if err != nil {
		b.Fatal(err)
	}
	for name, files := range map[string]handler.Config{
		"disk":                {Files: disk},
		"s3/metadata-cached":  {Files: warm},
		"s3/metadata-per-req": {Files: cold},
		"s3/tier":             {Files: tiered},
	} {
		b.Run(name, func(b *testing.B) {
			h, err := handler.New(files)
			if err != nil {
				b.Fatal(err)
			}
			serveLoop(b, h, "/photo.bin", len(data))
		})
	}
}

// BenchmarkVariant serves a 64-pixel-wide variant from the handler's
// memory and from the shared variant store (memory cache off, so every
// request is a store hit).
//
//	go test -run '^$' -bench Variant ./source
func BenchmarkVariant(b *testing.B) {
	srv := seaweed.Start(b)
	srv.CreateBucket(b, "bench")
	raw, err := blob.OpenBucket(context.Background(), srv.URL("bench")+"&response_checksum_validation=when_required")
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	if err := raw.WriteAll(context.Background(), "photo.jpg", jpegImage(b, 1024, 768), nil); err != nil {
		b.Fatal(err)
	}
	files, err := source.Open(context.Background(), srv.URL("bench"), source.Config{})
	if err != nil {
		b.Fatal(err)
	}
	store, err := source.OpenStore(context.Background(), srv.URL("bench", "prefix=variants/"), source.StoreConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	eng, err := vips.New(vips.Config{})
	if err != nil {
		b.Fatal(err)
	}
	// Fill the store once.
	fill, err := handler.New(handler.Config{Files: files, Engine: eng, VariantStore: store})
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	fill.ServeHTTP(rec, httptest.NewRequest("GET", "/photo.jpg?w=64", nil))
	if rec.Code != 200 {
		b.Fatalf("fill: %d", rec.Code)
	}
	store.Wait()
	for name, cfg := range map[string]handler.Config{
		"memory-hit": {Files: files, Engine: eng},
		"store-hit":  {Files: files, Engine: eng, VariantStore: store, VariantCacheBytes: -1},
	} {
		b.Run(name, func(b *testing.B) {
			h, err := handler.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			serveLoop(b, h, "/photo.jpg?w=64", -1)
		})
	}
}

// serveLoop serves target until the benchmark ends. Besides ns/op (the
// store's time included) it reports cpu-µs/op, the test process's own
// CPU per request: SeaweedFS runs as a child process, whose CPU is not in
// it.
func serveLoop(b *testing.B, h http.Handler, target string, size int) {
	b.Helper()
	req := httptest.NewRequest("GET", target, nil)
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 || (size >= 0 && rec.Body.Len() != size) {
			b.Fatalf("%s: %d, %d bytes", target, rec.Code, rec.Body.Len())
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/1e3/float64(b.N), "cpu-µs/op")
}

// processCPU is the CPU time, user and system, of this process alone.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
