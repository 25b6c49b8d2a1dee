// Package vips is Keyhole's image engine: transform.Engine on libvips,
// through github.com/davidbyttow/govips/v2. It is the only cgo package of
// the module; the handler reaches it through the transform.Engine
// interface.
//
// # Lifecycle
//
// libvips is process-wide state owned by the host: cmd/keyhole (or a test's
// TestMain) calls Startup once before New and Shutdown once at exit.
// Libraries never start libvips on their own, and New refuses to build an
// engine before Startup (ErrNotRunning).
//
// # Pipeline
//
// Process runs a fixed sequence of stages, with a context check before each:
// check source (bytes, format sniffing) → read header (pixel limit) → load
// (JPEG shrink-on-load, EXIF orientation, ICC profile to sRGB) → trim →
// automatic crop (crop.aspectratio, crop.type=smart) → scale (w, h, s,
// scale.option, Lanczos3) → crop (cw, ch, cx, cy) → canvas → rotate, flip,
// flop → brightness, contrast, lightness, saturation, hue, grayscale, blur,
// sharpen → tone curve, colortone, colorize, vignette, opacity → text →
// watermark → frame → encode. The order does not depend on the order of
// the parameters in the URL.
//
// # Time limit
//
// A transform stops when the caller's context ends or Limits.Timeout
// passes. Between stages the context is checked; during the stages where
// libvips computes pixels (the encoder above all) the engine sets libvips'
// kill flag on the image being computed (vips_image_set_kill), and libvips
// abandons the computation at the next strip. govips does not expose an
// image's *VipsImage, so the engine reads it from the pinned govips
// version's ImageRef by reflection, checked against the libvips headers
// when the engine is built (New fails if govips changes), and holds its own
// reference while it may kill it. WebP is encoded with libwebp directly,
// with a progress hook that stops the encoder on the same flag. Decoding
// the source and the final compression of AVIF and GIF cannot be
// interrupted; the source and output limits and the work budget
// (Limits.MaxWork, checked from the header) bound them. Process documents
// the guarantee.
//
// # Threat model
//
// Sources and watermarks are untrusted files under the served root. Before a
// single pixel is decoded: the file size is checked against
// Limits.MaxSourceBytes; the format is sniffed from the first bytes and only
// JPEG, PNG, GIF, WebP and AVIF/HEIF are opened (SVG and PDF only with
// Limits.AllowVector; TIFF, BMP, JPEG 2000, JPEG XL and ImageMagick formats
// never); and width×height from the header is checked against
// Limits.MaxSourcePixels. libvips reads only the header when an image is
// opened, so a small file claiming 60000×60000 pixels is refused with
// transform.ErrSourceTooLarge without its pixels being allocated. The size
// of every intermediate image (scaled, filled, canvas, rotated, text,
// watermark) is computed and checked against the output limits before it is
// built. Text is drawn in Go with the embedded Go fonts (not with Pango,
// whose font loading crashes Debian 12's libvips 8.14.1 under concurrent
// use), literally: there is no markup. text.font.family picks Go (sans) or
// Go Mono, regular or bold. The font size is bounded so the rendered text
// cannot exceed the image's area.
//
// # Memory
//
// Each Process call decodes its source once, at the shrunk size for JPEGs
// (a 4000×3000 JPEG scaled to 300 pixels is decoded at 500×375). The decoded
// image is held in memory while the output is written, except that libvips
// decodes images larger than 100 MB (its VIPS_DISC_THRESHOLD, set by the
// host's environment) to a temporary file in TMPDIR instead: at the default
// 50 MP limit one call holds at most about 100 MB of decoded pixels plus
// small working buffers. The operation cache is off, so nothing is kept
// between calls. Bound concurrent calls (handler.Config.MaxConcurrent does).
//
// Importing this package caps glibc's malloc arenas at 2 for the whole
// process when it loads (as libvips advises for servers), unless
// MALLOC_ARENA_MAX is set in the environment: with glibc's default of up
// to eight arenas per core, memory freed by libvips' worker threads stays
// spread over many arenas. Measured with 16 connections of 12 MP JPEG →
// w=300 and 4 transforms at once: peak anonymous memory 57 → 49 MiB.
package vips
