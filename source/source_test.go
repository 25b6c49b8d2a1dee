package source_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/memblob"
	_ "gocloud.dev/blob/s3blob"

	"github.com/keyhole-dev/keyhole/internal/seaweed"
	"github.com/keyhole-dev/keyhole/source"
)

func TestMain(m *testing.M) {
	seaweed.SetEnv()
	setupVips()
	code := m.Run()
	stopShared()
	shutdownVips()
	os.Exit(code)
}

// The package's tests share one SeaweedFS server; tests that stop it
// start their own.
var (
	sharedOnce sync.Once
	shared     *seaweed.Server
	bucketSeq  int
	bucketMu   sync.Mutex
)

func server(t *testing.T) *seaweed.Server {
	t.Helper()
	// It checks signatures, as a production store does.
	sharedOnce.Do(func() { shared = seaweed.StartAuth(&packageTB{T: t}) })
	if shared == nil {
		t.Fatal("the shared SeaweedFS server did not start")
	}
	return shared
}

// packageTB is the first test's T, except that its cleanups run from
// TestMain (stopShared) after every test: the shared server outlives the
// test that started it.
type packageTB struct {
	*testing.T
}

func (p *packageTB) Cleanup(f func()) { sharedCleanups = append(sharedCleanups, f) }

func (p *packageTB) TempDir() string {
	dir, err := os.MkdirTemp("", "keyhole-seaweed-")
	if err != nil {
		p.Fatal(err)
	}
	sharedCleanups = append(sharedCleanups, func() { os.RemoveAll(dir) })
	return dir
}

var sharedCleanups []func()

func stopShared() {
	for i := len(sharedCleanups) - 1; i >= 0; i-- {
		sharedCleanups[i]()
	}
}

// newBucket creates a fresh bucket on the shared server and returns its
// URL and an open *blob.Bucket to fill it.
func newBucket(t *testing.T, srv *seaweed.Server) (string, *blob.Bucket) {
	t.Helper()
	bucketMu.Lock()
	bucketSeq++
	name := "t" + strconv.Itoa(bucketSeq) + "-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	bucketMu.Unlock()
	srv.CreateBucket(t, name)
	u := srv.URL(name)
	b, err := blob.OpenBucket(context.Background(), u+"&response_checksum_validation=when_required")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return u, b
}

func put(t *testing.T, b *blob.Bucket, key string, data []byte) {
	t.Helper()
	if err := b.WriteAll(context.Background(), key, data, nil); err != nil {
		t.Fatalf("write %s: %v", key, err)
	}
}

// pattern returns n bytes that differ at every offset modulo 251, so a
// wrong range is noticed.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// counter reads a counter (or the sum of a vector's series matching
// labels) from a registry.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				if !hasLabel(m, k, v) {
					continue metric
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

func hasLabel(m *dto.Metric, k, v string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == k && l.GetValue() == v {
			return true
		}
	}
	return false
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestBucketS3(t *testing.T) {
	srv := server(t)
	u, raw := newBucket(t, srv)
	big := pattern(1 << 20)
	put(t, raw, "img/big.bin", big)
	put(t, raw, "a/b.txt", []byte("hello from s3\n"))
	put(t, raw, ".hidden", []byte("dot file\n"))

	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	reg := prometheus.NewRegistry()
	s, err := source.Open(context.Background(), u, source.Config{Registerer: reg, Now: clk.now, MetadataTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	t.Run("read whole", func(t *testing.T) {
		data, err := fs.ReadFile(s, "a/b.txt")
		if err != nil || string(data) != "hello from s3\n" {
			t.Fatalf("got %q, %v", data, err)
		}
	})
	t.Run("stat", func(t *testing.T) {
		info, err := fs.Stat(s, "img/big.bin")
		if err != nil {
			t.Fatal(err)
		}
		if info.Size() != int64(len(big)) || info.Name() != "big.bin" || !info.Mode().IsRegular() || info.ModTime().IsZero() {
			t.Errorf("info = %s %d %v %v", info.Name(), info.Size(), info.Mode(), info.ModTime())
		}
		if source.ETag(info) == "" {
			t.Error("no ETag from the store")
		}
	})
	t.Run("not found", func(t *testing.T) {
		for _, name := range []string{"nope.txt", "a", "img", "../a/b.txt", "/a/b.txt", ".", "a//b.txt", "a/b.txt/"} {
			if _, err := s.Open(name); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Open(%q) = %v, want fs.ErrNotExist", name, err)
			}
			if _, err := s.Stat(name); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Stat(%q) = %v, want fs.ErrNotExist", name, err)
			}
		}
	})
	t.Run("dot files are objects (the handler hides them)", func(t *testing.T) {
		if _, err := fs.ReadFile(s, ".hidden"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("range by ranged reads", func(t *testing.T) {
		f, err := s.Open("img/big.bin")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rs := f.(io.ReadSeeker)
		before := counter(t, reg, "keyhole_source_read_bytes_total", nil)
		if _, err := rs.Seek(700_000, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 100)
		if _, err := io.ReadFull(rs, buf); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, big[700_000:700_100]) {
			t.Fatal("wrong bytes for the range")
		}
		// A second range elsewhere: a new ranged read.
		if _, err := rs.Seek(-10, io.SeekEnd); err != nil {
			t.Fatal(err)
		}
		tail, err := io.ReadAll(rs)
		if err != nil || !bytes.Equal(tail, big[len(big)-10:]) {
			t.Fatalf("tail %v, %v", tail, err)
		}
		// Two small ranges: the reader consumed little more than them.
		if got := counter(t, reg, "keyhole_source_read_bytes_total", nil) - before; got > 2*64<<10 {
			t.Errorf("read %v bytes for two small ranges of a 1 MiB object", got)
		}
	})
	t.Run("whole object in few reads", func(t *testing.T) {
		reads := counter(t, reg, "keyhole_source_requests_total", map[string]string{"op": "read"})
		data, err := fs.ReadFile(s, "img/big.bin")
		if err != nil || !bytes.Equal(data, big) {
			t.Fatalf("read %d bytes, %v", len(data), err)
		}
		// fs.ReadFile reads into a buffer of the file's size: one request.
		if got := counter(t, reg, "keyhole_source_requests_total", map[string]string{"op": "read"}) - reads; got != 1 {
			t.Errorf("%v ranged reads for one whole read, want 1", got)
		}
	})
	t.Run("metadata cache", func(t *testing.T) {
		hits := func() float64 {
			return counter(t, reg, "keyhole_source_metadata_cache_total", map[string]string{"result": "hit"})
		}
		stats := func() float64 {
			return counter(t, reg, "keyhole_source_requests_total", map[string]string{"op": "stat"})
		}
		clk.add(time.Hour) // everything cached so far is stale
		h0, s0 := hits(), stats()
		for range 3 {
			if _, err := s.Stat("a/b.txt"); err != nil {
				t.Fatal(err)
			}
		}
		if hits()-h0 != 2 || stats()-s0 != 1 {
			t.Errorf("3 stats within the TTL: %v hits, %v lookups; want 2 and 1", hits()-h0, stats()-s0)
		}
		clk.add(time.Second)
		if _, err := s.Stat("a/b.txt"); err != nil {
			t.Fatal(err)
		}
		if stats()-s0 != 2 {
			t.Errorf("a stat after the TTL did not ask the store")
		}
		// Absence is cached too.
		s1 := stats()
		s.Stat("missing.txt")
		s.Stat("missing.txt")
		if stats()-s1 != 1 {
			t.Errorf("two stats of a missing object: %v lookups, want 1", stats()-s1)
		}
	})
	t.Run("changed under the cache", func(t *testing.T) {
		put(t, raw, "a/c.txt", []byte("version one\n"))
		clk.add(time.Hour)
		f, err := s.Open("a/c.txt")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		put(t, raw, "a/c.txt", []byte("version two, longer\n"))
		if _, err := io.ReadAll(f); !errors.Is(err, source.ErrChanged) {
			t.Fatalf("read of a replaced object: %v, want ErrChanged", err)
		}
		// The stale entry is dropped: the next open sees the new object
		// although the TTL has not passed.
		data, err := fs.ReadFile(s, "a/c.txt")
		if err != nil || string(data) != "version two, longer\n" {
			t.Fatalf("after the change: %q, %v", data, err)
		}
	})
}

func TestBucketConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  source.Config
	}{
		{"negative timeout", source.Config{Timeout: -1}},
		{"negative entries", source.Config{MetadataEntries: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := source.Open(context.Background(), "mem://", tc.cfg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	t.Run("bad URLs name no parameter", func(t *testing.T) {
		for _, u := range []string{"", "not a url", "nope://bucket?secret=hunter2", "s3://b?secret=hunter2&bogus=1"} {
			_, err := source.Open(context.Background(), u, source.Config{})
			if err == nil {
				t.Fatalf("Open(%q) accepted", u)
			}
			if bytes.Contains([]byte(err.Error()), []byte("hunter2")) {
				t.Errorf("error repeats the URL's query: %v", err)
			}
		}
	})
}

// TestBucketOutage stops the store under a Bucket: a paused server (no
// answer) and a killed one (connection refused) are ErrUnavailable within
// the timeout, and the Bucket works again once the server is back.
func TestBucketOutage(t *testing.T) {
	srv := seaweed.Start(t)
	srv.CreateBucket(t, "outage")
	raw, err := blob.OpenBucket(context.Background(), srv.URL("outage")+"&response_checksum_validation=when_required")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	put(t, raw, "x.txt", []byte("still here\n"))
	reg := prometheus.NewRegistry()
	s, err := source.Open(context.Background(), srv.URL("outage"), source.Config{
		Timeout: 500 * time.Millisecond, MetadataTTL: -1, Registerer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check := func(t *testing.T, want error) {
		t.Helper()
		start := time.Now()
		_, err := fs.ReadFile(s, "x.txt")
		t.Logf("read: %v after %v", err, time.Since(start).Round(time.Millisecond))
		if !errors.Is(err, want) {
			t.Fatalf("read: %v, want %v", err, want)
		}
		if want == nil {
			return
		}
		if err.Error() != "open x.txt: source unavailable" {
			t.Errorf("error text %q leaks more than the name", err)
		}
	}
	check(t, nil)
	t.Run("paused", func(t *testing.T) {
		srv.Pause()
		defer srv.Resume()
		check(t, source.ErrUnavailable)
	})
	t.Run("resumed", func(t *testing.T) { check(t, nil) })
	t.Run("stopped", func(t *testing.T) {
		srv.Stop()
		check(t, source.ErrUnavailable)
	})
	t.Run("restarted", func(t *testing.T) {
		srv.Restart(t)
		// The volume server registers with the master a moment after the
		// S3 gateway answers.
		deadline := time.Now().Add(60 * time.Second)
		for {
			if _, err := fs.ReadFile(s, "x.txt"); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		check(t, nil)
	})
	if got := counter(t, reg, "keyhole_source_requests_total", map[string]string{"result": "error"}); got < 2 {
		t.Errorf("%v failures counted, want at least 2", got)
	}
}

func TestStoreS3(t *testing.T) {
	srv := server(t)
	u, _ := newBucket(t, srv)
	reg := prometheus.NewRegistry()
	st, err := source.OpenStore(context.Background(), u+"&prefix=variants/", source.StoreConfig{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if _, err := st.Get(ctx, "ab/cdef"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Get of a missing entry: %v", err)
	}
	st.Put("ab/cdef", []byte("variant bytes"))
	st.Wait()
	data, err := st.Get(ctx, "ab/cdef")
	if err != nil || string(data) != "variant bytes" {
		t.Fatalf("Get after Put: %q, %v", data, err)
	}
	// The prefix is a folder of the bucket.
	raw, err := blob.OpenBucket(ctx, u+"&response_checksum_validation=when_required")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if ok, err := raw.Exists(ctx, "variants/ab/cdef"); !ok || err != nil {
		t.Errorf("entry not under the prefix: %v %v", ok, err)
	}
	for name, want := range map[string]float64{
		"keyhole_variant_store_lookups_total": 2,
		"keyhole_variant_store_writes_total":  1,
		"keyhole_variant_store_bytes_total":   26,
	} {
		if got := counter(t, reg, name, nil); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func TestStoreBounds(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	st, err := source.OpenStore(ctx, "mem://", source.StoreConfig{MaxEntryBytes: 4, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.Put("big", []byte("too large"))
	st.Put("ok", []byte("fits"))
	st.Wait()
	if _, err := st.Get(ctx, "big"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an entry over MaxEntryBytes was written: %v", err)
	}
	if got := counter(t, reg, "keyhole_variant_store_writes_total", map[string]string{"result": "dropped"}); got != 1 {
		t.Errorf("dropped = %v, want 1", got)
	}
	for _, cfg := range []source.StoreConfig{{Timeout: -1}, {MaxPendingWrites: -1}, {MaxEntryBytes: -1}} {
		if _, err := source.OpenStore(ctx, "mem://", cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
