package handler_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

// failingFS is a file store that is down: every Open and Stat fails with
// an error that is not fs.ErrNotExist.
type failingFS struct{}

var errStoreDown = errors.New("store: dial tcp 10.0.0.7:9000: i/o timeout at /srv/bucket")

func (failingFS) Open(string) (fs.File, error)          { return nil, errStoreDown }
func (failingFS) Stat(string) (fs.FileInfo, error)      { return nil, errStoreDown }
func (failingFS) ReadFile(string) ([]byte, error)       { return nil, errStoreDown }
func (failingFS) ReadDir(string) ([]fs.DirEntry, error) { return nil, errStoreDown }

// outcomeCase provokes one outcome through HTTP. run returns nil when no
// response reaches the client (canceled).
type outcomeCase struct {
	cfg func(*handler.Config)
	eng *fakeEngine
	run func(t *testing.T, e *env, eng *fakeEngine) *response
	// body, when set, is the whole expected body (rows that list
	// parameters); otherwise the body is the row's text and "\n".
	body string
}

func get(target string, hdr ...string) func(*testing.T, *env, *fakeEngine) *response {
	return func(t *testing.T, e *env, _ *fakeEngine) *response { return e.get(t, target, hdr...) }
}

var tooMuchWork = &transform.Errors{List: []transform.ParamError{{Name: "blur", Value: "100", Reason: "too much work for the output size"}}}

var outcomeCases = map[string]outcomeCase{
	"not found":    {run: get("/public/nope.jpg?w=10")},
	"bad query":    {run: get("/public/a.txt?w=%zz")},
	"bad params":   {run: get("/public/img.jpg?w=abc"), body: "invalid parameters\nw=abc: "},
	"not an image": {run: get("/public/a.txt?w=10")},
	"watermark refused": {
		eng: &fakeEngine{err: fmt.Errorf("%w: %q: open /srv/wm.png: no such file", transform.ErrWatermarkNotFound, "/wm.png")},
		run: get("/public/img.jpg?w=10"),
	},
	"file too large": {
		cfg: func(c *handler.Config) {
			c.Files = noSeekFS{testFiles()}
			c.Limits.MaxSourceBytes = 4
		},
		run: get("/public/a.txt"),
	},
	"source too large": {eng: &fakeEngine{err: transform.ErrSourceTooLarge}, run: get("/public/img.jpg?w=10")},
	"output too large": {eng: &fakeEngine{err: transform.ErrOutputTooLarge}, run: get("/public/img.jpg?w=10")},
	"too much work": {
		eng:  &fakeEngine{err: fmt.Errorf("plan: %w", tooMuchWork)},
		run:  get("/public/img.jpg?w=10&blur=100"),
		body: "invalid parameters\nblur=100: too much work for the output size\n",
	},
	"busy": {
		cfg: func(c *handler.Config) {
			c.MaxConcurrent = 1
			c.QueueTimeout = 20 * time.Millisecond
		},
		eng: &fakeEngine{block: make(chan struct{}), started: make(chan struct{}, 1)},
		run: func(t *testing.T, e *env, eng *fakeEngine) *response {
			holder := make(chan result, 1)
			go func() {
				r, err := e.getAsync(t, "/public/img.jpg?w=1")
				holder <- result{r, err}
			}()
			<-eng.started
			res := e.get(t, "/public/img.jpg?w=2")
			close(eng.block)
			if r := (<-holder).must(t); r.StatusCode != 200 {
				t.Errorf("slot holder: %d %q", r.StatusCode, r.body)
			}
			return res
		},
	},
	"timeout": {eng: &fakeEngine{err: fmt.Errorf("vips: %w", context.DeadlineExceeded)}, run: get("/public/img.jpg?w=10")},
	"canceled": {
		eng: &fakeEngine{block: make(chan struct{}), started: make(chan struct{}, 1)},
		run: func(t *testing.T, e *env, eng *fakeEngine) *response {
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/files/public/img.jpg?w=10", nil)
			done := make(chan error, 1)
			go func() {
				res, err := e.srv.Client().Do(req)
				if err == nil {
					res.Body.Close()
				}
				done <- err
			}()
			<-eng.started
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("client: %v, want canceled", err)
			}
			// The engine's context is cancelled: the fake engine returns
			// only when it is, and the flight then ends.
			waitFor(t, "the flight to be cancelled", func() bool {
				return e.metric(t, "keyhole_requests_total", "code", "499") == 1
			})
			return nil
		},
	},
	"file changed":       {cfg: func(c *handler.Config) { c.Files = changingFS{testFiles()} }, run: get("/public/img.jpg?w=10")},
	"source unavailable": {cfg: func(c *handler.Config) { c.Files = failingFS{} }, run: get("/public/img.jpg")},
	"no engine": {
		cfg: func(c *handler.Config) { c.Engine = nil },
		run: func(t *testing.T, e *env, _ *fakeEngine) *response {
			tok := e.sign(t, keyOne, &token.Claims{Audience: []string{"/private/"}, ExpiresAt: now.Add(time.Hour), Args: map[string]any{"w": 100}})
			return e.get(t, "/private/a.jpg?jwt="+tok)
		},
	},
	"internal": {eng: &fakeEngine{err: errors.New("vips: open /srv/secret/a.jpg: bad")}, run: get("/public/img.jpg?w=10")},
	"shutting down": {run: func(t *testing.T, e *env, _ *fakeEngine) *response {
		if err := e.h.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		return e.get(t, "/public/img.jpg?w=10")
	}},
}

// TestOutcomes provokes every row of the outcome table through HTTP and
// checks its status, body, Retry-After, reject reason, 499 accounting and
// log line. A row without a case fails the test.
func TestOutcomes(t *testing.T) {
	rows := handler.Outcomes()
	seen := map[string]bool{}
	for _, row := range rows {
		seen[row.Name] = true
		t.Run(row.Name, func(t *testing.T) {
			tc, ok := outcomeCases[row.Name]
			if !ok {
				t.Fatalf("outcome %q has no test case", row.Name)
			}
			eng := tc.eng
			if eng == nil {
				eng = &fakeEngine{}
			}
			var logs syncBuffer
			cfg := handler.Config{
				Engine:      eng,
				Protections: jwtProtections(),
				Logger:      slog.New(slog.NewTextHandler(&logs, nil)),
			}
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			e := newEnv(t, cfg)
			e.forbid("/srv/", "10.0.0.7", "vips:", "store:")
			res := tc.run(t, e, eng)
			if row.Status == 499 {
				if res != nil {
					t.Fatalf("a response reached the client: %d", res.StatusCode)
				}
			} else {
				if res.StatusCode != row.Status {
					t.Errorf("status %d, want %d (body %q)", res.StatusCode, row.Status, res.body)
				}
				want := row.Text + "\n"
				if tc.body != "" {
					want = tc.body
				}
				if !strings.HasPrefix(res.body, want) {
					t.Errorf("body %q, want %q", res.body, want)
				}
				if got := res.Header.Get("Retry-After"); (got == "1") != row.RetryAfter {
					t.Errorf("Retry-After %q, row says %v", got, row.RetryAfter)
				}
				if v := e.metric(t, "keyhole_requests_total", "code", fmt.Sprint(row.Status)); v < 1 {
					t.Errorf("requests{code=%d} = %v", row.Status, v)
				}
			}
			for _, reason := range handler.RejectReasons {
				want := 0.0
				if reason == row.Reason {
					want = 1
				}
				if v := e.metric(t, "keyhole_transform_rejected_total", "reason", reason); v != want {
					t.Errorf("rejected{reason=%q} = %v, want %v", reason, v, want)
				}
			}
			line := logs.String()
			if row.Logged != strings.Contains(line, "msg=\"request failed: "+row.Name+"\"") {
				t.Errorf("logged %v, log: %q", row.Logged, line)
			}
			for _, bad := range []string{"/srv/", "10.0.0.7", "/wm.png"} {
				if strings.Contains(line, bad) {
					t.Errorf("log holds %q: %q", bad, line)
				}
			}
		})
	}
	if len(seen) != len(outcomeCases) {
		t.Errorf("%d outcomes, %d cases: a case names no outcome", len(seen), len(outcomeCases))
	}
}

// syncBuffer is a bytes.Buffer safe for the handler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestErrorKind: operators learn the sentinels and the cause's type, never
// the error's text.
func TestErrorKind(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("open /srv/x: denied"), "*errors.errorString"},
		{fmt.Errorf("%w: %q: %w", transform.ErrWatermarkNotFound, "/wm/a.png", fs.ErrNotExist), "watermark not found: file does not exist: *errors.errorString"},
		{fmt.Errorf("vips: %w", context.DeadlineExceeded), "context deadline exceeded: context.deadlineExceededError"},
		{&fs.PathError{Op: "open", Path: "/srv/a", Err: fs.ErrPermission}, "permission denied: *errors.errorString"},
		{stageError{}, "resize: handler_test.stageError"},
	} {
		if got := handler.ErrorKind(tc.err); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.err, got, tc.want)
		}
	}
}

type stageError struct{}

func (stageError) Error() string { return "resize /srv/a.jpg failed" }
func (stageError) Kind() string  { return "resize" }

// TestFlightCancelledWhenClientsLeave: a transform shared by two clients
// keeps running while one of them waits, is cancelled once both have
// left (reason=canceled, counted as 499, never sent), and a later request
// for the same variant starts afresh rather than joining the cancelled one.
func TestFlightCancelledWhenClientsLeave(t *testing.T) {
	eng := &fakeEngine{block: make(chan struct{}), started: make(chan struct{}, 1)}
	e := engineEnv(t, eng)
	start := func() (context.CancelFunc, chan error) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/files/public/img.jpg?w=10", nil)
		done := make(chan error, 1)
		go func() {
			res, err := e.srv.Client().Do(req)
			if err == nil {
				res.Body.Close()
			}
			done <- err
		}()
		return cancel, done
	}
	cancelA, doneA := start()
	<-eng.started
	cancelB, doneB := start()
	waitFor(t, "the second client to join", func() bool { return e.metric(t, "keyhole_variant_flight_joins_total") == 1 })
	flightCtx := *eng.lastCtx.Load()

	cancelA()
	<-doneA
	waitFor(t, "the first client to be counted", func() bool { return e.metric(t, "keyhole_requests_total", "code", "499") == 1 })
	if err := flightCtx.Err(); err != nil {
		t.Fatalf("flight cancelled while a client still waits: %v", err)
	}
	cancelB()
	<-doneB
	waitFor(t, "the flight to be cancelled", func() bool { return flightCtx.Err() != nil })
	waitFor(t, "both clients to be counted", func() bool { return e.metric(t, "keyhole_requests_total", "code", "499") == 2 })
	if v := e.metric(t, "keyhole_transform_rejected_total", "reason", "canceled"); v != 2 {
		t.Errorf("rejected{canceled} = %v, want 2", v)
	}
	close(eng.block)
	if r := e.get(t, "/public/img.jpg?w=10"); r.StatusCode != 200 || r.body != "fake jpg Width=10" {
		t.Errorf("after the cancelled flight: %d %q", r.StatusCode, r.body)
	}
	if c := eng.calls.Load(); c != 2 {
		t.Errorf("engine calls %d, want 2 (the cancelled flight and a fresh one)", c)
	}
}

// TestEnginePanic: a panicking engine costs one 500, not the process; the
// flight ends and the next request is answered too.
func TestEnginePanic(t *testing.T) {
	var logs syncBuffer
	e := newEnv(t, handler.Config{Engine: &fakeEngine{panics: true}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	e.forbid("/srv/secret", "engine bug")
	for range 2 {
		if r := e.get(t, "/public/img.jpg?w=10"); r.StatusCode != 500 || r.body != "transform failed\n" {
			t.Errorf("%d %q", r.StatusCode, r.body)
		}
	}
	if l := logs.String(); !strings.Contains(l, "transform panicked") || strings.Contains(l, "/srv/secret") {
		t.Errorf("log %q", l)
	}
}
