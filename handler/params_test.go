package handler_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

func engineEnv(t *testing.T, eng *fakeEngine, mod ...func(*handler.Config)) *env {
	t.Helper()
	cfg := handler.Config{
		Engine:      eng,
		Protections: append(jwtProtections(), handler.Protection{Name: "lock", Path: "/lock/", Keys: []token.Key{keyOne}, Lock: true}),
		Profiles:    map[string]map[string]string{"thumb": {"w": "100", "h": "100"}},
	}
	for _, m := range mod {
		m(&cfg)
	}
	return newEnv(t, cfg)
}

func TestInvalidParams(t *testing.T) {
	eng := &fakeEngine{}
	e := engineEnv(t, eng)
	res := e.get(t, "/public/img.jpg?w=abc&q=500&rotate=999&h=10&utm_source=x")
	res.expect(t, 400, "public")
	lines := strings.Split(strings.TrimSuffix(res.body, "\n"), "\n")
	if lines[0] != "invalid parameters" || len(lines) != 4 {
		t.Fatalf("body %q: want a title and one line per failing parameter", res.body)
	}
	for i, name := range []string{"q=500: ", "rotate=999: ", "w=abc: "} {
		if !strings.HasPrefix(lines[i+1], name) {
			t.Errorf("line %d = %q, want it to start with %q", i+1, lines[i+1], name)
		}
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}

	res = e.get(t, "/public/img.jpg?w=abc&q=500", "Accept", "application/json, text/plain;q=0.5")
	res.expect(t, 400, "public")
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var body struct {
		Error  string
		Params []transform.ParamError `json:"errors"`
	}
	if err := json.Unmarshal([]byte(res.body), &body); err != nil {
		t.Fatalf("JSON body %q: %v", res.body, err)
	}
	if body.Error != "invalid parameters" || len(body.Params) != 2 ||
		body.Params[0].Name != "q" || body.Params[0].Value != "500" || body.Params[0].Reason == "" ||
		body.Params[1].Name != "w" || body.Params[1].Value != "abc" {
		t.Errorf("JSON body %+v", body)
	}
	// Invalid secure args are reported the same way, after the token check.
	tok := e.sign(t, keyOne, &token.Claims{Audience: []string{"/private/"}, ExpiresAt: now.Add(time.Hour), Args: map[string]any{"w": -5}})
	res = e.get(t, "/private/a.jpg?jwt="+tok)
	res.expect(t, 400, "ok")
	if !strings.Contains(res.body, "w=-5: ") {
		t.Errorf("body %q", res.body)
	}
	// Unknown profile.
	res = e.get(t, "/public/img.jpg?profile=nope")
	if res.StatusCode != 400 || !strings.Contains(res.body, "profile=nope") {
		t.Errorf("unknown profile: %d %q", res.StatusCode, res.body)
	}
	// A value that echoes a megabyte is cut.
	res = e.get(t, "/public/img.jpg?w="+strings.Repeat("9", 5000))
	if res.StatusCode != 400 || len(res.body) > 500 {
		t.Errorf("long value: %d, %d-byte body", res.StatusCode, len(res.body))
	}
	if eng.calls.Load() != 0 {
		t.Errorf("engine called %d times for invalid requests", eng.calls.Load())
	}
}

// TestSirvOptionRefused checks that a Sirv option Keyhole does not
// implement is a 400 naming it, from the query string and from the
// token's args, and that a name that is no Sirv option is still ignored.
func TestSirvOptionRefused(t *testing.T) {
	eng := &fakeEngine{}
	e := engineEnv(t, eng)
	res := e.get(t, "/public/img.jpg?w=300&crop.type=face&histogram=rgb&utm_source=x")
	res.expect(t, 400, "public")
	for _, want := range []string{"crop.type=face: not supported by Keyhole: face detection", "histogram=rgb: not supported by Keyhole: "} {
		if !strings.Contains(res.body, want) {
			t.Errorf("body %q lacks %q", res.body, want)
		}
	}
	if strings.Contains(res.body, "utm_source") {
		t.Errorf("body %q names an unknown parameter", res.body)
	}
	tok := e.sign(t, keyOne, &token.Claims{Audience: []string{"/private/"}, ExpiresAt: now.Add(time.Hour),
		Args: map[string]any{"text": map[string]any{"4": map[string]any{"text": "fifth layer"}}}})
	res = e.get(t, "/private/a.jpg?jwt="+tok)
	res.expect(t, 400, "ok")
	if !strings.Contains(res.body, "text.4.text=fifth layer: not supported by Keyhole: ") {
		t.Errorf("body %q", res.body)
	}
	res = e.get(t, "/public/img.jpg?scale.width=300&utm_source=x")
	if res.StatusCode != 200 {
		t.Errorf("scale.width=300: %d %q", res.StatusCode, res.body)
	}
}

func TestParamPrecedence(t *testing.T) {
	eng := &fakeEngine{}
	e := engineEnv(t, eng)
	argsTok := func(path string, args map[string]any) string {
		return e.sign(t, keyOne, &token.Claims{Audience: []string{path}, ExpiresAt: now.Add(time.Hour), Args: args})
	}
	tests := []struct {
		name, target, body, ignored string
	}{
		{"query applies on a public path", "/public/img.jpg?w=300", "fake jpg Width=300", ""},
		{"insecure text is ignored", "/public/img.jpg?w=300&text=Hi&text.color=ff0000", "fake jpg Width=300", "text, text.color"},
		{"insecure watermark is ignored", "/public/img.jpg?w=300&watermark=/public/other.jpg", "fake jpg Width=300", "watermark"},
		{"utm_source is harmless", "/public/img.jpg?w=300&utm_source=newsletter&fbclid=1", "fake jpg Width=300", ""},
		{"query profile", "/public/img.jpg?profile=thumb", "fake jpg Width=100 Height=100", ""},
		// The token touches geometry, so the whole geometry group is
		// closed to the query (the lock rule): h is ignored too.
		{"token args win over the query", "/private/a.jpg?w=300&h=50&jwt=" + argsTok("/private/", map[string]any{"w": 100}), "fake jpg Width=100", "h, w"},
		{"token args text is applied", "/private/a.jpg?text=mine&jwt=" + argsTok("/private/", map[string]any{"text": map[string]any{"text": "Hello", "size": 20}}), "fake jpg Text=Hello TextSize=20", "text"},
		{"token profile is locked", "/private/a.jpg?w=300&jwt=" + argsTok("/private/", map[string]any{"profile": "thumb"}), "fake jpg Width=100 Height=100", "w"},
		{"lock ignores every query param", "/lock/img.jpg?w=300&q=20&profile=thumb&utm_source=x&jwt=" + argsTok("/lock/", map[string]any{"h": 40}), "fake jpg Height=40", "profile, q, w"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.get(t, tc.target)
			if res.StatusCode != 200 || res.body != tc.body {
				t.Fatalf("%d %q, want 200 %q", res.StatusCode, res.body, tc.body)
			}
			if got := res.Header.Get("X-Keyhole-Ignored-Params"); got != tc.ignored {
				t.Errorf("X-Keyhole-Ignored-Params %q, want %q", got, tc.ignored)
			}
			if ct := res.Header.Get("Content-Type"); ct != "image/jpeg" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	t.Run("lock with nothing left serves the original", func(t *testing.T) {
		calls := eng.calls.Load()
		res := e.get(t, "/lock/img.jpg?w=300&jwt="+argsTok("/lock/", nil))
		if res.StatusCode != 200 || res.body != string(jpegBytes) || eng.calls.Load() != calls {
			t.Errorf("%d %q, engine calls +%d", res.StatusCode, res.body, eng.calls.Load()-calls)
		}
		if got := res.Header.Get("X-Keyhole-Ignored-Params"); got != "w" {
			t.Errorf("X-Keyhole-Ignored-Params %q", got)
		}
	})
	t.Run("utm_source alone serves the original", func(t *testing.T) {
		calls := eng.calls.Load()
		res := e.get(t, "/public/img.jpg?utm_source=x")
		if res.StatusCode != 200 || res.body != string(jpegBytes) || eng.calls.Load() != calls {
			t.Errorf("%d %q", res.StatusCode, res.body)
		}
	})
}

// TestNoEngine: without an engine, parameters are validated, the original
// is served, and the header names what was not applied.
func TestNoEngine(t *testing.T) {
	e := newEnv(t, handler.Config{})
	res := e.get(t, "/public/img.jpg?w=300&q=50&utm_source=x")
	res.expect(t, 200, "public")
	if res.body != string(jpegBytes) {
		t.Errorf("body %q", res.body)
	}
	if got := res.Header.Get("X-Keyhole-Ignored-Params"); got != "q, w" {
		t.Errorf("X-Keyhole-Ignored-Params %q, want \"q, w\"", got)
	}
	e.get(t, "/public/img.jpg?w=0").expect(t, 400, "public")
	if got := e.get(t, "/public/img.jpg?dl").Header.Get("X-Keyhole-Ignored-Params"); got != "" {
		t.Errorf("dl alone: X-Keyhole-Ignored-Params %q", got)
	}
}

func TestVariantCache(t *testing.T) {
	eng := &fakeEngine{}
	e := engineEnv(t, eng)
	hits := func() float64 { return e.metric(t, "keyhole_variant_cache_hits_total") }
	misses := func() float64 { return e.metric(t, "keyhole_variant_cache_misses_total") }

	tok1 := e.sign(t, keyOne, claims("/private/", time.Hour))
	tok2 := e.sign(t, keyTwo, claims("/private/a.jpg", 2*time.Hour))
	a := e.get(t, "/private/a.jpg?w=100&jwt="+tok1)
	a.expect(t, 200, "ok")
	if eng.calls.Load() != 1 || misses() != 1 || hits() != 0 {
		t.Fatalf("calls %d misses %v hits %v", eng.calls.Load(), misses(), hits())
	}
	etag := a.Header.Get("ETag")
	if !strongETag.MatchString(etag) {
		t.Errorf("variant ETag %q", etag)
	}
	if cc := a.Header.Get("Cache-Control"); cc != "private, max-age=3600" {
		t.Errorf("variant Cache-Control %q", cc)
	}

	t.Run("same params, new token: hit", func(t *testing.T) {
		b := e.get(t, "/private/a.jpg?w=0100&utm_source=x&jwt="+tok2)
		b.expect(t, 200, "ok")
		if eng.calls.Load() != 1 || hits() != 1 {
			t.Errorf("calls %d hits %v", eng.calls.Load(), hits())
		}
		if b.body != a.body || b.Header.Get("ETag") != etag {
			t.Errorf("body %q ETag %q", b.body, b.Header.Get("ETag"))
		}
	})
	t.Run("other params: miss and another ETag", func(t *testing.T) {
		c := e.get(t, "/private/a.jpg?w=101&jwt="+tok1)
		if eng.calls.Load() != 2 || c.Header.Get("ETag") == etag {
			t.Errorf("calls %d ETag %q", eng.calls.Load(), c.Header.Get("ETag"))
		}
	})
	t.Run("same params, other file: another ETag", func(t *testing.T) {
		d := e.get(t, "/public/other.jpg?w=100")
		if d.Header.Get("ETag") == etag {
			t.Error("two files share a variant ETag")
		}
	})
	t.Run("If-None-Match: 304 without the engine", func(t *testing.T) {
		calls, h := eng.calls.Load(), hits()
		res := e.get(t, "/private/a.jpg?w=100&jwt="+tok1, "If-None-Match", etag)
		res.expect(t, 304, "ok")
		if eng.calls.Load() != calls || hits() != h {
			t.Error("a 304 looked at the cache or the engine")
		}
		// A fresh handler (empty cache) answers the same validator with
		// 304 too: the ETag depends only on file identity and params.
		eng2 := &fakeEngine{}
		f := engineEnv(t, eng2)
		f.get(t, "/private/a.jpg?w=100&jwt="+tok1, "If-None-Match", etag).expect(t, 304, "ok")
		if eng2.calls.Load() != 0 {
			t.Error("fresh handler called the engine for a 304")
		}
		// Still no way in without a token.
		f.get(t, "/private/a.jpg?w=100", "If-None-Match", etag).expect(t, 403, "missing token")
	})
	t.Run("Range on a variant", func(t *testing.T) {
		res := e.get(t, "/private/a.jpg?w=100&jwt="+tok1, "Range", "bytes=0-3")
		if res.StatusCode != 206 || res.body != a.body[:4] {
			t.Errorf("%d %q", res.StatusCode, res.body)
		}
	})
	t.Run("HEAD on a variant", func(t *testing.T) {
		res := e.do(t, "HEAD", "/private/a.jpg?w=100&jwt="+tok1)
		if res.StatusCode != 200 || res.body != "" || res.ContentLength != int64(len(a.body)) {
			t.Errorf("%d %q %d", res.StatusCode, res.body, res.ContentLength)
		}
	})
}

func TestVariantCacheDisabled(t *testing.T) {
	eng := &fakeEngine{}
	e := engineEnv(t, eng, func(c *handler.Config) { c.VariantCacheBytes = -1 })
	e.get(t, "/public/img.jpg?w=100")
	e.get(t, "/public/img.jpg?w=100")
	if eng.calls.Load() != 2 {
		t.Errorf("calls %d with the cache off", eng.calls.Load())
	}
}

func TestNegotiation(t *testing.T) {
	eng := &fakeEngine{}
	e := engineEnv(t, eng)
	for _, tc := range []struct {
		query, accept, body, vary, ctype string
	}{
		{"format=optimal&w=10", "image/avif,image/webp,*/*", "fake avif Width=10 Format=optimal", "Accept", "image/avif"},
		{"format=optimal&w=10", "image/webp,*/*", "fake webp Width=10 Format=optimal", "Accept", "image/webp"},
		{"format=optimal&w=10", "*/*", "fake jpg Width=10 Format=optimal", "Accept", "image/jpeg"},
		{"format=png&w=10", "image/avif", "fake png Width=10 Format=png", "", "image/png"},
		{"w=10", "image/avif", "fake jpg Width=10", "", "image/jpeg"},
		{"format=webp&webp-fallback=png&w=10", "image/png,*/*", "fake png Width=10 Format=webp WebPFallback=png", "Accept", "image/png"},
		{"format=webp&webp-fallback=png&w=10", "image/webp,*/*", "fake webp Width=10 Format=webp WebPFallback=png", "Accept", "image/webp"},
	} {
		t.Run(tc.query+" "+tc.accept, func(t *testing.T) {
			res := e.get(t, "/public/img.jpg?"+tc.query, "Accept", tc.accept)
			if res.StatusCode != 200 || res.body != tc.body {
				t.Fatalf("%d %q, want %q", res.StatusCode, res.body, tc.body)
			}
			if v := res.Header.Get("Vary"); v != tc.vary {
				t.Errorf("Vary %q, want %q", v, tc.vary)
			}
			if ct := res.Header.Get("Content-Type"); ct != tc.ctype {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	avif := e.get(t, "/public/img.jpg?format=optimal&w=10", "Accept", "image/avif")
	webp := e.get(t, "/public/img.jpg?format=optimal&w=10", "Accept", "image/webp")
	if avif.Header.Get("ETag") == webp.Header.Get("ETag") {
		t.Error("AVIF and WebP variants share an ETag")
	}
}

func TestNotAnImage(t *testing.T) {
	eng := &fakeEngine{}
	e := engineEnv(t, eng)
	rejected := func() float64 { return e.metric(t, "keyhole_transform_rejected_total", "reason", "invalid") }
	res := e.get(t, "/public/a.txt?w=100&dl")
	res.expect(t, 400, "public")
	if res.body != "not an image\n" || rejected() != 1 || eng.calls.Load() != 0 {
		t.Errorf("body %q rejected %v calls %d", res.body, rejected(), eng.calls.Load())
	}
	if cd := res.Header.Get("Content-Disposition"); cd != "" {
		t.Errorf("an error response asks for a download: %q", cd)
	}
	res = e.get(t, "/public/a.txt?utm_source=x&dl")
	res.expect(t, 200, "public")
	if res.body != "public file\n" {
		t.Errorf("body %q", res.body)
	}
}

func TestEngineErrors(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		body   string
		reason string
	}{
		{transform.ErrSourceTooLarge, 413, "source image too large\n", "too_large"},
		{transform.ErrOutputTooLarge, 400, "output image too large\n", "too_large"},
		{transform.ErrWatermarkNotFound, 400, "watermark not available\n", "invalid"},
		{errors.New("vips: open /srv/secret/path: no such file or directory"), 500, "transform failed\n", "error"},
	} {
		t.Run(tc.reason+" "+tc.err.Error(), func(t *testing.T) {
			e := engineEnv(t, &fakeEngine{err: tc.err})
			e.forbid("/srv/secret", "vips:")
			res := e.get(t, "/public/img.jpg?w=10")
			if res.StatusCode != tc.status || res.body != tc.body {
				t.Errorf("%d %q", res.StatusCode, res.body)
			}
			if v := e.metric(t, "keyhole_transform_rejected_total", "reason", tc.reason); v != 1 {
				t.Errorf("rejected{%s} = %v", tc.reason, v)
			}
			// Failures are not cached.
			e.get(t, "/public/img.jpg?w=10")
			if v := e.metric(t, "keyhole_variant_cache_hits_total"); v != 0 {
				t.Errorf("a failure was cached")
			}
		})
	}
	t.Run("timeout", func(t *testing.T) {
		// The engine owns Limits.Timeout: it stops the transform and
		// returns an error wrapping context.DeadlineExceeded.
		eng := &fakeEngine{err: fmt.Errorf("engine: %w", context.DeadlineExceeded)}
		e := engineEnv(t, eng)
		res := e.get(t, "/public/img.jpg?w=10")
		if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" || res.body != "transform took too long\n" {
			t.Errorf("%d %q Retry-After %q", res.StatusCode, res.body, res.Header.Get("Retry-After"))
		}
		if v := e.metric(t, "keyhole_transform_rejected_total", "reason", "timeout"); v != 1 {
			t.Errorf("rejected{timeout} = %v", v)
		}
	})
	t.Run("source over MaxSourceBytes", func(t *testing.T) {
		eng := &fakeEngine{}
		e := engineEnv(t, eng, func(c *handler.Config) { c.Limits.MaxSourceBytes = 8 })
		res := e.get(t, "/public/img.jpg?w=10")
		if res.StatusCode != 413 || eng.calls.Load() != 0 {
			t.Errorf("%d, engine calls %d", res.StatusCode, eng.calls.Load())
		}
	})
}

// TestSingleflight: N identical concurrent requests make one transform.
func TestSingleflight(t *testing.T) {
	eng := &fakeEngine{block: make(chan struct{}), started: make(chan struct{}, 1)}
	e := engineEnv(t, eng)
	const n = 8
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := range n {
		wg.Go(func() {
			r, err := e.getAsync(t, "/public/img.jpg?w=64")
			results[i] = result{r, err}
		})
	}
	<-eng.started
	// Every request has missed the cache and is on its way into the
	// flight; whoever joins late finds the finished variant in the cache.
	waitFor(t, "all requests to miss the cache", func() bool {
		return e.metric(t, "keyhole_variant_cache_misses_total")+e.metric(t, "keyhole_variant_flight_joins_total") == n
	})
	if v := e.metric(t, "keyhole_variant_cache_misses_total"); v != 1 {
		t.Errorf("misses %v, want 1: joiners are not misses", v)
	}
	if v := e.metric(t, "keyhole_transforms_in_flight"); v != 1 {
		t.Errorf("in flight %v, want 1", v)
	}
	close(eng.block)
	wg.Wait()
	if c := eng.calls.Load(); c != 1 {
		t.Errorf("engine called %d times for %d identical requests", c, n)
	}
	for i, res := range results {
		r := res.must(t)
		if r.StatusCode != 200 || r.body != "fake jpg Width=64" {
			t.Errorf("request %d: %d %q", i, r.StatusCode, r.body)
		}
	}
	if v := e.metric(t, "keyhole_transforms_in_flight"); v != 0 {
		t.Errorf("in flight %v after the flight", v)
	}
	e.get(t, "/public/img.jpg?w=64")
	if c, h := eng.calls.Load(), e.metric(t, "keyhole_variant_cache_hits_total"); c != 1 || h != 1 {
		t.Errorf("after: calls %d hits %v", c, h)
	}
	if v := e.metric(t, "keyhole_transform_seconds", "format", "jpg"); v != 1 {
		t.Errorf("keyhole_transform_seconds{format=jpg} count %v, want 1", v)
	}
}

// TestOverload: with one slot and a 50 ms queue, distinct requests beyond
// the slot get 503 + Retry-After; the one holding the slot succeeds.
func TestOverload(t *testing.T) {
	eng := &fakeEngine{block: make(chan struct{}), started: make(chan struct{}, 1)}
	e := engineEnv(t, eng, func(c *handler.Config) {
		c.MaxConcurrent = 1
		c.QueueTimeout = 50 * time.Millisecond
	})
	first := make(chan result, 1)
	go func() {
		r, err := e.getAsync(t, "/public/img.jpg?w=1")
		first <- result{r, err}
	}()
	<-eng.started

	const n = 4
	var wg sync.WaitGroup
	busy := make([]result, n)
	for i := range n {
		wg.Go(func() {
			r, err := e.getAsync(t, "/public/img.jpg?w="+string(rune('2'+i)))
			busy[i] = result{r, err}
		})
	}
	wg.Wait()
	for i, res := range busy {
		if res.err != nil {
			close(eng.block) // let the slot holder finish before failing
			t.Fatal(res.err)
		}
		r := res.res
		if r.StatusCode != 503 || r.Header.Get("Retry-After") != "1" || r.body != "too many transforms in progress, retry shortly\n" {
			t.Errorf("request %d: %d %q Retry-After %q", i, r.StatusCode, r.body, r.Header.Get("Retry-After"))
		}
		if r.result() != "public" {
			t.Errorf("request %d: result %q", i, r.result())
		}
	}
	if v := e.metric(t, "keyhole_transform_rejected_total", "reason", "busy"); v != n {
		t.Errorf("rejected{busy} = %v, want %d", v, n)
	}
	// Originals and cached variants do not need a slot.
	e.get(t, "/public/a.txt").expect(t, 200, "public")

	close(eng.block)
	if r := (<-first).must(t); r.StatusCode != 200 || r.body != "fake jpg Width=1" {
		t.Errorf("slot holder: %d %q", r.StatusCode, r.body)
	}
	for _, c := range []string{"500", "504"} {
		if v := e.metric(t, "keyhole_requests_total", "code", c); v > 0 {
			t.Errorf("requests{code=%s} = %v", c, v)
		}
	}
	for _, reason := range []string{"too_large", "timeout", "invalid", "error"} {
		if v := e.metric(t, "keyhole_transform_rejected_total", "reason", reason); v != 0 {
			t.Errorf("rejected{%s} = %v", reason, v)
		}
	}
	// The slot is free again.
	if r := e.get(t, "/public/img.jpg?w=9"); r.StatusCode != 200 {
		t.Errorf("after the overload: %d", r.StatusCode)
	}
}

func TestSetProfiles(t *testing.T) {
	eng := &fakeEngine{}
	e := engineEnv(t, eng, func(c *handler.Config) {
		c.Profiles["stamp"] = map[string]string{"text": "old"}
		c.Protections = append(c.Protections, handler.Protection{Name: "strict", Path: "/strict/", Kind: handler.KindStrictProfile, Profile: "stamp"})
	})
	old := e.get(t, "/public/img.jpg?profile=thumb")
	oldStrict := e.get(t, "/strict/img.jpg")
	if old.body != "fake jpg Width=100 Height=100" || oldStrict.body != "fake jpg Text=old" {
		t.Fatalf("before: %q %q", old.body, oldStrict.body)
	}
	if err := e.h.SetProfiles(map[string]map[string]string{"thumb": {"w": "200"}, "stamp": {"text": "new"}}, ""); err != nil {
		t.Fatal(err)
	}
	now := e.get(t, "/public/img.jpg?profile=thumb")
	if now.body != "fake jpg Width=200" || now.Header.Get("ETag") == old.Header.Get("ETag") {
		t.Errorf("after: %q ETag %q (was %q)", now.body, now.Header.Get("ETag"), old.Header.Get("ETag"))
	}
	if s := e.get(t, "/strict/img.jpg"); s.body != "fake jpg Text=new" {
		t.Errorf("strict after: %q", s.body)
	}
	// The old validator no longer matches.
	e.get(t, "/public/img.jpg?profile=thumb", "If-None-Match", old.Header.Get("ETag")).expect(t, 200, "public")

	t.Run("default profile", func(t *testing.T) {
		if err := e.h.SetProfiles(map[string]map[string]string{"thumb": {"w": "200"}, "stamp": {"text": "new"}, "q": {"q": "70"}}, "q"); err != nil {
			t.Fatal(err)
		}
		if r := e.get(t, "/public/img.jpg?w=5"); r.body != "fake jpg Width=5 Quality=70" {
			t.Errorf("%q", r.body)
		}
	})
	for name, tc := range map[string]struct {
		profiles map[string]map[string]string
		def      string
	}{
		"invalid value":          {map[string]map[string]string{"thumb": {"w": "-1"}, "stamp": {}}, ""},
		"missing default":        {map[string]map[string]string{"stamp": {}}, "nope"},
		"strict profile removed": {map[string]map[string]string{"thumb": {"w": "1"}}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			if err := e.h.SetProfiles(tc.profiles, tc.def); err == nil {
				t.Fatal("no error")
			}
			if r := e.get(t, "/public/img.jpg?profile=thumb"); r.body != "fake jpg Width=200 Quality=70" {
				t.Errorf("a failed SetProfiles changed the profiles: %q", r.body)
			}
		})
	}
}

// TestVariantDownload: dl applies to variants too.
func TestVariantDownload(t *testing.T) {
	eng := &fakeEngine{}
	e := engineEnv(t, eng)
	res := e.get(t, "/public/img.jpg?w=10&dl=x.jpg")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Disposition"), "x.jpg") {
		t.Errorf("%d %q", res.StatusCode, res.Header.Get("Content-Disposition"))
	}
}

// changingFS reports one modification time from Stat and another from the
// opened file, as if the file were replaced between the two.
type changingFS struct{ fstest.MapFS }

func (c changingFS) Stat(name string) (fs.FileInfo, error) {
	info, err := c.MapFS.Stat(name)
	if err != nil {
		return nil, err
	}
	return shiftedInfo{info}, nil
}

type shiftedInfo struct{ fs.FileInfo }

func (s shiftedInfo) ModTime() time.Time { return s.FileInfo.ModTime().Add(-time.Hour) }

// TestSourceChanged: a variant is never computed from a file whose identity
// is not the one its cache key and ETag were made from.
func TestSourceChanged(t *testing.T) {
	eng := &fakeEngine{}
	e := engineEnv(t, eng, func(c *handler.Config) { c.Files = changingFS{testFiles()} })
	res := e.get(t, "/public/img.jpg?w=10")
	res.expect(t, 503, "public")
	if res.Header.Get("Retry-After") == "" || eng.calls.Load() != 0 {
		t.Errorf("Retry-After %q, engine calls %d", res.Header.Get("Retry-After"), eng.calls.Load())
	}
}

// TestResolutionCache: a repeated request reuses its resolved parameters,
// and a profile change is seen at once.
func TestResolutionCache(t *testing.T) {
	eng := &fakeEngine{}
	e := engineEnv(t, eng)
	first := e.get(t, "/public/img.jpg?profile=thumb")
	again := e.get(t, "/public/img.jpg?profile=thumb")
	if first.body != again.body || first.Header.Get("ETag") != again.Header.Get("ETag") {
		t.Fatalf("bodies %q / %q", first.body, again.body)
	}
	if err := e.h.SetProfiles(map[string]map[string]string{"thumb": {"w": "50"}}, ""); err != nil {
		t.Fatal(err)
	}
	after := e.get(t, "/public/img.jpg?profile=thumb")
	if after.body == first.body || !strings.Contains(after.body, "Width=50") {
		t.Errorf("after SetProfiles: body %q, before %q", after.body, first.body)
	}
}

// versionedEngine is a fakeEngine that names its version.
type versionedEngine struct {
	fakeEngine
	version string
}

func (v *versionedEngine) Version() string { return v.version }

// TestVariantETagFollowsEngine: the same file and parameters get another
// strong ETag under another engine version (its bytes may differ), and the
// same one under the same version.
func TestVariantETagFollowsEngine(t *testing.T) {
	etag := func(version string) string {
		e := newEnv(t, handler.Config{Engine: &versionedEngine{version: version}})
		res := e.get(t, "/public/img.jpg?w=10")
		if res.StatusCode != 200 || res.Header.Get("ETag") == "" {
			t.Fatalf("%d ETag %q", res.StatusCode, res.Header.Get("ETag"))
		}
		return res.Header.Get("ETag")
	}
	a, a2, b := etag("libvips 8.15.1; keyhole-vips 1"), etag("libvips 8.15.1; keyhole-vips 1"), etag("libvips 8.16.0; keyhole-vips 1")
	if a != a2 {
		t.Errorf("same engine, ETags %s and %s", a, a2)
	}
	if a == b {
		t.Errorf("another engine version kept the ETag %s", a)
	}
}

// TestLockAttacksOverHTTP replays attacks 1–3 of the lock review through
// the handler: a token's text, side or width fixes its parameter group
// (and text closes geometry and canvas too), so what the URL adds there
// never reaches the engine and is listed in X-Keyhole-Ignored-Params. The
// pixel-level versions run against libvips in transform/vips.
func TestLockAttacksOverHTTP(t *testing.T) {
	e := engineEnv(t, &fakeEngine{})
	tok := func(args map[string]any) string {
		return e.sign(t, keyOne, &token.Claims{Audience: []string{"/private/"}, ExpiresAt: now.Add(time.Hour), Args: args})
	}
	text := tok(map[string]any{"w": 400, "text": "CONFIDENTIAL", "text.color": "ff0000"})
	side := tok(map[string]any{"s": 300})
	width := tok(map[string]any{"w": 300})
	tests := []struct {
		name, query, jwt, ignored string
		has, lacks                []string
	}{
		{"1 canvas cannot move a locked text off the image", "canvas.width=2000&canvas.height=2000&canvas.position=northwest", text,
			"canvas.height, canvas.position, canvas.width", []string{"Width=400", "Text=CONFIDENTIAL"}, []string{"Canvas"}},
		{"2 w cannot undo a locked s", "w=1600", side, "w", []string{"Side=300"}, []string{"Width", "Height"}},
		{"2 w=100% cannot undo a locked s", "w=100%25", side, "w", []string{"Side=300"}, []string{"Width", "Height"}},
		{"2 h=100% cannot undo a locked s", "h=100%25", side, "h", []string{"Side=300"}, []string{"Width", "Height"}},
		{"3 fill cannot cut a full-height strip", "h=100%25&scale.option=fill", width, "h, scale.option", []string{"Width=300"}, []string{"Height", "ScaleOption"}},
		{"3 an aspect-ratio crop cannot cut a strip", "crop.aspectratio=1:4", width, "crop.aspectratio", []string{"Width=300"}, []string{"Crop"}},
		{"3 ignore cannot stretch to a strip", "scale.option=ignore&h=1200", width, "h, scale.option", []string{"Width=300"}, []string{"Height", "ScaleOption"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.get(t, "/private/a.jpg?"+tc.query+"&jwt="+tc.jwt)
			if res.StatusCode != 200 {
				t.Fatalf("%d %q", res.StatusCode, res.body)
			}
			if got := res.Header.Get("X-Keyhole-Ignored-Params"); got != tc.ignored {
				t.Errorf("X-Keyhole-Ignored-Params %q, want %q", got, tc.ignored)
			}
			for _, s := range tc.has {
				if !strings.Contains(res.body, " "+s) {
					t.Errorf("the engine got %q, want %s", res.body, s)
				}
			}
			for _, s := range tc.lacks {
				if strings.Contains(res.body, " "+s) {
					t.Errorf("the engine got %q: %s reached it", res.body, s)
				}
			}
		})
	}
}
