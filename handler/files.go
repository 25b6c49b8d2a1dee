package handler

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/keyhole-dev/keyhole/internal/pathrule"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

// file is an opened source with its identity.
type file struct {
	f    fs.File
	name string // the fs.FS name (path without the leading "/")
	info fs.FileInfo
}

// etag returns a strong validator from the file's identity and, for a
// variant, the canonical effective parameters and output format. The
// identity is (name, size, modification time, and the store's ETag when
// the file has one): a changed file gets a new ETag, so caches never mix
// versions, even for an object replaced within the same second by one of
// the same size.
func (f *file) etag(variant string) string {
	h := sha256.New()
	h.Write([]byte(f.name))
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(f.info.Size()))
	binary.BigEndian.PutUint64(b[8:], uint64(f.info.ModTime().UnixNano()))
	h.Write(b[:])
	h.Write([]byte(storeETag(f.info)))
	h.Write([]byte{0})
	h.Write([]byte(variant))
	return `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
}

// storeETag is the ETag a bucket gave a file (source.Bucket's files have
// one), or "".
func storeETag(info fs.FileInfo) string {
	if e, ok := info.(interface{ ETag() string }); ok {
		return e.ETag()
	}
	return ""
}

// sameIdentity reports whether two stats of a file describe the same
// version of it.
func sameIdentity(a, b fs.FileInfo) bool {
	return a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) && storeETag(a) == storeETag(b)
}

// originalETag is the strong validator of an unchanged file: its size and
// modification time, as nginx and most file servers use, or, for a
// bucket's object with an ETag, a hash of that ETag with them. Cheaper
// than hashing; a changed file gets a new ETag.
func (f *file) originalETag() string {
	if se := storeETag(f.info); se != "" {
		return f.etag("original")
	}
	b := make([]byte, 0, 32)
	b = append(b, '"')
	b = strconv.AppendInt(b, f.info.ModTime().UnixNano(), 36)
	b = append(b, '-')
	b = strconv.AppendInt(b, f.info.Size(), 36)
	return string(append(b, '"'))
}

// open opens a cleaned path. It returns errNotFound for every failure
// that means "no such file" (missing, a folder, a symlink leaving the root,
// a permission error; see fileError), and an error wrapping errUnavailable
// when the store itself failed.
func (h *Handler) open(p string, dst *file) error {
	return h.openContext(context.Background(), p, dst)
}

// openContext is open with a context for Config.Files that take one
// (source.Bucket's OpenContext): its reads end when ctx does.
func (h *Handler) openContext(ctx context.Context, p string, dst *file) error {
	name := strings.TrimPrefix(p, "/")
	if name == "" || !fs.ValidPath(name) {
		return errNotFound
	}
	var f fs.File
	var info fs.FileInfo
	var err error
	if cf, ok := h.cfg.Files.(contextFS); ok {
		if f, err = cf.OpenContext(ctx, name); err == nil {
			if info, err = f.Stat(); err != nil {
				f.Close()
			}
		}
	} else {
		f, info, err = openStat(h.cfg.Files, name)
	}
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

// contextFS is an fs.FS whose files' reads honour a context
// (source.Bucket).
type contextFS interface {
	OpenContext(ctx context.Context, name string) (fs.File, error)
}

// stat fills dst with the identity of a regular file at a cleaned path,
// without opening it; dst.f stays nil. Errors are those of open.
func (h *Handler) stat(p string, dst *file) error {
	name := strings.TrimPrefix(p, "/")
	if name == "" || !fs.ValidPath(name) {
		return errNotFound
	}
	info, err := fs.Stat(h.cfg.Files, name)
	if err != nil {
		return fileError(err)
	}
	if !info.Mode().IsRegular() {
		return errNotFound
	}
	*dst = file{name: name, info: info}
	return nil
}

// fileError sorts an error of Config.Files: errNotFound when the name
// names no file it may serve (fs.ErrNotExist, fs.ErrPermission,
// fs.ErrInvalid, and the errors a local directory gives for a name that
// cannot exist: ENOTDIR, EISDIR, ELOOP, ENAMETOOLONG, or os.Root's "path
// escapes from parent"); anything else (an I/O error, a store that fails or
// times out) is errUnavailable, 503, so an outage is never cached by
// clients as a 404.
func fileError(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrInvalid):
		return errNotFound
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.ENOTDIR, syscall.EISDIR, syscall.ELOOP, syscall.ENAMETOOLONG:
			return errNotFound
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Err != nil && pe.Err.Error() == "path escapes from parent" {
		// os.Root's error for a symlink or name leaving the root; it
		// is not exported, and os.Root returns it without an errno.
		return errNotFound
	}
	return fmt.Errorf("%w: %w", errUnavailable, err)
}

func (h *Handler) serveOriginal(w http.ResponseWriter, r *http.Request, prot *protection, src *file) {
	if cf, ok := src.f.(*cachedFile); ok {
		w.Header()["Etag"] = cf.e.etag // built once per cached file
	} else {
		w.Header()["Etag"] = []string{src.originalETag()}
	}
	rs, ok := src.f.(io.ReadSeeker)
	if !ok {
		// An fs.FS whose files cannot seek: read it whole, within the
		// source byte limit.
		if src.info.Size() > h.cfg.Limits.MaxSourceBytes {
			h.answer(w, r, prot, outcomeFileTooLarge, nil)
			return
		}
		data, err := io.ReadAll(io.LimitReader(src.f, h.cfg.Limits.MaxSourceBytes))
		if err != nil {
			h.answer(w, r, prot, outcomeUnavailable, fmt.Errorf("%w: %w", errUnavailable, err))
			return
		}
		rs = bytes.NewReader(data)
	}
	if ok && remote(src.f) && strings.Contains(r.Header.Get("Range"), ",") {
		// A multi-range request of a streamed object would cost a ranged
		// read per range: it is answered 200 with the whole object, as RFC
		// 9110 allows, so a request asks the store for the object's bytes
		// at most, in sequential reads whose chunk doubles (source.Bucket).
		c := *r
		c.Header = r.Header.Clone()
		c.Header.Del("Range")
		r = &c
	}
	if ok && remote(src.f) && r.Method == http.MethodGet && r.Header.Get("Range") == "" &&
		r.Header.Get("If-None-Match") == "" && r.Header.Get("If-Modified-Since") == "" {
		p, err := prefetch(rs, src.info.Size())
		if err != nil {
			h.answer(w, r, prot, outcomeUnavailable, fmt.Errorf("%w: %w", errUnavailable, err))
			return
		}
		defer p.release()
		rs = p
	}
	// The type is decided here as ServeContent would, so that an active
	// document gets the sandbox; ServeContent keeps a Content-Type set.
	ct := originalType(src.name, rs)
	if ct == "" {
		h.answer(w, r, prot, outcomeUnavailable, errUnavailable)
		return
	}
	hdr := w.Header()
	hdr["Content-Type"] = []string{ct}
	if activeType(ct) {
		hdr["Content-Security-Policy"] = sandboxCSP
	}
	if m, ok := src.f.(inMemory); ok && plainRequest(r.Header) {
		// A tier copy asked for whole: the headers ServeContent would
		// send, and the bytes by sendfile from the copy's memfd, as a
		// local file is sent, or else in one write instead of 32 KiB
		// copies.
		data := m.Bytes()
		wholeHeaders(hdr, src.info.ModTime(), int64(len(data)))
		w.WriteHeader(http.StatusOK)
		switch sf, _ := src.f.(sendFiler); {
		case r.Method == http.MethodHead:
		case sf != nil && sf.SendFile() && readsFrom(w):
			io.Copy(w, rs)
		default:
			w.Write(data)
		}
		return
	}
	if p, ok := rs.(*prefetched); ok && plainRequest(r.Header) {
		// A remote original asked for whole: ServeContent would copy it
		// in 32 KiB writes, each of which also runs the client's side of
		// a loopback or LAN TCP path; the prefetch buffer's size instead
		// (all of most images in one write).
		wholeHeaders(hdr, src.info.ModTime(), p.size)
		w.WriteHeader(http.StatusOK)
		p.writeTo(w)
		return
	}
	http.ServeContent(w, r, src.name, src.info.ModTime(), rs)
}

// wholeHeaders sets the headers ServeContent sends with a 200 of a whole
// file of size bytes last modified at mod.
func wholeHeaders(hdr http.Header, mod time.Time, size int64) {
	if !mod.IsZero() && !mod.Equal(time.Unix(0, 0)) {
		hdr["Last-Modified"] = []string{mod.UTC().Format(http.TimeFormat)}
	}
	hdr["Accept-Ranges"] = acceptRanges
	hdr["Content-Length"] = []string{strconv.FormatInt(size, 10)}
}

var (
	acceptRanges  = []string{"bytes"}
	preconditions = []string{"Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range"}
)

// plainRequest reports whether a request has no Range and no
// precondition: ServeContent would answer it 200 with the whole file.
func plainRequest(h http.Header) bool {
	for _, k := range preconditions {
		if _, ok := h[k]; ok {
			return false
		}
	}
	return true
}

// readSource opens and reads the file whose identity src holds, within
// ctx: a store that trickles its bytes is abandoned when ctx ends (the
// error wraps ctx's). A file replaced since it was stat'ed is not
// transformed under the old identity (the variant would be cached under
// the wrong key): errChanged, 503. When the file is local and slot is not
// nil, slot runs between opening and reading. The bytes are valid until
// release is called: a tier copy is read in place and stays held until
// then.
func (h *Handler) readSource(ctx context.Context, src *file, slot func() error) (data []byte, release func(), err error) {
	var f file
	if err := h.openContext(ctx, "/"+src.name, &f); err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if errors.Is(err, errNotFound) {
			return nil, nil, errChanged
		}
		return nil, nil, err
	}
	if !sameIdentity(f.info, src.info) {
		f.f.Close()
		return nil, nil, errChanged
	}
	if slot != nil && localFile(f.f) {
		if err := slot(); err != nil {
			f.f.Close()
			return nil, nil, err
		}
	}
	data, err = h.readAll(&f)
	if _, held := f.f.(inMemory); held && err == nil {
		return data, func() { f.f.Close() }, nil
	}
	f.f.Close()
	if err != nil && ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	return data, func() {}, err
}

// readAll reads a file whole; a tier copy's bytes are returned in place,
// valid until the file is closed.
func (h *Handler) readAll(src *file) ([]byte, error) {
	if m, ok := src.f.(inMemory); ok {
		if data := m.Bytes(); int64(len(data)) <= h.cfg.Limits.MaxSourceBytes {
			return data, nil
		}
		return nil, transform.ErrSourceTooLarge
	}
	if s, ok := src.f.(io.Seeker); ok {
		if _, err := s.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("%w: %w", errUnavailable, err)
		}
	}
	// One buffer of the size the file says, plus a byte to notice a file
	// that grew, instead of io.ReadAll's doublings and copies.
	limit := h.cfg.Limits.MaxSourceBytes
	buf := make([]byte, min(max(src.info.Size(), 0), limit)+1)
	n, err := io.ReadFull(src.f, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return buf[:n], nil
	case err != nil:
		return nil, fmt.Errorf("%w: %w", errUnavailable, err)
	}
	rest, err := io.ReadAll(io.LimitReader(src.f, limit+1-int64(n)))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUnavailable, err)
	}
	if data := append(buf, rest...); int64(len(data)) <= limit {
		return data, nil
	}
	return nil, transform.ErrSourceTooLarge
}

// readWatermark reads a watermark through the same fs.FS and path rules as
// requests, only from the watermark folders (Config.Watermarks); dot-files
// stay hidden unless enabled. A path outside the folders is refused as a
// missing watermark, so the answer does not tell which files exist.
func (h *Handler) readWatermark(name string) ([]byte, error) {
	p, err := token.CleanPath(name, h.cfg.MaxPathBytes)
	if err != nil || (!h.cfg.AllowDotFiles && hasDotSegment(p)) || !pathrule.InFolders(p, h.cfg.Watermarks) {
		return nil, transform.ErrWatermarkNotFound
	}
	src := new(file)
	if err := h.open(p, src); err != nil {
		if errors.Is(err, errNotFound) {
			return nil, transform.ErrWatermarkNotFound
		}
		return nil, err
	}
	defer src.f.Close()
	if src.info.Size() > h.cfg.Limits.MaxSourceBytes {
		return nil, transform.ErrSourceTooLarge
	}
	data, err := h.readAll(src)
	if err != nil {
		return nil, err
	}
	if _, held := src.f.(inMemory); held {
		// The engine reads it after the file is closed.
		data = bytes.Clone(data)
	}
	if f := transform.Sniff(data); f == "" || (!h.cfg.Limits.AllowVector && (f == transform.FormatSVG || f == transform.FormatPDF)) {
		// Refused here, not by the engine's decoder, so the answer is
		// the watermark's one text and does not tell that a file exists.
		return nil, errWatermarkNotImage
	}
	return data, nil
}

// errWatermarkNotImage: the watermark file is not an image; it answers
// like a missing watermark.
var errWatermarkNotImage = fmt.Errorf("%w: %w", transform.ErrWatermarkNotFound, transform.ErrNotImage)

// sandboxCSP is sent with every response whose type a browser would run
// as a document (HTML, SVG, XML): scripts, styles and plugins are off, and
// the page is sandboxed to an opaque origin, so an uploaded HTML or SVG
// file cannot act for the site that serves it.
var sandboxCSP = []string{"default-src 'none'; sandbox"}

// activeType reports whether a Content-Type is one a browser renders as
// an active document: HTML, XHTML, XML (any "+xml" type) and SVG.
func activeType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch mt {
	case "text/html", "application/xhtml+xml", "text/xml", "application/xml", "text/xsl", "image/svg+xml":
		return true
	}
	return strings.HasSuffix(mt, "+xml")
}

// originalType returns the Content-Type http.ServeContent will send for
// an original: from the name's extension, else sniffed from its first
// 512 bytes (rs is rewound). "" when it cannot be read.
func originalType(name string, rs io.ReadSeeker) string {
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		return ct
	}
	var buf [512]byte
	n, _ := io.ReadFull(rs, buf[:])
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return ""
	}
	return http.DetectContentType(buf[:n])
}

// remote reports whether f is not a local file (a bucket object or a
// caller's fs.FS), whose reads can fail or hang after the headers are
// sent.
func remote(f fs.File) bool {
	switch f.(type) {
	case *os.File, *cachedFile, inMemory:
		return false
	}
	return true
}

// localFile reports whether f is a file of a local directory (os.Root or
// os.DirFS), whose reads do not wait on a network.
func localFile(f fs.File) bool {
	switch f.(type) {
	case *os.File, *cachedFile:
		return true
	}
	return false
}

// inMemory is a file whose bytes are all in memory (source.Bucket's tier
// copies): its reads cannot fail, and a transform reads it without a copy.
type inMemory interface{ Bytes() []byte }

// readsFrom reports whether the writer under the handler's statusWriter
// is an io.ReaderFrom (net/http's is, and takes sendfile for a source with
// a descriptor); a wrapper that is not would copy in 32 KiB pieces.
func readsFrom(w http.ResponseWriter) bool {
	if sw, ok := w.(*statusWriter); ok {
		w = sw.ResponseWriter
	}
	_, ok := w.(io.ReaderFrom)
	return ok
}

// sendFiler is a tier copy that says whether net/http can send it with
// sendfile (through its syscall.Conn), which costs less than a write of
// its bytes.
type sendFiler interface{ SendFile() bool }

// prefetchBytes is how much of a remote original is read before the
// response's headers: all of a small image, and for a larger file enough
// to know the store answers.
// It matches source.Bucket's first ranged read, so a whole original of
// up to this size is one GET and one write.
const prefetchBytes = 256 << 10

// prefetch reads the first bytes of a remote original before any header
// is written, so that a store that is down or hanging (source.Bucket
// times out) gets a 503 rather than a 200 cut short. A failure after
// them can still only cut the connection. Conditional and Range GETs and
// HEAD skip it: they mostly read nothing or another part of the file.
func prefetch(rs io.ReadSeeker, size int64) (*prefetched, error) {
	buf := headPool.Get().(*[]byte)
	head := (*buf)[:min(max(size, 0), prefetchBytes)]
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		headPool.Put(buf)
		return nil, err
	}
	n, err := io.ReadFull(rs, head)
	if err != nil {
		headPool.Put(buf)
		return nil, err // a file shorter than its size is broken too
	}
	return &prefetched{rs: rs, head: head[:n], buf: buf, size: size, pos: int64(n)}, nil
}

// headPool holds prefetch buffers: a busy replica would otherwise make
// 64 KiB of garbage per original it serves from a bucket.
var headPool = sync.Pool{New: func() any { b := make([]byte, prefetchBytes); return &b }}

// release gives the head's buffer back once the response is written.
func (p *prefetched) release() {
	if p.buf != nil {
		p.head = nil
		headPool.Put(p.buf)
		p.buf = nil
	}
}

// prefetched serves the prefetched head from memory and the rest from the
// file, which it leaves where the head ended, so a whole-file read goes
// on with the store's open ranged read.
type prefetched struct {
	rs   io.ReadSeeker
	head []byte
	buf  *[]byte // head's pooled buffer
	size int64
	off  int64 // the reader's offset
	pos  int64 // rs's offset
}

func (p *prefetched) Read(b []byte) (int, error) {
	if p.off < int64(len(p.head)) {
		n := copy(b, p.head[p.off:])
		p.off += int64(n)
		return n, nil
	}
	if p.pos != p.off {
		if _, err := p.rs.Seek(p.off, io.SeekStart); err != nil {
			return 0, err
		}
		p.pos = p.off
	}
	n, err := p.rs.Read(b)
	p.off += int64(n)
	p.pos += int64(n)
	return n, err
}

// writeTo writes the rest of the file from the reader's offset to its
// end through the head's buffer, a buffer at a time. A read that fails or
// ends early cuts the response short (the headers are out): the client
// sees fewer bytes than Content-Length.
func (p *prefetched) writeTo(w io.Writer) {
	if p.off < int64(len(p.head)) {
		m, err := w.Write(p.head[p.off:])
		p.off += int64(m)
		if err != nil {
			return
		}
	}
	buf := (*p.buf)[:cap(*p.buf)]
	p.head = nil // the buffer is reused below
	for p.off < p.size {
		m, err := io.ReadFull(p, buf[:min(int64(len(buf)), p.size-p.off)])
		if m > 0 {
			if _, werr := w.Write(buf[:m]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *prefetched) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += p.off
	case io.SeekEnd:
		offset += p.size
	default:
		return 0, errors.New("prefetched: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("prefetched: negative offset")
	}
	p.off = offset
	return offset, nil
}
