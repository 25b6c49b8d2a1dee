package handler

import (
	"bytes"
	"context"
	"errors"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/keyhole-dev/keyhole/internal/pathrule"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

// serveVariant answers with a transformed image: from the variant cache,
// or computed once for all identical concurrent requests, within the
// concurrency limit.
func (h *Handler) serveVariant(w http.ResponseWriter, r *http.Request, prot *protection, src *file, p *transform.Params, canonical string) {
	choice, vary := p.NegotiateFor(r.Header.Get("Accept"), transform.FormatOriginal)
	if vary {
		w.Header().Add("Vary", "Accept")
	}
	// The key holds everything the output depends on, and nothing it does
	// not (never the token), so a new token for the same image is a hit:
	// the engine's version, the canonical parameters, the format and the
	// watermark's identity.
	wm, err := h.watermarkIdentity(p)
	if err != nil {
		h.answer(w, r, prot, classify(err), err)
		return
	}
	key := h.engineVersion + "\x00" + canonical + "\x00" + string(choice) + wm
	etag := src.etag(key)
	w.Header().Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead && !h.cached(etag) {
		// HEAD never runs a transform: from the variant cache it gets
		// every header; otherwise the type and validators, without a
		// Content-Length (RFC 9110 allows it for HEAD).
		if ct := variantType(choice, src.name); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("Last-Modified", src.info.ModTime().UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusOK)
		return
	}
	out, err := h.variant(r.Context(), etag, src, p, choice)
	if err != nil {
		h.answer(w, r, prot, classify(err), err)
		return
	}
	ct := out.Format.ContentType()
	w.Header().Set("Content-Type", ct)
	if activeType(ct) {
		w.Header()["Content-Security-Policy"] = sandboxCSP
	}
	http.ServeContent(w, r, "", src.info.ModTime(), bytes.NewReader(out.Data))
}

// cached reports whether the variant cache holds key.
func (h *Handler) cached(key string) bool {
	if h.variants == nil {
		return false
	}
	_, ok := h.variants.get(key)
	return ok
}

// variantType is the Content-Type a variant in format choice will have,
// "" when it depends on the source's bytes (an original format whose
// name has no known extension).
func variantType(choice transform.Format, name string) string {
	if choice != transform.FormatOriginal {
		return choice.ContentType()
	}
	switch ct := mime.TypeByExtension(path.Ext(name)); ct {
	case "image/jpeg", "image/png", "image/webp", "image/gif", "image/avif":
		return ct // formats the engine writes back as they are
	}
	return ""
}

// watermarkIdentity returns what a variant's key holds of its
// watermarks: the watermark folders (Config.Watermarks) and each
// watermark file's identity, layer by layer. A reload that removes the folder, or a replaced watermark
// file, therefore gets a new key, in memory and in the shared store; a
// watermark that may not be read is refused before any cache is asked.
func (h *Handler) watermarkIdentity(p *transform.Params) (string, error) {
	if noWatermark(p) {
		return "", nil
	}
	id := "\x00wm\x00" + strings.Join(h.cfg.Watermarks, "\x01")
	for _, name := range p.Watermarks() {
		wp, err := token.CleanPath(name, h.cfg.MaxPathBytes)
		if err != nil || (!h.cfg.AllowDotFiles && hasDotSegment(wp)) || !pathrule.InFolders(wp, h.cfg.Watermarks) {
			return "", transform.ErrWatermarkNotFound
		}
		var f file
		if err := h.stat(wp, &f); err != nil {
			if errors.Is(err, errNotFound) {
				return "", transform.ErrWatermarkNotFound
			}
			return "", err
		}
		id += "\x00" + f.etag("")
	}
	return id, nil
}

// noWatermark reports whether p has no watermark field set in any layer.
func noWatermark(p *transform.Params) bool {
	if p.Watermark != "" {
		return false
	}
	for i := range p.MoreWatermarks {
		if !p.MoreWatermarks[i].IsZero() {
			return false
		}
	}
	return true
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

// variant returns the variant under key: from the cache, or from the one
// flight computing it. A request that finds a flight running joins it
// (keyhole_variant_flight_joins_total); the request that starts one counts a
// cache miss. When ctx ends first, variant returns ctx's error at once, and
// the flight is cancelled once no request waits for it any more.
func (h *Handler) variant(ctx context.Context, key string, src *file, p *transform.Params, choice transform.Format) (*transform.Output, error) {
	if h.variants != nil {
		if out, ok := h.variants.get(key); ok {
			h.metrics.hits.Inc()
			return out, nil
		}
	}
	out, err := h.flight.do(ctx, key, h.metrics.joins.Inc, func(ctx context.Context) (*transform.Output, error) {
		// A flight for key may have finished between the lookup above and
		// do: look again rather than transform twice.
		if h.variants != nil {
			if out, ok := h.variants.get(key); ok {
				h.metrics.hits.Inc()
				return out, nil
			}
		}
		// Another replica may have computed it: the shared store is
		// asked before the engine.
		if out := h.fromStore(ctx, key, src); out != nil {
			if h.variants != nil {
				h.variants.add(key, out)
			}
			return out, nil
		}
		h.metrics.misses.Inc()
		// Close waits for this transform; after Close none starts.
		ctx, done, err := h.life.begin(ctx)
		if err != nil {
			return nil, err
		}
		defer done()
		// A source from a store is read before a transform slot is taken,
		// within the time limit and the flight's cancellation: a slow
		// store holds no slot, and is abandoned once every client has
		// left. A local file is opened first and read once the slot is
		// held, so requests waiting in the queue hold no source bytes.
		held := false
		slot := func() error {
			err := h.takeSlot(ctx)
			held = err == nil
			return err
		}
		data, release, err := h.source(ctx, src, slot)
		if held {
			defer h.slots.Release(1)
		}
		if err != nil {
			return nil, err
		}
		defer release()
		if !held {
			if err := slot(); err != nil {
				return nil, err
			}
			defer h.slots.Release(1)
		}
		h.metrics.inFlight.Inc()
		defer h.metrics.inFlight.Dec()
		out, err := h.transform(ctx, data, p, choice)
		if err == nil {
			if h.variants != nil {
				h.variants.add(key, out)
			}
			h.toStore(key, src, out)
		}
		return out, err
	})
	return out, err
}

// source reads a transform's source within Limits.Timeout, and checks
// that it is an image the engine may decode. When the file opened is a
// local one, it calls slot between opening and reading (its error ends
// the read).
func (h *Handler) source(ctx context.Context, src *file, slot func() error) (data []byte, release func(), err error) {
	lim := h.cfg.Limits
	if src.info.Size() > lim.MaxSourceBytes {
		return nil, nil, transform.ErrSourceTooLarge
	}
	rctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	data, release, err = h.readSource(rctx, src, slot)
	if err != nil {
		return nil, nil, err
	}
	srcFormat := transform.Sniff(data)
	if srcFormat == "" || (!lim.AllowVector && (srcFormat == transform.FormatSVG || srcFormat == transform.FormatPDF)) {
		release()
		return nil, nil, transform.ErrNotImage
	}
	return data, release, nil
}

// takeSlot waits for a transform slot, up to QueueTimeout: errBusy when
// none frees in time, ctx's error when ctx ends first.
func (h *Handler) takeSlot(ctx context.Context) error {
	wait, cancel := context.WithTimeout(ctx, h.cfg.QueueTimeout)
	defer cancel()
	if err := h.slots.Acquire(wait, 1); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errBusy
	}
	return nil
}

// transform runs the engine on a source read by source. The engine owns
// the time limit (Limits.Timeout): it returns an error wrapping
// context.DeadlineExceeded when the limit passes, and one wrapping
// context.Canceled when ctx is cancelled because every waiting client left.
func (h *Handler) transform(ctx context.Context, data []byte, p *transform.Params, choice transform.Format) (*transform.Output, error) {
	out, _ := transform.Negotiate(choice, "", transform.Sniff(data))
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

// flights runs one computation per key for every request waiting for it,
// like singleflight.Group, but counts the waiters: when the last one has
// gone, the computation's context is cancelled and the key is free for a
// new flight. The zero value is ready to use.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done    chan struct{}
	out     *transform.Output
	err     error
	waiters int // guarded by flights.mu
	cancel  context.CancelFunc
}

// errPanic: the computation panicked; the panic is not re-raised in the
// waiting requests.
var errPanic = errors.New("transform panicked")

// do returns fn's result for key, running fn once, in its own goroutine,
// for all concurrent callers; a caller that finds a flight already running
// calls joined before it waits. fn's context keeps ctx's values but not its cancellation: it
// ends when every caller has left. When ctx ends first, do returns ctx's
// error at once.
func (g *flights) do(ctx context.Context, key string, joined func(), fn func(context.Context) (*transform.Output, error)) (*transform.Output, error) {
	g.mu.Lock()
	if g.m == nil {
		g.m = map[string]*flight{}
	}
	f, running := g.m[key]
	if !running {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight{done: make(chan struct{}), cancel: cancel}
		g.m[key] = f
		go g.run(fctx, key, f, fn)
	}
	f.waiters++
	g.mu.Unlock()
	if running {
		joined()
	}
	select {
	case <-f.done:
		g.leave(key, f)
		return f.out, f.err
	case <-ctx.Done():
		g.leave(key, f)
		return nil, ctx.Err()
	}
}

func (g *flights) run(ctx context.Context, key string, f *flight, fn func(context.Context) (*transform.Output, error)) {
	defer func() {
		if recover() != nil {
			f.out, f.err = nil, errPanic
		}
		g.mu.Lock()
		if g.m[key] == f {
			delete(g.m, key)
		}
		g.mu.Unlock()
		f.cancel()
		close(f.done)
	}()
	f.out, f.err = fn(ctx)
}

// leave removes a waiter; the last one to leave an unfinished flight
// cancels it and frees its key, so a later request starts afresh instead
// of joining a cancelled flight.
func (g *flights) leave(key string, f *flight) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f.waiters--
	if f.waiters > 0 {
		return
	}
	select {
	case <-f.done:
		return
	default:
	}
	f.cancel()
	if g.m[key] == f {
		delete(g.m, key)
	}
}
