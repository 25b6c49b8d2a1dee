package source

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"time"
)

// Ranged reads start at firstChunk bytes (one request for most images) (or the size of the caller's
// buffer when larger) and double for each further read in sequence up to
// maxChunk: a small Range costs a small read, a whole large object a few.
const (
	firstChunk = 256 << 10
	maxChunk   = 8 << 20
)

// object is an open object. Seek moves the offset without a request; Read
// opens a ranged read at the offset when the current one does not
// continue there. It is not safe for concurrent use (as fs.File).
type object struct {
	s    *Bucket
	key  string
	info *fileInfo
	off  int64
	ctx  context.Context // nil: context.Background

	r      io.ReadCloser // nil when no ranged read is open
	rOff   int64         // the offset r reads next
	rEnd   int64         // where r's range ends
	cancel context.CancelFunc
	idle   *time.Timer // cancels r when a read waits longer than Timeout
	chunk  int64
	next   int64 // where the last ranged read ended: a read there is sequential
	closed bool
}

var (
	_ io.ReadSeeker = (*object)(nil)
	_ fs.File       = (*object)(nil)
)

func (o *object) Stat() (fs.FileInfo, error) { return o.info, nil }

func (o *object) Seek(offset int64, whence int) (int64, error) {
	if o.closed {
		return 0, fs.ErrClosed
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.off
	case io.SeekEnd:
		offset += o.info.size
	default:
		return 0, errors.New("source: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("source: negative offset")
	}
	o.off = offset
	return offset, nil
}

func (o *object) Read(p []byte) (int, error) {
	if o.closed {
		return 0, fs.ErrClosed
	}
	if o.off >= o.info.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if o.r == nil || o.rOff != o.off || o.rOff >= o.rEnd {
		if err := o.open(int64(len(p))); err != nil {
			return 0, err
		}
	}
	o.idle.Reset(o.s.cfg.Timeout)
	n, err := o.r.Read(p[:min(int64(len(p)), o.rEnd-o.rOff)])
	o.idle.Stop()
	o.off += int64(n)
	o.rOff += int64(n)
	o.s.metrics.readBytes.Add(float64(n))
	switch {
	case err == io.EOF && o.rOff < o.rEnd:
		// The object is shorter than its metadata said.
		o.changed()
		return n, ErrChanged
	case err == io.EOF || (err == nil && o.rOff >= o.rEnd):
		o.release()
		return n, nil
	case err != nil && o.ctx != nil && o.ctx.Err() != nil:
		o.release()
		return n, o.ctx.Err()
	case err != nil:
		o.release()
		o.s.metrics.read.err.Inc()
		o.s.cfg.Logger.Warn("source: read failed", "error_kind", kind(err))
		return n, ErrUnavailable
	}
	return n, nil
}

// open starts a ranged read at o.off of at least want bytes.
func (o *object) open(want int64) error {
	o.release()
	// The chunk grows only while the reads are sequential: a reader that
	// seeks about (a multi-range request) asks for small ranges.
	if o.chunk == 0 || o.off != o.next {
		o.chunk = firstChunk
	}
	length := min(max(want, o.chunk), o.info.size-o.off)
	o.chunk = min(o.chunk*2, maxChunk)
	o.next = o.off + length
	parent := o.ctx
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	idle := time.AfterFunc(o.s.cfg.Timeout, cancel)
	// Every ranged read of one open object reads the same version.
	r, err := o.s.get.get(ctx, o.key, getOpts{off: o.off, length: length, ifMatch: o.info.etag})
	idle.Stop()
	if err != nil {
		cancel()
		if errors.Is(err, errPrecondition) {
			o.s.metrics.read.ok.Inc()
			o.changed()
			return ErrChanged
		}
		if parent.Err() != nil {
			return parent.Err()
		}
		if errors.Is(err, fs.ErrNotExist) {
			o.s.metrics.read.notFound.Inc()
			o.s.forget(o.key)
			return ErrChanged
		}
		o.s.metrics.read.err.Inc()
		o.s.cfg.Logger.Warn("source: ranged read failed", "error_kind", kind(err))
		return ErrUnavailable
	}
	o.s.metrics.read.ok.Inc()
	if r.size != o.info.size || !r.mod.Equal(o.info.mod) {
		r.body.Close()
		cancel()
		o.changed()
		return ErrChanged
	}
	o.r, o.rOff, o.rEnd, o.cancel, o.idle = r.body, o.off, o.off+length, cancel, idle
	return nil
}

func (o *object) changed() {
	o.release()
	o.s.forget(o.key)
}

func (o *object) release() {
	if o.r != nil {
		o.idle.Stop()
		o.r.Close()
		o.cancel()
		o.r = nil
	}
}

func (o *object) Close() error {
	if o.closed {
		return fs.ErrClosed
	}
	o.release()
	o.closed = true
	return nil
}
