package handler_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

const benchFileSize = 50 << 10

// benchDir writes a ~50 KB file into a temp directory.
func benchDir(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	data := make([]byte, benchFileSize)
	rand.Read(data)
	if err := os.MkdirAll(filepath.Join(dir, "private"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "private", "photo.jpg"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// benchKeyhole returns a handler guarding /private/ and a request target
// with a token that has already been verified once (warm token cache).
func benchKeyhole(b *testing.B, dir string) (http.Handler, string) {
	b.Helper()
	files, err := handler.Dir(dir)
	if err != nil {
		b.Fatal(err)
	}
	h, err := handler.New(handler.Config{
		Files:       files,
		Protections: []handler.Protection{{Name: "private", Path: "/private/", Keys: []token.Key{keyOne}}},
		Now:         func() time.Time { return now },
	})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := token.Sign(keyOne, claims("/private/", time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	return h, "/private/photo.jpg?jwt=" + tok
}

// BenchmarkOriginal serves the same 50 KB original through Keyhole (a
// protected path, warm token) and through http.FileServer, with the same
// harness: ServeHTTP called directly with an httptest.ResponseRecorder
// (whose body buffer is reused).
func BenchmarkOriginal(b *testing.B) {
	dir := benchDir(b)
	kh, target := benchKeyhole(b, dir)
	recorderBench(b, benchFileSize, []benchCase{
		{"name=keyhole-protected", kh, target},
		{"name=fileserver", http.FileServer(http.Dir(dir)), "/private/photo.jpg"},
	})
}

// benchCase is one side of a handler comparison.
type benchCase struct {
	name   string
	h      http.Handler
	target string
}

// recorderBench runs each case as a sub-benchmark: ServeHTTP called
// directly with an httptest.ResponseRecorder whose body buffer is reused,
// so it measures the handlers rather than the growth of a fresh buffer.
// Every response must be 200 with size bytes.
func recorderBench(b *testing.B, size int, cases []benchCase) {
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", bc.target, nil)
			rec := httptest.NewRecorder()
			bc.h.ServeHTTP(rec, req)
			if rec.Code != 200 || rec.Body.Len() != size {
				b.Fatalf("%d, %d bytes", rec.Code, rec.Body.Len())
			}
			body := make([]byte, 0, 2*size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				rec.Body = bytes.NewBuffer(body[:0])
				bc.h.ServeHTTP(rec, req)
			}
		})
	}
}

// BenchmarkOriginalLoopback is the same comparison through a loopback
// server and one keep-alive client (sendfile on the server side).
func BenchmarkOriginalLoopback(b *testing.B) {
	dir := benchDir(b)
	kh, target := benchKeyhole(b, dir)
	fileserver := http.FileServer(http.Dir(dir))
	for _, bc := range []struct {
		name   string
		h      http.Handler
		target string
	}{
		{"name=keyhole-protected", kh, target},
		{"name=fileserver", fileserver, "/private/photo.jpg"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(bc.h)
			defer srv.Close()
			client := srv.Client()
			url := srv.URL + bc.target
			buf := bytes.NewBuffer(make([]byte, 0, benchFileSize))
			get := func() {
				res, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				buf.Reset()
				io.Copy(buf, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || buf.Len() != benchFileSize {
					b.Fatalf("%d, %d bytes", res.StatusCode, buf.Len())
				}
			}
			get()
			b.SetBytes(benchFileSize)
			b.ReportAllocs()
			for b.Loop() {
				get()
			}
		})
	}
}

// sizedEngine returns a fixed-size output, standing in for an encoded
// variant, so a cache hit can be compared with FileServer serving a file of
// the same size.
type sizedEngine struct{ out []byte }

func (e sizedEngine) Process(context.Context, transform.Request) (*transform.Output, error) {
	return &transform.Output{Data: e.out, Format: transform.FormatJPEG, Width: 300, Height: 200}, nil
}

// BenchmarkVariantHit serves a transformed variant from the variant cache
// (w=300 in the query, a warm token) and, as the reference, http.FileServer
// serving a file of the variant's size. Same harness as BenchmarkOriginal.
func BenchmarkVariantHit(b *testing.B) {
	const size = 20 << 10
	dir := b.TempDir()
	os.MkdirAll(filepath.Join(dir, "private"), 0o755)
	img := make([]byte, size)
	copy(img, []byte("\xff\xd8\xff\xe0"))
	os.WriteFile(filepath.Join(dir, "private", "photo.jpg"), img, 0o644)
	os.WriteFile(filepath.Join(dir, "private", "variant.jpg"), img, 0o644)
	files, err := handler.Dir(dir)
	if err != nil {
		b.Fatal(err)
	}
	h, err := handler.New(handler.Config{
		Files:       files,
		Protections: []handler.Protection{{Name: "private", Path: "/private/", Keys: []token.Key{keyOne}}},
		Engine:      sizedEngine{out: img},
		Now:         func() time.Time { return now },
	})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := token.Sign(keyOne, claims("/private/", time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	recorderBench(b, size, []benchCase{
		{"name=keyhole-cache-hit", h, "/private/photo.jpg?w=300&jwt=" + tok},
		{"name=fileserver", http.FileServer(http.Dir(dir)), "/private/variant.jpg"},
	})
}
