package vips

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	govips "github.com/davidbyttow/govips/v2/vips"

	"github.com/keyhole-dev/keyhole/transform"
)

// DefaultQuality is the encoder quality used when Params.Quality is 0.
const DefaultQuality = 80

// ErrNotRunning is returned by New and Process when libvips has not been
// started with Startup, or has been shut down.
var ErrNotRunning = errors.New("vips: libvips is not running (call Startup once in the host)")

// Config configures an Engine.
type Config struct {
	// Limits bound every transform. Zero fields take the defaults of
	// transform.DefaultLimits (50 MP source, 8192×8192 output, 64 MiB
	// source, 256 runes of text, 10 s). The engine uses MaxSourcePixels, MaxOutputWidth/Height,
	// MaxSourceBytes, MaxTextRunes, Timeout and AllowVector; MaxConcurrent
	// and QueueTimeout are for the caller's semaphore.
	//
	// Threat model: sources and watermarks are untrusted files. Their size
	// in bytes and their pixel count (from the header) are checked before
	// any pixel is decoded, so a small file that claims huge dimensions
	// (a decompression bomb) is refused with transform.ErrSourceTooLarge
	// without allocating its pixels. Every intermediate image is checked
	// against the output limits before it is built.
	Limits transform.Limits
	// Logger receives diagnostic messages about failed transforms. Default
	// nil: discard.
	Logger *slog.Logger
}

// Engine is the libvips implementation of transform.Engine. It is
// immutable after New and safe for concurrent use: every Process call works
// on its own images. Bound the number of concurrent calls with a semaphore
// (Limits.MaxConcurrent); each call holds up to a few decoded copies of the
// (shrunk) source in memory.
type Engine struct {
	limits transform.Limits
	log    *slog.Logger
}

var _ transform.Engine = (*Engine)(nil)

// New returns an Engine for cfg after filling defaults and validating it.
// Startup must have been called first; otherwise New returns ErrNotRunning.
func New(cfg Config) (*Engine, error) {
	l := cfg.Limits.WithDefaults()
	if err := l.Validate(); err != nil {
		return nil, fmt.Errorf("vips: Config.Limits: %w", err)
	}
	if !running() {
		return nil, ErrNotRunning
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{limits: l, log: log}, nil
}

// Limits returns the effective limits (defaults filled in).
func (e *Engine) Limits() transform.Limits { return e.limits }

// Process decodes req.Source, applies req.Params in the fixed order of
// SPEC §3 and encodes the result in req.Format.
//
// Errors wrap transform.ErrNotImage (unsupported, vector or corrupt source),
// transform.ErrSourceTooLarge (bytes or header pixels over the limit),
// transform.ErrOutputTooLarge (an intermediate or the output exceeds the
// output limits, or the text is too long), transform.ErrWatermarkNotFound,
// the context's error (cancelled, or the Limits.Timeout deadline passed
// between stages), or ErrNotRunning. Anything else is an internal libvips
// failure. Error texts may name parameters but are meant for logs, not for
// clients.
//
// libvips evaluates lazily: most pixel work happens in the encode stage,
// which cannot be interrupted; the deadline is checked before each stage and
// the size limits bound the work of the last one.
func (e *Engine) Process(ctx context.Context, req transform.Request) (*transform.Output, error) {
	if !running() {
		return nil, ErrNotRunning
	}
	if e.limits.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.limits.Timeout)
		defer cancel()
	}
	p := req.Params
	if p == nil {
		p = &transform.Params{}
	}
	j := &job{e: e, req: req, p: p}
	defer j.close()
	for _, s := range pipeline {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("vips: before %s: %w", s.name, err)
		}
		if err := s.run(j); err != nil {
			return nil, fmt.Errorf("vips: %s: %w", s.name, err)
		}
	}
	return j.out, nil
}

// step is one stage of the pipeline.
type step struct {
	name string
	run  func(*job) error
}

// pipeline is the fixed order of operations (SPEC §3): whatever the order
// of the parameters in the URL, the stages run in this order. Conversion to
// sRGB happens inside load, so every later stage sees 8-bit sRGB or grey.
var pipeline = []step{
	{"check source", (*job).checkSource},
	{"read header", (*job).readHeader},
	{"load", (*job).load},
	{"trim", (*job).trim},
	{"auto crop", (*job).autoCrop},
	{"scale", (*job).scale},
	{"crop", (*job).crop},
	{"canvas", (*job).canvas},
	{"rotate", (*job).rotate},
	{"adjust", (*job).adjust},
	{"text", (*job).text},
	{"watermark", (*job).watermark},
	{"encode", (*job).encode},
}

// job is the state of one Process call.
type job struct {
	e   *Engine
	req transform.Request
	p   *transform.Params

	typ        govips.ImageType // sniffed source type
	srcW, srcH int              // upright source size from the header
	plan       *transform.Scale // scale planned from the header, if known
	img        *govips.ImageRef
	out        *transform.Output
}

func (j *job) close() {
	if j.img != nil {
		j.img.Close()
		j.img = nil
	}
}

// set replaces the current image.
func (j *job) set(img *govips.ImageRef) {
	if j.img != nil && j.img != img {
		j.img.Close()
	}
	j.img = img
}

// checkSize refuses an intermediate image of w×h pixels over the output
// limits.
func (j *job) checkSize(what string, w, h int) error {
	l := j.e.limits
	if w > l.MaxOutputWidth || h > l.MaxOutputHeight {
		return fmt.Errorf("%w: %s would be %dx%d, limit %dx%d",
			transform.ErrOutputTooLarge, what, w, h, l.MaxOutputWidth, l.MaxOutputHeight)
	}
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: %s would be %dx%d", transform.ErrOutputTooLarge, what, w, h)
	}
	return nil
}
