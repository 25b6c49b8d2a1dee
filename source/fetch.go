package source

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// tierKey is an original's key in the tier (a Store's keys start with
// "v\x00", so one Tier can hold both).
func tierKey(name string) string { return "o\x00" + name }

// tiered returns the object at name from the tier, fetching or
// revalidating it first when the tier has no fresh copy. It returns the
// entry, with a reference to its bytes the caller must release, or only
// the metadata of an object too large for the tier (read by ranged reads,
// as without a tier).
func (s *Bucket) tiered(ctx context.Context, name string) (*entry, *fileInfo, error) {
	if !fs.ValidPath(name) || name == "." {
		return nil, nil, fs.ErrNotExist
	}
	t := s.cfg.Tier
	key := tierKey(name)
	now := t.cfg.Now()
	old := t.get(key, true)
	if old != nil && t.fresh(old, now) {
		if old.absent {
			return nil, nil, fs.ErrNotExist
		}
		return old, nil, nil
	}
	// The fetch takes its own reference to old's bytes while they are
	// still held.
	old.release()
	if info := s.largeObject(name, now); info != nil {
		return nil, info, nil
	}
	// Every request that misses at once waits for one fetch; a request
	// whose context ends stops waiting, and the fetch goes on for the
	// others within the bucket's Timeout.
	v, err := s.fetches.do(ctx, key, func() (any, error) { return s.fetch(name, key, old) })
	if err != nil {
		return nil, nil, err
	}
	switch v := v.(type) {
	case *entry:
		return v, nil, nil
	case *fileInfo:
		return nil, v, nil
	}
	return nil, nil, ErrUnavailable
}

// largeObject returns the cached metadata of an object known to be too
// large for the tier, so that opening it costs no GET of its head.
func (s *Bucket) largeObject(name string, now time.Time) *fileInfo {
	if s.cache == nil {
		return nil
	}
	s.mu.Lock()
	e, ok := s.cache.Get(name)
	s.mu.Unlock()
	if ok && now.Before(e.expires) && e.info != nil && e.info.size > s.cfg.Tier.cfg.MaxObjectBytes {
		return e.info
	}
	return nil
}

// fetch reads the object at name whole into the tier (one GET; with old,
// a conditional GET that answers 304 when old is still the object). An
// entry it returns carries one reference to its bytes, which fetches.do
// shares out to the waiters.
func (s *Bucket) fetch(name, key string, old *entry) (any, error) {
	if old != nil && !old.buf.acquire() {
		old = nil // evicted and freed meanwhile: a plain GET
	}
	v, err := s.fetchInto(name, key, old)
	if e, ok := v.(*entry); old != nil && (!ok || e.buf != old.buf) {
		old.buf.release() // not handed on
	}
	return v, err
}

func (s *Bucket) fetchInto(name, key string, old *entry) (any, error) {
	t := s.cfg.Tier
	now := t.cfg.Now()
	revalidating := old != nil && !old.absent
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	idle := time.AfterFunc(s.cfg.Timeout, cancel)
	defer idle.Stop()
	o := getOpts{length: -1}
	if revalidating {
		o.ifNoneMatch = old.etag
	}
	// failed serves old within StaleIfError, else reports the outage.
	failed := func(err error) (any, error) {
		s.metrics.get.err.Inc()
		s.cfg.Logger.Warn("source: read failed", "error_kind", kind(err))
		if revalidating {
			t.metrics.revalidations["error"].Inc()
			if t.usableStale(old, now) {
				t.metrics.stale.Inc()
				return old, nil
			}
		}
		return nil, ErrUnavailable
	}
	confirmed := func() (any, error) {
		t.metrics.revalidations["not_modified"].Inc()
		e := *old
		e.checked = now
		t.put(&e, false)
		return &e, nil
	}
	r, err := s.get.get(ctx, name, o)
	if err != nil {
		switch {
		case revalidating && errors.Is(err, errNotModified):
			s.metrics.get.ok.Inc()
			return confirmed()
		case errors.Is(err, fs.ErrNotExist):
			s.metrics.get.notFound.Inc()
			if revalidating {
				t.metrics.revalidations["gone"].Inc()
			}
			t.remove(key)
			t.put(&entry{key: key, absent: true, checked: now}, false)
			return nil, fs.ErrNotExist
		}
		return failed(err)
	}
	defer r.body.Close()
	info := &fileInfo{name: path.Base(name), size: r.size, mod: r.mod, etag: r.etag}
	if revalidating && old.sameObject(info) {
		// A store without conditional reads sent the object again.
		s.metrics.get.ok.Inc()
		return confirmed()
	}
	if info.size > t.cfg.MaxObjectBytes {
		// Read by ranged reads instead; only the response's head was
		// transferred.
		s.metrics.get.ok.Inc()
		if revalidating {
			t.metrics.revalidations["changed"].Inc()
			t.remove(key)
		}
		if s.cache != nil {
			s.mu.Lock()
			s.cache.Add(name, metaEntry{info: info, expires: now.Add(t.cfg.FreshFor)})
			s.mu.Unlock()
		}
		return info, nil
	}
	if !t.fetching.TryAcquire(info.size) {
		// Over the fetch budget: this read is served by ranged reads,
		// streamed, and a later miss fetches the object.
		s.metrics.get.ok.Inc()
		t.metrics.deferred.Inc()
		if revalidating {
			t.metrics.revalidations["changed"].Inc()
			t.remove(key)
		}
		return info, nil
	}
	defer t.fetching.Release(info.size)
	buf, err := newBuffer(int(info.size), &t.live)
	if err != nil {
		// No memory to map: streamed, as over the budget.
		s.metrics.get.ok.Inc()
		t.metrics.deferred.Inc()
		return info, nil
	}
	data := buf.data
	off := 0
	for off < len(data) {
		idle.Reset(s.cfg.Timeout)
		n, err := r.body.Read(data[off:])
		off += n
		if err == io.EOF {
			break
		}
		if err != nil {
			buf.release()
			s.metrics.readBytes.Add(float64(off))
			return failed(err)
		}
	}
	s.metrics.readBytes.Add(float64(off))
	if off != len(data) {
		// Shorter than its own response said: never kept.
		buf.release()
		return failed(errors.New("short body"))
	}
	s.metrics.get.ok.Inc()
	if revalidating {
		t.metrics.revalidations["changed"].Inc()
	}
	e := &entry{key: key, etag: info.etag, mod: info.mod, checked: now, data: data, buf: buf}
	t.put(e, true)
	return e, nil
}

// release gives back the reference to e's bytes that get or fetch
// handed out; a nil e is allowed.
func (e *entry) release() {
	if e != nil {
		e.buf.release()
	}
}

// fetches runs one fetch per key for every request that misses at once,
// as singleflight.Group, and counts the waiters, so that each gets its own
// reference to the fetched bytes before the fetch lets go of its own.
type fetches struct {
	mu sync.Mutex
	m  map[string]*fetchCall
}

type fetchCall struct {
	done    chan struct{}
	waiters int32 // guarded by fetches.mu until done
	val     any   // *entry (with a reference per waiter) or *fileInfo
	err     error
}

// do returns fn's result for key, running fn once, in its own goroutine,
// for every concurrent caller. When ctx ends first, do returns ctx's error
// and the fetch goes on for the others.
func (g *fetches) do(ctx context.Context, key string, fn func() (any, error)) (any, error) {
	g.mu.Lock()
	c := g.m[key]
	if c == nil {
		if g.m == nil {
			g.m = map[string]*fetchCall{}
		}
		c = &fetchCall{done: make(chan struct{})}
		g.m[key] = c
		go g.run(key, c, fn)
	}
	c.waiters++
	g.mu.Unlock()
	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
	}
	g.mu.Lock()
	select {
	case <-c.done:
		// Finished meanwhile: a reference was taken for this caller.
		g.mu.Unlock()
		if e, ok := c.val.(*entry); ok {
			e.release()
		}
	default:
		c.waiters--
		g.mu.Unlock()
	}
	return nil, ctx.Err()
}

func (g *fetches) run(key string, c *fetchCall, fn func() (any, error)) {
	val, err := fn()
	e, _ := val.(*entry)
	g.mu.Lock()
	delete(g.m, key)
	if e != nil && e.buf != nil {
		// fn's own reference keeps the count above zero meanwhile.
		e.buf.share(c.waiters)
	}
	c.val, c.err = val, err
	close(c.done)
	g.mu.Unlock()
	e.release()
}

// sameObject reports whether info describes the object e holds: the same
// ETag when both have one, else the same size and modification time.
func (e *entry) sameObject(info *fileInfo) bool {
	if e.etag != "" && info.etag != "" {
		return e.etag == info.etag
	}
	return int64(len(e.data)) == info.size && e.mod.Equal(info.mod)
}

// memFile is an object held by the tier: its reads cannot fail. It holds
// a reference to the tier's bytes until Close (or, for a file never
// closed, until the collector finds it unreachable).
type memFile struct {
	info    *fileInfo
	data    []byte
	buf     *buffer
	cleanup runtime.Cleanup
	off     int64
	closed  bool
	// sf is a descriptor of buf's memfd, taken by the first SyscallConn
	// and given back at Close. sendfile moves its offset: kernelPos says
	// off must be read back from it.
	sf        *os.File
	kernelPos bool
}

// newMemFile opens e's copy; it takes over e's reference.
func newMemFile(e *entry, name string) *memFile {
	f := &memFile{info: e.info(name), data: e.data, buf: e.buf}
	if e.buf != nil {
		f.cleanup = runtime.AddCleanup(f, (*buffer).release, e.buf)
	}
	return f
}

var (
	_ io.ReadSeeker = (*memFile)(nil)
	_ io.ReaderAt   = (*memFile)(nil)
	_ fs.File       = (*memFile)(nil)
	_ syscall.Conn  = (*memFile)(nil)
)

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }

// Bytes returns the whole object, valid until Close; the caller must not
// modify it. The handler reads a held original this way, without a copy.
func (f *memFile) Bytes() []byte { return f.data }

func (f *memFile) Read(p []byte) (int, error) {
	if f.closed {
		return 0, fs.ErrClosed
	}
	f.sync()
	if f.off >= int64(len(f.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.data[f.off:])
	f.off += int64(n)
	return n, nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, fs.ErrClosed
	}
	if off < 0 {
		return 0, errors.New("source: negative offset")
	}
	if off >= int64(len(f.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) Seek(offset int64, whence int) (int64, error) {
	if f.closed {
		return 0, fs.ErrClosed
	}
	f.sync()
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += int64(len(f.data))
	default:
		return 0, errors.New("source: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("source: negative offset")
	}
	f.off = offset
	return offset, nil
}

// SendFile reports whether the copy can be sent with sendfile: it is
// in a memfd (see buffer), so SyscallConn can hand net/http a descriptor.
// Otherwise writing Bytes whole is the cheapest way to send it.
func (f *memFile) SendFile() bool { return !f.closed && f.buf.sendable() }

var errNoDescriptor = errors.New("source: the copy has no descriptor free for sendfile")

// SyscallConn hands net/http's sendfile a descriptor of the copy's memfd
// whose offset is set to the file's position; sendfile starts there. It
// fails (and net/http copies through Read instead) when the copy is not in
// a memfd or its descriptors are all in use.
func (f *memFile) SyscallConn() (syscall.RawConn, error) {
	if f.closed {
		return nil, fs.ErrClosed
	}
	f.sync()
	if f.sf == nil {
		if f.sf = f.buf.file(); f.sf == nil {
			return nil, errNoDescriptor
		}
	}
	if _, err := f.sf.Seek(f.off, io.SeekStart); err != nil {
		return nil, err
	}
	f.kernelPos = true
	return f.sf.SyscallConn()
}

// sync reads the position back from the descriptor sendfile moved.
func (f *memFile) sync() {
	if f.kernelPos {
		if pos, err := f.sf.Seek(0, io.SeekCurrent); err == nil {
			f.off = pos
		}
		f.kernelPos = false
	}
}

func (f *memFile) Close() error {
	if f.closed {
		return fs.ErrClosed
	}
	f.closed = true
	f.data = nil
	if f.sf != nil {
		f.buf.putFile(f.sf)
		f.sf = nil
	}
	f.cleanup.Stop()
	f.buf.release()
	return nil
}
