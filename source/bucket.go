package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"path"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/prometheus/client_golang/prometheus"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
	"golang.org/x/sync/singleflight"
)

// ErrUnavailable reports that the store failed or did not answer in time.
// Its text is fixed: the store's own error (which may name hosts, keys or
// credentials) goes to the log as a kind only.
var ErrUnavailable = errors.New("source unavailable")

// ErrChanged reports that an object changed between its metadata lookup
// and a read of its bytes. Retrying the request sees the new object.
var ErrChanged = errors.New("source changed")

// Config configures a Bucket. Zero fields take the documented defaults.
type Config struct {
	// Timeout bounds each metadata lookup and each wait for bytes from the
	// store (opening a ranged read, and every read from it). Default 5s.
	// A store that does not answer in time is ErrUnavailable.
	Timeout time.Duration
	// MetadataTTL is how long an object's metadata (size, modification
	// time, ETag, or its absence) is reused without asking the store
	// again. It is how long a replaced or deleted object may still be
	// reported as it was. Default 1s; negative disables the cache.
	MetadataTTL time.Duration
	// MetadataEntries bounds the metadata cache, in objects (about 200
	// bytes each plus the key). Default 10000.
	MetadataEntries int
	// Registerer receives the metrics (keyhole_source_*). Nil means none;
	// the global registry is never used implicitly.
	Registerer prometheus.Registerer
	// Logger receives failures of the store, by error kind only. Nil
	// discards them.
	Logger *slog.Logger
	// Now is the clock of the metadata cache. Nil means time.Now.
	Now func() time.Time
	// Tier keeps local copies of the objects it can hold (see Tier).
	// With a tier, opening an object is one GET of the whole object (no
	// metadata request) unless a fresh copy is in the tier, and Range,
	// HEAD and conditional requests of a held object cost no round trip.
	// Nil (the default) means none: every open is a metadata lookup and
	// every read a ranged read. A Tier may be shared with a Store.
	Tier *Tier
}

func (c *Config) fill() error {
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	if c.Timeout < 0 {
		return errors.New("source: Config.Timeout must not be negative")
	}
	if c.MetadataTTL == 0 {
		c.MetadataTTL = time.Second
	}
	if c.MetadataEntries == 0 {
		c.MetadataEntries = 10000
	}
	if c.MetadataEntries < 0 {
		return errors.New("source: Config.MetadataEntries must not be negative")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Bucket serves the objects of a blob bucket as an fs.FS (see the package
// documentation). Object keys are fs.FS names: "a/b.jpg" is the object
// with key "a/b.jpg". It is safe for concurrent use.
type Bucket struct {
	b       *blob.Bucket
	get     getter
	cfg     Config
	metrics *sourceMetrics
	flight  singleflight.Group
	fetches fetches

	mu    sync.Mutex
	cache *simplelru.LRU[string, metaEntry] // nil when disabled

	checkMu   sync.Mutex
	checkedAt time.Time
	checkErr  error
}

var (
	_ fs.FS     = (*Bucket)(nil)
	_ fs.StatFS = (*Bucket)(nil)
)

// metaEntry is a cached metadata lookup: an object's info, or its absence
// (info nil).
type metaEntry struct {
	info    *fileInfo
	expires time.Time
}

// Open opens the bucket at a URL ("s3://bucket?region=…", "file:///srv",
// "mem://") with gocloud.dev/blob's default URL opener, which knows the
// drivers the program imports; s3:// URLs take s3blob's parameters but
// get an HTTP client that keeps 256 idle connections per endpoint (the
// SDK keeps 10, so a busy replica would dial for most reads), and they
// are read by presigned GETs (see the package documentation). For s3://
// URLs without a response_checksum_validation parameter,
// "when_required" is added: the SDK would otherwise log a warning for
// every object written without a checksum (by most S3-compatible stores). The returned error names the
// URL's scheme only, never its query (which may hold credentials).
func Open(ctx context.Context, bucketURL string, cfg Config) (*Bucket, error) {
	b, isS3, err := openURL(ctx, bucketURL)
	if err != nil {
		return nil, err
	}
	s, err := New(b, cfg)
	if err != nil {
		b.Close()
		return nil, err
	}
	if isS3 {
		s.get.signed = newSignedGets(b, s.cfg.Now, s.cfg.Logger)
	}
	return s, nil
}

func openURL(ctx context.Context, bucketURL string) (*blob.Bucket, bool, error) {
	u, err := url.Parse(bucketURL)
	if err != nil || u.Scheme == "" {
		return nil, false, errors.New("source: not a bucket URL (want scheme://bucket?params)")
	}
	if u.Scheme == "s3" {
		q := u.Query()
		if !q.Has("response_checksum_validation") {
			q.Set("response_checksum_validation", "when_required")
			u.RawQuery = q.Encode()
		}
	}
	var b *blob.Bucket
	if u.Scheme == "s3" {
		b, err = s3Mux.OpenBucket(ctx, u.String())
	} else {
		b, err = blob.OpenBucket(ctx, u.String())
	}
	if err != nil {
		// gocloud's text may repeat the URL with its parameters.
		return nil, false, fmt.Errorf("source: cannot open the %s:// bucket (unknown scheme, bad parameter or no credentials)", u.Scheme)
	}
	return b, u.Scheme == "s3", nil
}

// New serves b. The Bucket does not close b unless Close is called.
func New(b *blob.Bucket, cfg Config) (*Bucket, error) {
	if b == nil {
		return nil, errors.New("source: the bucket is nil")
	}
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	m, err := newSourceMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Bucket{b: b, get: getter{b: b}, cfg: cfg, metrics: m}
	if cfg.MetadataTTL > 0 && cfg.MetadataEntries > 0 {
		s.cache, _ = simplelru.NewLRU[string, metaEntry](cfg.MetadataEntries, nil)
	}
	return s, nil
}

// Close closes the underlying bucket.
func (s *Bucket) Close() error { return s.b.Close() }

// Stat returns an object's metadata, from the cache when it is fresh.
// Names follow fs.ValidPath; folders are not objects (fs.ErrNotExist).
func (s *Bucket) Stat(name string) (fs.FileInfo, error) {
	info, err := s.stat(name)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return info, nil
}

// Open returns a reader of the object at name, as OpenContext with a
// background context.
func (s *Bucket) Open(name string) (fs.File, error) {
	return s.OpenContext(context.Background(), name)
}

// OpenContext returns a reader of the object at name. Without a tier,
// opening costs a metadata lookup (or none when cached) and the bytes are
// read with ranged reads on the first Read after each Seek; with one, a
// held object is read from memory or disk, and any other is fetched whole
// into the tier first (one GET, shared by every request that misses at
// once) unless it is larger than the tier's MaxObjectBytes. ctx bounds
// the wait for the bucket and every read of the returned file: when it
// ends, they fail at once.
func (s *Bucket) OpenContext(ctx context.Context, name string) (fs.File, error) {
	if s.cfg.Tier != nil {
		e, info, err := s.tiered(ctx, name)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		if e != nil {
			return newMemFile(e, path.Base(name)), nil
		}
		return &object{s: s, key: name, info: info, ctx: ctx}, nil
	}
	info, err := s.stat(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &object{s: s, key: name, info: info, ctx: ctx}, nil
}

func (s *Bucket) stat(name string) (*fileInfo, error) {
	if !fs.ValidPath(name) || name == "." {
		return nil, fs.ErrNotExist
	}
	if s.cfg.Tier != nil {
		e, info, err := s.tiered(context.Background(), name)
		if err != nil {
			return nil, err
		}
		if e != nil {
			defer e.release()
			return e.info(path.Base(name)), nil
		}
		return info, nil
	}
	return s.metadata(name)
}

// metadata returns an object's metadata from the metadata cache or a
// metadata request (HEAD).
func (s *Bucket) metadata(name string) (*fileInfo, error) {
	now := s.cfg.Now()
	if s.cache != nil {
		s.mu.Lock()
		e, ok := s.cache.Get(name)
		s.mu.Unlock()
		if ok && now.Before(e.expires) {
			s.metrics.cache.hit.Inc()
			if e.info == nil {
				return nil, fs.ErrNotExist
			}
			return e.info, nil
		}
		s.metrics.cache.miss.Inc()
	}
	// Concurrent lookups of one key share one request.
	v, err, _ := s.flight.Do(name, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
		defer cancel()
		a, err := s.b.Attributes(ctx, name)
		var info *fileInfo
		switch {
		case err == nil:
			s.metrics.stat.ok.Inc()
			info = &fileInfo{name: path.Base(name), size: a.Size, mod: a.ModTime, etag: a.ETag}
		case gcerrors.Code(err) == gcerrors.NotFound:
			s.metrics.stat.notFound.Inc()
		default:
			s.metrics.stat.err.Inc()
			s.cfg.Logger.Warn("source: metadata lookup failed", "error_kind", kind(err))
			return nil, ErrUnavailable
		}
		if s.cache != nil {
			s.mu.Lock()
			s.cache.Add(name, metaEntry{info: info, expires: now.Add(s.cfg.MetadataTTL)})
			s.mu.Unlock()
		}
		if info == nil {
			return nil, fs.ErrNotExist
		}
		return info, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*fileInfo), nil
}

// forget drops a cached entry (the object changed under it).
func (s *Bucket) forget(name string) {
	if s.cache != nil {
		s.mu.Lock()
		s.cache.Remove(name)
		s.mu.Unlock()
	}
}

// kind names an error's innermost type and gocloud code, never its text.
func kind(err error) string {
	code := gcerrors.Code(err)
	for {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
	}
	return fmt.Sprintf("%s/%T", code, err)
}

// fileInfo is an object's metadata.
type fileInfo struct {
	name string
	size int64
	mod  time.Time
	etag string
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.size }
func (fi *fileInfo) Mode() fs.FileMode  { return 0o444 }
func (fi *fileInfo) ModTime() time.Time { return fi.mod }
func (fi *fileInfo) IsDir() bool        { return false }
func (fi *fileInfo) Sys() any           { return nil }

// ETag returns the store's entity tag of the object (for S3 usually the
// hex MD5 of its content in quotes), or "" when the store has none.
func (fi *fileInfo) ETag() string { return fi.etag }

// ETag returns the store's entity tag of a file that a Bucket returned,
// or "" for other files (or when the store gave none). The variant store
// keys variants by it.
func ETag(info fs.FileInfo) string {
	if e, ok := info.(interface{ ETag() string }); ok {
		return e.ETag()
	}
	return ""
}

// Check reports whether the bucket answers, for readiness probes and
// keyhole check: nil, or ErrUnavailable when the store fails, refuses the
// credentials or does not answer within Timeout. The store is asked at
// most once per second; calls in between get the last answer, so probes
// cannot load it.
func (s *Bucket) Check(ctx context.Context) error {
	now := time.Now()
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	if !s.checkedAt.IsZero() && now.Sub(s.checkedAt) < time.Second {
		return s.checkErr
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	ok, err := s.b.IsAccessible(ctx)
	s.checkErr = nil
	if err != nil || !ok {
		if err != nil {
			s.cfg.Logger.Warn("source: bucket check failed", "error_kind", kind(err))
		}
		s.checkErr = ErrUnavailable
	}
	s.checkedAt = time.Now()
	return s.checkErr
}
