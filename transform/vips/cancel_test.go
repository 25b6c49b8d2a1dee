package vips_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	govips "github.com/davidbyttow/govips/v2/vips"

	"github.com/keyhole-dev/keyhole/transform"
)

// attack is the request of the report that ran 32 s under a 10 s timeout:
// ?w=8192&h=8192&scale.option=ignore&blur=100 on a small photo. Unstopped,
// it takes tens of seconds on one core in every output format. The work
// budget refuses it before decoding (Limits.MaxWork); these tests lift the
// budget with noBudget to test the time limit behind it.
// AVIF and GIF outputs are bounded to transform.MaxUninterruptiblePixels,
// so their attack is 4096×4096, which still takes seconds of blur.
func attack(f transform.Format) transform.Request {
	side := 8192.0
	if f == transform.FormatAVIF || f == transform.FormatGIF {
		side = 4096
	}
	return transform.Request{
		Source: nil, // set by the caller
		Params: &transform.Params{Width: px(side), Height: px(side), ScaleOption: "ignore", Blur: 100},
		Format: f,
	}
}

// noBudget lifts the work budget.
const noBudget = math.MaxInt64

// slack is how long past the deadline a stopped transform may take in
// these tests. The engine stops within one strip of the output (well under
// a second on an idle core), but the test machine may be busy.
const slack = 3 * time.Second

func TestTimeoutStopsEncode(t *testing.T) {
	const timeout = time.Second
	e := newEngine(t, transform.Limits{Timeout: timeout, MaxWork: noBudget})
	for _, f := range []transform.Format{transform.FormatPNG, transform.FormatJPEG, transform.FormatWebP} {
		t.Run(string(f), func(t *testing.T) {
			req := attack(f)
			req.Source = smallPhoto(t)
			start := time.Now()
			out, err := e.Process(context.Background(), req)
			took := time.Since(start)
			t.Logf("returned after %v (timeout %v)", took.Round(time.Millisecond), timeout)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v (output %v), want context.DeadlineExceeded", err, out != nil)
			}
			if errors.Is(err, context.Canceled) {
				t.Errorf("err = %v also matches context.Canceled", err)
			}
			if took > timeout+slack {
				t.Errorf("returned after %v, want within %v of the %v timeout", took, slack, timeout)
			}
		})
	}
}

// TestTimeoutStopsWebPEncoder: a canvas costs little to compute, so
// libwebp's encoder does almost all the work of an 8192×8192 canvas; the
// request is within the work budget, and the kill stops libwebp too.
func TestTimeoutStopsWebPEncoder(t *testing.T) {
	const timeout = time.Second
	e := newEngine(t, transform.Limits{Timeout: timeout})
	req := transform.Request{
		Source: smallPhoto(t),
		Params: &transform.Params{Width: px(100), CanvasWidth: px(8192), CanvasHeight: px(8192)},
		Format: transform.FormatWebP,
	}
	start := time.Now()
	_, err := e.Process(context.Background(), req)
	took := time.Since(start)
	t.Logf("returned after %v (timeout %v)", took.Round(time.Millisecond), timeout)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if took > timeout+slack {
		t.Errorf("returned after %v, want within %v of the %v timeout", took, slack, timeout)
	}
}

func TestCancelStopsEncode(t *testing.T) {
	e := newEngine(t, transform.Limits{MaxWork: noBudget}) // 10 s default timeout
	req := attack(transform.FormatPNG)
	req.Source = smallPhoto(t)
	ctx, cancel := context.WithCancel(context.Background())
	const after = 500 * time.Millisecond
	stop := time.AfterFunc(after, cancel)
	defer stop.Stop()
	start := time.Now()
	_, err := e.Process(ctx, req)
	took := time.Since(start)
	t.Logf("returned after %v (cancelled after %v)", took.Round(time.Millisecond), after)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v also matches context.DeadlineExceeded", err)
	}
	if took > after+slack {
		t.Errorf("returned after %v, want within %v of the cancel", took, slack)
	}
}

// TestCallerDeadlineStopsEncode: a deadline of the caller's context that is
// shorter than Limits.Timeout stops the work too.
func TestCallerDeadlineStopsEncode(t *testing.T) {
	e := newEngine(t, transform.Limits{MaxWork: noBudget})
	req := attack(transform.FormatJPEG)
	req.Source = smallPhoto(t)
	const after = 500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), after)
	defer cancel()
	start := time.Now()
	_, err := e.Process(ctx, req)
	took := time.Since(start)
	t.Logf("returned after %v (deadline after %v)", took.Round(time.Millisecond), after)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if took > after+slack {
		t.Errorf("returned after %v, want within %v of the deadline", took, slack)
	}
}

// TestConcurrentKills: two attacks at once are both stopped at the
// deadline while an ordinary transform on the same engine succeeds.
func TestConcurrentKills(t *testing.T) {
	const timeout = time.Second
	e := newEngine(t, transform.Limits{Timeout: timeout, MaxWork: noBudget})
	src := smallPhoto(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	took := make([]time.Duration, 2)
	for i, f := range []transform.Format{transform.FormatPNG, transform.FormatWebP} {
		wg.Go(func() {
			req := attack(f)
			req.Source = src
			start := time.Now()
			_, errs[i] = e.Process(context.Background(), req)
			took[i] = time.Since(start)
		})
	}
	out, err := e.Process(context.Background(), transform.Request{Source: src, Params: &transform.Params{Width: px(300)}, Format: transform.FormatJPEG})
	wg.Wait()
	if err != nil {
		t.Errorf("ordinary transform beside two attacks: %v", err)
	} else if out.Width != 300 || out.Height != 200 {
		t.Errorf("ordinary transform: %dx%d, want 300x200", out.Width, out.Height)
	}
	for i := range errs {
		t.Logf("attack %d returned after %v", i, took[i].Round(time.Millisecond))
		if !errors.Is(errs[i], context.DeadlineExceeded) {
			t.Errorf("attack %d: err = %v, want context.DeadlineExceeded", i, errs[i])
		}
		if took[i] > timeout+slack {
			t.Errorf("attack %d returned after %v, want within %v of the %v timeout", i, took[i], slack, timeout)
		}
	}
}

// TestAfterKill: a stopped transform leaves libvips usable, its images
// freed and its error text out of later errors.
func TestAfterKill(t *testing.T) {
	src := smallPhoto(t)
	e := newEngine(t, transform.Limits{})
	small := transform.Request{Source: src, Params: &transform.Params{Width: px(300), Blur: 10}, Format: transform.FormatPNG}
	before, err := e.Process(context.Background(), small)
	if err != nil {
		t.Fatal(err)
	}
	killed := newEngine(t, transform.Limits{Timeout: 300 * time.Millisecond, MaxWork: noBudget})
	for _, f := range []transform.Format{transform.FormatPNG, transform.FormatJPEG, transform.FormatWebP, transform.FormatAVIF, transform.FormatGIF} {
		req := attack(f)
		req.Source = src
		if _, err := killed.Process(context.Background(), req); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: err = %v, want context.DeadlineExceeded", f, err)
		}
	}

	t.Run("next transform", func(t *testing.T) {
		after, err := e.Process(context.Background(), small)
		if err != nil {
			t.Fatalf("after killed transforms: %v", err)
		}
		if !bytes.Equal(after.Data, before.Data) {
			t.Errorf("output after killed transforms differs from before (%d vs %d bytes)", len(after.Data), len(before.Data))
		}
		img := decodeAny(t, after.Data)
		if b := img.Bounds(); b.Dx() != 300 || b.Dy() != 200 {
			t.Errorf("decoded %v, want 300x200", b)
		}
	})
	t.Run("no stale libvips error", func(t *testing.T) {
		// A PNG signature with a broken header passes the sniffer and
		// fails in libvips, whose error text the error carries.
		bad := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0xff}, 64)...)
		_, err := e.Process(context.Background(), transform.Request{Source: bad, Params: &transform.Params{}, Format: transform.FormatPNG})
		if !errors.Is(err, transform.ErrNotImage) {
			t.Fatalf("err = %v, want ErrNotImage", err)
		}
		if strings.Contains(err.Error(), "killed") {
			t.Errorf("error carries the text of an earlier kill: %v", err)
		}
	})
}

// TestKilledTransformsDoNotLeak: repeated stopped transforms release what
// they allocated. libvips' own allocations (every pixel buffer, counted by
// vips_tracked_get_mem) must not grow with the number of stopped
// transforms; the process RSS is logged.
func TestKilledTransformsDoNotLeak(t *testing.T) {
	src := smallPhoto(t)
	e := newEngine(t, transform.Limits{Timeout: 300 * time.Millisecond, MaxWork: noBudget})
	formats := []transform.Format{transform.FormatPNG, transform.FormatJPEG, transform.FormatWebP}
	kill := func() {
		t.Helper()
		for _, f := range formats {
			req := attack(f)
			req.Source = src
			if _, err := e.Process(context.Background(), req); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%s: err = %v, want context.DeadlineExceeded", f, err)
			}
		}
	}
	kill() // warm up: libvips' per-thread buffers, Go's heap
	var m0, m1 govips.MemoryStats
	runtime.GC()
	govips.ReadVipsMemStats(&m0)
	rss0 := rss()
	const rounds = 4
	for range rounds {
		kill()
	}
	runtime.GC()
	govips.ReadVipsMemStats(&m1)
	rss1 := rss()
	t.Logf("after %d stopped transforms: libvips memory %d → %d bytes (%d → %d allocations, peak %d), %d → %d open files; RSS %d → %d MB",
		rounds*len(formats), m0.Mem, m1.Mem, m0.Allocs, m1.Allocs, m1.MemHigh, m0.Files, m1.Files, rss0>>20, rss1>>20)
	// One decoded source is 1200×800×3 bytes. Leaking it in every kill
	// would add 12 of them; allow less than 3 for libvips' per-thread
	// buffers, which are freed when its worker threads end.
	if grow := m1.Mem - m0.Mem; grow >= 3*1200*800*3 {
		t.Errorf("libvips memory grew by %d bytes over %d stopped transforms", grow, rounds*len(formats))
	}
	if m1.Files > m0.Files {
		t.Errorf("open files grew from %d to %d", m0.Files, m1.Files)
	}
}

// rss is the resident set size of the process in bytes, or 0 where
// /proc/self/statm is missing.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

// TestTimeoutStopsSirvOptions: the heaviest of Sirv's options on an
// 8000×8000 output (colortone's lookups and blend, a vignette, colorize,
// the tone curve, a mirrored frame with a rim, a blurred text outline) are
// lazy libvips operations that the encoder pulls, so the time limit stops
// them like a blur.
func TestTimeoutStopsSirvOptions(t *testing.T) {
	const timeout = time.Second
	e := newEngine(t, transform.Limits{Timeout: timeout, MaxWork: noBudget})
	p, err := transform.Parse(map[string]string{
		"w": "8000", "h": "8000", "scale.option": "ignore",
		"colortone": "sepia", "colortone.mode": "highlights", "vignette.value": "60", "colorize.color": "ff000040",
		"exposure": "20", "shadows": "30", "colorlevel.black": "10",
		"frame.style": "mirror", "frame.width": "40", "frame.rim.width": "4",
		"text": "Keyhole", "text.outline.width": "8", "text.outline.blur": "30",
	}, transform.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []transform.Format{transform.FormatPNG, transform.FormatJPEG} {
		t.Run(string(f), func(t *testing.T) {
			start := time.Now()
			out, err := e.Process(context.Background(), transform.Request{Source: smallPhoto(t), Params: p, Format: f})
			took := time.Since(start)
			t.Logf("returned after %v (timeout %v)", took.Round(time.Millisecond), timeout)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v (output %v), want context.DeadlineExceeded", err, out != nil)
			}
			if took > timeout+slack+raceSlack {
				t.Errorf("returned after %v, want within %v of the %v timeout", took, slack+raceSlack, timeout)
			}
		})
	}
}
