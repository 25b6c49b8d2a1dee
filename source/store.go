package source

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gocloud.dev/blob"
)

// StoreConfig configures a Store. Zero fields take the documented
// defaults.
type StoreConfig struct {
	// Timeout bounds each lookup and each write. Default 2s: a lookup that
	// takes longer is a miss, and the variant is computed instead.
	Timeout time.Duration
	// MaxPendingWrites bounds the writes running in the background; a
	// variant computed while that many are running is not stored (counted
	// as result "dropped"). Default 16.
	MaxPendingWrites int
	// MaxEntryBytes bounds a stored variant, in bytes: larger lookups are
	// refused as errors and larger variants are not written. Default
	// 64 MiB.
	MaxEntryBytes int64
	// Registerer receives the metrics (keyhole_variant_store_*). Nil
	// means none; the global registry is never used implicitly.
	Registerer prometheus.Registerer
	// Logger receives failures of the store, by error kind only. Nil
	// discards them.
	Logger *slog.Logger
	// Tier keeps local copies of the variants looked up or written, so a
	// replica with no variant cache of its own (or a restarted one, with
	// a disk tier) reads a hot variant without a round trip. Entries are
	// immutable (a key names one variant of one version of an original),
	// so they are never revalidated. Nil means none. A Tier may be shared
	// with a Bucket.
	Tier *Tier
}

func (c *StoreConfig) fill() error {
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Second
	}
	if c.MaxPendingWrites == 0 {
		c.MaxPendingWrites = 16
	}
	if c.MaxEntryBytes == 0 {
		c.MaxEntryBytes = 64 << 20
	}
	switch {
	case c.Timeout < 0:
		return errors.New("source: StoreConfig.Timeout must not be negative")
	case c.MaxPendingWrites < 0:
		return errors.New("source: StoreConfig.MaxPendingWrites must not be negative")
	case c.MaxEntryBytes < 0:
		return errors.New("source: StoreConfig.MaxEntryBytes must not be negative")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Store is a variant store shared by replicas: a bucket (or a folder of
// one) that holds encoded variants under keys that the handler derives
// from the source's identity, the canonical parameters, the output format
// and the engine's version. Entries are immutable: a changed original gets
// new keys, and its old entries stay until a bucket lifecycle rule expires
// them. It is safe for concurrent use.
type Store struct {
	b       *blob.Bucket
	get     getter
	cfg     StoreConfig
	slots   chan struct{}
	wg      sync.WaitGroup
	metrics storeMetrics
}

// OpenStore opens the store at a bucket URL, as Open does. gocloud's
// "prefix" parameter selects a folder: "s3://b?…&prefix=variants/".
func OpenStore(ctx context.Context, bucketURL string, cfg StoreConfig) (*Store, error) {
	b, isS3, err := openURL(ctx, bucketURL)
	if err != nil {
		return nil, err
	}
	s, err := NewStore(b, cfg)
	if err != nil {
		b.Close()
		return nil, err
	}
	if isS3 {
		s.get.signed = newSignedGets(b, time.Now, s.cfg.Logger)
	}
	return s, nil
}

// NewStore stores variants in b.
func NewStore(b *blob.Bucket, cfg StoreConfig) (*Store, error) {
	if b == nil {
		return nil, errors.New("source: the bucket is nil")
	}
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	m, err := newStoreMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Store{b: b, get: getter{b: b}, cfg: cfg, slots: make(chan struct{}, cfg.MaxPendingWrites), metrics: m}, nil
}

// Get returns the variant stored under key. A missing entry is
// fs.ErrNotExist; any other failure (including Timeout) is
// ErrUnavailable. ctx may end the lookup earlier.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if s.cfg.Tier != nil {
		// Variants stay on the Go heap in the tier (the caller keeps
		// them): no reference to give back.
		if e := s.cfg.Tier.get(variantTierKey(key), false); e != nil {
			s.metrics.hit.Inc()
			return e.data, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	r, err := s.get.get(ctx, key, getOpts{length: -1})
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			s.metrics.miss.Inc()
			return nil, fs.ErrNotExist
		}
		return nil, s.failed("get", err)
	}
	defer r.body.Close()
	if r.size > s.cfg.MaxEntryBytes {
		return nil, s.failed("get", errors.New("entry too large"))
	}
	data := make([]byte, r.size)
	if _, err := io.ReadFull(r.body, data); err != nil {
		return nil, s.failed("get", err)
	}
	s.metrics.hit.Inc()
	s.metrics.readBytes.Add(float64(len(data)))
	s.keep(key, data)
	return data, nil
}

// variantTierKey is a variant's key in a Tier.
func variantTierKey(key string) string { return "v\x00" + key }

func (s *Store) keep(key string, data []byte) {
	if s.cfg.Tier != nil {
		s.cfg.Tier.put(&entry{key: variantTierKey(key), data: data}, true)
	}
}

func (s *Store) failed(op string, err error) error {
	s.metrics.errors.WithLabelValues(op).Inc()
	s.cfg.Logger.Warn("variant store: "+op+" failed", "error_kind", kind(err))
	return ErrUnavailable
}

// Put writes data under key in the background and returns at once; data
// must not be modified afterwards. When MaxPendingWrites writes are
// running, or the store is closed, the variant is not written (counted as
// dropped). Failures are logged and counted, never returned.
func (s *Store) Put(key string, data []byte) {
	if int64(len(data)) > s.cfg.MaxEntryBytes {
		s.metrics.dropped.Inc()
		return
	}
	select {
	case s.slots <- struct{}{}:
	default:
		s.metrics.dropped.Inc()
		return
	}
	s.keep(key, data)
	s.wg.Add(1)
	s.metrics.pending.Inc()
	go func() {
		defer func() { <-s.slots; s.metrics.pending.Dec(); s.wg.Done() }()
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
		defer cancel()
		if err := s.b.WriteAll(ctx, key, data, nil); err != nil {
			s.metrics.failed.Inc()
			s.failed("put", err)
			return
		}
		s.metrics.written.Inc()
		s.metrics.writtenBytes.Add(float64(len(data)))
	}()
}

// Wait blocks until the background writes started so far have finished
// (written, failed or timed out).
func (s *Store) Wait() { s.wg.Wait() }

// Close waits for the background writes and closes the bucket.
func (s *Store) Close() error {
	s.wg.Wait()
	return s.b.Close()
}

type storeMetrics struct {
	hit, miss, written, dropped, failed prometheus.Counter
	pending                             prometheus.Gauge
	readBytes, writtenBytes             prometheus.Counter
	errors                              *prometheus.CounterVec
}

func newStoreMetrics(reg prometheus.Registerer) (storeMetrics, error) {
	lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyhole_variant_store_lookups_total",
		Help: "Variant store lookups, by result (hit, miss; failures are in keyhole_variant_store_errors_total).",
	}, []string{"result"})
	writes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyhole_variant_store_writes_total",
		Help: "Variant store writes, by result: ok (readable by every replica from then on), failed (the store failed or timed out; also in keyhole_variant_store_errors_total), dropped (not started: too many pending or too large).",
	}, []string{"result"})
	pending := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "keyhole_variant_store_pending_writes",
		Help: "Variant store writes started and not finished. A variant is readable by other replicas once its write is done: within StoreConfig.Timeout of the response that computed it.",
	})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyhole_variant_store_errors_total",
		Help: "Variant store failures and timeouts, by operation (get, put).",
	}, []string{"op"})
	bytes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyhole_variant_store_bytes_total",
		Help: "Bytes read from (get) and written to (put) the variant store.",
	}, []string{"op"})
	errs.WithLabelValues("get")
	errs.WithLabelValues("put")
	m := storeMetrics{
		hit: lookups.WithLabelValues("hit"), miss: lookups.WithLabelValues("miss"),
		written: writes.WithLabelValues("ok"), dropped: writes.WithLabelValues("dropped"),
		failed: writes.WithLabelValues("failed"), pending: pending,
		readBytes: bytes.WithLabelValues("get"), writtenBytes: bytes.WithLabelValues("put"),
		errors: errs,
	}
	return m, register(reg, lookups, writes, errs, bytes, pending)
}
