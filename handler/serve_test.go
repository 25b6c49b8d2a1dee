package handler_test

import (
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/keyhole-dev/keyhole/handler"
)

// strongETag is RFC 9110 entity-tag syntax without the W/ (weak) prefix.
var strongETag = regexp.MustCompile(`^"[!#-~]{8,}"$`)

func TestOriginals(t *testing.T) {
	e := newEnv(t, handler.Config{Protections: jwtProtections()})
	const content = "private document 0123456789\n"
	tok := e.sign(t, keyOne, claims("/private/", 5*time.Minute))
	target := "/private/doc.txt?jwt=" + tok

	first := e.get(t, target)
	first.expect(t, 200, "ok")
	etag := first.Header.Get("ETag")
	t.Run("body and headers", func(t *testing.T) {
		if first.body != content {
			t.Errorf("body %q", first.body)
		}
		if !strongETag.MatchString(etag) {
			t.Errorf("ETag %q is not a strong quoted validator", etag)
		}
		if lm := first.Header.Get("Last-Modified"); lm != mtime.Format(http.TimeFormat) {
			t.Errorf("Last-Modified %q", lm)
		}
		if ct := first.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		if first.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Error("no nosniff")
		}
		if first.Header.Get("Accept-Ranges") != "bytes" {
			t.Error("no Accept-Ranges")
		}
		if cd := first.Header.Get("Content-Disposition"); cd != "" {
			t.Errorf("Content-Disposition %q without dl", cd)
		}
	})
	t.Run("ETag is stable across tokens", func(t *testing.T) {
		other := e.sign(t, keyTwo, claims("/private/doc.txt", time.Hour))
		if got := e.get(t, "/private/doc.txt?jwt="+other).Header.Get("ETag"); got != etag {
			t.Errorf("ETag %q with another token, want %q", got, etag)
		}
	})
	t.Run("range", func(t *testing.T) {
		res := e.get(t, target, "Range", "bytes=8-15")
		res.expect(t, 206, "ok")
		if res.body != content[8:16] {
			t.Errorf("body %q, want %q", res.body, content[8:16])
		}
		if cr := res.Header.Get("Content-Range"); cr != "bytes 8-15/"+strconv.Itoa(len(content)) {
			t.Errorf("Content-Range %q", cr)
		}
		res = e.get(t, target, "Range", "bytes=-4")
		if res.StatusCode != 206 || res.body != content[len(content)-4:] {
			t.Errorf("suffix range: %d %q", res.StatusCode, res.body)
		}
		res = e.get(t, target, "Range", "bytes=1000-2000")
		res.expect(t, 416, "ok")
	})
	t.Run("range needs the token too", func(t *testing.T) {
		e.get(t, "/private/doc.txt", "Range", "bytes=0-3").expect(t, 403, "missing token")
	})
	t.Run("if-none-match", func(t *testing.T) {
		res := e.get(t, target, "If-None-Match", etag)
		res.expect(t, 304, "ok")
		if res.body != "" {
			t.Errorf("304 body %q", res.body)
		}
		if res.Header.Get("ETag") != etag {
			t.Errorf("304 ETag %q", res.Header.Get("ETag"))
		}
		e.get(t, target, "If-None-Match", `"other"`).expect(t, 200, "ok")
		e.get(t, target, "If-None-Match", `"x", `+etag).expect(t, 304, "ok")
		e.get(t, target, "If-None-Match", "W/"+etag).expect(t, 304, "ok")
		// A validator never opens anything without a token.
		e.get(t, "/private/doc.txt", "If-None-Match", etag).expect(t, 403, "missing token")
	})
	t.Run("if-modified-since", func(t *testing.T) {
		e.get(t, target, "If-Modified-Since", mtime.Format(http.TimeFormat)).expect(t, 304, "ok")
		e.get(t, target, "If-Modified-Since", mtime.Add(-time.Hour).Format(http.TimeFormat)).expect(t, 200, "ok")
	})
	t.Run("if-range", func(t *testing.T) {
		res := e.get(t, target, "Range", "bytes=0-3", "If-Range", etag)
		if res.StatusCode != 206 {
			t.Errorf("matching If-Range: %d", res.StatusCode)
		}
		res = e.get(t, target, "Range", "bytes=0-3", "If-Range", `"stale"`)
		if res.StatusCode != 200 || res.body != content {
			t.Errorf("stale If-Range: %d %q", res.StatusCode, res.body)
		}
	})
	t.Run("head", func(t *testing.T) {
		res := e.do(t, "HEAD", target)
		res.expect(t, 200, "ok")
		if res.body != "" || res.Header.Get("ETag") != etag {
			t.Errorf("HEAD: body %q ETag %q", res.body, res.Header.Get("ETag"))
		}
	})
}

func TestCacheControl(t *testing.T) {
	e := newEnv(t, handler.Config{Protections: jwtProtections()})
	for _, tc := range []struct {
		name string
		ttl  time.Duration
		want string
	}{
		{"short token", 5 * time.Minute, "private, max-age=300"},
		{"odd seconds", 90*time.Second + 500*time.Millisecond, "private, max-age=90"},
		{"long token capped by PublicMaxAge", 48 * time.Hour, "private, max-age=3600"},
		{"inside the leeway", -10 * time.Second, "private, no-store"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := claims("/private/", 0)
			c.ExpiresAt = now.Add(tc.ttl)
			res := e.get(t, "/private/doc.txt?jwt="+e.sign(t, keyOne, c))
			res.expect(t, 200, "ok")
			cc := res.Header.Get("Cache-Control")
			if cc != tc.want {
				t.Errorf("Cache-Control %q, want %q", cc, tc.want)
			}
			if n, ok := strings.CutPrefix(cc, "private, max-age="); ok {
				if age, _ := strconv.Atoi(n); time.Duration(age)*time.Second > tc.ttl {
					t.Errorf("max-age %ds outlives the token (%v)", age, tc.ttl)
				}
			}
		})
	}
	res := e.get(t, "/public/a.txt")
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=3600" {
		t.Errorf("public Cache-Control %q", cc)
	}
	p := newEnv(t, handler.Config{PublicMaxAge: 10 * time.Minute})
	if cc := p.get(t, "/public/a.txt").Header.Get("Cache-Control"); cc != "public, max-age=600" {
		t.Errorf("PublicMaxAge 10m: Cache-Control %q", cc)
	}
}

func TestDownload(t *testing.T) {
	e := newEnv(t, handler.Config{Protections: jwtProtections()})
	tok := e.sign(t, keyOne, claims("/private/", time.Hour))
	for _, tc := range []struct {
		query, want string
	}{
		{"dl", "a.jpg"},
		{"dl=", "a.jpg"},
		{"dl=true", "a.jpg"},
		{"dl=other.jpg", "other.jpg"},
		{"dl=na%C3%AFve%20name.jpg", "naïve name.jpg"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			res := e.get(t, "/private/a.jpg?"+tc.query+"&jwt="+tok)
			res.expect(t, 200, "ok")
			typ, params, err := mime.ParseMediaType(res.Header.Get("Content-Disposition"))
			if err != nil || typ != "attachment" || params["filename"] != tc.want {
				t.Errorf("Content-Disposition %q: %s %v %v, want attachment filename %q",
					res.Header.Get("Content-Disposition"), typ, params, err, tc.want)
			}
			if res.body != string(jpegBytes) {
				t.Error("dl changed the body")
			}
		})
	}
	res := e.get(t, "/private/a.jpg?dl=../../etc/passwd&jwt="+tok)
	if res.StatusCode != 400 || !strings.Contains(res.body, "dl=") {
		t.Errorf("dl with a path: %d %q, want 400 naming dl", res.StatusCode, res.body)
	}
}

// TestETagFollowsContent serves a real directory and changes the file.
func TestETagFollowsContent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	// The open-file cache trusts a file for OpenFileValid of the
	// handler's clock: each change moves the clock on by that bound.
	var elapsed time.Duration
	write := func(s string, at time.Time) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
		elapsed += handler.OpenFileValid
	}
	write("version one", mtime)
	fsys, err := handler.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, handler.Config{Files: fsys, Now: func() time.Time { return now.Add(elapsed) }})
	e.forbid(dir)
	a := e.get(t, "/f.txt")
	a.expect(t, 200, "public")
	if e.get(t, "/f.txt").Header.Get("ETag") != a.Header.Get("ETag") {
		t.Fatal("ETag changed without a change")
	}

	write("version two", mtime) // same size, same time: content alone
	b := e.get(t, "/f.txt")
	if b.body != "version two" {
		t.Fatalf("body %q", b.body)
	}
	write("version two", mtime.Add(time.Second))
	c := e.get(t, "/f.txt")
	write("version 2", mtime.Add(time.Second))
	d := e.get(t, "/f.txt")
	if a.Header.Get("ETag") == c.Header.Get("ETag") || c.Header.Get("ETag") == d.Header.Get("ETag") {
		t.Errorf("ETag did not change with modtime or size: %q %q %q", a.Header.Get("ETag"), c.Header.Get("ETag"), d.Header.Get("ETag"))
	}
	// The old validator no longer gives 304.
	e.get(t, "/f.txt", "If-None-Match", a.Header.Get("ETag")).expect(t, 200, "public")
	// Removed: 404 with no trace of the directory.
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	elapsed += handler.OpenFileValid
	e.get(t, "/f.txt").expect(t, 404, "public")
}

// TestErrorBodies: every refusal's body is its fixed text. (Every error
// response in this package's tests is also scanned for secrets, tokens,
// paths and Go error text by env.send.)
func TestErrorBodies(t *testing.T) {
	e := newEnv(t, handler.Config{Protections: jwtProtections()})
	tok := e.sign(t, keyOne, claims("/private/", time.Hour))
	for _, tc := range []struct {
		target string
		status int
		body   string
	}{
		{"/private/doc.txt?jwt=" + tok[:len(tok)-3], 403, "signature mismatch\n"},
		{"/private/nope?jwt=" + tok, 404, "not found\n"},
		{"/public/a.txt?a=%zz", 400, "bad query string\n"},
		{"/public/a.txt?w=0", 400, "invalid parameters\nw=0: "},
	} {
		res := e.get(t, tc.target)
		if res.StatusCode != tc.status || !strings.HasPrefix(res.body, tc.body) {
			t.Errorf("%s: %d %q, want %d %q", tc.target, res.StatusCode, res.body, tc.status, tc.body)
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", tc.target, ct)
		}
	}
	if errorBodiesScanned.Load() == 0 {
		t.Error("the error body scan never ran")
	}
}

// TestActiveContentSandboxed: a file a browser would run as a document
// (HTML, SVG, XML, by extension or sniffed) is sent with a sandboxing
// Content-Security-Policy; other files are not.
func TestActiveContentSandboxed(t *testing.T) {
	f := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), ModTime: mtime} }
	e := newEnv(t, handler.Config{Files: fstest.MapFS{
		"page.html":  f("<p>hi</p>"),
		"logo.svg":   f(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`),
		"feed.xml":   f(`<?xml version="1.0"?><a/>`),
		"page.xhtml": f(`<html xmlns="http://www.w3.org/1999/xhtml"></html>`),
		"noext":      f("<!DOCTYPE html><script>alert(1)</script>"),
		"html.txt":   f("<!DOCTYPE html><script>alert(1)</script>"),
		"a.jpg":      {Data: jpegBytes, ModTime: mtime},
		"plain":      f("just text"),
	}})
	const csp = "default-src 'none'; sandbox"
	for _, tc := range []struct {
		name, csp string
	}{
		{"page.html", csp}, {"logo.svg", csp}, {"feed.xml", csp}, {"page.xhtml", csp}, {"noext", csp},
		{"html.txt", ""}, {"a.jpg", ""}, {"plain", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.get(t, "/"+tc.name)
			if res.StatusCode != 200 || res.Header.Get("Content-Security-Policy") != tc.csp {
				t.Errorf("%d %s CSP %q, want %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Security-Policy"), tc.csp)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("no nosniff")
			}
		})
	}
}
