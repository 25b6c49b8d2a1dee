package handler_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/transform"
)

// sourceEngine records the source bytes of each call and holds the first
// call until release is closed.
type sourceEngine struct {
	mu      sync.Mutex
	sources []string
	started chan struct{}
	release chan struct{}
}

func (e *sourceEngine) Process(ctx context.Context, req transform.Request) (*transform.Output, error) {
	e.mu.Lock()
	e.sources = append(e.sources, string(req.Source))
	first := len(e.sources) == 1
	e.mu.Unlock()
	if first {
		close(e.started)
		select {
		case <-e.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return &transform.Output{Data: []byte("ok"), Format: req.Format, Width: 1, Height: 1}, nil
}

// TestQueuedLocalSourceUnread: a transform of a local file that waits for
// a slot has opened its source but not read it, so the queue holds no
// source bytes. The file is rewritten in place (same size and time, so
// the same identity) while the request waits: the engine must get the new
// bytes, which it would not had the request read before queueing.
func TestQueuedLocalSourceUnread(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		// The test sees the queued request's open file through Linux's
		// /proc; elsewhere it cannot tell that the request is waiting.
		t.Skip("needs /proc/self/fd (Linux) to see the queued request's open file")
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "public"), 0o755); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "public", "img.jpg")
	old := append([]byte("\xff\xd8\xff\xe0"), make([]byte, 60)...)
	if err := os.WriteFile(img, old, 0o644); err != nil {
		t.Fatal(err)
	}
	stamp := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(img, stamp, stamp); err != nil {
		t.Fatal(err)
	}
	files, err := handler.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	eng := &sourceEngine{started: make(chan struct{}), release: make(chan struct{})}
	e := newEnv(t, handler.Config{Files: files, Engine: eng, MaxConcurrent: 1, QueueTimeout: 10 * time.Second, OpenFiles: -1})
	first := make(chan result, 1)
	go func() {
		r, err := e.getAsync(t, "/public/img.jpg?w=1")
		first <- result{r, err}
	}()
	<-eng.started
	second := make(chan result, 1)
	go func() {
		r, err := e.getAsync(t, "/public/img.jpg?w=2")
		second <- result{r, err}
	}()
	// The second request is queued once it holds the file open (the
	// first closed its copy before the engine ran).
	deadline := time.Now().Add(10 * time.Second)
	for openCount(t, img) == 0 {
		if time.Now().After(deadline) {
			close(eng.release)
			t.Fatal("the queued request never opened its source")
		}
		time.Sleep(time.Millisecond)
	}
	updated := append([]byte("\xff\xd8\xff\xe1"), make([]byte, 60)...)
	if err := os.WriteFile(img, updated, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(img, stamp, stamp); err != nil {
		t.Fatal(err)
	}
	close(eng.release)
	for _, ch := range []chan result{first, second} {
		if r := (<-ch).must(t); r.StatusCode != 200 {
			t.Fatalf("%d %q", r.StatusCode, r.body)
		}
	}
	eng.mu.Lock()
	defer eng.mu.Unlock()
	if len(eng.sources) != 2 || eng.sources[0] != string(old) || eng.sources[1] != string(updated) {
		t.Errorf("the queued transform read its source before it had a slot: sources %q", eng.sources)
	}
}

// openCount counts this process's file descriptors open on path.
func openCount(t *testing.T, path string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && target == path {
			n++
		}
	}
	return n
}
