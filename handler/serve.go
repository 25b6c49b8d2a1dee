package handler

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

// request is one authorised request on its way to a file.
type request struct {
	path     string
	prot     *protection
	claims   *token.Claims // nil unless a token was verified
	query    url.Values
	rawQuery string
}

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

func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, req *request, src *file) {
	params, canonical, ignored, err := h.params(req)
	variant := err == nil && h.cfg.Engine != nil && params.NeedsProcessing()
	// A missing file is 404 whatever the parameters say. A variant needs
	// only the file's identity (a cache hit never reads it); an original
	// is opened at once.
	if variant || err != nil {
		if !h.stat(req.path, src) {
			h.fail(w, http.StatusNotFound, "not found")
			return
		}
	} else {
		if !h.open(req.path, src) {
			h.fail(w, http.StatusNotFound, "not found")
			return
		}
		defer src.f.Close()
	}
	if errors.Is(err, errNoEngine) {
		h.fail(w, http.StatusServiceUnavailable, "image processing is not available")
		return
	}
	if err != nil {
		h.badParams(w, r, err)
		return
	}
	if h.cfg.Engine == nil && params.NeedsProcessing() {
		// No engine: the original is served unchanged, and the response
		// says which parameters were not applied (Config.Engine).
		ignored = append(slices.Clone(ignored), unprocessed(canonical)...)
		slices.Sort(ignored)
		ignored = slices.Compact(ignored)
	}
	if len(ignored) > 0 {
		w.Header().Set("X-Keyhole-Ignored-Params", strings.Join(ignored, ", "))
	}
	hdr := w.Header()
	hdr["Cache-Control"] = h.cacheControl(req)
	hdr["X-Content-Type-Options"] = nosniff
	if params.Download {
		name := params.DownloadName
		if name == "" {
			name = path.Base(req.path)
		}
		hdr.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	}
	if variant {
		h.serveVariant(w, r, src, params, canonical)
		return
	}
	h.serveOriginal(w, r, src)
}

// unprocessed returns the names in a canonical parameter string that only
// an engine can apply (all but dl).
func unprocessed(canonical string) []string {
	var names []string
	for pair := range strings.SplitSeq(canonical, "&") {
		if name, _, _ := strings.Cut(pair, "="); name != "" && name != "dl" {
			names = append(names, name)
		}
	}
	return names
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

// paramKey identifies the inputs of a parameter resolution: the
// protection (strict profile, lock), the verified claims (the token's args;
// the verified-token cache hands out one *Claims per token) and the raw
// query. Profiles are checked on a hit.
type paramKey struct {
	prot     *protection
	claims   *token.Claims
	rawQuery string
}

// resolution is a cached successful parameter resolution. It is shared and
// read-only.
type resolution struct {
	profiles  *profileSet
	params    *transform.Params
	canonical string
	ignored   []string
}

// maxCachedQuery bounds the queries whose resolution is cached, so the
// cache's memory stays bounded (entries × this).
const maxCachedQuery = 2048

// params merges and validates the request's parameter layers (SPEC §3).
// Successful resolutions are cached: a variant-cache hit then costs no
// merging, parsing or canonicalising.
func (h *Handler) params(req *request) (*transform.Params, string, []string, error) {
	ps := h.profiles.Load()
	if req.prot.Kind != KindStrictProfile && ps.def == "" && (req.claims == nil || req.claims.Args == nil) && !h.hasInsecure(req.query) {
		// Nothing to merge (the common case of an original with only a
		// token): the zero Params, without the work or a cache lookup.
		return &noParams, "", nil, nil
	}
	cacheable := h.resolved != nil && len(req.rawQuery) <= maxCachedQuery
	key := paramKey{req.prot, req.claims, req.rawQuery}
	if cacheable {
		if v, ok := h.resolved.Get(key); ok && v.profiles == ps {
			return v.params, v.canonical, v.ignored, nil
		}
	}
	p, canonical, ignored, err := h.resolve(req, ps)
	if err == nil && cacheable {
		h.resolved.Add(key, &resolution{profiles: ps, params: p, canonical: canonical, ignored: ignored})
	}
	return p, canonical, ignored, err
}

func (h *Handler) resolve(req *request, ps *profileSet) (*transform.Params, string, []string, error) {
	layers := transform.Layers{Default: ps.def, Lock: req.prot.Lock}
	if req.prot.Kind == KindStrictProfile {
		layers.Strict = req.prot.Profile
	}
	layers.Insecure = h.insecure(req.query)
	if req.claims != nil && req.claims.Args != nil {
		secure, err := transform.FromArgs(req.claims.Args)
		if err != nil {
			return nil, "", nil, err
		}
		layers.Secure = secure
		if h.cfg.Engine == nil {
			if err := h.secureNeedsEngine(secure, ps.profiles); err != nil {
				return nil, "", nil, err
			}
		}
	}
	merged, ignored, err := transform.Merge(layers, ps.profiles)
	if err != nil {
		return nil, "", nil, err
	}
	p, err := transform.Parse(merged, h.cfg.Limits)
	if err != nil {
		return nil, "", nil, err
	}
	return p, transform.Canonical(merged), ignored, nil
}

// errNoEngine: the token locks parameters that only an engine can apply.
var errNoEngine = errors.New("no engine")

// secureNeedsEngine fails closed when there is no engine and the token's
// args (or the profile they name) ask for processing: serving the original
// would drop a watermark or a size limit the token locks.
func (h *Handler) secureNeedsEngine(secure map[string]string, profiles map[string]map[string]string) error {
	merged, _, err := transform.Merge(transform.Layers{Secure: secure}, profiles)
	if err != nil {
		return err
	}
	p, err := transform.Parse(merged, h.cfg.Limits)
	if err != nil {
		return err
	}
	if p.NeedsProcessing() {
		return errNoEngine
	}
	return nil
}

// noParams is the zero Params shared by every request that has none; it
// is never modified.
var noParams transform.Params

// hasInsecure reports whether the query has a parameter other than the
// token.
func (h *Handler) hasInsecure(q url.Values) bool {
	for name := range q {
		if name != h.cfg.TokenParam {
			return true
		}
	}
	return false
}

// insecure returns the query's parameters without the token, or nil when
// the token is all there is.
func (h *Handler) insecure(q url.Values) map[string]string {
	if !h.hasInsecure(q) {
		return nil
	}
	m := transform.FromQuery(q)
	delete(m, h.cfg.TokenParam)
	return m
}

// badParams answers 400 with every failing parameter, as plain text or as
// JSON when the client prefers it.
func (h *Handler) badParams(w http.ResponseWriter, r *http.Request, err error) {
	var perrs *transform.Errors
	if !errors.As(err, &perrs) {
		h.fail(w, http.StatusBadRequest, "invalid parameters")
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		body, _ := json.Marshal(struct {
			Error  string                 `json:"error"`
			Params []transform.ParamError `json:"errors"`
		}{"invalid parameters", perrs.List})
		hdr := w.Header()
		hdr.Set("Content-Type", "application/json")
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusBadRequest)
		w.Write(append(body, '\n'))
		return
	}
	h.fail(w, http.StatusBadRequest, "invalid parameters\n"+perrs.Error())
}

// cacheControl returns the Cache-Control of a successful response: public
// files may be cached for PublicMaxAge; protected ones privately and never
// past the token's exp.
func (h *Handler) cacheControl(req *request) []string {
	if req.prot == h.public {
		return h.publicCache
	}
	age := h.cfg.PublicMaxAge
	if req.claims != nil {
		if left := req.claims.ExpiresAt.Sub(h.cfg.Now()); left < age {
			age = left
		}
	}
	if age < time.Second {
		return privateNoStore
	}
	return []string{"private, max-age=" + strconv.Itoa(int(age/time.Second))}
}

var privateNoStore = []string{"private, no-store"}

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

// serveVariant answers with a transformed image: from the variant cache,
// or computed once for all identical concurrent requests, within the
// concurrency limit.
func (h *Handler) serveVariant(w http.ResponseWriter, r *http.Request, src *file, p *transform.Params, canonical string) {
	choice, vary := transform.Negotiate(p.Format, r.Header.Get("Accept"), transform.FormatOriginal)
	if vary {
		w.Header().Add("Vary", "Accept")
	}
	// The key holds everything the output depends on, and nothing it does
	// not (never the token), so a new token for the same image is a hit.
	key := canonical + "\x00" + string(choice)
	etag := src.etag(key)
	w.Header().Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	out, err := h.variant(r.Context(), etag, src, p, choice)
	if err != nil {
		h.variantFailed(w, err)
		return
	}
	w.Header().Set("Content-Type", out.Format.ContentType())
	http.ServeContent(w, r, "", src.info.ModTime(), bytes.NewReader(out.Data))
}

func etagMatch(header, etag string) bool {
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimSpace(part)
		if part == "*" || part == etag || strings.TrimPrefix(part, "W/") == etag {
			return true
		}
	}
	return false
}

// errBusy reports that no transform slot came free within QueueTimeout.
var errBusy = errors.New("transform queue full")

func (h *Handler) variant(ctx context.Context, key string, src *file, p *transform.Params, choice transform.Format) (*transform.Output, error) {
	if h.variants != nil {
		if out, ok := h.variants.get(key); ok {
			h.metrics.hits.Inc()
			return out, nil
		}
	}
	h.metrics.misses.Inc()
	v, err, _ := h.flight.Do(key, func() (any, error) {
		// A flight for key may have finished between the lookup above and
		// Do: look again rather than transform twice.
		if h.variants != nil {
			if out, ok := h.variants.get(key); ok {
				return out, nil
			}
		}
		// The work is shared by every waiting request, so it must not
		// die with the first one's connection; it has its own deadline.
		ctx := context.WithoutCancel(ctx)
		wait, cancel := context.WithTimeout(ctx, h.cfg.Limits.QueueTimeout)
		defer cancel()
		if err := h.slots.Acquire(wait, 1); err != nil {
			return nil, errBusy
		}
		defer h.slots.Release(1)
		h.metrics.inFlight.Inc()
		defer h.metrics.inFlight.Dec()
		out, err := h.transform(ctx, src, p, choice)
		if err == nil && h.variants != nil {
			h.variants.add(key, out)
		}
		return out, err
	})
	if err != nil {
		return nil, err
	}
	return v.(*transform.Output), nil
}

func (h *Handler) transform(ctx context.Context, src *file, p *transform.Params, choice transform.Format) (*transform.Output, error) {
	lim := h.cfg.Limits
	if src.info.Size() > lim.MaxSourceBytes {
		return nil, transform.ErrSourceTooLarge
	}
	data, err := h.readSource(src)
	if err != nil {
		return nil, err
	}
	srcFormat := transform.Sniff(data)
	if srcFormat == "" || (!lim.AllowVector && (srcFormat == transform.FormatSVG || srcFormat == transform.FormatPDF)) {
		return nil, transform.ErrNotImage
	}
	out, _ := transform.Negotiate(choice, "", srcFormat)
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	start := time.Now()
	res, err := h.cfg.Engine.Process(ctx, transform.Request{
		Source:   data,
		Params:   p,
		Format:   out,
		ReadFile: h.readWatermark,
	})
	if err != nil {
		return nil, err
	}
	h.metrics.seconds.WithLabelValues(string(res.Format)).Observe(time.Since(start).Seconds())
	return res, nil
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
// requests; dot-files stay hidden unless enabled.
func (h *Handler) readWatermark(name string) ([]byte, error) {
	p, err := CleanPath(name, h.cfg.MaxPathBytes)
	if err != nil || (!h.cfg.AllowDotFiles && hasDotSegment(p)) {
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

// variantFailed maps a transform error to a status and a fixed text; the
// cause goes to the log only.
func (h *Handler) variantFailed(w http.ResponseWriter, err error) {
	var (
		status int
		msg    string
		reason string
	)
	switch {
	case errors.Is(err, errChanged):
		w.Header().Set("Retry-After", "1")
		status, msg, reason = http.StatusServiceUnavailable, "file changed, retry", rejectError
	case errors.Is(err, errBusy):
		w.Header().Set("Retry-After", "1")
		status, msg, reason = http.StatusServiceUnavailable, "too many transforms in progress, retry shortly", rejectBusy
	case errors.Is(err, transform.ErrNotImage):
		status, msg, reason = http.StatusBadRequest, "not an image", rejectInvalid
	case errors.Is(err, transform.ErrSourceTooLarge):
		status, msg, reason = http.StatusRequestEntityTooLarge, "source image too large", rejectTooLarge
	case errors.Is(err, transform.ErrOutputTooLarge):
		status, msg, reason = http.StatusBadRequest, "output image too large", rejectTooLarge
	case errors.Is(err, transform.ErrWatermarkNotFound):
		status, msg, reason = http.StatusBadRequest, "watermark not found", rejectInvalid
	case errors.Is(err, context.DeadlineExceeded):
		w.Header().Set("Retry-After", "1")
		status, msg, reason = http.StatusServiceUnavailable, "transform took too long", rejectTimeout
	default:
		h.log.Error("transform failed", "error_kind", errorKind(err))
		status, msg, reason = http.StatusInternalServerError, "transform failed", rejectError
	}
	h.metrics.rejected.WithLabelValues(reason).Inc()
	h.fail(w, status, msg)
}

// errorKind names an unexpected error's type for logs, without its text
// (which may hold paths).
func errorKind(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
	}
	return fmt.Sprintf("%T", err)
}
