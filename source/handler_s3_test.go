package source_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gocloud.dev/blob"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/internal/seaweed"
	"github.com/keyhole-dev/keyhole/source"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
	"github.com/keyhole-dev/keyhole/transform/vips"
)

var testKey = token.KeyFromString("k1", "a-secret-of-at-least-32-bytes-long!!")

func jpegImage(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// site is a handler serving a SeaweedFS bucket behind a loopback server,
// with its registry.
type site struct {
	srv  *httptest.Server
	reg  *prometheus.Registry
	src  *source.Bucket
	tier *source.Tier
}

type siteConfig struct {
	url      string
	source   source.Config
	store    handler.VariantStore
	limits   transform.Limits
	register func(reg *prometheus.Registry) handler.VariantStore
	// tier, when set, is made on the site's registry and given to the
	// bucket (and returned by register's store if it wants it).
	tier          *source.TierConfig
	maxConcurrent int
	noMemory      bool // no variant cache of the handler's own
}

func newSite(t *testing.T, sc siteConfig) *site {
	t.Helper()
	reg := prometheus.NewRegistry()
	sc.source.Registerer = reg
	var tier *source.Tier
	if sc.tier != nil {
		tc := *sc.tier
		tc.Registerer = reg
		var err error
		if tier, err = source.NewTier(tc); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tier.Close)
		sc.source.Tier = tier
	}
	src, err := source.Open(context.Background(), sc.url, sc.source)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	eng, err := vips.New(vips.Config{Limits: sc.limits})
	if err != nil {
		t.Fatal(err)
	}
	store := sc.store
	if sc.register != nil {
		store = sc.register(reg)
	}
	var cacheBytes int64
	if sc.noMemory {
		cacheBytes = -1
	}
	h, err := handler.New(handler.Config{
		Files:             src,
		Engine:            eng,
		Limits:            sc.limits,
		Watermarks:        []string{"/wm/"},
		VariantStore:      store,
		Registerer:        reg,
		MaxConcurrent:     sc.maxConcurrent,
		VariantCacheBytes: cacheBytes,
		Protections:       []handler.Protection{{Path: "/private/", Keys: []token.Key{testKey}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &site{srv: srv, reg: reg, src: src, tier: tier}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (s *site) do(t *testing.T, method, path string, hdr map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, body}
}

// ok reports whether GET path answered 200 with its whole body (while a
// store comes back, an original's body may be cut after its headers).
func (s *site) ok(path string) bool {
	resp, err := s.srv.Client().Get(s.srv.URL + path)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return err == nil && resp.StatusCode == 200
}

// wmToken signs /private/photo.jpg with a watermark (a token-only
// parameter) and w=128.
func wmToken(t *testing.T, wm string) string {
	t.Helper()
	c := token.ForPath("/private/photo.jpg", time.Now(), time.Hour)
	c.Args = map[string]any{"w": 128, "watermark": wm}
	tok, err := token.Sign(testKey, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (s *site) count(t *testing.T, name string, labels map[string]string) float64 {
	return counter(t, s.reg, name, labels)
}

func (s *site) reads(t *testing.T) float64 {
	return s.count(t, "keyhole_source_requests_total", map[string]string{"op": "read"})
}

func fill(t *testing.T, b *blob.Bucket, files map[string][]byte) {
	t.Helper()
	for k, v := range files {
		put(t, b, k, v)
	}
}

// TestHandlerS3 serves a SeaweedFS bucket through handler.New and checks
// that it behaves as a local directory does.
func TestHandlerS3(t *testing.T) {
	srv := server(t)
	u, raw := newBucket(t, srv)
	photo := jpegImage(t, 256, 128)
	big := pattern(1 << 20)
	fill(t, raw, map[string][]byte{
		"public/photo.jpg":    photo,
		"public/big.bin":      big,
		"public/notes.txt":    []byte("plain notes\n"),
		"public/.secret.txt":  []byte("hidden\n"),
		"public/.git/config":  []byte("[core]\n"),
		"private/photo.jpg":   photo,
		"wm/logo.png":         pngImage(t, 32, 32),
		"public/not-an-image": []byte("text, not pixels"),
	})
	s := newSite(t, siteConfig{url: u})
	tok, err := token.Sign(testKey, token.ForPath("/private/photo.jpg", time.Now(), time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
		status             int
		body               string // prefix; "" = not checked
	}{
		{"original", "GET", "/public/notes.txt", nil, 200, "plain notes\n"},
		{"missing", "GET", "/public/nope.txt", nil, 404, "not found"},
		{"folder", "GET", "/public", nil, 404, "not found"},
		{"dot file", "GET", "/public/.secret.txt", nil, 404, "not found"},
		{"dot folder", "GET", "/public/.git/config", nil, 404, "not found"},
		{"dot segment", "GET", "/public/../private/photo.jpg", nil, 400, ""},
		{"protected without token", "GET", "/private/photo.jpg", nil, 403, "missing token"},
		{"protected with token", "GET", "/private/photo.jpg?jwt=" + tok, nil, 200, "\xff\xd8\xff"},
		{"transform of missing", "GET", "/public/nope.jpg?w=10", nil, 404, "not found"},
		{"not an image", "GET", "/public/not-an-image?w=10", nil, 400, "not an image"},
		{"missing watermark", "GET", "/private/photo.jpg?jwt=" + wmToken(t, "/wm/nope.png"), nil, 400, "watermark not available"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, tc.method, tc.path, tc.hdr)
			if r.status != tc.status || !strings.HasPrefix(string(r.body), tc.body) {
				t.Fatalf("%s %s = %d %q, want %d %q", tc.method, tc.path, r.status, r.body, tc.status, tc.body)
			}
		})
	}

	t.Run("range by ranged reads", func(t *testing.T) {
		before := s.count(t, "keyhole_source_read_bytes_total", nil)
		r := s.do(t, "GET", "/public/big.bin", map[string]string{"Range": "bytes=500000-500099"})
		if r.status != 206 || !bytes.Equal(r.body, big[500000:500100]) {
			t.Fatalf("range: %d, %d bytes", r.status, len(r.body))
		}
		if got := s.count(t, "keyhole_source_read_bytes_total", nil) - before; got > 64<<10 {
			t.Errorf("a 100-byte range of a 1 MiB object read %v bytes", got)
		}
	})
	t.Run("whole original", func(t *testing.T) {
		r := s.do(t, "GET", "/public/big.bin", nil)
		if r.status != 200 || !bytes.Equal(r.body, big) {
			t.Fatalf("whole: %d, %d bytes", r.status, len(r.body))
		}
	})
	t.Run("HEAD and 304 read no bytes", func(t *testing.T) {
		first := s.do(t, "GET", "/public/photo.jpg", nil)
		etag, lm := first.header.Get("ETag"), first.header.Get("Last-Modified")
		if etag == "" || lm == "" {
			t.Fatalf("no validators: %v", first.header)
		}
		before := s.reads(t)
		head := s.do(t, "HEAD", "/public/photo.jpg", nil)
		if head.status != 200 || head.header.Get("Content-Length") != strconv.Itoa(len(photo)) || len(head.body) != 0 {
			t.Errorf("HEAD: %d, length %s", head.status, head.header.Get("Content-Length"))
		}
		if r := s.do(t, "GET", "/public/photo.jpg", map[string]string{"If-None-Match": etag}); r.status != 304 {
			t.Errorf("If-None-Match: %d", r.status)
		}
		if r := s.do(t, "GET", "/public/photo.jpg", map[string]string{"If-Modified-Since": lm}); r.status != 304 {
			t.Errorf("If-Modified-Since: %d", r.status)
		}
		if got := s.reads(t) - before; got != 0 {
			t.Errorf("HEAD and conditional requests made %v ranged reads, want 0", got)
		}
	})
	t.Run("transform", func(t *testing.T) {
		r := s.do(t, "GET", "/public/photo.jpg?w=64", nil)
		if r.status != 200 {
			t.Fatalf("transform: %d %q", r.status, r.body)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(r.body))
		if err != nil || cfg.Width != 64 || cfg.Height != 32 {
			t.Fatalf("variant is %dx%d (%v), want 64x32", cfg.Width, cfg.Height, err)
		}
		// The variant's 304 needs neither the engine nor the bytes.
		before := s.reads(t)
		if r2 := s.do(t, "GET", "/public/photo.jpg?w=64", map[string]string{"If-None-Match": r.header.Get("ETag")}); r2.status != 304 {
			t.Errorf("variant If-None-Match: %d", r2.status)
		}
		if s.reads(t) != before {
			t.Error("a variant's 304 read the source")
		}
	})
	t.Run("watermark from the bucket", func(t *testing.T) {
		plain := s.do(t, "GET", "/private/photo.jpg?w=128&jwt="+tok, nil)
		marked := s.do(t, "GET", "/private/photo.jpg?jwt="+wmToken(t, "/wm/logo.png"), nil)
		if plain.status != 200 || marked.status != 200 {
			t.Fatalf("plain %d, watermarked %d %q", plain.status, marked.status, marked.body)
		}
		if bytes.Equal(plain.body, marked.body) {
			t.Error("the watermark changed nothing")
		}
	})
}

// TestHandlerS3SourceLimit: a transform reads at most max_source_bytes;
// an object over it is refused from its metadata without reading it.
func TestHandlerS3SourceLimit(t *testing.T) {
	srv := server(t)
	u, raw := newBucket(t, srv)
	photo := jpegImage(t, 256, 256)
	put(t, raw, "photo.jpg", photo)
	s := newSite(t, siteConfig{url: u, limits: transform.Limits{MaxSourceBytes: int64(len(photo)) - 1}})
	r := s.do(t, "GET", "/photo.jpg?w=10", nil)
	if r.status != 413 {
		t.Fatalf("over the limit: %d %q", r.status, r.body)
	}
	if got := s.count(t, "keyhole_source_read_bytes_total", nil); got != 0 {
		t.Errorf("read %v bytes of a source over the limit", got)
	}
}

// TestHandlerS3Outage: the source store paused (no answer) and stopped
// (refused) gives 503 "source unavailable" within the source timeout,
// counted; the service recovers when the store is back.
func TestHandlerS3Outage(t *testing.T) {
	srv := seaweed.Start(t)
	srv.CreateBucket(t, "photos")
	raw, err := blob.OpenBucket(context.Background(), srv.URL("photos")+"&response_checksum_validation=when_required")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	put(t, raw, "a.jpg", jpegImage(t, 64, 64))
	s := newSite(t, siteConfig{url: srv.URL("photos"), source: source.Config{Timeout: 500 * time.Millisecond, MetadataTTL: -1}})

	get := func(t *testing.T, path string, want int, body string) {
		t.Helper()
		start := time.Now()
		r := s.do(t, "GET", path, nil)
		t.Logf("GET %s: %d after %v", path, r.status, time.Since(start).Round(time.Millisecond))
		if r.status != want || !strings.HasPrefix(string(r.body), body) {
			t.Fatalf("GET %s = %d %q, want %d %q", path, r.status, r.body, want, body)
		}
		if want == 503 && r.header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
	}
	get(t, "/a.jpg", 200, "\xff\xd8")
	t.Run("paused", func(t *testing.T) {
		srv.Pause()
		defer srv.Resume()
		get(t, "/a.jpg", 503, "source unavailable\n")
		get(t, "/a.jpg?w=16", 503, "source unavailable\n")
		get(t, "/missing.jpg", 503, "source unavailable\n")
	})
	t.Run("resumed", func(t *testing.T) { get(t, "/a.jpg?w=16", 200, "\xff\xd8") })
	t.Run("stopped", func(t *testing.T) {
		srv.Stop()
		get(t, "/a.jpg", 503, "source unavailable\n")
		get(t, "/a.jpg?w=20", 503, "source unavailable\n")
	})
	if got := s.count(t, "keyhole_requests_total", map[string]string{"code": "503"}); got != 5 {
		t.Errorf("keyhole_requests_total{code=503} = %v, want 5", got)
	}
	if got := s.count(t, "keyhole_source_requests_total", map[string]string{"result": "error"}); got < 5 {
		t.Errorf("keyhole_source_requests_total{result=error} = %v, want at least 5", got)
	}
	t.Run("restarted", func(t *testing.T) {
		srv.Restart(t)
		// The volume server registers with the master a moment after the
		// S3 gateway answers: wait for the first 200.
		deadline := time.Now().Add(60 * time.Second)
		for !s.ok("/a.jpg") {
			if time.Now().After(deadline) {
				t.Fatal("no 200 within 60s of the restart")
			}
			time.Sleep(200 * time.Millisecond)
		}
		get(t, "/a.jpg", 200, "\xff\xd8")
		get(t, "/a.jpg?w=20", 200, "\xff\xd8")
		get(t, "/missing.jpg", 404, "not found")
	})
}

// TestHandlerS3VariantStore: two handlers ("replicas") share a bucket and
// a variant store; a variant computed by one is served by the other
// without a transform, and a store that is down never fails a request.
func TestHandlerS3VariantStore(t *testing.T) {
	srv := server(t)
	u, raw := newBucket(t, srv)
	put(t, raw, "photo.jpg", jpegImage(t, 200, 100))
	stores := map[*prometheus.Registry]*source.Store{}
	replica := func() *site {
		return newSite(t, siteConfig{url: u, register: func(reg *prometheus.Registry) handler.VariantStore {
			st, err := source.OpenStore(context.Background(), u+"&prefix=variants/", source.StoreConfig{Registerer: reg})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			stores[reg] = st
			return st
		}})
	}
	a, b := replica(), replica()
	transforms := func(s *site) float64 { return histCount(t, s.reg, "keyhole_transform_seconds") }

	ra := a.do(t, "GET", "/photo.jpg?w=50", nil)
	if ra.status != 200 {
		t.Fatalf("replica a: %d %q", ra.status, ra.body)
	}
	stores[a.reg].Wait() // the background write has finished
	rb := b.do(t, "GET", "/photo.jpg?w=50", nil)
	if rb.status != 200 || !bytes.Equal(ra.body, rb.body) || ra.header.Get("ETag") != rb.header.Get("ETag") {
		t.Fatalf("replica b: %d, same bytes %v, ETags %s %s", rb.status, bytes.Equal(ra.body, rb.body), ra.header.Get("ETag"), rb.header.Get("ETag"))
	}
	if transforms(a) != 1 || transforms(b) != 0 {
		t.Errorf("transforms: a %v, b %v; want 1 and 0", transforms(a), transforms(b))
	}
	if got := b.count(t, "keyhole_variant_store_lookups_total", map[string]string{"result": "hit"}); got != 1 {
		t.Errorf("replica b store hits = %v, want 1", got)
	}
	if got := a.count(t, "keyhole_variant_store_writes_total", map[string]string{"result": "ok"}); got != 1 {
		t.Errorf("replica a store writes = %v, want 1", got)
	}
	// b's memory has it now: no second store lookup.
	b.do(t, "GET", "/photo.jpg?w=50", nil)
	if got := b.count(t, "keyhole_variant_store_lookups_total", nil); got != 1 {
		t.Errorf("replica b store lookups = %v after a memory hit, want 1", got)
	}

	t.Run("store down", func(t *testing.T) {
		down := seaweed.Start(t)
		down.CreateBucket(t, "variants")
		downURL := down.URL("variants")
		down.Stop()
		c := newSite(t, siteConfig{url: u, register: func(reg *prometheus.Registry) handler.VariantStore {
			st, err := source.OpenStore(context.Background(), downURL, source.StoreConfig{Registerer: reg, Timeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			stores[reg] = st
			return st
		}})
		r := c.do(t, "GET", "/photo.jpg?w=40", nil)
		if r.status != 200 {
			t.Fatalf("with the store down: %d %q", r.status, r.body)
		}
		stores[c.reg].Wait()
		for _, op := range []string{"get", "put"} {
			if got := c.count(t, "keyhole_variant_store_errors_total", map[string]string{"op": op}); got != 1 {
				t.Errorf("store %s errors = %v, want 1", op, got)
			}
		}
	})
}

func histCount(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				n += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return n
}
