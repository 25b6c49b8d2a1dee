package handler

import (
	"container/list"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The open-file cache keeps the descriptors of hot originals open between
// requests, in the spirit of nginx's open_file_cache: a warm request for an
// original costs no path walk, open, fstat or close, only the read and the
// sendfile. Its bounds are documented at Config.OpenFiles.
const (
	// DefaultOpenFiles is the default of Config.OpenFiles: idle
	// descriptors kept open over all files.
	DefaultOpenFiles = 256
	// openCachePerFile bounds the idle descriptors kept for one file (one
	// per concurrent request of that file, up to this many).
	openCachePerFile = 16
	// OpenFileValid is how long the open-file cache trusts a file it holds
	// open: a file that is replaced, removed or renamed, or a symlink that
	// is changed, is still served as it was for at most this long of the
	// handler's clock (Config.Now); after it the name is opened again
	// through Config.Files (so os.Root's rules apply afresh).
	OpenFileValid = time.Second
)

// openCache is the open-file cache of one Handler. Descriptors are only
// ever obtained by opening a cleaned name through Config.Files (so through
// os.Root for Dir), and only *os.File regular files are cached; anything
// else passes through unchanged. A cached descriptor is never shared by two
// requests at once: each request takes one from the file's idle list, or
// opens another, and gives it back on Close. Reads use pread and the file
// offset is set just before sendfile, so Range requests and concurrent
// requests never disturb each other.
type openCache struct {
	files      fs.FS
	now        func() time.Time
	valid      time.Duration
	maxIdle    int
	maxPerFile int

	mu      sync.Mutex
	entries map[string]*openEntry
	lru     list.List // of *openEntry, most recently used first
	idle    int       // idle handles over all entries
	retired bool      // a newer generation replaced this cache: nothing is kept
}

// openEntry is one cached file: its identity when it was opened and the
// handles no request is using.
type openEntry struct {
	name   string
	info   fs.FileInfo
	opened time.Time // when the identity was read; trusted until opened+valid
	etag   []string  // the ETag header value of info, built once and shared read-only
	idle   []*cachedFile
	elem   *list.Element
	gone   bool // dropped from the cache: handles close when released
}

func newOpenCache(files fs.FS, now func() time.Time, maxIdle int) *openCache {
	return &openCache{
		files: files, now: now, valid: OpenFileValid,
		maxIdle: maxIdle, maxPerFile: min(openCachePerFile, maxIdle),
		entries: make(map[string]*openEntry),
	}
}

// open opens name (an fs.ValidPath) and returns the file and its
// identity. A warm hit returns an idle handle of a file opened less than
// valid ago, without a system call. Close the file when done: a cached
// handle goes back to the cache.
func (c *openCache) open(name string) (fs.File, fs.FileInfo, error) {
	now := c.now()
	var stale []*cachedFile
	c.mu.Lock()
	if c.retired {
		c.mu.Unlock()
		return openStat(c.files, name)
	}
	if e := c.entries[name]; e != nil {
		if age := now.Sub(e.opened); age >= 0 && age < c.valid {
			if n := len(e.idle); n > 0 {
				h := e.idle[n-1]
				e.idle[n-1] = nil
				e.idle = e.idle[:n-1]
				c.idle--
				c.lru.MoveToFront(e.elem)
				c.mu.Unlock()
				h.pos, h.kernelPos, h.closed = 0, false, false
				return h, e.info, nil
			}
		} else {
			// Too old (or the clock went back): open the name again.
			stale = c.drop(e)
		}
	}
	c.mu.Unlock()
	closeAll(stale)

	f, info, err := openStat(c.files, name)
	if err != nil {
		return nil, nil, err
	}
	osf, ok := f.(*os.File)
	if !ok || !info.Mode().IsRegular() {
		return f, info, nil
	}
	c.mu.Lock()
	if c.retired {
		c.mu.Unlock()
		return f, info, nil
	}
	e := c.entries[name]
	if e != nil && !sameFile(e.info, info) {
		// Replaced since e was made: the newest open wins.
		stale = c.drop(e)
		e = nil
	}
	if e == nil {
		e = &openEntry{name: name, info: info, opened: now, etag: []string{(&file{info: info}).originalETag()}}
		e.elem = c.lru.PushFront(e)
		c.entries[name] = e
	}
	c.mu.Unlock()
	closeAll(stale)
	return &cachedFile{c: c, e: e, f: osf}, info, nil
}

// retire closes every idle descriptor and stops caching: the Handler
// generation that owns c was replaced (Reload), and the new one has a cache
// of its own. Handles in use close when released.
func (c *openCache) retire() {
	var idle []*cachedFile
	c.mu.Lock()
	c.retired = true
	for _, e := range c.entries {
		idle = append(idle, c.drop(e)...)
	}
	c.mu.Unlock()
	closeAll(idle)
}

// release takes back a handle after a request.
func (c *openCache) release(h *cachedFile) {
	var evicted []*cachedFile
	c.mu.Lock()
	e := h.e
	if e.gone || len(e.idle) >= c.maxPerFile {
		c.mu.Unlock()
		h.f.Close()
		return
	}
	e.idle = append(e.idle, h)
	c.idle++
	for c.idle > c.maxIdle {
		back := c.lru.Back().Value.(*openEntry)
		evicted = append(evicted, c.drop(back)...)
	}
	c.mu.Unlock()
	closeAll(evicted)
}

// drop removes e from the cache and returns its idle handles for closing
// outside the lock. Handles in use close when released. c.mu is held.
func (c *openCache) drop(e *openEntry) []*cachedFile {
	if c.entries[e.name] == e {
		delete(c.entries, e.name)
	}
	c.lru.Remove(e.elem)
	e.gone = true
	idle := e.idle
	e.idle = nil
	c.idle -= len(idle)
	return idle
}

func closeAll(hs []*cachedFile) {
	for _, h := range hs {
		h.f.Close()
	}
}

// sameFile reports whether a and b describe the same version of a file:
// the same device and inode, size and modification time.
func sameFile(a, b fs.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) && a.Mode() == b.Mode()
}

// cachedFile is one request's use of a cached descriptor. It is an
// fs.File and an io.ReadSeeker whose position is its own: Read is pread at
// that position and Seek moves it without a system call. SyscallConn
// (which net/http's sendfile path uses) first sets the descriptor's offset
// to the position, since sendfile starts there.
type cachedFile struct {
	c         *openCache
	e         *openEntry
	f         *os.File
	pos       int64
	kernelPos bool // sendfile moved the descriptor's offset: pos is stale
	closed    bool
}

var (
	_ fs.File       = (*cachedFile)(nil)
	_ io.ReadSeeker = (*cachedFile)(nil)
	_ syscall.Conn  = (*cachedFile)(nil)
)

func (h *cachedFile) Stat() (fs.FileInfo, error) {
	if h.closed {
		return nil, fs.ErrClosed
	}
	return h.e.info, nil
}

func (h *cachedFile) Read(p []byte) (int, error) {
	if err := h.sync(); err != nil {
		return 0, err
	}
	n, err := h.f.ReadAt(p, h.pos)
	h.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil // io.Reader: the next call reports EOF
	}
	return n, err
}

var errSeek = errors.New("seek to a negative position")

func (h *cachedFile) Seek(offset int64, whence int) (int64, error) {
	if err := h.sync(); err != nil {
		return 0, err
	}
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = h.pos + offset
	case io.SeekEnd:
		abs = h.e.info.Size() + offset
	default:
		return 0, errSeek
	}
	if abs < 0 {
		return 0, errSeek
	}
	h.pos = abs
	return abs, nil
}

// SyscallConn hands the descriptor to net/http's sendfile, which sends
// from the descriptor's own offset: that offset is set to the position
// first, and read back on the next Read or Seek.
func (h *cachedFile) SyscallConn() (syscall.RawConn, error) {
	if h.closed {
		return nil, fs.ErrClosed
	}
	if _, err := h.f.Seek(h.pos, io.SeekStart); err != nil {
		return nil, err
	}
	h.kernelPos = true
	return h.f.SyscallConn()
}

func (h *cachedFile) sync() error {
	if h.closed {
		return fs.ErrClosed
	}
	if h.kernelPos {
		pos, err := h.f.Seek(0, io.SeekCurrent)
		if err != nil {
			return err
		}
		h.pos, h.kernelPos = pos, false
	}
	return nil
}

// Close gives the descriptor back to the cache (or closes it when the
// cache is full or the file was dropped). The handle must not be used
// afterwards.
func (h *cachedFile) Close() error {
	if h.closed {
		return fs.ErrClosed
	}
	h.closed = true
	h.c.release(h)
	return nil
}

// openOriginal is open through the open-file cache, for originals served
// unchanged; its errors are those of open. Transforms keep using open,
// which always opens the name: a source is read once per variant and
// checked against the identity that named the variant.
func (h *Handler) openOriginal(p string, dst *file) error {
	if h.opened == nil {
		return h.open(p, dst)
	}
	name := strings.TrimPrefix(p, "/")
	if name == "" || !fs.ValidPath(name) {
		return errNotFound
	}
	f, info, err := h.opened.open(name)
	if err != nil {
		return fileError(err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return errNotFound
	}
	*dst = file{f: f, name: name, info: info}
	return nil
}

// openStat opens name in files and stats it, closing it again when the
// stat fails.
func openStat(files fs.FS, name string) (fs.File, fs.FileInfo, error) {
	f, err := files.Open(name)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}
