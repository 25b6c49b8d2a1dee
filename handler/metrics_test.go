package handler_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/token"
)

// TestMetricsPreCreated: right after New, every (protection, result) pair
// exists at zero, so dashboards see zeros instead of missing series.
func TestMetricsPreCreated(t *testing.T) {
	reg := prometheus.NewRegistry()
	prots := jwtProtections()
	if _, err := handler.New(handler.Config{Files: testFiles(), Protections: prots, Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	want.WriteString("# HELP keyhole_auth_results_total Requests by protection and auth result.\n# TYPE keyhole_auth_results_total counter\n")
	for _, p := range []string{handler.NoProtection, "p", "private"} {
		for _, r := range token.Results() {
			fmt.Fprintf(&want, "keyhole_auth_results_total{protection=%q,result=%q} 0\n", p, r.String())
		}
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want.String()), "keyhole_auth_results_total"); err != nil {
		t.Error(err)
	}
	n, err := testutil.GatherAndCount(reg, "keyhole_auth_results_total")
	if err != nil || n != 3*len(token.Results()) {
		t.Errorf("auth series: %d, %v; want %d", n, err, 3*len(token.Results()))
	}
	for _, name := range []string{
		"keyhole_requests_total", "keyhole_variant_cache_hits_total", "keyhole_variant_cache_misses_total",
		"keyhole_transforms_in_flight", "keyhole_transform_rejected_total",
	} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n == 0 {
			t.Errorf("%s: %d series, %v", name, n, err)
		}
	}
	for _, reason := range []string{"busy", "too_large", "timeout", "invalid", "error"} {
		if v := gatherValue(t, reg, "keyhole_transform_rejected_total", "reason", reason); v != 0 {
			t.Errorf("rejected{reason=%q} = %v, want pre-created 0", reason, v)
		}
	}
}

func TestRequestsByCode(t *testing.T) {
	e := newEnv(t, handler.Config{Protections: jwtProtections()})
	code := func(c string) float64 { return e.metric(t, "keyhole_requests_total", "code", c) }
	for _, c := range []string{"200", "304", "400", "403", "404", "405"} {
		if v := code(c); v != 0 {
			t.Fatalf("requests{code=%s} = %v before any request", c, v)
		}
	}
	e.get(t, "/public/a.txt")
	e.get(t, "/public/a.txt")
	etag := e.get(t, "/public/a.txt").Header.Get("ETag")
	e.get(t, "/public/a.txt", "If-None-Match", etag)
	e.get(t, "/private/doc.txt")
	e.get(t, "/public/missing")
	e.get(t, "/public/../x")
	e.do(t, "DELETE", "/public/a.txt")
	e.get(t, "/public/a.txt", "Range", "bytes=0-1")
	for c, want := range map[string]float64{"200": 3, "206": 1, "304": 1, "400": 1, "403": 1, "404": 1, "405": 1, "500": 0} {
		if got := code(c); got != want {
			t.Errorf("requests{code=%s} = %v, want %v", c, got, want)
		}
	}
	e.counted(t, handler.NoProtection, "public", func() { e.get(t, "/public/a.txt") })
	if got := code("200"); got != 4 {
		t.Errorf("requests{code=200} = %v, want 4", got)
	}
}

func TestNilRegisterer(t *testing.T) {
	h, err := handler.New(handler.Config{Files: testFiles(), Protections: jwtProtections()})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/public/a.txt", nil))
	if rec.Code != 200 || rec.Header().Get("X-Keyhole-Auth-Result") != "public" {
		t.Fatalf("%d %q", rec.Code, rec.Header().Get("X-Keyhole-Auth-Result"))
	}
	// Nothing went to the global registry.
	mfs, _ := prometheus.DefaultGatherer.Gather()
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "keyhole_") {
			t.Errorf("%s registered globally", mf.GetName())
		}
	}
}

func TestRegistererConflicts(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := handler.Config{Files: testFiles(), Registerer: reg}
	if _, err := handler.New(cfg); err != nil {
		t.Fatal(err)
	}
	_, err := handler.New(cfg)
	if err == nil {
		t.Fatal("second handler on the same registry: no error")
	}
	if !strings.Contains(err.Error(), "already registered") {
		t.Errorf("error %q does not say what is wrong", err)
	}
	// The way out: give each handler its own constant label.
	reg2 := prometheus.NewRegistry()
	for _, name := range []string{"a", "b"} {
		c := cfg
		c.Registerer = prometheus.WrapRegistererWith(prometheus.Labels{"handler": name}, reg2)
		if _, err := handler.New(c); err != nil {
			t.Fatalf("wrapped handler %s: %v", name, err)
		}
	}
}

// TestMetricsUnderLoad: concurrent requests are all counted.
func TestMetricsUnderLoad(t *testing.T) {
	e := newEnv(t, handler.Config{Protections: jwtProtections()})
	tok := e.sign(t, keyOne, claims("/private/", time.Hour))
	const n = 40
	done := make(chan int, n)
	for i := range n {
		go func() {
			target := "/private/doc.txt?jwt=" + tok
			if i%2 == 1 {
				target = "/private/doc.txt"
			}
			res, err := http.Get(e.srv.URL + "/files" + target)
			if err != nil {
				done <- 0
				return
			}
			res.Body.Close()
			done <- res.StatusCode
		}()
	}
	for range n {
		<-done
	}
	if ok, miss := e.auth(t, "private", "ok"), e.auth(t, "private", "missing token"); ok != n/2 || miss != n/2 {
		t.Errorf("ok %v, missing %v; want %d each", ok, miss, n/2)
	}
}
