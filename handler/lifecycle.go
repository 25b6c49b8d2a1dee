package handler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyhole-dev/keyhole/token"
)

// ErrClosed is returned for a transform asked of a Handler after Close:
// the request is answered 503 "shutting down" with Retry-After, and the
// image library is not touched.
var ErrClosed = errors.New("handler: closed")

// lifecycle is shared by every generation of one Handler: the one New
// returned and each one Reload built since. It holds the generation that
// serves new requests, and counts the transforms running so Close can wait
// for them before the host shuts the image library down.
type lifecycle struct {
	current atomic.Pointer[Handler]
	reload  sync.Mutex // one Reload at a time

	mu      sync.Mutex
	closed  bool
	running int
	idle    chan struct{} // closed once closed && running == 0
	stop    context.Context
	cancel  context.CancelFunc
}

func newLifecycle(h *Handler) *lifecycle {
	l := &lifecycle{idle: make(chan struct{})}
	l.stop, l.cancel = context.WithCancel(context.Background())
	l.current.Store(h)
	return l
}

// live returns the generation that serves a new request. A request loads
// it once, so it sees the configuration before or after a Reload, never a
// mix.
func (h *Handler) live() *Handler {
	if h.life == nil {
		return h
	}
	return h.life.current.Load()
}

// begin registers a transform about to run. It fails with ErrClosed after
// Close. The context it returns ends with ctx, or when Close gives up
// waiting; done must be called once the transform has returned.
func (l *lifecycle) begin(ctx context.Context) (context.Context, func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, nil, ErrClosed
	}
	l.running++
	ctx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(l.stop, cancel)
	return ctx, func() {
		unhook()
		cancel()
		l.mu.Lock()
		defer l.mu.Unlock()
		l.running--
		if l.closed && l.running == 0 {
			close(l.idle)
		}
	}, nil
}

// Close stops the Handler from starting transforms and waits until the
// running ones have returned. Call it before shutting the image library
// down (vips.Shutdown): a transform that outlives its request — one whose
// client left, or one answered early by http.TimeoutHandler — still runs
// in the library, and shutting it down under it crashes the process.
//
// After Close, a request that needs a transform gets 503 "shutting down"
// with Retry-After: 1; originals and cached variants are still served, so
// Close may be called before or after http.Server.Shutdown. When ctx ends
// first, the running transforms' contexts are cancelled and Close returns
// an error wrapping ctx.Err(); transforms may then still be running, and
// the host must not shut the image library down (exiting the process is
// safe). Close may be called more than once; each call waits the same way.
func (h *Handler) Close(ctx context.Context) error {
	l := h.life
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		if l.running == 0 {
			close(l.idle)
		}
	}
	l.mu.Unlock()
	select {
	case <-l.idle:
		return nil
	case <-ctx.Done():
	}
	l.cancel()
	l.mu.Lock()
	n := l.running
	l.mu.Unlock()
	if n == 0 {
		return nil
	}
	return fmt.Errorf("handler: %d transforms still running: %w", n, ctx.Err())
}

// Reload replaces the configuration of a running Handler: files,
// protections and their keys, profiles, limits, token and cache settings.
// cfg is validated by the same rules as New (a DefaultProfile or a
// strict-profile protection without an Engine is refused: serving the
// original would drop what the profile locks); on error nothing changes.
// The caller's slices and maps are copied.
//
// The switch is atomic: a request sees the old configuration or the new
// one, never a mix; requests in flight finish with the one they started
// with. Verified-token and parameter caches start empty; transformed
// variants stay cached (their keys hold everything the output depends on).
//
// Some settings belong to the Handler for its whole life and keep the
// values New gave them: Registerer (the metrics stay registered once),
// VariantCacheBytes and MaxConcurrent (the cache and the transform
// semaphore are shared by every request). A warning is logged for each
// one that cfg changes. After Close, Reload still swaps the
// configuration, but no transform starts.
func (h *Handler) Reload(cfg Config) error {
	return h.reloadWith(func(Config) Config { return cfg })
}

// SetProfiles replaces the profiles and the default profile, keeping every
// other setting; it is Reload with only those two fields changed, so the
// same rules apply (profiles named by strict-profile protections must
// remain, and a default profile needs an Engine). The caller's maps are
// copied. On error nothing changes.
func (h *Handler) SetProfiles(profiles map[string]map[string]string, def string) error {
	return h.reloadWith(func(cur Config) Config {
		cur.Profiles = profiles
		cur.DefaultProfile = def
		return cur
	})
}

// reloadWith builds the next generation from the current one's filled
// Config, through New, and makes it live.
func (h *Handler) reloadWith(change func(cur Config) Config) error {
	l := h.life
	l.reload.Lock()
	defer l.reload.Unlock()
	cur := l.current.Load()
	cfg := change(cur.cfg)
	cfg.Registerer = nil // the metrics of New stay; nothing is registered twice
	next, err := New(cfg)
	if err != nil {
		return err
	}
	if cfg.VariantCacheBytes != cur.cfg.VariantCacheBytes && cfg.VariantCacheBytes != 0 {
		next.log.Warn("reload: Config.VariantCacheBytes needs a restart; keeping the current value")
	}
	if next.cfg.MaxConcurrent != cur.cfg.MaxConcurrent {
		next.log.Warn("reload: Config.MaxConcurrent needs a restart; keeping the current value")
	}
	next.cfg.Registerer = cur.cfg.Registerer
	next.cfg.VariantCacheBytes = cur.cfg.VariantCacheBytes
	next.cfg.MaxConcurrent = cur.cfg.MaxConcurrent
	next.metrics = cur.metrics
	next.logs = newLogLimiter(next.cfg.Logger, next.cfg.Now, next.cfg.LogLinesPerSecond, cur.metrics.suppressed)
	next.variants = cur.variants
	next.slots = cur.slots
	next.life = l
	for _, p := range append(next.protections, next.public) {
		p.results = authCounters(cur.metrics, p.Name)
	}
	l.current.Store(next)
	if cur.opened != nil {
		cur.opened.retire() // next has a cache of its own
	}
	return nil
}

// authCounters returns the auth-result counters of a protection name,
// indexed by token.Result, created at zero so dashboards see them.
func authCounters(m *metrics, name string) []prometheus.Counter {
	c := make([]prometheus.Counter, len(token.Results()))
	for _, r := range token.Results() {
		c[r] = m.auth.WithLabelValues(name, r.String())
	}
	return c
}

// cloneProfiles copies profiles two levels deep, so a caller that reuses
// or edits its maps after New, Reload or SetProfiles changes nothing
// (Config.fill calls it).
func cloneProfiles(p map[string]map[string]string) map[string]map[string]string {
	if p == nil {
		return nil
	}
	out := make(map[string]map[string]string, len(p))
	for name, params := range p {
		out[name] = maps.Clone(params)
	}
	return out
}
