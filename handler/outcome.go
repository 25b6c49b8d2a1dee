package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/keyhole-dev/keyhole/transform"
)

// fail writes a fixed plain-text error body. msg must never hold a secret,
// a file system path or Go error text.
func (h *Handler) fail(w http.ResponseWriter, status int, msg string) {
	hdr := w.Header()
	hdr.Del("Content-Length")
	hdr.Del("ETag")
	hdr.Del("Last-Modified")
	hdr.Del("Content-Disposition")
	hdr["Content-Type"] = textUTF
	hdr["X-Content-Type-Options"] = nosniff
	hdr["Cache-Control"] = noStore
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
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
