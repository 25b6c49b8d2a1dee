package vips_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/keyhole-dev/keyhole/transform"
)

// TestConcurrentResizes runs many small JPEG resizes at once, so that
// libvips builds and frees the programs of its resize operations on several
// threads at the same moment. With libvips 8.14's Orc paths on, liborc's
// unlocked code allocator is corrupted and the process dies with SIGSEGV
// in orc_code_free: with 6 goroutines on 2 cores, after 31, 44 and 107 s
// (some 13 000 to 46 000 transforms) in three runs. Startup switches them
// off (TestStartupDisablesOrc). The default run is short; KEYHOLE_STRESS=N
// multiplies it (make soak-engine).
func TestConcurrentResizes(t *testing.T) {
	n := stress(t, 300)
	e := newEngine(t, transform.Limits{})
	src := encodeJPEG(t, photo(200, 150), 85)
	workers := 3 * runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			w := 20 + g
			for range n {
				w = 20 + (w*7+13)%150 // widths 20..169, shrinking and enlarging
				p := transform.Params{Width: px(float64(w))}
				out, err := e.Process(context.Background(), transform.Request{Source: src, Params: &p, Format: transform.FormatJPEG})
				if err == nil && out.Width != w {
					err = fmt.Errorf("w=%d gave a width of %d", w, out.Width)
				}
				if err != nil {
					errs[g] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for g, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", g, err)
		}
	}
}
