package source

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// The outcomes of a GET that callers act on; any other error is a
// failure of the store, logged by kind.
var (
	errNotModified  = errors.New("not modified")        // 304 to If-None-Match
	errPrecondition = errors.New("precondition failed") // 412 to If-Match
)

// getOpts is one GET: a range (length < 0: to the end) and its
// conditions.
type getOpts struct {
	off, length          int64
	ifMatch, ifNoneMatch string
}

// getResp is an open GET: its body and the object's metadata from the
// response's headers.
type getResp struct {
	body io.ReadCloser
	size int64 // of the whole object
	mod  time.Time
	etag string
}

// getter reads the objects of one bucket. For S3 buckets that Open or
// OpenStore opened, a GET goes out as a plain net/http request on a
// presigned URL (signedGets), which costs less than half the CPU of the
// SDK's GetObject with its middleware; everything the presigned request
// cannot answer plainly goes through the driver.
type getter struct {
	b      *blob.Bucket
	signed *signedGets // nil: every GET through the driver
}

func (g *getter) get(ctx context.Context, key string, o getOpts) (*getResp, error) {
	if g.signed == nil || g.signed.disabled.Load() {
		return g.viaDriver(ctx, key, o)
	}
	r, how, err := g.signed.get(ctx, key, o)
	if how == answered {
		return r, err
	}
	g.signed.fallbacks.Add(1)
	r, err = g.viaDriver(ctx, key, o)
	if how == refused && (err == nil || errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotModified) || errors.Is(err, errPrecondition)) {
		// A URL signed just now was refused, and the driver's own
		// request was answered: the store does not take presigned reads.
		g.signed.disable()
	}
	return r, err
}

// viaDriver is a GET through the bucket's driver (for S3, the SDK's
// GetObject with its retries).
func (g *getter) viaDriver(ctx context.Context, key string, o getOpts) (*getResp, error) {
	var opts *blob.ReaderOptions
	if o.ifMatch != "" || o.ifNoneMatch != "" {
		opts = &blob.ReaderOptions{BeforeRead: func(as func(any) bool) error {
			var in *s3.GetObjectInput
			if as(&in) {
				if o.ifMatch != "" {
					in.IfMatch = aws.String(o.ifMatch)
				}
				if o.ifNoneMatch != "" {
					in.IfNoneMatch = aws.String(o.ifNoneMatch)
				}
			}
			return nil
		}}
	}
	r, err := g.b.NewRangeReader(ctx, key, o.off, o.length, opts)
	if err != nil {
		switch {
		case httpStatus(err) == http.StatusNotModified:
			return nil, errNotModified
		case httpStatus(err) == http.StatusPreconditionFailed:
			return nil, errPrecondition
		case gcerrors.Code(err) == gcerrors.NotFound:
			return nil, fs.ErrNotExist
		}
		return nil, err
	}
	var out s3.GetObjectOutput
	etag := ""
	if r.As(&out) {
		etag = aws.ToString(out.ETag)
	}
	return &getResp{body: r, size: r.Size(), mod: r.ModTime(), etag: etag}, nil
}

// httpStatus is the HTTP status of a store's error response (S3's
// errors carry it), or 0.
func httpStatus(err error) int {
	var hs interface{ HTTPStatusCode() int }
	if errors.As(err, &hs) {
		return hs.HTTPStatusCode()
	}
	return 0
}

// Presigned URLs are valid for signedExpiry and reused for signedReuse:
// a key read often is signed once a minute, and a URL is never used near
// its end even with a few minutes of clock skew.
const (
	signedExpiry  = 10 * time.Minute
	signedReuse   = time.Minute
	signedEntries = 4096
)

// signedGets sends GETs on presigned URLs of b (signed by b's driver)
// through the S3 client's own HTTP client, so reads share its connection
// pool. The URLs are credentials for one key each: they are kept in
// memory only and never logged (errors are logged by kind).
type signedGets struct {
	b      *blob.Bucket
	client aws.HTTPClient
	now    func() time.Time
	logger *slog.Logger

	mu   sync.Mutex
	urls *simplelru.LRU[string, signedURL]

	disabled atomic.Bool
	// For tests: URLs signed, GETs handed to the driver.
	signs, fallbacks atomic.Int64
	// tamper, when set by a test, rewrites each URL as it is signed.
	tamper func(string) string
}

type signedURL struct {
	url   string
	until time.Time
}

// newSignedGets returns presigned GETs for b, or nil when b is not an S3
// bucket.
func newSignedGets(b *blob.Bucket, now func() time.Time, logger *slog.Logger) *signedGets {
	var c *s3.Client
	if !b.As(&c) || c.Options().HTTPClient == nil {
		return nil
	}
	urls, _ := simplelru.NewLRU[string, signedURL](signedEntries, nil)
	return &signedGets{b: b, client: c.Options().HTTPClient, now: now, logger: logger, urls: urls}
}

// How signedGets.get ended.
const (
	answered  = iota // the response or a definitive error (404, 304, 412, ctx)
	refused          // a URL signed just now was refused (400, 401, 403)
	undecided        // anything else: ask the driver
)

func (s *signedGets) get(ctx context.Context, key string, o getOpts) (*getResp, int, error) {
	for range 2 {
		u, fresh, err := s.url(ctx, key)
		if err != nil {
			return nil, undecided, nil
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, undecided, nil
		}
		if o.off > 0 || o.length >= 0 {
			rng := "bytes=" + strconv.FormatInt(o.off, 10) + "-"
			if o.length >= 0 {
				rng += strconv.FormatInt(o.off+o.length-1, 10)
			}
			req.Header.Set("Range", rng)
		}
		// Bytes as stored: net/http would otherwise ask for gzip and
		// decompress an object stored with Content-Encoding gzip.
		req.Header.Set("Accept-Encoding", "identity")
		if o.ifMatch != "" {
			req.Header.Set("If-Match", o.ifMatch)
		}
		if o.ifNoneMatch != "" {
			req.Header.Set("If-None-Match", o.ifNoneMatch)
		}
		resp, err := s.client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, answered, ctx.Err()
			}
			return nil, undecided, nil
		}
		switch resp.StatusCode {
		case http.StatusOK, http.StatusPartialContent:
			if r, ok := parseGet(resp, o); ok {
				return r, answered, nil
			}
			resp.Body.Close()
			return nil, undecided, nil
		case http.StatusNotModified:
			discard(resp)
			return nil, answered, errNotModified
		case http.StatusPreconditionFailed:
			discard(resp)
			return nil, answered, errPrecondition
		case http.StatusNotFound:
			discard(resp)
			return nil, answered, fs.ErrNotExist
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
			discard(resp)
			if fresh {
				return nil, refused, nil
			}
			// Signed with credentials that have since expired, say:
			// once more with a new URL.
			s.mu.Lock()
			s.urls.Remove(key)
			s.mu.Unlock()
			continue
		default:
			discard(resp)
			return nil, undecided, nil
		}
	}
	return nil, undecided, nil
}

// url returns a presigned GET URL of key, and whether it was signed by
// this call.
func (s *signedGets) url(ctx context.Context, key string) (string, bool, error) {
	now := s.now()
	s.mu.Lock()
	e, ok := s.urls.Get(key)
	s.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.url, false, nil
	}
	u, err := s.b.SignedURL(ctx, key, &blob.SignedURLOptions{Expiry: signedExpiry, Method: http.MethodGet})
	if err != nil {
		return "", false, err
	}
	s.signs.Add(1)
	if s.tamper != nil {
		u = s.tamper(u)
	}
	s.mu.Lock()
	s.urls.Add(key, signedURL{url: u, until: now.Add(signedReuse)})
	s.mu.Unlock()
	return u, true, nil
}

func (s *signedGets) disable() {
	if s.disabled.CompareAndSwap(false, true) {
		s.logger.Warn("source: the store refuses presigned GETs; reading through the SDK from now on")
		s.mu.Lock()
		s.urls.Purge()
		s.mu.Unlock()
	}
}

// parseGet reads an object's metadata from a 200 or 206 response to the
// GET o; false when the response does not answer o as asked (a 200 to a
// range that does not start at 0, no length, a Content-Range for another
// range).
func parseGet(resp *http.Response, o getOpts) (*getResp, bool) {
	r := &getResp{body: resp.Body, etag: resp.Header.Get("ETag")}
	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		r.mod = t
	}
	if resp.StatusCode == http.StatusOK {
		if o.off != 0 || resp.ContentLength < 0 {
			return nil, false
		}
		r.size = resp.ContentLength
		return r, true
	}
	// Content-Range: bytes first-last/size
	cr, ok := strings.CutPrefix(resp.Header.Get("Content-Range"), "bytes ")
	if !ok {
		return nil, false
	}
	span, total, ok := strings.Cut(cr, "/")
	first, _, ok2 := strings.Cut(span, "-")
	size, err := strconv.ParseInt(total, 10, 64)
	start, err2 := strconv.ParseInt(first, 10, 64)
	if !ok || !ok2 || err != nil || err2 != nil || start != o.off || size < 0 {
		return nil, false
	}
	r.size = size
	return r, true
}

// discard drains a short error response so that its connection is
// reused, and closes it.
func discard(resp *http.Response) {
	io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
}
