package source_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/internal/seaweed"
	"github.com/keyhole-dev/keyhole/source"
)

// TestSignedGets: a bucket opened from an s3:// URL reads by presigned
// GETs on SeaweedFS, for every key spelling, range and condition, without
// handing any read to the SDK; a wrong signature on a held URL is signed
// again; a store that refuses presigned GETs is read through the SDK.
func TestSignedGets(t *testing.T) {
	srv := server(t)
	u, raw := newBucket(t, srv)
	big := pattern(600 << 10)
	keys := []string{"plain.bin", "with space/ü ñ.bin", "a+b=c&d;e,f@g$h!.bin", "per%25cent%2F.bin", "q?x#y~'(*).bin", "日本/画像.bin"}
	for i, k := range keys {
		put(t, raw, k, big[i:])
	}
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := source.Open(context.Background(), u, source.Config{Now: clk.now, MetadataTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	noFallback := func(t *testing.T) {
		t.Helper()
		if on, _, fb := source.SignedGets(s); !on || fb != 0 {
			t.Fatalf("presigned GETs on: %v, %d handed to the SDK; want on and 0", on, fb)
		}
	}
	noFallback(t)

	t.Run("every key spelling, whole and ranged", func(t *testing.T) {
		for i, k := range keys {
			got, err := fs.ReadFile(s, k)
			if err != nil || !bytes.Equal(got, big[i:]) {
				t.Fatalf("%q: %d bytes, %v", k, len(got), err)
			}
			f, err := s.Open(k)
			if err != nil {
				t.Fatal(err)
			}
			rs := f.(io.ReadSeeker)
			rs.Seek(300_001, io.SeekStart)
			part := make([]byte, 1000)
			if _, err := io.ReadFull(rs, part); err != nil || !bytes.Equal(part, big[i+300_001:i+301_001]) {
				t.Fatalf("%q at 300001: %v", k, err)
			}
			f.Close()
		}
		noFallback(t)
	})
	t.Run("missing and replaced objects", func(t *testing.T) {
		if _, err := fs.ReadFile(s, "none.bin"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("missing: %v", err)
		}
		put(t, raw, "r.bin", pattern(1000))
		f, err := s.Open("r.bin")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		put(t, raw, "r.bin", bytes.Repeat([]byte{7}, 1000)) // same size: only If-Match tells
		if _, err := io.ReadAll(f); !errors.Is(err, source.ErrChanged) {
			t.Fatalf("read of a replaced object: %v, want ErrChanged", err)
		}
		noFallback(t)
	})
	signed := func() int64 { _, n, _ := source.SignedGets(s); return n }
	t.Run("a held URL refused is signed again", func(t *testing.T) {
		n := source.SpoilCachedSignedURLs(s)
		if n == 0 {
			t.Fatal("no URL held")
		}
		before := signed()
		for i, k := range keys {
			got, err := fs.ReadFile(s, k)
			if err != nil || !bytes.Equal(got, big[i:]) {
				t.Fatalf("%q: %d bytes, %v", k, len(got), err)
			}
		}
		if got := signed() - before; got != int64(len(keys)) {
			t.Errorf("%d URLs signed again for %d keys", got, len(keys))
		}
		noFallback(t)
	})
	t.Run("URLs are reused for a minute", func(t *testing.T) {
		before := signed()
		for range 3 {
			if _, err := fs.ReadFile(s, keys[0]); err != nil {
				t.Fatal(err)
			}
		}
		if got := signed() - before; got != 0 {
			t.Errorf("%d URLs signed for 3 reads of a held key", got)
		}
		clk.add(61 * time.Second)
		if _, err := fs.ReadFile(s, keys[0]); err != nil {
			t.Fatal(err)
		}
		if got := signed() - before; got != 1 {
			t.Errorf("%d URLs signed for a read a minute on, want 1", got)
		}
		noFallback(t)
	})

	t.Run("a store that refuses them", func(t *testing.T) {
		r, err := source.Open(context.Background(), u, source.Config{MetadataTTL: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		source.SpoilSignedURLs(r)
		for i, k := range keys {
			got, err := fs.ReadFile(r, k)
			if err != nil || !bytes.Equal(got, big[i:]) {
				t.Fatalf("%q: %d bytes, %v", k, len(got), err)
			}
		}
		if on, _, fb := source.SignedGets(r); on || fb != 1 {
			t.Errorf("after a refusal: on %v, %d handed to the SDK; want off after 1", on, fb)
		}
	})
	t.Run("other drivers", func(t *testing.T) {
		m, err := source.Open(context.Background(), "mem://", source.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if on, _, _ := source.SignedGets(m); on {
			t.Error("a mem:// bucket reads by presigned GETs")
		}
	})
}

// TestStoreSignedGets: the variant store reads by presigned GETs too.
func TestStoreSignedGets(t *testing.T) {
	srv := server(t)
	u, _ := newBucket(t, srv)
	st, err := source.OpenStore(context.Background(), u+"&prefix=variants/", source.StoreConfig{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	want := pattern(70_000)
	// The first write to a new server's bucket waits for its volumes.
	st.Put("k/one", want)
	st.Wait()
	got, err := st.Get(context.Background(), "k/one")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("get: %d bytes, %v", len(got), err)
	}
	if _, err := st.Get(context.Background(), "k/two"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
	if on, _, fb := source.StoreSignedGets(st); !on || fb != 0 {
		t.Errorf("on %v, %d handed to the SDK", on, fb)
	}
}

// TestSignedGetsFaults puts a proxy between the bucket and SeaweedFS.
// GETs that fail with 503 are read again through the SDK, whose own
// attempts fail too: the read is ErrUnavailable, presigned GETs stay on,
// and no log line holds a signature, a credential or the key. A store
// whose policy refuses query-string signatures (403 to every presigned
// GET, header-signed requests served) is read through the SDK from the
// first refusal on, with one log line.
func TestSignedGetsFaults(t *testing.T) {
	srv := server(t)
	u, raw := newBucket(t, srv)
	const key = "secret-name/photo.bin"
	want := pattern(90_000)
	put(t, raw, key, want)
	target, err := url.Parse(srv.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	const (
		pass = iota
		fail503
		refuseQuery
	)
	var mode atomic.Int32
	var refused atomic.Int64
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		presigned := r.URL.Query().Has("X-Amz-Signature")
		switch {
		case r.Method == http.MethodGet && mode.Load() == fail503:
			http.Error(w, "slow down", http.StatusServiceUnavailable)
			return
		case presigned && mode.Load() == refuseQuery:
			refused.Add(1)
			http.Error(w, "AccessDenied", http.StatusForbidden)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))
	s, err := source.Open(context.Background(), via(u, proxy.URL), source.Config{Logger: logger, MetadataTTL: time.Hour, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	read := func(t *testing.T, wantErr error) {
		t.Helper()
		got, err := fs.ReadFile(s, key)
		if !errors.Is(err, wantErr) || (err == nil && !bytes.Equal(got, want)) {
			t.Fatalf("read: %d bytes, %v; want %v", len(got), err, wantErr)
		}
	}
	read(t, nil)

	t.Run("503", func(t *testing.T) {
		mode.Store(fail503)
		defer mode.Store(pass)
		read(t, source.ErrUnavailable)
		if on, _, fb := source.SignedGets(s); !on || fb != 1 {
			t.Errorf("on %v, %d handed to the SDK; want on and 1", on, fb)
		}
	})
	t.Run("back", func(t *testing.T) {
		read(t, nil)
		if _, _, fb := source.SignedGets(s); fb != 1 {
			t.Errorf("%d handed to the SDK after the store came back, want still 1", fb)
		}
	})
	t.Run("query signatures refused", func(t *testing.T) {
		mode.Store(refuseQuery)
		defer mode.Store(pass)
		// The URL held from before is refused, then one signed anew.
		read(t, nil)
		if on, _, _ := source.SignedGets(s); on {
			t.Fatal("presigned GETs still on after a fresh URL was refused")
		}
		n := refused.Load()
		for range 3 {
			read(t, nil)
		}
		if refused.Load() != n || n != 2 {
			t.Errorf("%d presigned GETs refused, then %d more; want 2, then none", n, refused.Load()-n)
		}
	})
	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	if strings.Count(out, "refuses presigned GETs") != 1 {
		t.Errorf("want one log line about the refusal:\n%s", out)
	}
	for _, leak := range []string{"X-Amz", "Signature", seaweed.AccessKey, seaweed.SecretKey, "secret-name", "photo.bin", "127.0.0.1", "slow down"} {
		if strings.Contains(out, leak) {
			t.Errorf("log holds %q:\n%s", leak, out)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
