package source

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"
)

// TierConfig configures a Tier. Zero fields take the documented defaults.
type TierConfig struct {
	// MemoryBytes bounds the memory tier, in bytes of object content (an
	// entry also costs about 300 bytes of bookkeeping). The bound covers
	// every copy the tier has in memory: those it holds, those being
	// fetched, and those evicted while a reader still has them open. On
	// Linux the copies are outside the Go heap, those of 64 KiB or more
	// in memfds that responses send with sendfile (each holds a
	// descriptor, and up to 8 more while it is being sent). Default
	// 64 MiB; negative turns the memory tier off.
	MemoryBytes int64
	// Dir is the disk tier's directory, which must exist and be writable.
	// "" (the default) means no disk tier. Entries survive a restart: the
	// directory is scanned at NewTier, and a file that does not check out
	// (torn by a crash, or written by something else) is removed.
	Dir string
	// DiskBytes bounds the disk tier, in bytes of its files. Default
	// 1 GiB when Dir is set.
	DiskBytes int64
	// MaxObjectBytes is the largest object the tier keeps. Larger objects
	// are read from the bucket on every request, as ranged reads. Default
	// 16 MiB, and never more than the memory tier (when it is on).
	// Objects being fetched at once hold at most a quarter of MemoryBytes
	// (at least MaxObjectBytes); a miss past that is read by ranged reads.
	MaxObjectBytes int64
	// FreshFor is how long a copy is served without asking the bucket.
	// Past it, the next request revalidates the copy with a conditional
	// read (If-None-Match with the object's ETag). It is the longest time
	// a replaced or deleted object can still be served. Default 5s.
	FreshFor time.Duration
	// StaleIfError is how much longer than FreshFor a copy is served
	// while the bucket fails or does not answer. Default 0: once FreshFor
	// has passed, an outage is a 503 with Retry-After, and a deleted
	// object is never served past FreshFor.
	StaleIfError time.Duration
	// Registerer receives the metrics (keyhole_tier_*). Nil means none.
	Registerer prometheus.Registerer
	// Logger receives disk failures, by error kind only. Nil discards
	// them.
	Logger *slog.Logger
	// Now is the clock of freshness. Nil means time.Now.
	Now func() time.Time
}

func (c *TierConfig) fill() error {
	if c.MemoryBytes == 0 {
		c.MemoryBytes = 64 << 20
	}
	if c.Dir != "" && c.DiskBytes == 0 {
		c.DiskBytes = 1 << 30
	}
	if c.MaxObjectBytes == 0 {
		c.MaxObjectBytes = 16 << 20
	}
	if c.MemoryBytes > 0 && c.MaxObjectBytes > c.MemoryBytes {
		c.MaxObjectBytes = c.MemoryBytes
	}
	if c.FreshFor == 0 {
		c.FreshFor = 5 * time.Second
	}
	switch {
	case c.DiskBytes < 0:
		return errors.New("source: TierConfig.DiskBytes must not be negative")
	case c.Dir == "" && c.DiskBytes > 0:
		return errors.New("source: TierConfig.DiskBytes is set without TierConfig.Dir")
	case c.MaxObjectBytes < 0:
		return errors.New("source: TierConfig.MaxObjectBytes must not be negative")
	case c.FreshFor < 0:
		return errors.New("source: TierConfig.FreshFor must not be negative")
	case c.StaleIfError < 0:
		return errors.New("source: TierConfig.StaleIfError must not be negative")
	case c.MemoryBytes < 0 && c.Dir == "":
		return errors.New("source: TierConfig has neither a memory tier nor a disk tier")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Tier is a bounded local copy of bucket objects, in memory and
// optionally on a local disk, in front of a Bucket (originals) and a Store
// (variants). One Tier may serve both: their keys do not overlap. A copy is
// identified by its bucket key and the store's ETag (or, for stores
// without one, its size and modification time); it is served without a
// round trip for FreshFor, then revalidated with a conditional read. The
// tier holds whole objects only, so it never serves a partial one.
// Nothing in the tier is reachable except through the handler that
// authorizes the request path. It is safe for concurrent use.
type Tier struct {
	cfg     TierConfig
	mem     *memTier // nil: no memory tier
	disk    *diskTier
	metrics *tierMetrics
	// fetching bounds the bytes of objects being fetched at once (see
	// fetchBudget): a miss that would pass it is read by ranged reads.
	fetching *semaphore.Weighted
	// live counts the bytes of every buffer not yet freed: held by the
	// memory tier, being fetched, or evicted but still open. The memory
	// tier's bound covers them all.
	live atomic.Int64
}

// fetchBudget is how many bytes of objects a tier fetches at once: a
// quarter of the memory tier, at least MaxObjectBytes (four times it with
// a disk tier only). Many concurrent misses of large objects would
// otherwise each hold a whole copy in memory on top of the tier.
func (c *TierConfig) fetchBudget() int64 {
	if c.MemoryBytes > 0 {
		return max(c.MemoryBytes/4, c.MaxObjectBytes)
	}
	return 4 * c.MaxObjectBytes
}

// NewTier makes a tier; with Dir set it scans the directory and removes
// what does not check out. The error names the field at fault.
func NewTier(cfg TierConfig) (*Tier, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	t := &Tier{cfg: cfg, fetching: semaphore.NewWeighted(cfg.fetchBudget())}
	m, err := newTierMetrics(cfg.Registerer, func() float64 { return float64(t.live.Load()) })
	if err != nil {
		return nil, err
	}
	t.metrics = m
	if cfg.MemoryBytes > 0 {
		t.mem = newMemTier(cfg.MemoryBytes, m, &t.live)
	}
	if cfg.Dir != "" {
		if t.disk, err = openDiskTier(cfg.Dir, cfg.DiskBytes, m, cfg.Logger, &t.live); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Close waits for the disk tier's background writes.
func (t *Tier) Close() {
	if t.disk != nil {
		t.disk.wait()
	}
}

// entry is one object in the tier: its bytes and identity, or its absence
// (absent: a lookup found no object; kept in memory only).
type entry struct {
	key     string
	etag    string
	mod     time.Time
	checked time.Time // when the bucket last confirmed this copy
	data    []byte
	buf     *buffer // holds data outside the Go heap; nil: data is on the heap
	absent  bool
}

func (e *entry) info(name string) *fileInfo {
	return &fileInfo{name: name, size: int64(len(e.data)), mod: e.mod, etag: e.etag}
}

// get returns the copy under key, from memory or else from disk (which
// puts it in memory too); nil when neither has it. The caller holds a
// reference to the copy's bytes and must release it (e.release()). A copy
// read from disk goes into a buffer with offHeap (originals, which open
// files hold), else onto the Go heap (variants, whose bytes Store.Get
// hands to its caller to keep).
func (t *Tier) get(key string, offHeap bool) *entry {
	if t.mem != nil {
		if e := t.mem.get(key); e != nil {
			t.metrics.hit[0].Inc()
			return e
		}
		t.metrics.miss[0].Inc()
	}
	if t.disk != nil {
		if e := t.disk.get(key, offHeap); e != nil {
			t.metrics.hit[1].Inc()
			if t.mem != nil {
				t.mem.add(e)
			}
			return e
		}
		t.metrics.miss[1].Inc()
	}
	return nil
}

// fresh reports whether e may be served without asking the bucket.
func (t *Tier) fresh(e *entry, now time.Time) bool {
	return now.Sub(e.checked) < t.cfg.FreshFor
}

// usableStale reports whether e may be served while the bucket fails.
func (t *Tier) usableStale(e *entry, now time.Time) bool {
	return !e.absent && now.Sub(e.checked) < t.cfg.FreshFor+t.cfg.StaleIfError
}

// put stores a copy, in memory and (in the background) on disk. A copy
// that only confirms the one on disk (same identity) is not written again.
// Each tier takes its own reference to the bytes; the caller keeps its
// own.
func (t *Tier) put(e *entry, newBytes bool) {
	if !e.absent && int64(len(e.data)) > t.cfg.MaxObjectBytes {
		return
	}
	if t.mem != nil {
		t.mem.add(e)
	}
	if t.disk != nil && !e.absent && newBytes {
		t.disk.put(e)
	}
}

// remove drops a copy from both tiers.
func (t *Tier) remove(key string) {
	if t.mem != nil {
		t.mem.remove(key)
	}
	if t.disk != nil {
		t.disk.remove(key)
	}
}

// memTier is an LRU of entries bounded in bytes. The bound covers the
// entries' heap bytes and every buffer of the tier not yet freed, in the
// memory tier or not (a copy being fetched, or evicted while a response
// still reads it): the copies a busy replica holds at once never pass it,
// however many are open. When open copies alone fill it, the memory tier
// is left empty until they are closed.
type memTier struct {
	mu      sync.Mutex
	lru     *simplelru.LRU[string, *entry]
	bytes   int64         // content and overhead of the entries held (keyhole_tier_bytes)
	heap    int64         // the part of bytes not in buffers
	live    *atomic.Int64 // the tier's bytes in buffers (see buffer)
	max     int64
	metrics *tierMetrics
	// removing is set while an entry is removed or replaced, which is
	// not an eviction.
	removing bool
}

func newMemTier(maxBytes int64, m *tierMetrics, live *atomic.Int64) *memTier {
	t := &memTier{max: maxBytes, metrics: m, live: live}
	// Bounded by bytes, not by the LRU's own count.
	t.lru, _ = simplelru.NewLRU[string, *entry](1<<30, func(_ string, e *entry) {
		t.bytes -= entryCost(e)
		t.heap -= heapCost(e)
		e.buf.release()
		if !t.removing {
			t.metrics.evictions[0].Inc()
		}
	})
	return t
}

// entryCost is what an entry counts against the memory bound: its bytes
// and a fixed overhead, so absent entries are bounded too.
func entryCost(e *entry) int64 { return int64(len(e.data)+len(e.key)) + 256 }

// heapCost is the part of entryCost on the Go heap (a buffer's bytes are
// counted in live).
func heapCost(e *entry) int64 {
	if e.buf != nil {
		return int64(len(e.key)) + 256
	}
	return entryCost(e)
}

func (t *memTier) get(key string) *entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, _ := t.lru.Get(key)
	if e != nil && !e.buf.acquire() {
		return nil // cannot happen while the tier holds its reference
	}
	return e
}

func (t *memTier) add(e *entry) {
	cost := entryCost(e)
	if cost > t.max {
		return
	}
	if !e.buf.acquire() {
		return // its last holder let go: nothing to keep
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.removing = true
	t.lru.Remove(e.key)
	t.removing = false
	t.lru.Add(e.key, e)
	t.bytes += cost
	t.heap += heapCost(e)
	for t.heap+t.live.Load() > t.max && t.lru.Len() > 0 {
		t.lru.RemoveOldest()
	}
	t.metrics.bytes[0].Set(float64(t.bytes))
}

func (t *memTier) remove(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.removing = true
	t.lru.Remove(key)
	t.removing = false
	t.metrics.bytes[0].Set(float64(t.bytes))
}

type tierMetrics struct {
	hit, miss, evictions, errors [2]prometheus.Counter // [0] memory, [1] disk
	bytes                        [2]prometheus.Gauge
	revalidations                map[string]prometheus.Counter
	stale                        prometheus.Counter
	deferred                     prometheus.Counter
}

func newTierMetrics(reg prometheus.Registerer, live func() float64) (*tierMetrics, error) {
	lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyhole_tier_lookups_total",
		Help: "Local tier lookups, by tier (memory, disk) and result (hit, miss).",
	}, []string{"tier", "result"})
	evictions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyhole_tier_evictions_total",
		Help: "Copies evicted from a local tier to keep it within its bound, by tier.",
	}, []string{"tier"})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyhole_tier_errors_total",
		Help: "Local tier failures (a disk read or write that failed, a file that did not check out), by tier.",
	}, []string{"tier"})
	bytes := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "keyhole_tier_bytes",
		Help: "Bytes held by a local tier, by tier.",
	}, []string{"tier"})
	reval := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyhole_tier_revalidations_total",
		Help: "Conditional reads of a copy past its freshness window, by result (not_modified, changed, gone, error).",
	}, []string{"result"})
	stale := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "keyhole_tier_stale_served_total",
		Help: "Copies served past their freshness window because the bucket failed (within StaleIfError).",
	})
	deferred := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "keyhole_tier_fetches_deferred_total",
		Help: "Misses read by ranged reads instead of fetched into the tier, because the objects being fetched at once already held the fetch budget (a quarter of the memory tier).",
	})
	liveBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "keyhole_tier_open_bytes",
		Help: "Bytes of the tier's copies in memory: held by the memory tier, being fetched, read from the disk tier, or evicted while a response still reads them. The memory tier's bound covers them all.",
	}, live)
	m := &tierMetrics{revalidations: map[string]prometheus.Counter{}, stale: stale, deferred: deferred}
	for i, name := range []string{"memory", "disk"} {
		m.hit[i] = lookups.WithLabelValues(name, "hit")
		m.miss[i] = lookups.WithLabelValues(name, "miss")
		m.evictions[i] = evictions.WithLabelValues(name)
		m.errors[i] = errs.WithLabelValues(name)
		m.bytes[i] = bytes.WithLabelValues(name)
	}
	for _, r := range []string{"not_modified", "changed", "gone", "error"} {
		m.revalidations[r] = reval.WithLabelValues(r)
	}
	return m, register(reg, lookups, evictions, errs, bytes, reval, stale, deferred, liveBytes)
}
