package source_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform/vips"
)

// BenchmarkTransformMiss serves a protected 1 MP JPEG at w=300 through
// handler.New with the vips engine and no variant cache, so every request
// parses, merges, plans and transforms: the path the parameter set's cost
// shows on. Compare two builds with benchstat:
//
//	go test -run '^$' -bench TransformMiss -count 8 ./source
func BenchmarkTransformMiss(b *testing.B) {
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "private"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "private", "photo.jpg"), jpegImage(b, 1200, 800), 0o644); err != nil {
		b.Fatal(err)
	}
	files, err := handler.Dir(dir)
	if err != nil {
		b.Fatal(err)
	}
	eng, err := vips.New(vips.Config{})
	if err != nil {
		b.Fatal(err)
	}
	h, err := handler.New(handler.Config{
		Files:             files,
		Engine:            eng,
		VariantCacheBytes: -1,
		Protections:       []handler.Protection{{Path: "/private/", Keys: []token.Key{testKey}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := token.Sign(testKey, token.ForPath("/private/photo.jpg", time.Now(), time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	serveLoop(b, h, "/private/photo.jpg?w=300&jwt="+tok, -1)
}
