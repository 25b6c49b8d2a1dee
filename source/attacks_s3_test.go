package source_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"net"
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
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

// The attacks of the object-storage review, each against a real
// SeaweedFS server on loopback.

// TestAttackMultiRange: a public object asked for with a thousand
// one-byte ranges is answered 200 with the whole object, and the store is
// asked for about the object's bytes in a few GETs (it was a ranged GET
// per range, with a read-ahead that kept doubling). A single range is
// still 206.
func TestAttackMultiRange(t *testing.T) {
	srv := server(t)
	u, b := newBucket(t, srv)
	const size = 2 << 20
	data := pattern(size)
	put(t, b, "public/big.bin", data)
	s := newSite(t, siteConfig{url: u})

	var rs strings.Builder
	rs.WriteString("bytes=")
	for i := range 1000 {
		if i > 0 {
			rs.WriteByte(',')
		}
		fmt.Fprintf(&rs, "%d-%d", i*2000, i*2000)
	}
	readsBefore, bytesBefore := s.reads(t), s.count(t, "keyhole_source_read_bytes_total", nil)
	r := s.do(t, "GET", "/public/big.bin", map[string]string{"Range": rs.String()})
	if r.status != 200 || !bytes.Equal(r.body, data) {
		t.Fatalf("multi-range: %d with %d bytes, want 200 with the whole object", r.status, len(r.body))
	}
	reads := s.reads(t) - readsBefore
	moved := s.count(t, "keyhole_source_read_bytes_total", nil) - bytesBefore
	// Sequential reads of 256 KiB doubling: 256 KiB + 512 KiB + 1 MiB +
	// the rest, four GETs for 2 MiB.
	if reads > 4 {
		t.Errorf("multi-range: %v ranged GETs, want at most 4", reads)
	}
	if moved > size+size/8 {
		t.Errorf("multi-range: %v bytes read from the store for a %d-byte object", moved, size)
	}

	r = s.do(t, "GET", "/public/big.bin", map[string]string{"Range": "bytes=100-199"})
	if r.status != 206 || !bytes.Equal(r.body, data[100:200]) {
		t.Fatalf("single range: %d with %d bytes, want 206 with 100", r.status, len(r.body))
	}
	// Two ranges on a non-remote path would be multipart; a remote one is
	// answered whole even when the ranges overlap or are reversed.
	r = s.do(t, "GET", "/public/big.bin", map[string]string{"Range": "bytes=500-600,0-10"})
	if r.status != 200 || len(r.body) != size {
		t.Fatalf("two ranges: %d with %d bytes", r.status, len(r.body))
	}
}

// trickle is a reverse proxy in front of the S3 endpoint that drips the
// body of GETs whose path ends in slowSuffix, a few bytes at a time, and
// counts the trickled bodies still open.
type trickle struct {
	srv     *httptest.Server
	open    atomic.Int64
	started atomic.Int64
}

const slowSuffix = "/slow.jpg"

// via returns the bucket URL u (a seaweed.Server URL) with its endpoint
// replaced by a proxy's.
func via(u, endpoint string) string {
	name := strings.TrimPrefix(u[:strings.Index(u, "?")], "s3://")
	return "s3://" + name + "?endpoint=" + endpoint + "&region=" + seaweed.Region + "&use_path_style=true"
}

func newTrickle(t *testing.T, endpoint string) *trickle {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	tr := &trickle{}
	p := httputil.NewSingleHostReverseProxy(target)
	// Every drip is sent at once (headers first): otherwise the proxy's
	// buffer holds the response until 4 KiB have trickled.
	p.FlushInterval = -1
	p.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method == http.MethodGet && strings.HasSuffix(resp.Request.URL.Path, slowSuffix) && resp.StatusCode/100 == 2 {
			tr.started.Add(1)
			tr.open.Add(1)
			resp.Body = &slowBody{rc: resp.Body, done: func() { tr.open.Add(-1) }}
		}
		return nil
	}
	tr.srv = httptest.NewServer(p)
	t.Cleanup(tr.srv.Close)
	return tr
}

// slowBody gives 64 bytes every 200 ms: a 64 KiB object takes about
// three and a half minutes.
type slowBody struct {
	rc   io.ReadCloser
	once sync.Once
	done func()
}

func (s *slowBody) Read(p []byte) (int, error) {
	time.Sleep(200 * time.Millisecond)
	return s.rc.Read(p[:min(len(p), 64)])
}

func (s *slowBody) Close() error {
	s.once.Do(s.done)
	return s.rc.Close()
}

// TestAttackTricklingStore: with one transform slot and a 1 s time limit,
// a store trickling one original's bytes neither holds the slot nor
// outlives the limit: its transform is 503 in bounded time, a fast
// transform running at the same time is 200, and the trickled read is
// abandoned (the proxy sees its body closed).
func TestAttackTricklingStore(t *testing.T) {
	srv := server(t)
	u, b := newBucket(t, srv)
	photo := jpegImage(t, 256, 256)
	put(t, b, "public/slow.jpg", photo)
	put(t, b, "public/fast.jpg", photo)
	tr := newTrickle(t, srv.Endpoint())
	proxied := via(u, tr.srv.URL)
	s := newSite(t, siteConfig{
		url:           proxied,
		source:        source.Config{Timeout: 10 * time.Second},
		limits:        transform.Limits{Timeout: time.Second},
		maxConcurrent: 1,
		noMemory:      true,
	})

	slow := make(chan reply, 1)
	start := time.Now()
	go func() {
		req, _ := http.NewRequest("GET", s.srv.URL+"/public/slow.jpg?w=64", nil)
		resp, err := s.srv.Client().Do(req)
		if err != nil {
			slow <- reply{}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		slow <- reply{resp.StatusCode, resp.Header, body}
	}()
	// Wait until the store has started trickling, then ask for a fast
	// transform: the only slot is free.
	for tr.started.Load() == 0 {
		if time.Since(start) > 5*time.Second {
			t.Fatal("the slow GET never reached the store")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r := s.do(t, "GET", "/public/fast.jpg?w=64", nil); r.status != 200 {
		t.Errorf("fast transform during the trickle: %d %q, want 200", r.status, r.body)
	}
	r := <-slow
	took := time.Since(start)
	if r.status != 503 {
		t.Errorf("slow transform: %d %q, want 503", r.status, r.body)
	}
	if took > 4*time.Second {
		t.Errorf("slow transform answered after %v, want about the 1 s limit", took)
	}
	// The proxy notices that Keyhole hung up at its next drip.
	deadline := time.Now().Add(3 * time.Second)
	for tr.open.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d trickled bodies still open after the answer", tr.open.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAttackSameSizeReplacement: an original replaced by different bytes
// of the same size within the same second gets a new ETag (the store's),
// the old ETag no longer matches, and its variant is computed anew.
func TestAttackSameSizeReplacement(t *testing.T) {
	srv := server(t)
	u, b := newBucket(t, srv)
	a := flatPNG(t, 64, 64, 200)
	c := samePNGSize(t, a)
	if len(a) != len(c) || bytes.Equal(a, c) {
		t.Fatalf("test images: %d and %d bytes", len(a), len(c))
	}
	put(t, b, "public/p.png", a)
	s := newSite(t, siteConfig{url: u, source: source.Config{MetadataTTL: -1}})

	r1 := s.do(t, "GET", "/public/p.png", nil)
	v1 := s.do(t, "GET", "/public/p.png?w=32&format=png", nil)
	if r1.status != 200 || v1.status != 200 {
		t.Fatalf("before: %d, %d", r1.status, v1.status)
	}
	put(t, b, "public/p.png", c)
	r2 := s.do(t, "GET", "/public/p.png", nil)
	if r2.status != 200 || !bytes.Equal(r2.body, c) {
		t.Fatalf("after: %d, new bytes %v", r2.status, bytes.Equal(r2.body, c))
	}
	if r1.header.Get("Etag") == r2.header.Get("Etag") {
		t.Errorf("ETag %s kept across a same-size replacement", r1.header.Get("Etag"))
	}
	if r := s.do(t, "GET", "/public/p.png", map[string]string{"If-None-Match": r1.header.Get("Etag")}); r.status != 200 {
		t.Errorf("old ETag: %d, want 200 with the new bytes", r.status)
	}
	v2 := s.do(t, "GET", "/public/p.png?w=32&format=png", nil)
	if v2.status != 200 || bytes.Equal(v1.body, v2.body) || v1.header.Get("Etag") == v2.header.Get("Etag") {
		t.Errorf("variant after replacement: %d, same body %v, same ETag %v", v2.status, bytes.Equal(v1.body, v2.body), v1.header.Get("Etag") == v2.header.Get("Etag"))
	}
}

// samePNGSize returns a PNG of the same length as a with other pixels:
// flat images of two grey levels compress to the same length.
func samePNGSize(t *testing.T, a []byte) []byte {
	t.Helper()
	for level := 0; level < 256; level++ {
		if c := flatPNG(t, 64, 64, uint8(level)); len(c) == len(a) && !bytes.Equal(c, a) {
			return c
		}
	}
	t.Fatal("no grey level gives a PNG of the same length")
	return nil
}

// flatPNG is a w×h opaque grey PNG of the given level.
func flatPNG(t *testing.T, w, h int, level uint8) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = level
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestAttackWatermarkReplaced: a watermark file replaced in the bucket
// gives a different variant (its identity is part of the variant key),
// in the handler's memory cache and in the shared store.
func TestAttackWatermarkReplaced(t *testing.T) {
	srv := server(t)
	u, b := newBucket(t, srv)
	storeURL, _ := newBucket(t, srv)
	put(t, b, "private/photo.jpg", jpegImage(t, 256, 256))
	put(t, b, "wm/logo.png", flatPNG(t, 64, 64, 0))
	st, err := source.OpenStore(context.Background(), storeURL, source.StoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := newSite(t, siteConfig{url: u, store: st, source: source.Config{MetadataTTL: -1}})
	tok := wmToken(t, "/wm/logo.png")
	path := "/private/photo.jpg?jwt=" + tok
	v1 := s.do(t, "GET", path, nil)
	if v1.status != 200 {
		t.Fatalf("first: %d %q", v1.status, v1.body)
	}
	put(t, b, "wm/logo.png", flatPNG(t, 64, 64, 255))
	v2 := s.do(t, "GET", path, nil)
	if v2.status != 200 {
		t.Fatalf("after the watermark changed: %d %q", v2.status, v2.body)
	}
	if bytes.Equal(v1.body, v2.body) {
		t.Error("the variant still carries the old watermark")
	}
	// A second site on the same store (no memory of its own) gets the
	// new watermark too.
	s2 := newSite(t, siteConfig{url: u, store: st, source: source.Config{MetadataTTL: -1}, noMemory: true})
	if v3 := s2.do(t, "GET", path, nil); v3.status != 200 || !bytes.Equal(v3.body, v2.body) {
		t.Errorf("second replica: %d, same as the new variant %v", v3.status, bytes.Equal(v3.body, v2.body))
	}
}

// TestAttackTierOverHTTP: with a tier, Range, HEAD and 304 of a held
// original cost no store request, a protected original still needs its
// token, max_source_bytes still bounds a transform's source, and a cached
// variant is served while the store is down within the freshness window.
func TestAttackTierOverHTTP(t *testing.T) {
	srv := server(t)
	u, b := newBucket(t, srv)
	data := pattern(300 << 10)
	put(t, b, "public/blob.bin", data)
	put(t, b, "private/blob.bin", data)
	put(t, b, "public/photo.jpg", jpegImage(t, 256, 256))
	s := newSite(t, siteConfig{
		url:    u,
		tier:   &source.TierConfig{MemoryBytes: 8 << 20, FreshFor: time.Hour},
		limits: transform.Limits{MaxSourceBytes: 100 << 10},
	})
	first := s.do(t, "GET", "/public/blob.bin", nil)
	if first.status != 200 || !bytes.Equal(first.body, data) {
		t.Fatalf("first: %d", first.status)
	}
	before := s.count(t, "keyhole_source_requests_total", nil)
	if r := s.do(t, "GET", "/public/blob.bin", map[string]string{"Range": "bytes=10-19"}); r.status != 206 || !bytes.Equal(r.body, data[10:20]) {
		t.Errorf("range: %d", r.status)
	}
	// Held copies are sent with sendfile from their memfd on Linux: the
	// whole object, and a range long enough that net/http sends all but
	// its first 512 bytes that way.
	if r := s.do(t, "GET", "/public/blob.bin", nil); r.status != 200 || !bytes.Equal(r.body, data) {
		t.Errorf("held copy, whole: %d, %d bytes", r.status, len(r.body))
	}
	if r := s.do(t, "GET", "/public/blob.bin", map[string]string{"Range": "bytes=100000-249999"}); r.status != 206 || !bytes.Equal(r.body, data[100000:250000]) {
		t.Errorf("held copy, long range: %d, %d bytes", r.status, len(r.body))
	}
	if r := s.do(t, "HEAD", "/public/blob.bin", nil); r.status != 200 || r.header.Get("Content-Length") != fmt.Sprint(len(data)) {
		t.Errorf("HEAD: %d, length %s", r.status, r.header.Get("Content-Length"))
	}
	if r := s.do(t, "GET", "/public/blob.bin", map[string]string{"If-None-Match": first.header.Get("Etag")}); r.status != 304 {
		t.Errorf("If-None-Match: %d, want 304", r.status)
	}
	if n := s.count(t, "keyhole_source_requests_total", nil) - before; n != 0 {
		t.Errorf("%v store requests for Range, HEAD and 304 of a held object", n)
	}
	// The private copy: fetched with a token into the tier, then refused
	// without one.
	tok, err := token.Sign(testKey, token.ForPath("/private/blob.bin", time.Now(), time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r := s.do(t, "GET", "/private/blob.bin?jwt="+tok, nil); r.status != 200 {
		t.Fatalf("private with a token: %d", r.status)
	}
	if r := s.do(t, "GET", "/private/blob.bin", nil); r.status != 403 {
		t.Errorf("private without a token, held in the tier: %d, want 403", r.status)
	}
	if r := s.do(t, "GET", "/public/blob.bin?w=10", nil); r.status != 413 {
		t.Errorf("transform of a source over max_source_bytes: %d %q, want 413", r.status, r.body)
	}
	v := s.do(t, "GET", "/public/photo.jpg?w=32", nil)
	if v.status != 200 {
		t.Fatalf("variant: %d", v.status)
	}
	// HEAD of a variant not computed yet answers from the headers without
	// running the engine.
	transforms := histCount(t, s.reg, "keyhole_transform_seconds")
	if r := s.do(t, "HEAD", "/public/photo.jpg?w=48", nil); r.status != 200 || r.header.Get("Content-Type") != "image/jpeg" || r.header.Get("Etag") == "" {
		t.Errorf("HEAD of a new variant: %d, type %q, ETag %q", r.status, r.header.Get("Content-Type"), r.header.Get("Etag"))
	}
	if n := histCount(t, s.reg, "keyhole_transform_seconds") - transforms; n != 0 {
		t.Errorf("HEAD of a variant ran %v transforms", n)
	}
}

// TestAttackVariantDuringOutage: a variant in the memory cache is served
// while the store is down, within the tier's freshness window (the
// original is not asked for first).
func TestAttackVariantDuringOutage(t *testing.T) {
	t.Parallel()
	srv := seaweed.Start(t)
	name := "outage"
	srv.CreateBucket(t, name)
	b := openRaw(t, srv.URL(name))
	put(t, b, "public/photo.jpg", jpegImage(t, 256, 256))
	s := newSite(t, siteConfig{
		url:    srv.URL(name),
		source: source.Config{Timeout: time.Second},
		tier:   &source.TierConfig{MemoryBytes: 8 << 20, FreshFor: time.Hour},
	})
	v := s.do(t, "GET", "/public/photo.jpg?w=32", nil)
	if v.status != 200 {
		t.Fatalf("variant: %d", v.status)
	}
	srv.Stop()
	if r := s.do(t, "GET", "/public/photo.jpg?w=32", nil); r.status != 200 || !bytes.Equal(r.body, v.body) {
		t.Errorf("cached variant during the outage: %d", r.status)
	}
	if r := s.do(t, "GET", "/public/photo.jpg", nil); r.status != 200 {
		t.Errorf("held original during the outage: %d", r.status)
	}
	srv.Restart(t)
}

// TestBucketConnectionReuse: bursts of 32 concurrent reads reuse the
// connections of the first burst (the SDK's default pool keeps 10 idle
// connections per host, so every burst would dial 22 new ones).
func TestBucketConnectionReuse(t *testing.T) {
	srv := server(t)
	u, b := newBucket(t, srv)
	put(t, b, "a.bin", pattern(4<<10))
	target, err := url.Parse(srv.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	var dials atomic.Int64
	proxy := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	proxy.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dials.Add(1)
		}
	}
	proxy.Start()
	t.Cleanup(proxy.Close)
	bk, err := source.Open(context.Background(), via(u, proxy.URL), source.Config{MetadataTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer bk.Close()
	const conc = 32
	for burst := range 5 {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range conc {
			wg.Go(func() {
				<-start
				if _, err := fs.ReadFile(bk, "a.bin"); err != nil {
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		t.Logf("after burst %d: %d connections dialled", burst, dials.Load())
	}
	if n := dials.Load(); n > conc+4 {
		t.Errorf("%d connections dialled for 5 bursts of %d reads, want about %d", n, conc, conc)
	}
}

// TestTierFetchBudget: concurrent misses of distinct objects fetch at
// most a quarter of the memory tier at once (at least MaxObjectBytes);
// the misses over that budget are read by ranged reads, and every read
// gets the right bytes.
func TestTierFetchBudget(t *testing.T) {
	srv := server(t)
	u, b := newBucket(t, srv)
	const n, size = 12, 300 << 10
	for i := range n {
		put(t, b, fmt.Sprintf("o/%d", i), pattern(size+i))
	}
	target, err := url.Parse(srv.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	// Every body starts 300 ms after its headers, so the twelve fetches
	// overlap while they read.
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.FlushInterval = -1
	rp.ModifyResponse = func(resp *http.Response) error {
		resp.Body = &lateBody{ReadCloser: resp.Body}
		return nil
	}
	slow := httptest.NewServer(rp)
	t.Cleanup(slow.Close)
	proxied := via(u, slow.URL)
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	bk, _, reg := tiered(t, proxied, source.TierConfig{MemoryBytes: 4 << 20, MaxObjectBytes: 1 << 20}, clk)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			data, err := fs.ReadFile(bk, fmt.Sprintf("o/%d", i))
			if err != nil || !bytes.Equal(data, pattern(size+i)) {
				t.Errorf("o/%d: %d bytes, %v", i, len(data), err)
			}
		})
	}
	wg.Wait()
	deferred := counter(t, reg, "keyhole_tier_fetches_deferred_total", nil)
	// A 1 MiB budget holds three 300 KiB objects at once.
	if deferred < n-3-3 {
		t.Errorf("%v of %d concurrent misses deferred, want most of those past three", deferred, n)
	}
	if held := gauge(t, reg, "keyhole_tier_bytes", map[string]string{"tier": "memory"}); held > 4<<20 {
		t.Errorf("memory tier holds %v bytes", held)
	}
}

// lateBody waits 300 ms before its first byte.
type lateBody struct {
	io.ReadCloser
	started bool
}

func (l *lateBody) Read(p []byte) (int, error) {
	if !l.started {
		l.started = true
		time.Sleep(300 * time.Millisecond)
	}
	return l.ReadCloser.Read(p)
}
