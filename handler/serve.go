package handler

import (
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

// serveFile answers an authorised request: its parameters, then its file,
// then the original or a variant. A missing file is 404 whatever the
// parameters say; every other failure is an outcome (outcome.go).
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, req *request, src *file) {
	res, perr := h.params(req)
	variant := perr == nil && h.cfg.Engine != nil && res.params.NeedsProcessing()
	// A variant needs only the file's identity (a cache hit never reads
	// it); an original is opened at once.
	if variant || perr != nil {
		if err := h.stat(req.path, src); err != nil {
			h.answer(w, r, req.prot, classify(err), err)
			return
		}
	} else {
		if err := h.openOriginal(req.path, src); err != nil {
			h.answer(w, r, req.prot, classify(err), err)
			return
		}
		defer src.f.Close()
	}
	if perr != nil {
		o := classify(perr)
		if o == outcomeTooMuchWork {
			o = outcomeBadParams // parsing and merging refuse parameters
		}
		h.answer(w, r, req.prot, o, perr)
		return
	}
	params, ignored := res.params, res.ignored
	if h.cfg.Engine == nil && params.NeedsProcessing() {
		// No engine: the original is served unchanged, and the response
		// says which parameters were not applied (Config.Engine).
		ignored = append(slices.Clone(ignored), unprocessed(res.canonical)...)
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
		h.serveVariant(w, r, req.prot, src, params, res.canonical)
		return
	}
	h.serveOriginal(w, r, req.prot, src)
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
