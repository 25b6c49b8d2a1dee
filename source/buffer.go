package source

import (
	"os"
	"sync"
	"sync/atomic"
)

// buffer holds the bytes of one original in the tier. On Linux they live
// outside the Go heap (returned to the system when the last holder lets
// go), so the tier's bytes are counted once in the process's memory: the
// collector never lets garbage of evicted copies pile up to twice the tier
// before it runs. A copy of at least sendFileMin bytes is a memfd (an
// anonymous in-memory file) mapped into the process, so that a response
// can send it with sendfile, as a file on local disk is sent, instead of
// copying it through a write; a smaller one, or one past the descriptor
// budget, is an anonymous mapping. Elsewhere the bytes are an ordinary
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
	fd   int           // the memfd holding data, or -1

	// Descriptors of fd for sendfile, each with its own offset (see
	// file); bounded by filesPerBuffer.
	mu     sync.Mutex
	idle   []*os.File // not in use by a reader
	opened int        // idle and in use
}

// filesPerBuffer bounds the descriptors a memfd-backed copy has open for
// readers at once: more concurrent readers of one copy are served by
// copying, as a copy without a memfd is.
const filesPerBuffer = 8

// newBuffer returns a buffer of n bytes with one reference, the caller's,
// counted in live until it is freed.
func newBuffer(n int, live *atomic.Int64) (*buffer, error) {
	data, fd, err := allocOffHeap(n)
	if err != nil {
		return nil, err
	}
	b := &buffer{data: data, live: live, fd: fd}
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
		b.mu.Lock()
		idle := b.idle
		b.idle, b.opened = nil, 0
		b.mu.Unlock()
		for _, f := range idle {
			f.Close()
		}
		freeOffHeap(b.data, b.fd)
		b.data, b.fd = nil, -1
	case n < 0:
		panic("source: tier buffer released more often than acquired")
	}
}

// sendable reports whether the copy is in a memfd that file can open.
func (b *buffer) sendable() bool { return b != nil && b.fd >= 0 }

// file returns a descriptor of the buffer's memfd for one reader, with an
// offset of its own (an idle one, or a new one up to filesPerBuffer); nil
// when there is none to have. The caller holds a reference to the buffer
// and gives the descriptor back with putFile before releasing it.
func (b *buffer) file() *os.File {
	if !b.sendable() {
		return nil
	}
	b.mu.Lock()
	if n := len(b.idle); n > 0 {
		f := b.idle[n-1]
		b.idle = b.idle[:n-1]
		b.mu.Unlock()
		return f
	}
	if b.opened >= filesPerBuffer {
		b.mu.Unlock()
		return nil
	}
	b.opened++
	b.mu.Unlock()
	f := reopen(b.fd)
	if f == nil {
		b.mu.Lock()
		b.opened--
		b.mu.Unlock()
	}
	return f
}

// putFile gives back a descriptor from file.
func (b *buffer) putFile(f *os.File) {
	b.mu.Lock()
	b.idle = append(b.idle, f)
	b.mu.Unlock()
}
