package vips

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"

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
	// source, 256 runes of text, 4 billion pixel operations of work, 10 s).
	// The engine uses MaxSourcePixels, MaxOutputWidth/Height,
	// MaxSourceBytes, MaxTextRunes, MaxWork, Timeout and AllowVector.
	// How many calls run at once is the caller's choice
	// (handler.Config.MaxConcurrent).
	//
	// Timeout is enforced by the engine itself, inside libvips: when it
	// passes, the running computation is stopped (see Process), so a
	// transform holds its slot little longer than Timeout. MaxWork refuses
	// disproportionate requests from the header, before any pixel is
	// decoded; together they bound what one request can cost.
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
// (handler.Config.MaxConcurrent); each call holds up to a few decoded copies of the
// (shrunk) source in memory.
type Engine struct {
	limits transform.Limits
	log    *slog.Logger
	field  []int // index of govips.ImageRef's *VipsImage field (see cancel.go)
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
	field, err := imageField()
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{limits: l, log: log, field: field}, nil
}

// Limits returns the effective limits (defaults filled in).
func (e *Engine) Limits() transform.Limits { return e.limits }

// Revision numbers this package's image pipeline: raise it with every
// change that alters output bytes for the same parameters (an operation's
// order, an encoder option, the text renderer).
//
// Revision 2: Orc switched off before libvips 8.15, which changes the
// rounding of resizes, blurs and sharpening.
// Revision 3: Orc on again before libvips 8.15 where its compiles and
// frees can be serialised (see Startup); Version says which.
const Revision = 3

// Version identifies what the engine's output bytes depend on: the libvips
// version, whether a libvips before 8.15 runs its Orc programs (they
// round differently from its plain C loops), and Revision, e.g.
// "libvips 8.14.1 orc; keyhole-vips 3". A handler puts it in every
// variant's cache key and ETag, so an upgrade never serves bytes cached
// under another engine as current.
func (e *Engine) Version() string {
	v := "libvips " + govips.Version
	if govips.MajorVersion == 8 && govips.MinorVersion < 15 {
		if orcOn {
			v += " orc"
		} else {
			v += " no-orc"
		}
	}
	return v + "; keyhole-vips " + strconv.Itoa(Revision)
}

// Process decodes req.Source, applies req.Params in the fixed order of the
// package documentation and encodes the result in req.Format.
//
// Process stops when ctx is done or Limits.Timeout has passed since it was
// called, whichever comes first, and then returns an error wrapping
// ctx.Err(): context.DeadlineExceeded for the timeout or a deadline of ctx,
// context.Canceled when ctx was cancelled (a client that went away). The
// context is checked before each stage, and while libvips computes pixels
// (in the encoder, where libvips does almost all of its work, and in trim
// and smart crop) the image being computed is killed: libvips abandons the
// evaluation at the next strip it computes, typically a few tens of
// milliseconds later and within a second on a busy machine, where the
// encoder first finishes the strips it holds (an 8192×8192 blur=100 PNG
// stopped by a 1 s timeout returns after 1.01–1.1 s); WebP is encoded by
// libwebp with a progress hook that stops it too. Three steps cannot be
// interrupted and are bounded by the limits instead: decoding the source,
// which libvips does in one go on first use (MaxSourcePixels,
// MaxSourceBytes); the final compression of AVIF (libheif) and GIF
// (libimagequant and cgif), which libvips 8.14 runs after every pixel has
// been computed and which takes longer than computing the pixels (the output
// limits and MaxWork); and drawing text. A computation that completes before
// the deadline is returned even if ctx ends meanwhile. Nothing of a stopped
// transform is kept: its images are released and libvips' error text is
// cleared.
//
// Other errors wrap transform.ErrNotImage (unsupported, vector or corrupt
// source), transform.ErrSourceTooLarge (bytes or header pixels over the
// limit), transform.ErrOutputTooLarge (an intermediate or the output
// exceeds the output limits, or the text is too long),
// transform.ErrWatermarkNotFound, a *transform.Errors naming the parameter
// when the planned work exceeds MaxWork, or ErrNotRunning. Anything else
// is an internal libvips failure. Error texts may name parameters but are
// meant for logs, not for clients.
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
	k := newKiller(ctx, e.field)
	j := &job{e: e, req: req, p: p, k: k}
	defer j.close()
	for _, s := range pipeline {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("vips: before %s: %w", s.name, err)
		}
		// Every pixel a stage computes is pulled through the image it
		// starts from, so killing that image stops the stage.
		k.arm(j.img)
		if err := s.run(j); err != nil {
			if k.killed() {
				// The error is libvips' "killed for image", or a
				// failure that no longer matters: report why we stopped.
				return nil, fmt.Errorf("vips: %s: stopped: %w", s.name, ctx.Err())
			}
			return nil, withoutStack{fmt.Errorf("vips: %s: %w", s.name, err)}
		}
	}
	return j.out, nil
}

// withoutStack is an error whose text leaves out the Go stack trace that
// govips appends to libvips' message ("\nStack:\n" and a dump of the
// goroutine, always last: every wrapper here only prefixes), and joins
// libvips' lines, so an error the host logs is one readable line with no
// source paths in it. errors.Is and errors.As see the original.
type withoutStack struct{ err error }

func (e withoutStack) Error() string {
	s, _, _ := strings.Cut(e.err.Error(), "\nStack:\n")
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ")
}

func (e withoutStack) Unwrap() error { return e.err }

// step is one stage of the pipeline.
type step struct {
	name string
	run  func(*job) error
}

// pipeline is the fixed order of operations: whatever the order
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
	{"frame", (*job).frame},
	{"encode", (*job).encode},
}

// job is the state of one Process call.
type job struct {
	e   *Engine
	req transform.Request
	p   *transform.Params
	k   *killer // stops libvips when the context ends

	typ        govips.ImageType // sniffed source type
	srcW, srcH int              // upright source size from the header
	plan       *transform.Scale // scale planned from the header, if known
	img        *govips.ImageRef
	out        *transform.Output

	// pins keeps alive every byte slice libvips decodes from lazily (a
	// watermark, a text mask; the source is held by req). govips hands
	// libvips the slice's memory without a copy, and an image built on
	// it is decoded only when the encoder pulls its pixels, long after
	// the stage that loaded it has returned and closed its ImageRef.
	pins [][]byte
}

// pin keeps b alive until Process returns, and returns it.
func (j *job) pin(b []byte) []byte {
	j.pins = append(j.pins, b)
	return b
}

// close releases the images (the job's, then the killer's reference, which
// may be the last), and only then the bytes they were decoded from.
func (j *job) close() {
	if j.img != nil {
		j.img.Close()
		j.img = nil
	}
	j.k.close()
	runtime.KeepAlive(j.req.Source)
	runtime.KeepAlive(j.pins)
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
