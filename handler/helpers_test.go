package handler_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

// Fixed times: tests never read the wall clock for anything they assert.
var (
	now   = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	mtime = time.Date(2025, 5, 1, 8, 30, 0, 0, time.UTC)
)

// jpegBytes starts with the JPEG magic so transform.Sniff calls it an image;
// the fake engine never decodes it.
var jpegBytes = []byte("\xff\xd8\xff\xe0fake jpeg body 0123456789")

// Secrets of the standard fixture. They must never show up in a response.
const (
	secretOne = "first-secret-that-is-32-bytes-long!!"
	secretTwo = "second-secret-that-is-also-32-bytes!"
)

var (
	keyOne = token.KeyFromString("k1", secretOne)
	keyTwo = token.KeyFromString("k2", secretTwo)
)

// testFiles is the standard tree served by most tests.
func testFiles() fstest.MapFS {
	f := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), ModTime: mtime} }
	return fstest.MapFS{
		"public/a.txt":        f("public file\n"),
		"public/ü.txt":        f("unicode name\n"),
		"public/img.jpg":      {Data: jpegBytes, ModTime: mtime},
		"public/other.jpg":    {Data: append([]byte{}, jpegBytes...), ModTime: mtime},
		"public/%2e%2e/a.txt": f("literal percent dir\n"),
		"private/a.jpg":       {Data: jpegBytes, ModTime: mtime},
		"private/doc.txt":     f("private document 0123456789\n"),
		"private/dir/b.txt":   f("private nested\n"),
		"p/to/x.jpg":          f("p to x\n"),
		"p/t1/y.jpg":          f("p t1 y\n"),
		"p/other.jpg":         f("p other\n"),
		"p/x.jpg":             f("p x (sibling of to)\n"),
		"basic/s.txt":         f("basic secret\n"),
		"ref/a.txt":           f("referrer guarded\n"),
		"refreq/a.txt":        f("referrer required\n"),
		"strict/img.jpg":      {Data: jpegBytes, ModTime: mtime},
		"lock/img.jpg":        {Data: jpegBytes, ModTime: mtime},
		".env":                f("DB_PASSWORD=hunter2\n"),
		"a/.git/config":       f("[core]\n"),
	}
}

// env is one handler behind a real loopback HTTP server, mounted under
// /files with http.StripPrefix, with its own registry and fixed clock.
type env struct {
	h   *handler.Handler
	srv *httptest.Server
	reg *prometheus.Registry
	cfg handler.Config

	mu        sync.Mutex
	forbidden []string // substrings no error body may contain
}

// every error body of every env is checked; this counts them, so a test
// can make sure the scan ran.
var errorBodiesScanned atomic.Int64

// newEnv builds a handler from cfg. Zero Files, Now and Registerer get the
// standard tree, the fixed clock and a fresh registry.
func newEnv(t *testing.T, cfg handler.Config) *env {
	t.Helper()
	if cfg.Files == nil {
		cfg.Files = testFiles()
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	reg := prometheus.NewRegistry()
	if cfg.Registerer == nil {
		cfg.Registerer = reg
	}
	e := &env{reg: reg, cfg: cfg}
	for _, p := range cfg.Protections {
		for _, k := range p.Keys {
			e.forbidden = append(e.forbidden, string(k.Secret))
		}
	}
	h, err := handler.New(cfg)
	if err != nil {
		t.Fatalf("handler.New: %v", err)
	}
	e.h = h
	e.srv = httptest.NewServer(http.StripPrefix("/files", h))
	t.Cleanup(e.srv.Close)
	return e
}

// jwtProtections is the standard set: /private/ and /p/ by token, with two
// keys for rotation.
func jwtProtections() []handler.Protection {
	return []handler.Protection{
		{Name: "private", Path: "/private/", Keys: []token.Key{keyOne, keyTwo}},
		{Name: "p", Path: "/p/", Keys: []token.Key{keyOne}},
	}
}

// forbid adds substrings that no error body may contain.
func (e *env) forbid(s ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.forbidden = append(e.forbidden, s...)
}

// sign returns a token for c made by token.Signer, and forbids it in
// error bodies.
func (e *env) sign(t *testing.T, k token.Key, c *token.Claims) string {
	t.Helper()
	s, err := token.NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	e.forbid(tok)
	return tok
}

// claims returns claims that open aud for ttl from the fixed clock.
func claims(aud string, ttl time.Duration) *token.Claims {
	return token.ForPath(aud, now, ttl)
}

type response struct {
	*http.Response
	body string
}

func (r *response) result() string { return r.Header.Get("X-Keyhole-Auth-Result") }

// get requests /files+target (target is sent as written: path and query
// are not re-escaped) with optional header pairs.
func (e *env) get(t *testing.T, target string, hdr ...string) *response {
	t.Helper()
	return e.do(t, http.MethodGet, target, hdr...)
}

func (e *env) do(t *testing.T, method, target string, hdr ...string) *response {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+"/files"+target, nil)
	if err != nil {
		t.Fatalf("NewRequest %q: %v", target, err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	return e.send(t, req)
}

func (e *env) send(t *testing.T, req *http.Request) *response {
	t.Helper()
	r, err := e.trySend(t, req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// trySend is send without t.Fatal, for goroutines other than the test's
// (t.Fatal must not be called from them): a failed exchange is returned
// as an error for the test's goroutine to report.
func (e *env) trySend(t *testing.T, req *http.Request) (*response, error) {
	t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading body: %w", req.Method, req.URL, err)
	}
	r := &response{Response: res, body: string(b)}
	if res.StatusCode >= 400 {
		e.checkErrorBody(t, req, r)
	}
	return r, nil
}

// getAsync is get for a goroutine other than the test's: it never calls
// t.Fatal. The caller reports the error from the test's goroutine.
func (e *env) getAsync(t *testing.T, target string) (*response, error) {
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/files"+target, nil)
	if err != nil {
		return nil, err
	}
	return e.trySend(t, req)
}

// result is one asynchronous exchange.
type result struct {
	res *response
	err error
}

// must returns the response, or fails the test from the test's goroutine.
func (r result) must(t *testing.T) *response {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.res
}

// checkErrorBody enforces the Results rule of docs/behaviour.md on every error response of the suite:
// no secret, no token, no file system path, no Go error text.
func (e *env) checkErrorBody(t *testing.T, req *http.Request, r *response) {
	t.Helper()
	errorBodiesScanned.Add(1)
	e.mu.Lock()
	bad := append([]string{"open ", "no such file", "file does not exist", "permission denied", "/tmp/", os.TempDir()}, e.forbidden...)
	e.mu.Unlock()
	for _, s := range bad {
		if s != "" && strings.Contains(r.body, s) {
			t.Errorf("%s %s: %d error body %q contains forbidden %q", req.Method, req.URL.Path, r.StatusCode, r.body, s)
		}
	}
	// Keyhole's own errors say no-store; http.ServeContent's (416) drop
	// the header. Neither may be cacheable.
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" && cc != "" {
		t.Errorf("%s %s: %d error has Cache-Control %q, want no-store", req.Method, req.URL.Path, r.StatusCode, cc)
	}
	if r.Header.Get("ETag") != "" {
		t.Errorf("%s %s: %d error has an ETag", req.Method, req.URL.Path, r.StatusCode)
	}
}

// expect checks status and auth result header.
func (r *response) expect(t *testing.T, status int, result string) {
	t.Helper()
	if r.StatusCode != status || r.result() != result {
		t.Fatalf("%s %s: got %d %q (body %q), want %d %q", r.Request.Method, r.Request.URL.RequestURI(), r.StatusCode, r.result(), r.body, status, result)
	}
}

// metric returns the value of the counter or gauge name with exactly the
// given labels, or -1 when the registry has no such series.
func (e *env) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	return gatherValue(t, e.reg, name, labels...)
}

func gatherValue(t *testing.T, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(want) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if want[lp.GetName()] != lp.GetValue() {
					continue metrics
				}
			}
			return value(m)
		}
	}
	return -1
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return -1
}

// auth returns keyhole_auth_results_total{protection,result}.
func (e *env) auth(t *testing.T, protection, result string) float64 {
	t.Helper()
	return e.metric(t, "keyhole_auth_results_total", "protection", protection, "result", result)
}

// counted runs fn and checks that it added exactly one to
// keyhole_auth_results_total{protection,result}.
func (e *env) counted(t *testing.T, protection, result string, fn func()) {
	t.Helper()
	before := e.auth(t, protection, result)
	if before < 0 {
		t.Fatalf("series {protection=%q,result=%q} was not pre-created", protection, result)
	}
	fn()
	if after := e.auth(t, protection, result); after != before+1 {
		t.Fatalf("keyhole_auth_results_total{protection=%q,result=%q} went %v -> %v, want +1", protection, result, before, after)
	}
}

// handToken signs exactly the header and payload JSON given with HMAC-SHA256,
// for tokens token.Signer refuses to make (missing exp, missing alg, …).
func handToken(header, payload string, secret []byte) string {
	in := b64(header) + "." + b64(payload)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// fakeEngine implements transform.Engine. Its output body is
// "fake <format> <params>" where params lists the non-zero fields of the
// effective Params in declaration order, e.g. "fake jpg Width=100 Text=Hello".
// It counts calls and, when block is set, waits for block to close (or the
// context to end) after announcing itself on started.
type fakeEngine struct {
	calls   atomic.Int64
	block   chan struct{}
	started chan struct{}
	err     error
	panics  bool                            // Process panics
	lastCtx atomic.Pointer[context.Context] // the context of the latest call
}

var _ transform.Engine = (*fakeEngine)(nil)

func (f *fakeEngine) Process(ctx context.Context, req transform.Request) (*transform.Output, error) {
	f.calls.Add(1)
	f.lastCtx.Store(&ctx)
	if f.started != nil {
		select {
		case f.started <- struct{}{}:
		default:
		}
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.panics {
		panic("engine bug at /srv/secret")
	}
	if f.err != nil {
		return nil, f.err
	}
	body := "fake " + string(req.Format) + describe(req.Params)
	if wm := req.Params.Watermark; wm != "" {
		data, err := req.ReadFile(wm)
		if err != nil {
			return nil, err
		}
		body += fmt.Sprintf(" watermark-bytes=%d", len(data))
	}
	return &transform.Output{Data: []byte(body), Format: req.Format, Width: 1, Height: 1}, nil
}

// describe renders the non-zero fields of p as " Name=value" pairs.
func describe(p *transform.Params) string {
	var b strings.Builder
	v := reflect.ValueOf(*p)
	for i := range v.NumField() {
		f := v.Field(i)
		if f.IsZero() {
			continue
		}
		fmt.Fprintf(&b, " %s=", v.Type().Field(i).Name)
		switch x := f.Interface().(type) {
		case transform.Dim:
			if x.Percent {
				fmt.Fprintf(&b, "%g%%", x.Value)
			} else {
				fmt.Fprintf(&b, "%g", x.Value)
			}
		default:
			fmt.Fprintf(&b, "%v", x)
		}
	}
	return b.String()
}

// waitFor polls cond every millisecond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
