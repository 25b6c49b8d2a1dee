package source_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gocloud.dev/blob"

	"github.com/keyhole-dev/keyhole/internal/seaweed"
	"github.com/keyhole-dev/keyhole/source"
)

// tiered opens a bucket with a tier on its own registry and clock.
func tiered(t *testing.T, u string, tc source.TierConfig, clk *clock) (*source.Bucket, *source.Tier, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	tc.Registerer = reg
	tc.Now = clk.now
	tier, err := source.NewTier(tc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tier.Close)
	b, err := source.Open(context.Background(), u, source.Config{Registerer: reg, Now: clk.now, Tier: tier, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, tier, reg
}

func gets(t *testing.T, reg *prometheus.Registry) float64 {
	return counter(t, reg, "keyhole_source_requests_total", map[string]string{"op": "get"})
}

func requests(t *testing.T, reg *prometheus.Registry) float64 {
	return counter(t, reg, "keyhole_source_requests_total", nil)
}

func gauge(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
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
			sum += m.GetGauge().GetValue()
		}
	}
	return sum
}

// bucketOf returns the URL of a new bucket holding n objects
// prefix/0 … prefix/n-1 of pattern(size+i) bytes.
func bucketOf(t *testing.T, prefix string, n, size int) string {
	t.Helper()
	u, raw := newBucket(t, server(t))
	for i := range n {
		put(t, raw, fmt.Sprintf("%s/%d", prefix, i), pattern(size+i))
	}
	return u
}

func TestTierS3(t *testing.T) {
	srv := server(t)
	u, raw := newBucket(t, srv)
	a := pattern(300 << 10)
	put(t, raw, "a.bin", a)
	put(t, raw, "big.bin", pattern(3<<20))
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b, _, reg := tiered(t, u, source.TierConfig{MemoryBytes: 8 << 20, MaxObjectBytes: 1 << 20, FreshFor: 5 * time.Second}, clk)

	t.Run("a miss is one GET, no metadata request", func(t *testing.T) {
		r0 := requests(t, reg)
		data, err := fs.ReadFile(b, "a.bin")
		if err != nil || !bytes.Equal(data, a) {
			t.Fatalf("read %d bytes, %v", len(data), err)
		}
		if got := requests(t, reg) - r0; got != 1 {
			t.Errorf("%v requests to the bucket for a cold read, want 1 GET", got)
		}
		if got := counter(t, reg, "keyhole_source_requests_total", map[string]string{"op": "stat"}); got != 0 {
			t.Errorf("%v metadata requests, want 0", got)
		}
	})
	t.Run("a hit asks nothing; ranges and stat come from the copy", func(t *testing.T) {
		r0 := requests(t, reg)
		f, err := b.Open("a.bin")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rs := f.(io.ReadSeeker)
		rs.Seek(200_000, io.SeekStart)
		buf := make([]byte, 100)
		if _, err := io.ReadFull(rs, buf); err != nil || !bytes.Equal(buf, a[200_000:200_100]) {
			t.Fatalf("range: %v", err)
		}
		info, err := b.Stat("a.bin")
		if err != nil || info.Size() != int64(len(a)) || source.ETag(info) == "" {
			t.Fatalf("stat %v, %v", info, err)
		}
		if got := requests(t, reg) - r0; got != 0 {
			t.Errorf("%v requests for a fresh copy, want 0", got)
		}
	})
	t.Run("past FreshFor: a conditional GET that moves no bytes", func(t *testing.T) {
		clk.add(6 * time.Second)
		b0, r0 := counter(t, reg, "keyhole_source_read_bytes_total", nil), requests(t, reg)
		if _, err := fs.ReadFile(b, "a.bin"); err != nil {
			t.Fatal(err)
		}
		if got := counter(t, reg, "keyhole_tier_revalidations_total", map[string]string{"result": "not_modified"}); got != 1 {
			t.Errorf("not_modified revalidations = %v, want 1", got)
		}
		if got := requests(t, reg) - r0; got != 1 {
			t.Errorf("%v requests to revalidate, want 1", got)
		}
		if got := counter(t, reg, "keyhole_source_read_bytes_total", nil) - b0; got != 0 {
			t.Errorf("revalidation read %v bytes, want 0", got)
		}
	})
	t.Run("replaced behind the tier: new bytes and ETag within FreshFor", func(t *testing.T) {
		before, _ := b.Stat("a.bin")
		a2 := bytes.Clone(a)
		a2[0] ^= 0xff // same size, written within the same second
		put(t, raw, "a.bin", a2)
		if data, _ := fs.ReadFile(b, "a.bin"); !bytes.Equal(data, a) {
			t.Fatal("the fresh copy was not served within FreshFor")
		}
		clk.add(6 * time.Second)
		data, err := fs.ReadFile(b, "a.bin")
		if err != nil || !bytes.Equal(data, a2) {
			t.Fatalf("after FreshFor: old bytes or %v", err)
		}
		after, _ := b.Stat("a.bin")
		if source.ETag(after) == source.ETag(before) {
			t.Errorf("ETag %s unchanged for new bytes", source.ETag(after))
		}
		if got := counter(t, reg, "keyhole_tier_revalidations_total", map[string]string{"result": "changed"}); got != 1 {
			t.Errorf("changed revalidations = %v, want 1", got)
		}
	})
	t.Run("deleted behind the tier: gone within FreshFor", func(t *testing.T) {
		if err := raw.Delete(context.Background(), "a.bin"); err != nil {
			t.Fatal(err)
		}
		clk.add(6 * time.Second)
		if _, err := b.Open("a.bin"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open = %v, want fs.ErrNotExist", err)
		}
		r0 := requests(t, reg)
		if _, err := b.Open("a.bin"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open = %v, want fs.ErrNotExist", err)
		}
		if got := requests(t, reg) - r0; got != 0 {
			t.Errorf("the absence was asked again within FreshFor (%v requests)", got)
		}
	})
	t.Run("one fetch however many miss at once", func(t *testing.T) {
		put(t, raw, "c.bin", pattern(500<<10))
		g0 := gets(t, reg)
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				if data, err := fs.ReadFile(b, "c.bin"); err != nil || len(data) != 500<<10 {
					t.Errorf("read %d, %v", len(data), err)
				}
			})
		}
		wg.Wait()
		if got := gets(t, reg) - g0; got != 1 {
			t.Errorf("%v GETs for 16 concurrent misses, want 1", got)
		}
	})
	t.Run("larger than MaxObjectBytes: ranged reads, same bytes", func(t *testing.T) {
		f, err := b.Open("big.bin")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rs := f.(io.ReadSeeker)
		rs.Seek(2<<20, io.SeekStart)
		buf := make([]byte, 1000)
		if _, err := io.ReadFull(rs, buf); err != nil || !bytes.Equal(buf, pattern(3 << 20)[2<<20:2<<20+1000]) {
			t.Fatalf("range of a large object: %v", err)
		}
		if got := gauge(t, reg, "keyhole_tier_bytes", map[string]string{"tier": "memory"}); got > 1<<20+600<<10+4096 {
			t.Errorf("the tier holds %v bytes: the large object went in", got)
		}
	})
}

// TestTierBounds reads many distinct objects larger in all than the tier:
// it never holds more than its bound, and evicts least recently used.
func TestTierBounds(t *testing.T) {
	const n, size = 40, 100 << 10
	u := bucketOf(t, "o", n, size)
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	const memMax, diskMax = 1 << 20, 2 << 20
	b, tier, reg := tiered(t, u, source.TierConfig{MemoryBytes: memMax, Dir: dir, DiskBytes: diskMax}, clk)
	for i := range n {
		data, err := fs.ReadFile(b, fmt.Sprintf("o/%d", i))
		if err != nil || len(data) != size+i {
			t.Fatalf("o/%d: %d bytes, %v", i, len(data), err)
		}
		if got := gauge(t, reg, "keyhole_tier_bytes", map[string]string{"tier": "memory"}); got > memMax {
			t.Fatalf("memory tier holds %v bytes, bound %d", got, memMax)
		}
	}
	tier.Close() // the disk writes are done
	if got := gauge(t, reg, "keyhole_tier_bytes", map[string]string{"tier": "disk"}); got > diskMax || got == 0 {
		t.Errorf("disk tier holds %v bytes, bound %d", got, diskMax)
	}
	var onDisk int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			info, _ := d.Info()
			onDisk += info.Size()
		}
		return nil
	})
	if onDisk > diskMax {
		t.Errorf("the disk tier's files hold %d bytes, bound %d", onDisk, diskMax)
	}
	for _, tierName := range []string{"memory", "disk"} {
		if got := counter(t, reg, "keyhole_tier_evictions_total", map[string]string{"tier": tierName}); got == 0 {
			t.Errorf("no %s evictions", tierName)
		}
	}
	// The last object read is still held: no request.
	r0 := requests(t, reg)
	if _, err := fs.ReadFile(b, fmt.Sprintf("o/%d", n-1)); err != nil {
		t.Fatal(err)
	}
	if got := requests(t, reg) - r0; got != 0 {
		t.Errorf("the most recent object cost %v requests", got)
	}
}

// TestTierOutage stops the bucket: fresh copies are served, stale ones
// only within StaleIfError, and the bucket's return needs no restart.
func TestTierOutage(t *testing.T) {
	t.Parallel()
	srv := seaweed.Start(t)
	srv.CreateBucket(t, "outage")
	raw := openRaw(t, srv.URL("outage"))
	put(t, raw, "a.bin", pattern(10<<10))
	put(t, raw, "b.bin", pattern(20<<10))
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	strict, _, _ := tiered(t, srv.URL("outage"), source.TierConfig{FreshFor: 5 * time.Second}, clk)
	lenient, _, lreg := tiered(t, srv.URL("outage"), source.TierConfig{FreshFor: 5 * time.Second, StaleIfError: time.Minute}, clk)
	for _, b := range []*source.Bucket{strict, lenient} {
		if _, err := fs.ReadFile(b, "a.bin"); err != nil {
			t.Fatal(err)
		}
	}
	srv.Pause()
	resumed := false
	defer func() {
		if !resumed {
			srv.Resume()
		}
	}()
	for name, b := range map[string]*source.Bucket{"strict": strict, "lenient": lenient} {
		if data, err := fs.ReadFile(b, "a.bin"); err != nil || len(data) != 10<<10 {
			t.Errorf("%s: a fresh copy during the outage: %d bytes, %v", name, len(data), err)
		}
		if _, err := b.Open("b.bin"); !errors.Is(err, source.ErrUnavailable) {
			t.Errorf("%s: an object not held during the outage: %v, want ErrUnavailable", name, err)
		}
	}
	clk.add(10 * time.Second)
	if _, err := strict.Open("a.bin"); !errors.Is(err, source.ErrUnavailable) {
		t.Errorf("strict: a stale copy during the outage: %v, want ErrUnavailable", err)
	}
	if data, err := fs.ReadFile(lenient, "a.bin"); err != nil || len(data) != 10<<10 {
		t.Errorf("lenient: a stale copy within StaleIfError: %d bytes, %v", len(data), err)
	}
	if got := counter(t, lreg, "keyhole_tier_stale_served_total", nil); got == 0 {
		t.Error("keyhole_tier_stale_served_total is 0")
	}
	srv.Resume()
	resumed = true
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := fs.ReadFile(strict, "b.bin")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after the bucket came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTierDiskRestart: a restarted replica serves from its disk tier
// while the bucket is down, and a torn file is dropped, never served.
func TestTierDiskRestart(t *testing.T) {
	t.Parallel()
	srv := seaweed.Start(t)
	srv.CreateBucket(t, "restart")
	raw := openRaw(t, srv.URL("restart"))
	put(t, raw, "a.bin", pattern(50<<10))
	put(t, raw, "b.bin", pattern(60<<10))
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	b, tier, _ := tiered(t, srv.URL("restart"), source.TierConfig{Dir: dir}, clk)
	for _, name := range []string{"a.bin", "b.bin"} {
		if _, err := fs.ReadFile(b, name); err != nil {
			t.Fatal(err)
		}
	}
	tier.Close()
	// Tear one file as a crash mid-write on a journal-less disk would.
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 2 {
		t.Fatalf("%d files in the disk tier, want 2", len(files))
	}
	info, _ := os.Stat(files[0])
	if err := os.Truncate(files[0], info.Size()-100); err != nil {
		t.Fatal(err)
	}
	srv.Pause()
	defer srv.Resume()
	// The restart: a new tier and bucket on the same directory.
	b2, _, reg2 := tiered(t, srv.URL("restart"), source.TierConfig{Dir: dir}, clk)
	served, refused := 0, 0
	for _, name := range []string{"a.bin", "b.bin"} {
		data, err := fs.ReadFile(b2, name)
		switch {
		case err == nil && bytes.Equal(data, pattern(len(data))) && len(data) >= 50<<10:
			served++
		case errors.Is(err, source.ErrUnavailable):
			refused++ // the torn one: asked from the bucket, which is down
		default:
			t.Errorf("%s: %d bytes, %v", name, len(data), err)
		}
	}
	if served != 1 || refused != 1 {
		t.Errorf("served %d from disk and refused %d, want 1 and 1", served, refused)
	}
	if got := counter(t, reg2, "keyhole_tier_errors_total", map[string]string{"tier": "disk"}); got != 1 {
		t.Errorf("disk errors = %v, want 1 (the torn file)", got)
	}
	if _, err := os.Stat(files[0]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the torn file is still there: %v", err)
	}
}

func TestTierConfig(t *testing.T) {
	for _, tc := range []source.TierConfig{
		{DiskBytes: 10},
		{MemoryBytes: -1},
		{FreshFor: -time.Second},
		{StaleIfError: -time.Second},
		{Dir: "/nonexistent/keyhole-tier"},
	} {
		if _, err := source.NewTier(tc); err == nil {
			t.Errorf("NewTier(%+v) = nil error", tc)
		}
	}
	if err := source.CheckTierDir(t.TempDir()); err != nil {
		t.Errorf("CheckTierDir(a temp dir) = %v", err)
	}
}

// openRaw opens a bucket URL for the test to fill, closed at the end.
func openRaw(t *testing.T, u string) *blob.Bucket {
	t.Helper()
	b, err := blob.OpenBucket(context.Background(), u+"&response_checksum_validation=when_required")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestTierOpenCopies holds copies open while the tier evicts them: their
// bytes stay readable, the memory the tier's copies take (open or not)
// stays within the memory bound, and a file dropped without Close gives
// its bytes back once the collector finds it.
func TestTierOpenCopies(t *testing.T) {
	const n, size, memMax = 12, 200 << 10, 1 << 20
	u := bucketOf(t, "o", n, size)
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b, _, reg := tiered(t, u, source.TierConfig{MemoryBytes: memMax}, clk)
	open := func() float64 { return gauge(t, reg, "keyhole_tier_open_bytes", nil) }
	var held []fs.File
	for i := range 3 {
		f, err := b.Open(fmt.Sprintf("o/%d", i))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, f)
	}
	for round := range 2 {
		for i := 3; i < n; i++ {
			data, err := fs.ReadFile(b, fmt.Sprintf("o/%d", i))
			if err != nil || !bytes.Equal(data, pattern(size+i)) {
				t.Fatalf("round %d, o/%d: %d bytes, %v", round, i, len(data), err)
			}
			if got := open(); got > memMax {
				t.Fatalf("the tier's copies take %v bytes, bound %d", got, memMax)
			}
		}
	}
	if got := counter(t, reg, "keyhole_tier_evictions_total", map[string]string{"tier": "memory"}); got == 0 {
		t.Fatal("nothing was evicted: the test did not exercise open copies")
	}
	for i, f := range held {
		data, err := io.ReadAll(f)
		if err != nil || !bytes.Equal(data, pattern(size+i)) {
			t.Errorf("held o/%d after its eviction: %d bytes, %v", i, len(data), err)
		}
		f.Close()
	}
	if got, inTier := open(), gauge(t, reg, "keyhole_tier_bytes", map[string]string{"tier": "memory"}); got > inTier {
		t.Errorf("after every file is closed the copies take %v bytes, but the memory tier holds %v", got, inTier)
	}

	// A file never closed: evict its copy, drop the file, collect.
	if _, err := b.Open("o/0"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < n; i++ {
		if _, err := fs.ReadFile(b, fmt.Sprintf("o/%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	want := gauge(t, reg, "keyhole_tier_bytes", map[string]string{"tier": "memory"})
	for range 50 {
		runtime.GC()
		if open() <= want {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := open(); got > want {
		t.Errorf("a file dropped without Close still holds its copy: %v bytes, the memory tier %v", got, want)
	}
}

// TestTierConcurrentReaders reads a few objects from many goroutines
// through a tier that holds two of them, so copies are fetched, shared,
// evicted and freed while others read them; every read must be whole and
// right (a copy freed too early would be garbage or a crash).
func TestTierConcurrentReaders(t *testing.T) {
	const n, size = 6, 150 << 10
	u := bucketOf(t, "c", n, size)
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b, _, reg := tiered(t, u, source.TierConfig{MemoryBytes: 2*size + 4096}, clk)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 30 {
				i := (g + k*5) % n
				data, err := fs.ReadFile(b, fmt.Sprintf("c/%d", i))
				if err != nil || !bytes.Equal(data, pattern(size+i)) {
					errs <- fmt.Errorf("c/%d: %d bytes, %v", i, len(data), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := counter(t, reg, "keyhole_tier_evictions_total", map[string]string{"tier": "memory"}); got == 0 {
		t.Error("nothing was evicted")
	}
}
