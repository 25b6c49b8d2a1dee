package source

import "sync/atomic"

// buffer holds the bytes of one original in the tier. On Linux they live
// outside the Go heap (an anonymous mapping, returned to the system when
// the last holder lets go), so the tier's bytes are counted once in the
// process's memory: the collector never lets garbage of evicted copies
// pile up to twice the tier before it runs. Elsewhere they are an ordinary
// slice.
//
// Each holder (the memory tier, an open file, a fetch in progress, a disk
// write) has one reference: acquire takes one while the count is above
// zero, release gives one back and frees the bytes at zero. A count that
// reached zero stays there, so a holder that lost the race gets false from
// acquire and never sees freed memory.
type buffer struct {
	data []byte
	refs atomic.Int32
	live *atomic.Int64 // the tier's count of bytes in buffers not yet freed
}

// newBuffer returns a buffer of n bytes with one reference, the caller's,
// counted in live until it is freed.
func newBuffer(n int, live *atomic.Int64) (*buffer, error) {
	data, err := allocOffHeap(n)
	if err != nil {
		return nil, err
	}
	b := &buffer{data: data, live: live}
	b.refs.Store(1)
	live.Add(int64(n))
	return b, nil
}

// acquire takes a reference; false when the bytes are already freed. A nil
// buffer (bytes on the Go heap) always succeeds.
func (b *buffer) acquire() bool {
	if b == nil {
		return true
	}
	for {
		n := b.refs.Load()
		if n <= 0 {
			return false
		}
		if b.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// share takes n references at once for a holder that already has one
// (so the count cannot be zero meanwhile).
func (b *buffer) share(n int32) { b.refs.Add(n) }

// release gives a reference back; the last one frees the bytes.
func (b *buffer) release() {
	if b == nil {
		return
	}
	switch n := b.refs.Add(-1); {
	case n == 0:
		b.live.Add(-int64(len(b.data)))
		freeOffHeap(b.data)
		b.data = nil
	case n < 0:
		panic("source: tier buffer released more often than acquired")
	}
}
