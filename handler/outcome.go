package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/keyhole-dev/keyhole/transform"
)

// outcome is the answer to an authorised request that ends without its
// file or variant: the closed table after authorisation, as token.Result
// is the table before it. Each row fixes the status, the body text, the
// reason label of keyhole_transform_rejected_total, Retry-After and what
// is logged. Nothing else in the package picks a status or an error text
// once a request is authorised.
type outcome uint8

// The closed set of outcomes; outcomeTable holds their rows.
const (
	outcomeNotFound       outcome = iota // no regular file at the path, or a hidden dot-file
	outcomeBadQuery                      // the query string does not parse
	outcomeBadParams                     // the parameters are refused; the body lists them
	outcomeNotImage                      // parameters apply but the source is not a supported image
	outcomeWatermark                     // the watermark is not allowed, missing or not an image
	outcomeFileTooLarge                  // an original that cannot seek is over MaxSourceBytes
	outcomeSourceTooLarge                // the source's bytes or pixels are over the limits
	outcomeOutputTooLarge                // the output would be over the limits
	outcomeTooMuchWork                   // the engine refused the planned work; the body lists the parameters
	outcomeBusy                          // no transform slot came free within QueueTimeout
	outcomeTimeout                       // the engine stopped the transform at Limits.Timeout
	outcomeCanceled                      // every client waiting for the transform left; nothing is sent
	outcomeChanged                       // the file changed while it was read
	outcomeUnavailable                   // the file store failed or timed out
	outcomeNoEngine                      // a token or profile locks parameters and there is no engine
	outcomeInternal                      // anything else the engine returned
	outcomeClosed                        // the Handler is closed (Close): no transform starts
	numOutcomes
)

// statusClientClosed is counted in keyhole_requests_total for a request
// whose client left before the answer (nginx's 499); it is never sent.
const statusClientClosed = 499

// Reasons of keyhole_transform_rejected_total, pre-created at zero.
const (
	rejectBusy        = "busy"
	rejectTooLarge    = "too_large"
	rejectTimeout     = "timeout"
	rejectCanceled    = "canceled"
	rejectInvalid     = "invalid"
	rejectChanged     = "changed"
	rejectUnavailable = "unavailable"
	rejectNoEngine    = "no_engine"
	rejectError       = "error"
	rejectClosed      = "closed"
)

// rejectReasons lists every reason label, for pre-creating the series.
var rejectReasons = []string{
	rejectBusy, rejectTooLarge, rejectTimeout, rejectCanceled, rejectInvalid,
	rejectChanged, rejectUnavailable, rejectNoEngine, rejectError, rejectClosed,
}

// noLog marks a row whose outcome is not logged.
const noLog slog.Level = -100

type outcomeRow struct {
	name       string     // the row's name in logs and tests
	status     int        // statusClientClosed: nothing is sent
	text       string     // the body's first line, safe for clients
	reason     string     // keyhole_transform_rejected_total label; "" is not counted there
	retryAfter bool       // send "Retry-After: 1"
	list       bool       // the body lists the refused parameters (*transform.Errors)
	level      slog.Level // noLog: not logged; otherwise the level of one rate-limited line
}

var outcomeTable = [numOutcomes]outcomeRow{
	outcomeNotFound:       {"not found", 404, "not found", "", false, false, noLog},
	outcomeBadQuery:       {"bad query", 400, "bad query string", "", false, false, noLog},
	outcomeBadParams:      {"bad params", 400, "invalid parameters", "", false, true, noLog},
	outcomeNotImage:       {"not an image", 400, "not an image", rejectInvalid, false, false, noLog},
	outcomeWatermark:      {"watermark refused", 400, "watermark not available", rejectInvalid, false, false, slog.LevelInfo},
	outcomeFileTooLarge:   {"file too large", 413, "file too large", rejectTooLarge, false, false, noLog},
	outcomeSourceTooLarge: {"source too large", 413, "source image too large", rejectTooLarge, false, false, noLog},
	outcomeOutputTooLarge: {"output too large", 400, "output image too large", rejectTooLarge, false, false, noLog},
	outcomeTooMuchWork:    {"too much work", 400, "invalid parameters", rejectTooLarge, false, true, slog.LevelInfo},
	outcomeBusy:           {"busy", 503, "too many transforms in progress, retry shortly", rejectBusy, true, false, slog.LevelWarn},
	outcomeTimeout:        {"timeout", 503, "transform took too long", rejectTimeout, true, false, slog.LevelWarn},
	outcomeCanceled:       {"canceled", statusClientClosed, "", rejectCanceled, false, false, slog.LevelInfo},
	outcomeChanged:        {"file changed", 503, "file changed, retry", rejectChanged, true, false, slog.LevelInfo},
	outcomeUnavailable:    {"source unavailable", 503, "source unavailable", rejectUnavailable, true, false, slog.LevelError},
	outcomeNoEngine:       {"no engine", 503, "image processing is not available", rejectNoEngine, false, false, slog.LevelWarn},
	outcomeInternal:       {"internal", 500, "transform failed", rejectError, false, false, slog.LevelError},
	outcomeClosed:         {"shutting down", 503, "shutting down, retry", rejectClosed, true, false, noLog},
}

// Errors of the handler's own stages, mapped to outcomes by classify.
var (
	// errBusy: no transform slot came free within QueueTimeout.
	errBusy = errors.New("transform queue full")
	// errChanged: the source changed between stat and read.
	errChanged = errors.New("source changed")
	// errUnavailable: the file store failed (not a missing file).
	errUnavailable = errors.New("source unavailable")
	// errNoEngine: the token locks parameters that only an engine can apply.
	errNoEngine = errors.New("no engine")
	// errNotFound: no regular file at the path.
	errNotFound = errors.New("not found")
)

// errorOutcomes maps sentinel errors to outcomes, first match wins: the
// watermark's row comes before those of the errors it may wrap.
var errorOutcomes = []struct {
	err error
	o   outcome
}{
	{errNotFound, outcomeNotFound},
	{ErrClosed, outcomeClosed},
	{errBusy, outcomeBusy},
	{errChanged, outcomeChanged},
	{errUnavailable, outcomeUnavailable},
	{errNoEngine, outcomeNoEngine},
	{transform.ErrWatermarkNotFound, outcomeWatermark},
	{transform.ErrNotImage, outcomeNotImage},
	{transform.ErrSourceTooLarge, outcomeSourceTooLarge},
	{transform.ErrOutputTooLarge, outcomeOutputTooLarge},
	{context.DeadlineExceeded, outcomeTimeout},
	{context.Canceled, outcomeCanceled},
}

// classify returns the outcome of a failed variant.
func classify(err error) outcome {
	for _, row := range errorOutcomes {
		if errors.Is(err, row.err) {
			return row.o
		}
	}
	var perrs *transform.Errors
	if errors.As(err, &perrs) {
		return outcomeTooMuchWork
	}
	return outcomeInternal
}

// answer ends an authorised request with outcome o: it counts the reason,
// logs one rate-limited line when the row says so (cause err, shown only
// through errorKind) and writes the row's status and text. For a row that
// lists parameters, the *transform.Errors in err is listed in the body.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, prot *protection, o outcome, err error) {
	row := &outcomeTable[o]
	if row.reason != "" {
		h.metrics.rejected.WithLabelValues(row.reason).Inc()
	}
	if row.level != noLog {
		h.logs.log(r.Context(), row.level, "request failed: "+row.name, "protection", prot.Name, "outcome", row.name, "error_kind", errorKind(err))
	}
	if row.status == statusClientClosed {
		if sw, ok := w.(*statusWriter); ok && sw.code == 0 {
			sw.code = statusClientClosed
		}
		return
	}
	if row.retryAfter {
		w.Header()["Retry-After"] = retryOne
	}
	var perrs *transform.Errors
	if row.list && errors.As(err, &perrs) {
		h.listParams(w, r, row, perrs)
		return
	}
	h.fail(w, row.status, row.text)
}

var retryOne = []string{"1"}

// listParams answers with every refused parameter, as plain text or as
// JSON when the client prefers it.
func (h *Handler) listParams(w http.ResponseWriter, r *http.Request, row *outcomeRow, perrs *transform.Errors) {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		body, _ := json.Marshal(struct {
			Error  string                 `json:"error"`
			Params []transform.ParamError `json:"errors"`
		}{row.text, perrs.List})
		hdr := w.Header()
		hdr.Set("Content-Type", "application/json")
		hdr["X-Content-Type-Options"] = nosniff
		hdr["Cache-Control"] = noStore
		w.WriteHeader(row.status)
		w.Write(append(body, '\n'))
		return
	}
	h.fail(w, row.status, row.text+"\n"+perrs.Error())
}

// fail writes a fixed plain-text error body. msg must never hold a secret,
// a file system path or Go error text.
func (h *Handler) fail(w http.ResponseWriter, status int, msg string) {
	hdr := w.Header()
	hdr.Del("Content-Length")
	hdr.Del("ETag")
	hdr.Del("Last-Modified")
	hdr.Del("Content-Disposition")
	hdr.Del("Content-Security-Policy")
	hdr["Content-Type"] = textUTF
	hdr["X-Content-Type-Options"] = nosniff
	hdr["Cache-Control"] = noStore
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
}

// knownErrors are the errors whose text errorKind may repeat: fixed
// sentinel texts that name a stage or a cause, never a path.
var knownErrors = []error{
	errNotFound, errBusy, errChanged, errUnavailable, errNoEngine, errPanic,
	transform.ErrWatermarkNotFound, transform.ErrNotImage, transform.ErrSourceTooLarge, transform.ErrOutputTooLarge,
	context.DeadlineExceeded, context.Canceled,
	fs.ErrNotExist, fs.ErrPermission, fs.ErrInvalid, fs.ErrClosed,
}

// errorKind describes err for operators without its text, which may hold
// paths or user input: the texts of the known sentinels it wraps (in the
// order of knownErrors), the Kind() of the first error in its chain that
// has one (an engine's stage; it must be a fixed string), then the Go type
// of its innermost cause, e.g. "watermark not found: not an image:
// *errors.errorString".
func errorKind(err error) string {
	if err == nil {
		return ""
	}
	var parts []string
	for _, known := range knownErrors {
		if errors.Is(err, known) {
			parts = append(parts, known.Error())
		}
	}
	var k interface{ Kind() string }
	if errors.As(err, &k) {
		parts = append(parts, k.Kind())
	}
	leaf := err
	for {
		switch u := leaf.(type) {
		case interface{ Unwrap() error }:
			if next := u.Unwrap(); next != nil {
				leaf = next
				continue
			}
		case interface{ Unwrap() []error }:
			// fmt.Errorf("%w: %w", sentinel, cause): the cause is last.
			if list := u.Unwrap(); len(list) > 0 {
				leaf = list[len(list)-1]
				continue
			}
		}
		break
	}
	return strings.Join(append(parts, fmt.Sprintf("%T", leaf)), ": ")
}
