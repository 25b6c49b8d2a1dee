package vips_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/transform"
)

// TestConcurrentLifetimes runs a mix of transforms (resizes, text,
// watermarks, canvas, every output format), some of them stopped part-way,
// from several goroutines while the garbage collector runs continuously
// and the freed memory is overwritten. libvips decodes lazily, so a byte
// slice it reads from (a source, a watermark, a text mask) must stay alive
// until the encoder has pulled the last strip, and every libvips image
// must be released exactly once, by whichever of govips, the job and the
// killer holds it last. A violation shows as a crash or as output bytes
// that differ from the same transform run alone, which this test compares.
//
// KEYHOLE_STRESS=N multiplies the rounds (make soak-engine runs it long).
func TestConcurrentLifetimes(t *testing.T) {
	rounds := stress(t, 3)
	e := newEngine(t, transform.Limits{})
	src := encodeJPEG(t, photo(640, 480), 85)
	wm := encodePNG(t, quadrants(120, 90))
	// Every read returns a fresh copy, so nothing but the engine keeps it.
	readFile := func(name string) ([]byte, error) {
		if name != "/wm/mark.png" {
			return nil, transform.ErrWatermarkNotFound
		}
		return bytes.Clone(wm), nil
	}
	queries := []string{
		"w=300",
		"w=200&format=png",
		"w=160&format=webp",
		"w=120&format=avif",
		"w=100&format=gif",
		"w=320&text=CONFIDENTIAL&text.color=ff0000",
		"w=300&watermark=/wm/mark.png&watermark.position=southeast",
		"w=300&watermark=/wm/mark.png&watermark.position=tile&watermark.opacity=50&format=png",
		"w=200&canvas.width=400&canvas.height=400&canvas.color=00ff00&format=png",
		"w=240&h=240&scale.option=fill&crop.type=smart&format=webp",
		"crop.type=trim&w=200",
		"w=300&blur=2&sharpen=3&lightness=10&format=png&text=hello&watermark=/wm/mark.png",
	}
	reqs := make([]transform.Request, len(queries))
	want := make([][]byte, len(queries))
	for i, q := range queries {
		p, err := transform.Parse(parseQuery(t, q), transform.DefaultLimits())
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		f := p.Format
		if f == "" {
			f = transform.FormatJPEG
		}
		reqs[i] = transform.Request{Params: p, Format: f, ReadFile: readFile}
		req := reqs[i]
		req.Source = bytes.Clone(src)
		out, err := e.Process(context.Background(), req)
		if err != nil {
			t.Fatalf("%s alone: %v", q, err)
		}
		want[i] = out.Data
	}

	old := debug.SetGCPercent(1)
	defer debug.SetGCPercent(old)
	stop := make(chan struct{})
	var churn sync.WaitGroup
	churn.Go(func() { // collect and overwrite freed memory, continuously
		for {
			select {
			case <-stop:
				return
			default:
			}
			runtime.GC()
			for _, n := range []int{len(src), len(wm), 4 << 10, 64 << 10} {
				b := make([]byte, n)
				for i := range b {
					b[i] = 0xA5
				}
				runtime.KeepAlive(b)
			}
		}
	})
	defer func() { close(stop); churn.Wait() }()

	workers := 2 * runtime.GOMAXPROCS(0)
	var done, stopped atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds * len(queries) {
				i := (w + r) % len(queries)
				req := reqs[i]
				req.Source = bytes.Clone(src)
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if (w+r)%4 == 3 { // stop every fourth one part-way
					ctx, cancel = context.WithTimeout(ctx, time.Duration(1+(w*7+r*13)%20)*time.Millisecond)
				}
				out, err := e.Process(ctx, req)
				cancel()
				switch {
				case err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()):
					stopped.Add(1)
				case err != nil:
					errc <- fmt.Errorf("%s: %v", queries[i], err)
					return
				case !bytes.Equal(out.Data, want[i]):
					errc <- fmt.Errorf("%s: %d bytes differ from the %d bytes of the same transform run alone", queries[i], len(out.Data), len(want[i]))
					return
				default:
					done.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	t.Logf("%d transforms identical to a lone run, %d stopped part-way", done.Load(), stopped.Load())
	if done.Load() == 0 {
		t.Error("no transform completed")
	}
}

// stress returns n times KEYHOLE_STRESS (1 when unset): how long the
// concurrency tests run (make soak-engine sets it).
func stress(t *testing.T, n int) int {
	t.Helper()
	s := os.Getenv("KEYHOLE_STRESS")
	if s == "" {
		return n
	}
	m, err := strconv.Atoi(s)
	if err != nil || m < 1 {
		t.Fatalf("KEYHOLE_STRESS=%q: want a positive integer", s)
	}
	return n * m
}

// parseQuery splits a=b&c=d (no escaping needed in these tests).
func parseQuery(tb testing.TB, q string) map[string]string {
	tb.Helper()
	m := map[string]string{}
	for _, kv := range bytes.Split([]byte(q), []byte("&")) {
		k, v, ok := bytes.Cut(kv, []byte("="))
		if !ok {
			tb.Fatalf("bad test query %q", q)
		}
		m[string(k)] = string(v)
	}
	return m
}
