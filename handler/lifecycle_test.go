package handler_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

// libraryEngine behaves like a cgo image library: its first Process call
// ignores its context and returns only when release closes (later calls
// return at once). It records a use of the library after shutdown, which
// in libvips is a SIGSEGV in cgo code.
type libraryEngine struct {
	calls    atomic.Int64
	started  chan struct{}
	release  chan struct{}
	finished atomic.Int64
	shutdown atomic.Bool
	crashed  atomic.Bool
}

func newLibraryEngine() *libraryEngine {
	return &libraryEngine{started: make(chan struct{}, 16), release: make(chan struct{})}
}

func (e *libraryEngine) Process(ctx context.Context, req transform.Request) (*transform.Output, error) {
	if e.calls.Add(1) == 1 {
		e.started <- struct{}{}
		<-e.release
	}
	if e.shutdown.Load() {
		e.crashed.Store(true)
	}
	e.finished.Add(1)
	return &transform.Output{Data: []byte("image"), Format: req.Format, Width: 1, Height: 1}, nil
}

// TestCloseWaitsForTransformBehindTimeoutHandler reproduces the crash on
// shutdown: http.TimeoutHandler answers 503 while the transform goes on;
// the host then shuts the image library down. With Close between the two,
// the library is shut down only after the transform has returned.
func TestCloseWaitsForTransformBehindTimeoutHandler(t *testing.T) {
	eng := newLibraryEngine()
	h, err := handler.New(handler.Config{Files: testFiles(), Engine: eng, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	// The TimeoutHandler answers 503 and cancels the request; the flight
	// is cancelled once no client waits, but a transform already inside
	// the library runs on. Until one has started before its timeout, try
	// again with a longer timeout.
	attempt := 0
	for started := false; !started; {
		attempt++
		timeout := time.Duration(5<<attempt) * time.Millisecond
		if timeout > 20*time.Second {
			t.Fatal("no transform started before its TimeoutHandler answered")
		}
		srv := httptest.NewServer(http.TimeoutHandler(h, timeout, "timeout"))
		defer srv.Close()
		res, err := http.Get(srv.URL + "/public/img.jpg?w=" + strconv.Itoa(attempt))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want the TimeoutHandler's 503", res.StatusCode)
		}
		select {
		case <-eng.started: // the transform runs on, with nobody waiting for it
			started = true
		case <-time.After(timeout):
		}
	}

	closed := make(chan error, 1)
	go func() { closed <- h.Close(context.Background()) }()

	// A transform asked for after Close is refused without touching the
	// library; an original is still served.
	w := 1000
	waitFor(t, "Close to refuse new transforms", func() bool {
		w++ // a new variant each time: never a cache hit
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/public/other.jpg?w="+strconv.Itoa(w), nil))
		return rec.Code == http.StatusServiceUnavailable && strings.Contains(rec.Body.String(), "shutting down") && rec.Header().Get("Retry-After") != ""
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/public/a.txt", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("original after Close: %d, want 200", rec.Code)
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a transform was running", err)
	default:
	}

	close(eng.release)
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if eng.finished.Load() != eng.calls.Load() {
		t.Fatalf("Close returned before every transform finished (%d of %d)", eng.finished.Load(), eng.calls.Load())
	}
	eng.shutdown.Store(true) // the host's vips.Shutdown()
	if eng.crashed.Load() {
		t.Fatal("the library was used after shutdown")
	}
	// Close again returns at once.
	if err := h.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestCloseDeadline: when ctx ends before the transforms, Close cancels
// their contexts and says how many are still running.
func TestCloseDeadline(t *testing.T) {
	eng := &fakeEngine{block: make(chan struct{}), started: make(chan struct{}, 1)}
	h, err := handler.New(handler.Config{Files: testFiles(), Engine: eng, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string, 1)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/public/img.jpg?w=10", nil))
		done <- rec.Body.String()
	}()
	<-eng.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = h.Close(ctx)
	if err == nil || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "1 transforms still running") {
		t.Fatalf("Close with an ended context: %v", err)
	}
	// The fake engine honours its context: the cancelled transform ends.
	select {
	case body := <-done:
		if strings.HasPrefix(body, "fake") {
			t.Errorf("the cancelled transform served an image: %q", body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close's cancellation did not reach the transform")
	}
	if err := h.Close(context.Background()); err != nil {
		t.Errorf("Close once the transform ended: %v", err)
	}
}

// TestReloadKeys: a key added by Reload is accepted at once, a removed key
// is refused, and an invalid configuration keeps the old one.
func TestReloadKeys(t *testing.T) {
	keyNew := token.KeyFromString("k3", "third-secret-that-is-32-bytes-long!!")
	cfg := handler.Config{Protections: []handler.Protection{{Name: "private", Path: "/private/", Keys: []token.Key{keyOne}}}}
	e := newEnv(t, cfg)
	tokOne := e.sign(t, keyOne, claims("/private/", time.Hour))
	tokNew := e.sign(t, keyNew, claims("/private/", time.Hour))
	e.get(t, "/private/doc.txt?jwt="+tokOne).expect(t, 200, "ok")
	e.get(t, "/private/doc.txt?jwt="+tokNew).expect(t, 403, "unknown key")

	next := e.cfg
	next.Registerer = nil
	next.Protections = []handler.Protection{{Name: "private", Path: "/private/", Keys: []token.Key{keyOne, keyNew}}}
	if err := e.h.Reload(next); err != nil {
		t.Fatal(err)
	}
	e.get(t, "/private/doc.txt?jwt="+tokNew).expect(t, 200, "ok")
	e.get(t, "/private/doc.txt?jwt="+tokOne).expect(t, 200, "ok")

	next.Protections = []handler.Protection{{Name: "private", Path: "/private/", Keys: []token.Key{keyNew}}}
	if err := e.h.Reload(next); err != nil {
		t.Fatal(err)
	}
	e.get(t, "/private/doc.txt?jwt="+tokOne).expect(t, 403, "unknown key")

	bad := next
	bad.Protections = []handler.Protection{{Path: "/private/", Kind: "jwtt", Keys: []token.Key{keyOne}}}
	if err := e.h.Reload(bad); err == nil || !strings.Contains(err.Error(), "jwtt") {
		t.Fatalf("Reload of an unknown kind: %v", err)
	}
	e.get(t, "/private/doc.txt?jwt="+tokNew).expect(t, 200, "ok")
	e.get(t, "/private/doc.txt?jwt="+tokOne).expect(t, 403, "unknown key")

	// The metrics registered by New keep counting across reloads, and a
	// protection added by a reload gets its own counters.
	next.Protections = append(next.Protections, handler.Protection{Name: "added", Path: "/p/", Keys: []token.Key{keyOne}})
	if err := e.h.Reload(next); err != nil {
		t.Fatal(err)
	}
	e.get(t, "/p/a.txt").expect(t, 403, "missing token")
	if got := e.auth(t, "added", "missing token"); got != 1 {
		t.Errorf("keyhole_auth_results_total{protection=added,result=missing token} = %v, want 1", got)
	}
	if got := e.auth(t, "private", "ok"); got != 4 {
		t.Errorf("keyhole_auth_results_total{protection=private,result=ok} = %v, want 4", got)
	}
}

// TestReloadInFlight: a request that started before a Reload finishes
// with the configuration it started with.
func TestReloadInFlight(t *testing.T) {
	eng := &fakeEngine{block: make(chan struct{}), started: make(chan struct{}, 1)}
	e := newEnv(t, handler.Config{Engine: eng, Protections: jwtProtections()})
	tok := e.sign(t, keyOne, claims("/private/", time.Hour))
	done := make(chan *response, 1)
	go func() {
		res, err := http.Get(e.srv.URL + "/files/private/a.jpg?w=10&jwt=" + tok)
		if err != nil {
			done <- nil
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		done <- &response{Response: res, body: string(body)}
	}()
	<-eng.started
	next := e.cfg
	next.Registerer = nil
	next.Protections = []handler.Protection{{Path: "/private/", Keys: []token.Key{keyTwo}}}
	if err := e.h.Reload(next); err != nil {
		t.Fatal(err)
	}
	close(eng.block)
	r := <-done
	if r == nil || r.StatusCode != 200 || !strings.HasPrefix(r.body, "fake") {
		t.Fatalf("in-flight request after a reload: %+v", r)
	}
	e.get(t, "/private/a.jpg?w=10&jwt="+tok).expect(t, 403, "unknown key")
}

// TestSetProfilesRules: SetProfiles applies New's rules and copies the
// caller's maps.
func TestSetProfilesRules(t *testing.T) {
	t.Run("default profile needs an engine", func(t *testing.T) {
		e := newEnv(t, handler.Config{})
		err := e.h.SetProfiles(map[string]map[string]string{"stamp": {"text": "x"}}, "stamp")
		if err == nil || !strings.Contains(err.Error(), "Engine") {
			t.Fatalf("SetProfiles with a default profile and no engine: %v", err)
		}
		r := e.get(t, "/public/img.jpg")
		if r.StatusCode != 200 || r.body != string(jpegBytes) {
			t.Errorf("after the refused SetProfiles: %d %q", r.StatusCode, r.body)
		}
	})
	t.Run("maps are copied", func(t *testing.T) {
		e := newEnv(t, handler.Config{Engine: &fakeEngine{}})
		profiles := map[string]map[string]string{"thumb": {"w": "100"}}
		if err := e.h.SetProfiles(profiles, ""); err != nil {
			t.Fatal(err)
		}
		profiles["thumb"]["w"] = "99999"
		profiles["thumb"]["text"] = "changed"
		r := e.get(t, "/public/img.jpg?profile=thumb")
		if r.StatusCode != 200 || !strings.Contains(r.body, "Width=100") || strings.Contains(r.body, "changed") {
			t.Errorf("the caller's later edit reached the handler: %d %q", r.StatusCode, r.body)
		}
	})
	t.Run("strict profile must remain", func(t *testing.T) {
		e := newEnv(t, handler.Config{
			Engine:      &fakeEngine{},
			Profiles:    map[string]map[string]string{"thumb": {"w": "100"}},
			Protections: []handler.Protection{{Path: "/strict/", Kind: handler.KindStrictProfile, Profile: "thumb"}},
		})
		if err := e.h.SetProfiles(map[string]map[string]string{"other": {"w": "5"}}, ""); err == nil {
			t.Fatal("SetProfiles dropped a strict-profile protection's profile")
		}
		r := e.get(t, "/strict/img.jpg")
		if r.StatusCode != 200 || !strings.Contains(r.body, "Width=100") {
			t.Errorf("after the refused SetProfiles: %d %q", r.StatusCode, r.body)
		}
	})
}
