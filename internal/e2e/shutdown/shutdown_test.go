// Package shutdown_test reproduces, with the real libvips engine, the
// crash that (*handler.Handler).Close prevents: a transform left running in
// the background by http.TimeoutHandler while the host shuts libvips down.
// It has a test binary of its own because libvips cannot be started again
// after vips.Shutdown.
package shutdown_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/transform"
	"github.com/keyhole-dev/keyhole/transform/vips"
)

func TestMain(m *testing.M) {
	vips.Startup(vips.StartupConfig{})
	os.Exit(m.Run()) // the test shuts libvips down itself
}

// watchedEngine is the real engine, recording when Process calls start and
// end.
type watchedEngine struct {
	*vips.Engine
	started chan struct{}

	mu      sync.Mutex
	running int
	lastEnd time.Time
}

func (w *watchedEngine) Process(ctx context.Context, req transform.Request) (*transform.Output, error) {
	w.mu.Lock()
	w.running++
	w.mu.Unlock()
	select {
	case w.started <- struct{}{}:
	default:
	}
	defer func() {
		w.mu.Lock()
		w.running--
		w.lastEnd = time.Now()
		w.mu.Unlock()
	}()
	return w.Engine.Process(ctx, req)
}

// bigPNG is a 3000×2000 PNG: libvips decodes a PNG in one go on first use,
// a step no cancellation interrupts, so a transform of it is still inside
// libvips for a while after its client has gone.
func bigPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 3000, 2000))
	for i := range img.Pix {
		img.Pix[i] = byte(i*7 + i/4096)
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCloseThenShutdown: a request behind http.TimeoutHandler(h, 5ms) gets
// the TimeoutHandler's 503 while its transform runs on inside libvips. The
// host calls Close, which must return only after every transform has left
// libvips, and then vips.Shutdown; a process that shut libvips down under
// a running transform dies here with SIGSEGV during cgo execution.
func TestCloseThenShutdown(t *testing.T) {
	e, err := vips.New(vips.Config{})
	if err != nil {
		t.Fatal(err)
	}
	eng := &watchedEngine{Engine: e, started: make(chan struct{}, 1)}
	h, err := handler.New(handler.Config{
		Files:  fstest.MapFS{"public/big.png": {Data: bigPNG(t), ModTime: time.Unix(1_700_000_000, 0)}},
		Engine: eng,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.TimeoutHandler(h, 5*time.Millisecond, "timeout"))
	defer srv.Close()

	res, err := http.Get(srv.URL + "/public/big.png?w=2900&blur=20&format=png")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want the TimeoutHandler's 503", res.StatusCode)
	}
	select {
	case <-eng.started:
	case <-time.After(30 * time.Second):
		t.Fatal("the transform never started")
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closed := time.Now()
	eng.mu.Lock()
	running, lastEnd := eng.running, eng.lastEnd
	eng.mu.Unlock()
	if running != 0 || lastEnd.IsZero() || lastEnd.After(closed) {
		t.Fatalf("Close returned with %d transforms in libvips (last one ended %v after Close)", running, lastEnd.Sub(closed))
	}

	vips.Shutdown()
	// After Close, a transform is refused without reaching libvips.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/public/big.png?w=100", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "shutting down") {
		t.Errorf("transform after Close: %d %q, want 503 shutting down", rec.Code, rec.Body.String())
	}
	time.Sleep(500 * time.Millisecond) // a transform still in libvips would crash by now
}
