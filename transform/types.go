package transform

import (
	"context"
	"errors"
	"time"
)

// Dim is a size or offset given either in pixels or as a percentage of a
// reference length (the source's width or height, or the image being
// watermarked). The zero Dim means "not set".
type Dim struct {
	// Value is the number of pixels, or the percentage when Percent is true.
	Value float64
	// Percent reports that Value is a percentage (0 < Value <= 100).
	Percent bool
	// Set reports that the parameter was given.
	Set bool
}

// Resolve returns the dimension in pixels against the reference length ref.
// An unset Dim resolves to 0.
func (d Dim) Resolve(ref int) int {
	switch {
	case !d.Set:
		return 0
	case d.Percent:
		return int(float64(ref)*d.Value/100 + 0.5)
	default:
		return int(d.Value + 0.5)
	}
}

// Offset is a crop offset (cx, cy): pixels, a percentage, or centred.
type Offset struct {
	Dim
	// Center reports cx=center / cy=center.
	Center bool
}

// Color is an sRGB colour with alpha, written RRGGBB or RRGGBBAA in URLs.
type Color struct {
	R, G, B, A uint8
	// Set reports that the colour was given.
	Set bool
}

// Format is an output (or sniffed source) image format.
type Format string

// Formats. FormatOriginal keeps the source's format; FormatOptimal picks AVIF
// or WebP when the client's Accept header allows it, else the source's format.
const (
	FormatUnset    Format = ""
	FormatOriginal Format = "original"
	FormatOptimal  Format = "optimal"
	FormatJPEG     Format = "jpg"
	FormatPNG      Format = "png"
	FormatWebP     Format = "webp"
	FormatAVIF     Format = "avif"
	FormatGIF      Format = "gif"
	// FormatSVG and FormatPDF are only ever sniffed sources; they are never
	// processed unless the engine is configured to allow them.
	FormatSVG Format = "svg"
	FormatPDF Format = "pdf"
)

// ScaleOption is how w and h apply together (scale.option).
type ScaleOption string

// Scale options. The zero value means ScaleFit.
const (
	ScaleFit    ScaleOption = "fit"    // fit inside the box, keeping the aspect ratio
	ScaleFill   ScaleOption = "fill"   // cover the box, cropping the excess around the centre
	ScaleIgnore ScaleOption = "ignore" // stretch to exactly the box
	ScaleNoUp   ScaleOption = "noup"   // fit, never enlarging
)

// CropType is an automatic crop before scaling (crop.type).
type CropType string

// Crop types. The zero value means no automatic crop.
const (
	CropTrim  CropType = "trim"  // remove a uniform border
	CropSmart CropType = "smart" // keep the most interesting region
)

// Position places a canvas's image, a text or a watermark: a compass point
// (north, northeast, … northwest), center, or for watermarks tile. The
// zero value means center.
type Position string

// Positions.
const (
	PositionCenter    Position = "center"
	PositionNorth     Position = "north"
	PositionNorthEast Position = "northeast"
	PositionEast      Position = "east"
	PositionSouthEast Position = "southeast"
	PositionSouth     Position = "south"
	PositionSouthWest Position = "southwest"
	PositionWest      Position = "west"
	PositionNorthWest Position = "northwest"
	PositionTile      Position = "tile" // watermarks only: repeat over the whole image
)

// Params are the effective, validated image parameters of one request. The
// zero value means "serve the original". Params are produced by Parse from
// the merged parameter layers (see Merge); engines only read them.
//
// Params are not comparable with == (see noCompare): NeedsProcessing tells
// the zero value apart, and reflect.DeepEqual compares two of them.
type Params struct {
	_ noCompare

	// Size: w, h (pixels or % of source), s (longest side, pixels).
	Width, Height Dim
	Side          int
	// ScaleOption is scale.option; "" means fit.
	ScaleOption ScaleOption

	// Crop: cw, ch (pixels or %), cx, cy (pixels, % or center), applied to
	// the scaled image. CropType is crop.type: "", "trim" or "smart".
	// CropAspect is crop.aspectratio W:H ({0,0} when unset).
	CropWidth, CropHeight Dim
	CropX, CropY          Offset
	CropType              CropType
	CropAspect            [2]int

	// Output: format, q (1..100, 0 = default 80), dl / dl=name.
	Format       Format
	Quality      int
	Download     bool
	DownloadName string

	// Geometry: rotate (-180..180 degrees), flip (vertical), flop (horizontal).
	Rotate     float64
	Flip, Flop bool

	// Adjustments. Blur and Sharpen are 0..100; the others -100..100
	// (Hue -180..180 degrees).
	Grayscale  bool
	Blur       float64
	Sharpen    float64
	Brightness int
	Contrast   int
	Saturation int
	Hue        int
	Lightness  int

	// Sirv's light and colour options. Exposure, Shadows and Highlights
	// are -100..100; ColorLevelBlack 0..254 and ColorLevelWhite 1..255
	// (0 = unset, 255). Colortone is a preset name (see ColortoneFor);
	// ColortoneMode solid, highlights or shadows. VignetteValue is 0..100.
	// Opacity applies to the whole image.
	Exposure, Shadows, Highlights    int
	ColorLevelBlack, ColorLevelWhite int
	Colortone                        string
	ColortoneColor                   Color
	ColortoneLevel                   Level
	ColortoneMode                    string
	ColorizeColor                    Color
	ColorizeOpacity                  Level
	VignetteValue                    int
	VignetteColor                    Color
	Opacity                          Level

	// Thumbnail is thumbnail: a square of this side, filled (0 = none).
	// CropPadWidth and CropPadHeight widen the crop window on each side.
	// WebPFallback is the format for clients without WebP (see
	// NegotiateFor).
	Thumbnail                   int
	CropPadWidth, CropPadHeight Dim
	WebPFallback                Format

	// Output options: progressive (interlaced) encoding, JPEG chroma
	// subsampling ("", "4:2:0" or "4:4:4"), PNG palette quantisation, and
	// the page (1-based, 0 = first) of a multi-page source.
	Progressive bool
	Subsampling string
	PNGOptimize bool
	Page        int

	// Canvas: canvas.width, canvas.height (pixels or % of the image),
	// canvas.color, canvas.position (compass point or "center").
	CanvasWidth, CanvasHeight Dim
	CanvasColor               Color
	CanvasPosition            Position

	// Sirv's canvas options: the canvas colour's opacity, an aspect ratio
	// the canvas is widened or heightened to, and a border around it
	// (pixels or % of the canvas, each side) with its colour and opacity.
	CanvasOpacity                         Level
	CanvasAspect                          [2]int
	CanvasBorderWidth, CanvasBorderHeight Dim
	CanvasBorderColor                     Color
	CanvasBorderOpacity                   Level

	// Frame around the finished image: style ("", none, solid, mirror,
	// edge), colour, width (pixels or % of the shorter side, default 5 %)
	// and a rim of FrameRimWidth pixels in FrameRimColor.
	FrameStyle    string
	FrameColor    Color
	FrameWidth    Dim
	FrameRimColor Color
	FrameRimWidth int

	// Text overlay. TextSize is a percentage of the image width (default
	// chosen by the engine); TextOpacity 0..100; TextPosition a compass point
	// or "center".
	Text           string
	TextSize       float64
	TextColor      Color
	TextOpacity    int
	TextPosition   Position
	TextFontFamily string
	TextBackground Color
	TextOutline    Color

	// Sirv's text options: line alignment ("", left, center, right),
	// offsets from a gravity point (text.position.x/.y/.gravity, which
	// take precedence over TextPosition), the font size in pixels (0 =
	// from TextSize), italic and bold cuts, and the outline's width and
	// blur in pixels and opacity, and the background box's opacity.
	TextAlign             string
	TextX, TextY          Offset
	TextGravity           Position
	TextFontPx            int
	TextItalic, TextBold  bool
	TextOutlineWidth      int
	TextOutlineOpacity    Level
	TextOutlineBlur       int
	TextBackgroundOpacity Level

	// MoreText are Sirv's numbered text layers 1 to MaxTextLayers-1
	// (text.1.*, text.2.*, …), drawn after the text above (layer 0, also
	// spelt text.0.*) in layer order. A layer without text draws nothing.
	MoreText [MaxTextLayers - 1]TextLayer

	// Watermark: the path of an image under the same root, its position
	// (compass, "center" or "tile"), scale (pixels or % of the image) and
	// opacity 0..100.
	Watermark            string
	WatermarkPosition    Position
	WatermarkScaleWidth  Dim
	WatermarkScaleHeight Dim
	WatermarkOpacity     int

	// Sirv's watermark placement: offsets from a gravity point
	// (watermark.position.x/.y/.gravity, which take precedence over
	// WatermarkPosition).
	WatermarkX, WatermarkY Offset
	WatermarkGravity       Position
	// The rest of Sirv's watermark options: how the scale applies, a
	// rotation in degrees, drawing behind the image, a canvas behind the
	// watermark (size in pixels or % of the image, colour and opacity),
	// and a crop of the watermark image before scaling.
	WatermarkScaleOption                        ScaleOption
	WatermarkRotate                             float64
	WatermarkBack                               bool
	WatermarkCanvasWidth, WatermarkCanvasHeight Dim
	WatermarkCanvasColor                        Color
	WatermarkCanvasOpacity                      Level
	WatermarkCrop                               CropBox

	// MoreWatermarks are Sirv's numbered watermark layers 1 to
	// MaxWatermarkLayers-1 (watermark.1.*, …), drawn after the watermark
	// above (layer 0) in layer order.
	MoreWatermarks [MaxWatermarkLayers - 1]WatermarkLayer

	// Profile is the profile name that was expanded into these parameters
	// (informational; Merge has already applied it).
	Profile string
}

// MaxTextLayers is how many text layers one image may have: text.0.* (or
// text.*) to text.3.*.
const MaxTextLayers = 4

// TextLayer is one numbered text layer: the text fields of Params, with
// the same names and meaning. Like Params it is not comparable; IsZero
// reports the zero value.
type TextLayer struct {
	_                     noCompare
	Text                  string
	TextSize              float64
	TextColor             Color
	TextOpacity           int
	TextPosition          Position
	TextFontFamily        string
	TextBackground        Color
	TextOutline           Color
	TextAlign             string
	TextX, TextY          Offset
	TextGravity           Position
	TextFontPx            int
	TextItalic, TextBold  bool
	TextOutlineWidth      int
	TextOutlineOpacity    Level
	TextOutlineBlur       int
	TextBackgroundOpacity Level
}

// IsZero reports whether every field of l is zero: the layer was not
// given at all. TextLayer is not comparable (see noCompare), so this
// stands for l == TextLayer{}.
func (l *TextLayer) IsZero() bool {
	var (
		offset Offset
		color  Color
		level  Level
	)
	return l.Text == "" && l.TextSize == 0 && l.TextColor == color && l.TextOpacity == 0 &&
		l.TextPosition == "" && l.TextFontFamily == "" && l.TextBackground == color &&
		l.TextOutline == color && l.TextAlign == "" && l.TextX == offset && l.TextY == offset &&
		l.TextGravity == "" && l.TextFontPx == 0 && !l.TextItalic && !l.TextBold &&
		l.TextOutlineWidth == 0 && l.TextOutlineOpacity == level && l.TextOutlineBlur == 0 &&
		l.TextBackgroundOpacity == level
}

// TextLayers returns p's text layers in drawing order: layer 0 (p's own
// text fields), then MoreText. Layers without text are included.
func (p *Params) TextLayers() [MaxTextLayers]TextLayer {
	var out [MaxTextLayers]TextLayer
	out[0] = TextLayer{
		Text: p.Text, TextSize: p.TextSize, TextColor: p.TextColor, TextOpacity: p.TextOpacity,
		TextPosition: p.TextPosition, TextFontFamily: p.TextFontFamily, TextBackground: p.TextBackground,
		TextOutline: p.TextOutline, TextAlign: p.TextAlign, TextX: p.TextX, TextY: p.TextY,
		TextGravity: p.TextGravity, TextFontPx: p.TextFontPx, TextItalic: p.TextItalic, TextBold: p.TextBold,
		TextOutlineWidth: p.TextOutlineWidth, TextOutlineOpacity: p.TextOutlineOpacity,
		TextOutlineBlur: p.TextOutlineBlur, TextBackgroundOpacity: p.TextBackgroundOpacity,
	}
	copy(out[1:], p.MoreText[:])
	return out
}

// WithText returns a copy of p whose text fields (layer 0) are l's and
// that has no other text layer: the parameters an engine draws one layer
// with.
func (p *Params) WithText(l TextLayer) Params {
	q := *p
	q.Text, q.TextSize, q.TextColor, q.TextOpacity = l.Text, l.TextSize, l.TextColor, l.TextOpacity
	q.TextPosition, q.TextFontFamily, q.TextBackground, q.TextOutline = l.TextPosition, l.TextFontFamily, l.TextBackground, l.TextOutline
	q.TextAlign, q.TextX, q.TextY, q.TextGravity = l.TextAlign, l.TextX, l.TextY, l.TextGravity
	q.TextFontPx, q.TextItalic, q.TextBold = l.TextFontPx, l.TextItalic, l.TextBold
	q.TextOutlineWidth, q.TextOutlineOpacity, q.TextOutlineBlur, q.TextBackgroundOpacity = l.TextOutlineWidth, l.TextOutlineOpacity, l.TextOutlineBlur, l.TextBackgroundOpacity
	q.MoreText = [MaxTextLayers - 1]TextLayer{}
	return q
}

// setLayer applies one parsed text or watermark option (row d, value v)
// to numbered layer n (1-based among MoreText or MoreWatermarks): the
// row's setter writes its one field into the layer as if it were layer 0.
func (p *Params) setLayer(n int, d *param, v value) {
	if d.group == "watermark" {
		q := p.WithWatermark(p.MoreWatermarks[n-1])
		d.set(&q, v)
		p.MoreWatermarks[n-1] = q.WatermarkLayers()[0]
		return
	}
	q := p.WithText(p.MoreText[n-1])
	d.set(&q, v)
	p.MoreText[n-1] = q.TextLayers()[0]
}

// MaxWatermarkLayers is how many watermarks one image may have:
// watermark.0.* (or watermark.*) to watermark.3.*.
const MaxWatermarkLayers = 4

// WatermarkLayer is one numbered watermark layer: the watermark fields of
// Params, with the same names and meaning. Like Params it is not
// comparable; IsZero reports the zero value.
type WatermarkLayer struct {
	_                                           noCompare
	Watermark                                   string
	WatermarkPosition                           Position
	WatermarkScaleWidth, WatermarkScaleHeight   Dim
	WatermarkOpacity                            int
	WatermarkX, WatermarkY                      Offset
	WatermarkGravity                            Position
	WatermarkScaleOption                        ScaleOption
	WatermarkRotate                             float64
	WatermarkBack                               bool
	WatermarkCanvasWidth, WatermarkCanvasHeight Dim
	WatermarkCanvasColor                        Color
	WatermarkCanvasOpacity                      Level
	WatermarkCrop                               CropBox
}

// IsZero reports whether every field of l is zero: the layer was not
// given at all. WatermarkLayer is not comparable (see noCompare), so this
// stands for l == WatermarkLayer{}.
func (l *WatermarkLayer) IsZero() bool {
	var (
		dim    Dim
		offset Offset
	)
	return l.Watermark == "" && l.WatermarkPosition == "" &&
		l.WatermarkScaleWidth == dim && l.WatermarkScaleHeight == dim && l.WatermarkOpacity == 0 &&
		l.WatermarkX == offset && l.WatermarkY == offset && l.WatermarkGravity == "" &&
		l.WatermarkScaleOption == "" && l.WatermarkRotate == 0 && !l.WatermarkBack &&
		l.WatermarkCanvasWidth == dim && l.WatermarkCanvasHeight == dim &&
		l.WatermarkCanvasColor == (Color{}) && l.WatermarkCanvasOpacity == (Level{}) &&
		l.WatermarkCrop == (CropBox{})
}

// WatermarkLayers returns p's watermark layers in drawing order: layer 0
// (p's own watermark fields), then MoreWatermarks. Layers without a
// watermark are included.
func (p *Params) WatermarkLayers() [MaxWatermarkLayers]WatermarkLayer {
	var out [MaxWatermarkLayers]WatermarkLayer
	out[0] = WatermarkLayer{
		Watermark: p.Watermark, WatermarkPosition: p.WatermarkPosition,
		WatermarkScaleWidth: p.WatermarkScaleWidth, WatermarkScaleHeight: p.WatermarkScaleHeight,
		WatermarkOpacity: p.WatermarkOpacity, WatermarkX: p.WatermarkX, WatermarkY: p.WatermarkY,
		WatermarkGravity: p.WatermarkGravity, WatermarkScaleOption: p.WatermarkScaleOption,
		WatermarkRotate: p.WatermarkRotate, WatermarkBack: p.WatermarkBack,
		WatermarkCanvasWidth: p.WatermarkCanvasWidth, WatermarkCanvasHeight: p.WatermarkCanvasHeight,
		WatermarkCanvasColor: p.WatermarkCanvasColor, WatermarkCanvasOpacity: p.WatermarkCanvasOpacity,
		WatermarkCrop: p.WatermarkCrop,
	}
	copy(out[1:], p.MoreWatermarks[:])
	return out
}

// WithWatermark returns a copy of p whose watermark fields (layer 0) are
// l's and that has no other watermark layer: the parameters an engine
// draws one watermark with.
func (p *Params) WithWatermark(l WatermarkLayer) Params {
	q := *p
	q.Watermark, q.WatermarkPosition, q.WatermarkOpacity = l.Watermark, l.WatermarkPosition, l.WatermarkOpacity
	q.WatermarkScaleWidth, q.WatermarkScaleHeight = l.WatermarkScaleWidth, l.WatermarkScaleHeight
	q.WatermarkX, q.WatermarkY, q.WatermarkGravity = l.WatermarkX, l.WatermarkY, l.WatermarkGravity
	q.WatermarkScaleOption, q.WatermarkRotate, q.WatermarkBack = l.WatermarkScaleOption, l.WatermarkRotate, l.WatermarkBack
	q.WatermarkCanvasWidth, q.WatermarkCanvasHeight = l.WatermarkCanvasWidth, l.WatermarkCanvasHeight
	q.WatermarkCanvasColor, q.WatermarkCanvasOpacity, q.WatermarkCrop = l.WatermarkCanvasColor, l.WatermarkCanvasOpacity, l.WatermarkCrop
	q.MoreWatermarks = [MaxWatermarkLayers - 1]WatermarkLayer{}
	return q
}

// Watermarks returns the paths of p's watermarks, layer by layer, without
// the empty ones.
func (p *Params) Watermarks() []string {
	var out []string
	for _, l := range p.WatermarkLayers() {
		if l.Watermark != "" {
			out = append(out, l.Watermark)
		}
	}
	return out
}

// CropBox is a crop window given by offsets and sizes (pixels or a
// percentage of the cropped image's own size); the zero value crops
// nothing.
type CropBox struct {
	// X and Y are the window's top-left corner (pixels, % or center).
	X, Y Offset
	// W and H are its size; unset means up to the image's far edge.
	W, H Dim
}

// Level is a percentage 0..100 whose zero value means "not given" (the
// parameter's default), as opposed to an explicit 0.
type Level struct {
	// Value is the percentage given.
	Value int
	// Set reports that the parameter was given.
	Set bool
}

// Or returns the level, or def when it was not given.
func (l Level) Or(def int) int {
	if !l.Set {
		return def
	}
	return l.Value
}

// Limits bound the work one transform may do. Every field has a safe default
// (see DefaultLimits); a zero field means "use the default".
type Limits struct {
	// MaxSourcePixels is the largest source width*height accepted, checked
	// from the image header before decoding. Default 50,000,000.
	MaxSourcePixels int
	// MaxOutputWidth and MaxOutputHeight bound the output (and every
	// intermediate canvas) in pixels. Default 8192 each.
	MaxOutputWidth, MaxOutputHeight int
	// MaxSourceBytes is the largest source file read for a transform.
	// Default 64 MiB.
	MaxSourceBytes int64
	// MaxTextRunes bounds the text parameter. Default 256.
	MaxTextRunes int
	// MaxWork bounds the planned work of one transform, in pixel
	// operations (see Params.CheckWork): the largest image of the
	// pipeline times the taps per pixel of blur and sharpen. It is
	// checked from the image header, before any pixel is decoded, so an
	// anonymous w=8192&h=8192&blur=100 (about 16 billion operations) is
	// refused with a 400 naming blur instead of holding a transform slot.
	// Default 4,000,000,000 (a 12-megapixel image blurred with blur=100
	// fits).
	MaxWork int64
	// Timeout bounds one transform; the engine checks the context between
	// stages. Default 10s.
	Timeout time.Duration
	// AllowVector enables SVG and PDF sources. Default false: such sources
	// are refused as "not an image" when parameters apply.
	AllowVector bool
}

// Errors an engine returns (wrapped). The handler maps them to statuses.
var (
	// ErrNotImage: the source is not a supported image (400 "not an image").
	ErrNotImage = errors.New("not an image")
	// ErrSourceTooLarge: source pixels or bytes over the limit (413).
	ErrSourceTooLarge = errors.New("source image too large")
	// ErrOutputTooLarge: the requested output exceeds the output limits (400).
	ErrOutputTooLarge = errors.New("output image too large")
	// ErrWatermarkNotFound: the watermark file cannot be read (400).
	ErrWatermarkNotFound = errors.New("watermark not found")
)

// Request is one unit of work for an Engine.
type Request struct {
	// Source is the whole source file (at most Limits.MaxSourceBytes).
	Source []byte
	// Params are the validated effective parameters.
	Params *Params
	// Format is the resolved output format (never original or optimal).
	Format Format
	// ReadFile reads a watermark image by its clean path under the same
	// root as the source. It enforces the same path rules as the handler.
	ReadFile func(name string) ([]byte, error)
}

// Output is an encoded variant.
type Output struct {
	Data          []byte
	Format        Format
	Width, Height int
}

// Engine executes validated parameters. Implementations must honour ctx
// (deadline checked between stages) and the limits they were built with.
// transform/vips provides the libvips engine.
type Engine interface {
	Process(ctx context.Context, req Request) (*Output, error)
}

// noCompare is a zero-size field that makes a struct not comparable, so
// the compiler emits no equality function for it (for Params and its
// layer arrays, about 26 KB of WebAssembly code). It comes first: a
// zero-size last field would add padding.
type noCompare [0]func()
