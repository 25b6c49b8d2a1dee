package handler_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"testing"
	"testing/fstest"

	"github.com/keyhole-dev/keyhole/handler"
)

// brokenStore is a store whose file reads fail once failAt bytes of a file
// have been read, as a bucket does when it goes down mid-request.
type brokenStore struct {
	fstest.MapFS
	failAt int64
}

func (f brokenStore) Open(name string) (fs.File, error) {
	file, err := f.MapFS.Open(name)
	if err != nil {
		return nil, err
	}
	return &brokenFile{File: file, rs: file.(io.ReadSeeker), failAt: f.failAt}, nil
}

type brokenFile struct {
	fs.File
	rs     io.ReadSeeker
	off    int64
	failAt int64
}

func (f *brokenFile) Read(b []byte) (int, error) {
	if f.off >= f.failAt {
		return 0, errors.New("store: connection reset")
	}
	b = b[:min(int64(len(b)), f.failAt-f.off)]
	n, err := f.rs.Read(b)
	f.off += int64(n)
	return n, err
}

func (f *brokenFile) Seek(offset int64, whence int) (int64, error) {
	n, err := f.rs.Seek(offset, whence)
	f.off = n
	return n, err
}

// TestRemoteOriginalFailingStore: a store that fails before the first
// bytes of an original are read answers 503, not a 200 cut short; one
// that works gives the whole body, and Range requests still work.
func TestRemoteOriginalFailingStore(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 40000) // 640 000 bytes: the prefetch, then two more buffers
	files := fstest.MapFS{
		"public/big.bin":   {Data: big, ModTime: mtime},
		"public/small.txt": {Data: []byte("small file\n"), ModTime: mtime},
	}

	for _, failAt := range []int64{0, 1000} { // 1000: after the type is sniffed
		t.Run(fmt.Sprintf("fails at %d", failAt), func(t *testing.T) {
			e := newEnv(t, handler.Config{Files: brokenStore{MapFS: files, failAt: failAt}})
			r := e.get(t, "/public/big.bin")
			if r.StatusCode != http.StatusServiceUnavailable || r.body != "source unavailable\n" {
				t.Errorf("%d %q, want 503 source unavailable", r.StatusCode, r.body)
			}
		})
	}

	t.Run("works", func(t *testing.T) {
		e := newEnv(t, handler.Config{Files: brokenStore{MapFS: files, failAt: 1 << 40}})
		r := e.get(t, "/public/big.bin")
		if r.StatusCode != http.StatusOK || r.body != string(big) {
			t.Fatalf("big: %d, %d bytes, want 200 and %d bytes", r.StatusCode, len(r.body), len(big))
		}
		// Written by the handler, not ServeContent: the same headers.
		for k, want := range map[string]string{
			"Content-Length": fmt.Sprint(len(big)),
			"Last-Modified":  mtime.UTC().Format(http.TimeFormat),
			"Accept-Ranges":  "bytes",
			"Content-Type":   "application/octet-stream",
		} {
			if got := r.Header.Get(k); got != want {
				t.Errorf("big: %s %q, want %q", k, got, want)
			}
		}
		if r.Header.Get("Etag") == "" {
			t.Error("big: no ETag")
		}
		r = e.get(t, "/public/big.bin", "Range", "bytes=70000-70015")
		if r.StatusCode != http.StatusPartialContent || r.body != string(big[70000:70016]) {
			t.Fatalf("range: %d %q", r.StatusCode, r.body)
		}
		r = e.get(t, "/public/small.txt")
		if r.StatusCode != http.StatusOK || r.body != "small file\n" {
			t.Fatalf("small: %d %q", r.StatusCode, r.body)
		}
	})

	t.Run("fails after the prefetch", func(t *testing.T) {
		// Past the first bytes the headers are out: the body is cut,
		// never completed with wrong bytes.
		e := newEnv(t, handler.Config{Files: brokenStore{MapFS: files, failAt: 400000}})
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/files/public/big.bin", nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || err == nil || !bytes.Equal(body, big[:len(body)]) || len(body) >= len(big) {
			t.Fatalf("got %d, %d bytes, err %v; want 200 cut short with a correct prefix", res.StatusCode, len(body), err)
		}
	})
}
