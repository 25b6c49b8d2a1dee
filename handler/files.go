package handler

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/keyhole-dev/keyhole/internal/pathrule"
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
// identity is (name, size, modification time): a changed file gets a new
// ETag, so caches never mix versions.
func (f *file) etag(variant string) string {
	h := sha256.New()
	h.Write([]byte(f.name))
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(f.info.Size()))
	binary.BigEndian.PutUint64(b[8:], uint64(f.info.ModTime().UnixNano()))
	h.Write(b[:])
	h.Write([]byte{0})
	h.Write([]byte(variant))
	return `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
}

// originalETag is the strong validator of an unchanged file: its size and
// modification time, as nginx and most file servers use. Cheaper than
// hashing; a changed file gets a new ETag.
func (f *file) originalETag() string {
	b := make([]byte, 0, 32)
	b = append(b, '"')
	b = strconv.AppendInt(b, f.info.ModTime().UnixNano(), 36)
	b = append(b, '-')
	b = strconv.AppendInt(b, f.info.Size(), 36)
	return string(append(b, '"'))
}

// open opens a cleaned path; every failure (missing, a folder, a symlink
// leaving the root, a permission error) is reported as not found.
func (h *Handler) open(p string, dst *file) bool {
	name := strings.TrimPrefix(p, "/")
	if name == "" || !fs.ValidPath(name) {
		return false
	}
	f, err := h.cfg.Files.Open(name)
	if err != nil {
		return false
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		f.Close()
		return false
	}
	*dst = file{f: f, name: name, info: info}
	return true
}

// stat fills dst with the identity of a regular file at a cleaned path,
// without opening it; dst.f stays nil. Failures are not found, as in open.
func (h *Handler) stat(p string, dst *file) bool {
	name := strings.TrimPrefix(p, "/")
	if name == "" || !fs.ValidPath(name) {
		return false
	}
	info, err := fs.Stat(h.cfg.Files, name)
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	*dst = file{name: name, info: info}
	return true
}

func (h *Handler) serveOriginal(w http.ResponseWriter, r *http.Request, src *file) {
	w.Header()["Etag"] = []string{src.originalETag()}
	rs, ok := src.f.(io.ReadSeeker)
	if !ok {
		// An fs.FS whose files cannot seek: read it whole, within the
		// source byte limit.
		if src.info.Size() > h.cfg.Limits.MaxSourceBytes {
			h.fail(w, http.StatusRequestEntityTooLarge, "file too large")
			return
		}
		data, err := io.ReadAll(io.LimitReader(src.f, h.cfg.Limits.MaxSourceBytes))
		if err != nil {
			h.fail(w, http.StatusNotFound, "not found")
			return
		}
		rs = bytes.NewReader(data)
	}
	http.ServeContent(w, r, src.name, src.info.ModTime(), rs)
}

// readSource opens and reads the file whose identity src holds. A file
// replaced since it was stat'ed is not transformed under the old identity
// (the variant would be cached under the wrong key): errChanged, 503.
func (h *Handler) readSource(src *file) ([]byte, error) {
	var f file
	if !h.open("/"+src.name, &f) {
		return nil, errChanged
	}
	defer f.f.Close()
	if f.info.Size() != src.info.Size() || !f.info.ModTime().Equal(src.info.ModTime()) {
		return nil, errChanged
	}
	return h.readAll(&f)
}

// errChanged: the source changed between stat and read.
var errChanged = errors.New("source changed")

func (h *Handler) readAll(src *file) ([]byte, error) {
	if s, ok := src.f.(io.Seeker); ok {
		if _, err := s.Seek(0, io.SeekStart); err != nil {
			return nil, errUnreadable
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
		return nil, errUnreadable
	}
	rest, err := io.ReadAll(io.LimitReader(src.f, limit+1-int64(n)))
	if err != nil {
		return nil, errUnreadable
	}
	if data := append(buf, rest...); int64(len(data)) <= limit {
		return data, nil
	}
	return nil, transform.ErrSourceTooLarge
}

var errUnreadable = errors.New("source unreadable")

// readWatermark reads a watermark through the same fs.FS and path rules as
// requests, only from the watermark folders (Config.Watermarks); dot-files
// stay hidden unless enabled. A path outside the folders is refused as a
// missing watermark, so the answer does not tell which files exist.
func (h *Handler) readWatermark(name string) ([]byte, error) {
	p, err := CleanPath(name, h.cfg.MaxPathBytes)
	if err != nil || (!h.cfg.AllowDotFiles && hasDotSegment(p)) || !pathrule.InFolders(p, h.cfg.Watermarks) {
		return nil, transform.ErrWatermarkNotFound
	}
	src := new(file)
	if !h.open(p, src) {
		return nil, transform.ErrWatermarkNotFound
	}
	defer src.f.Close()
	if src.info.Size() > h.cfg.Limits.MaxSourceBytes {
		return nil, transform.ErrSourceTooLarge
	}
	return h.readAll(src)
}
