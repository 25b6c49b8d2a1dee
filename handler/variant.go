package handler

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/keyhole-dev/keyhole/transform"
)

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
