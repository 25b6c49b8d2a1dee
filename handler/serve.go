package handler

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keyhole-dev/keyhole/token"
)

// request is one authorised request on its way to a file.
type request struct {
	path     string
	prot     *protection
	claims   *token.Claims // nil unless a token was verified
	token    string        // the verified token, "" when claims is nil
	query    url.Values
	rawQuery string
}

func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, req *request, src *file) {
	res, err := h.params(req)
	if res == nil {
		res = &noResolution
	}
	params, canonical, ignored := res.params, res.canonical, res.ignored
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
