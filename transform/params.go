package transform

import (
	"encoding/hex"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/keyhole-dev/keyhole/internal/pathrule"
)

// Input bounds checked before any value is parsed.
const (
	// MaxParams is the largest number of entries (known or not) Parse accepts.
	MaxParams = 64
	// MaxValueBytes is the longest value, in bytes, of a known parameter. It
	// is checked before anything else, so it also caps text whatever
	// Limits.MaxTextRunes says.
	MaxValueBytes = 4096
)

// Value bounds that do not depend on Limits.
const (
	maxPathBytes     = pathrule.MaxBytes
	maxFileNameBytes = 255
	maxFontRunes     = 64
	maxProfileRunes  = 64
	maxRatioTerm     = 10000
)

// kind is the grammar of a parameter's value.
type kind uint8

const (
	kindSize     kind = iota // pixels 1..max, or N% with 0 < N <= 100
	kindPixels               // pixels 1..max
	kindOffset               // pixels 0..max, N% with 0 <= N <= 100, or center
	kindInt                  // whole number in [min, max]
	kindFloat                // number in [min, max]
	kindBool                 // "", true, 1, false, 0
	kindEnum                 // one of enum (case-insensitive) or an alias
	kindColor                // RRGGBB or RRGGBBAA
	kindText                 // UTF-8 text without control characters
	kindFont                 // font family name
	kindPath                 // clean absolute path
	kindDownload             // boolean or a file name
	kindRatio                // W:H
	kindName                 // profile name
	kindRefused              // a Sirv option Keyhole refuses (see param.note)
	kindText64               // base64url text (text.text64)
)

// axis says which output limit bounds a pixel value.
type axis uint8

const (
	axisNone axis = iota
	axisWidth
	axisHeight
	axisLongest
)

// value is a parsed parameter value; which field is used depends on kind.
type value struct {
	dim    Dim
	center bool
	num    float64
	on     bool
	str    string
	color  Color
	ratio  [2]int
}

// param describes one parameter: its grammar, documentation and where its
// value goes in Params.
type param struct {
	name     string
	group    string
	kind     kind
	axis     axis
	min, max float64
	enum     []string
	alias    map[string]string
	def      string
	doc      string
	set      func(p *Params, v value)

	// Sirv parity. sirv is Sirv's own default and values as Sirv's
	// reference describes them ("" for Keyhole's own parameters, dl);
	// note states how Keyhole differs (status differs) or why it refuses
	// the option (kindRefused). refuse lists enumeration values that are
	// Sirv's but that Keyhole refuses, each with its reason.
	sirv   string
	note   string
	refuse map[string]string
	// aliasOf names the row this spelling stands for (scale.width → w);
	// such a row has no grammar of its own. target is that row, filled
	// in by sortedByName.
	aliasOf string
	target  *param
	// percent lets a number end in "%" (text.size=40%, as Sirv writes
	// it); the value is the same without it.
	percent bool
}

// colortones are the colortone presets (see colortonePresets).
var colortones = []string{"sepia", "warm", "cold", "sunlight", "sunset", "texas", "aurora", "purple", "emerald"}

var compass = []string{"north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest", "center"}

// params is the definition table: the single source of the parameter
// grammar, validation, canonical form and documentation. Rows are in
// documentation order (by group). The Sirv aliases and refused options
// (sirv.go) follow them.
var params = append(coreParams, sirvParams...)

// coreParams are the implemented parameters, in documentation order.
var coreParams = []param{
	// Size.
	{name: "w", group: "size", kind: kindSize, axis: axisWidth, def: "source width",
		doc: "Output width, in pixels or as a percentage of the source width. Given alone, the height follows the aspect ratio.",
		set: func(p *Params, v value) { p.Width = v.dim }},
	{name: "h", group: "size", kind: kindSize, axis: axisHeight, def: "source height",
		doc: "Output height, in pixels or as a percentage of the source height. Given alone, the width follows the aspect ratio.",
		set: func(p *Params, v value) { p.Height = v.dim }},
	{name: "s", group: "size", kind: kindPixels, axis: axisLongest, def: "none",
		doc: "Length of the output's longest side in pixels; the other side follows the aspect ratio.",
		set: func(p *Params, v value) { p.Side = int(v.num) }},
	{name: "scale.option", group: "size", kind: kindEnum, enum: []string{"fit", "fill", "ignore", "noup"}, def: "fit",
		doc: "How w and h together apply: fit inside the box keeping the aspect ratio, fill the box and crop the excess around the centre, ignore the aspect ratio and stretch, or noup (fit, never enlarging).",
		set: func(p *Params, v value) { p.ScaleOption = ScaleOption(v.str) }},

	{name: "thumbnail", group: "size", kind: kindPixels, axis: axisLongest, def: "none", sirv: "px; none",
		doc: "A square thumbnail of this many pixels a side: the image fills the square and the excess is cropped around the centre (as w=h=N with scale.option=fill). w, h and s take precedence.",
		set: func(p *Params, v value) { p.Thumbnail = int(v.num) }},

	// Crop.
	{name: "cw", group: "crop", kind: kindSize, axis: axisWidth, def: "none",
		doc: "Crop width, in pixels or as a percentage of the scaled image's width. Crops apply after scaling.",
		set: func(p *Params, v value) { p.CropWidth = v.dim }},
	{name: "ch", group: "crop", kind: kindSize, axis: axisHeight, def: "none",
		doc: "Crop height, in pixels or as a percentage of the scaled image's height.",
		set: func(p *Params, v value) { p.CropHeight = v.dim }},
	{name: "cx", group: "crop", kind: kindOffset, axis: axisWidth, def: "0",
		doc: "Left edge of the crop, in pixels or as a percentage of the scaled image's width, or center to centre the crop horizontally.",
		set: func(p *Params, v value) { p.CropX = Offset{Dim: v.dim, Center: v.center} }},
	{name: "cy", group: "crop", kind: kindOffset, axis: axisHeight, def: "0",
		doc: "Top edge of the crop, in pixels or as a percentage of the scaled image's height, or center to centre the crop vertically.",
		set: func(p *Params, v value) { p.CropY = Offset{Dim: v.dim, Center: v.center} }},
	{name: "crop.type", group: "crop", kind: kindEnum, enum: []string{"trim", "smart"}, alias: map[string]string{"poi": "smart"}, def: "none",
		refuse: map[string]string{"face": "face detection is not available; use crop.type=smart"},
		doc:    "Automatic crop before scaling: trim removes a uniform border, smart keeps the most interesting region.",
		set:    func(p *Params, v value) { p.CropType = CropType(v.str) }},
	{name: "crop.pad.width", group: "crop", kind: kindSize, axis: axisWidth, def: "0", sirv: "px or %; 0",
		doc: "Widen the crop window by this much on the left and on the right (pixels or percent of the scaled image's width), within the image.",
		set: func(p *Params, v value) { p.CropPadWidth = v.dim }},
	{name: "crop.pad.height", group: "crop", kind: kindSize, axis: axisHeight, def: "0", sirv: "px or %; 0",
		doc: "Heighten the crop window by this much above and below (pixels or percent of the scaled image's height), within the image.",
		set: func(p *Params, v value) { p.CropPadHeight = v.dim }},
	{name: "crop.aspectratio", group: "crop", kind: kindRatio, def: "none",
		doc: "Aspect ratio for the automatic crop, as width:height, for example 16:9.",
		set: func(p *Params, v value) { p.CropAspect = v.ratio }},

	// Output.
	{name: "format", group: "output", kind: kindEnum,
		enum:  []string{string(FormatOriginal), string(FormatOptimal), string(FormatJPEG), string(FormatPNG), string(FormatWebP), string(FormatAVIF), string(FormatGIF)},
		alias: map[string]string{"jpeg": string(FormatJPEG)}, def: "original",
		doc: "Output format. original keeps the source's format (PNG for SVG and PDF sources, JPEG for HEIF); optimal picks AVIF or WebP when the browser's Accept header allows it, else the source's format, and sets Vary: Accept.",
		set: func(p *Params, v value) { p.Format = Format(v.str) }},
	{name: "q", group: "output", kind: kindInt, min: 1, max: 100, def: "80",
		doc: "Encoding quality for lossy formats.",
		set: func(p *Params, v value) { p.Quality = int(v.num) }},
	{name: "webp-fallback", group: "output", kind: kindEnum, enum: []string{string(FormatJPEG), string(FormatPNG)}, alias: map[string]string{"jpeg": string(FormatJPEG)}, def: "the source's format",
		sirv: "jpg, png; jpg; the default fallback is the source's format, as for format=optimal",
		doc:  "With format=webp or optimal, the format for browsers whose Accept header lists neither WebP nor AVIF (sets Vary: Accept).",
		set:  func(p *Params, v value) { p.WebPFallback = Format(v.str) }},
	{name: "progressive", group: "output", kind: kindBool, def: "false", sirv: "true/false; false",
		doc: "Progressive JPEG, interlaced PNG.",
		set: func(p *Params, v value) { p.Progressive = v.on }},
	{name: "subsampling", group: "output", kind: kindEnum, enum: []string{"4:2:0", "4:4:4"}, def: "4:2:0", sirv: "4:2:0, 4:2:2, 4:4:4; 4:2:0; 4:2:2 is refused: libvips writes 4:2:0 or 4:4:4 only",
		refuse: map[string]string{"4:2:2": "libvips writes JPEG chroma subsampling 4:2:0 or 4:4:4 only"},
		doc:    "JPEG chroma subsampling: 4:2:0 (smaller files) or 4:4:4 (full colour resolution).",
		set:    func(p *Params, v value) { p.Subsampling = v.str }},
	{name: "png.optimize", group: "output", kind: kindBool, def: "false", sirv: "true/false; false; the PNG is quantised to a palette of at most 256 colours (libimagequant)",
		doc: "Smaller PNG output: a palette of at most 256 colours.",
		set: func(p *Params, v value) { p.PNGOptimize = v.on }},
	{name: "page", group: "output", kind: kindInt, min: 1, max: 10000, def: "1", sirv: "page number; 1",
		doc: "Page (PDF, TIFF) or frame (GIF, WebP) of a multi-page source to render, counting from 1. A page the source lacks is a 400.",
		set: func(p *Params, v value) { p.Page = int(v.num) }},
	{name: "dl", group: "output", kind: kindDownload, def: "off",
		doc: "Download instead of display (Content-Disposition: attachment). Empty or true keeps the file's name; any other value is the file name to save as (no slashes, control or bidirectional-override characters, at most 255 bytes).",
		set: func(p *Params, v value) { p.Download, p.DownloadName = v.on, v.str }},

	// Orientation.
	{name: "rotate", group: "orientation", kind: kindFloat, min: -180, max: 180, def: "0",
		doc: "Rotation in degrees, clockwise for positive values.",
		set: func(p *Params, v value) { p.Rotate = v.num }},
	{name: "flip", group: "orientation", kind: kindBool, def: "false",
		doc: "Mirror vertically (top to bottom).",
		set: func(p *Params, v value) { p.Flip = v.on }},
	{name: "flop", group: "orientation", kind: kindBool, def: "false",
		doc: "Mirror horizontally (left to right).",
		set: func(p *Params, v value) { p.Flop = v.on }},

	// Adjustments.
	{name: "grayscale", group: "adjust", kind: kindBool, def: "false",
		doc: "Convert to shades of grey.",
		set: func(p *Params, v value) { p.Grayscale = v.on }},
	{name: "blur", group: "adjust", kind: kindFloat, min: 0, max: 100, def: "0",
		doc: "Blur strength.",
		set: func(p *Params, v value) { p.Blur = v.num }},
	{name: "sharpen", group: "adjust", kind: kindFloat, min: 0, max: 100, def: "0",
		doc: "Sharpening strength.",
		set: func(p *Params, v value) { p.Sharpen = v.num }},
	{name: "brightness", group: "adjust", kind: kindInt, min: -100, max: 100, def: "0",
		doc: "Brightness change.",
		set: func(p *Params, v value) { p.Brightness = int(v.num) }},
	{name: "contrast", group: "adjust", kind: kindInt, min: -100, max: 100, def: "0",
		doc: "Contrast change.",
		set: func(p *Params, v value) { p.Contrast = int(v.num) }},
	{name: "saturation", group: "adjust", kind: kindInt, min: -100, max: 100, def: "0",
		doc: "Saturation change; -100 removes all colour.",
		set: func(p *Params, v value) { p.Saturation = int(v.num) }},
	{name: "lightness", group: "adjust", kind: kindInt, min: -100, max: 100, def: "0",
		doc: "Lightness change.",
		set: func(p *Params, v value) { p.Lightness = int(v.num) }},
	{name: "hue", group: "adjust", kind: kindInt, min: -180, max: 180, def: "0",
		doc: "Hue rotation in degrees.",
		set: func(p *Params, v value) { p.Hue = int(v.num) }},

	{name: "exposure", group: "adjust", kind: kindInt, min: -100, max: 100, def: "0", sirv: "-100 to 100; 0",
		doc: "Exposure change: 100 doubles the light (one stop up), -100 halves it.",
		set: func(p *Params, v value) { p.Exposure = int(v.num) }},
	{name: "shadows", group: "adjust", kind: kindInt, min: -100, max: 100, def: "0", sirv: "-100 to 100; 0",
		doc: "Lighten (positive) or darken (negative) the dark tones, leaving black and the highlights about as they are.",
		set: func(p *Params, v value) { p.Shadows = int(v.num) }},
	{name: "highlights", group: "adjust", kind: kindInt, min: -100, max: 100, def: "0", sirv: "-100 to 100; 0",
		doc: "Lighten (positive) or darken (negative) the light tones, leaving white and the shadows about as they are.",
		set: func(p *Params, v value) { p.Highlights = int(v.num) }},
	{name: "colorlevel.black", group: "adjust", kind: kindInt, min: 0, max: 254, def: "0", sirv: "0 to 254; 0",
		doc: "Black level: this input level and darker become black; must be below colorlevel.white.",
		set: func(p *Params, v value) { p.ColorLevelBlack = int(v.num) }},
	{name: "colorlevel.white", group: "adjust", kind: kindInt, min: 1, max: 255, def: "255", sirv: "1 to 255; 255",
		doc: "White level: this input level and lighter become white.",
		set: func(p *Params, v value) { p.ColorLevelWhite = int(v.num) }},
	{name: "colortone", group: "adjust", kind: kindEnum, enum: colortones, def: "none",
		sirv: "a preset name; none; the presets are Keyhole's own duotones under Sirv's names, not Sirv's exact colours",
		doc:  "Colour-tone preset: the image's tones are mapped to a duotone (black, the preset's colour at mid-grey, white) and blended in. colortone.color, .level and .mode override the preset's.",
		set:  func(p *Params, v value) { p.Colortone = v.str }},
	{name: "colortone.color", group: "adjust", kind: kindColor, def: "preset's", sirv: "RGB hex; none",
		doc: "Colour of the tone (at mid-grey); with no colortone, it alone applies a tone.",
		set: func(p *Params, v value) { p.ColortoneColor = v.color }},
	{name: "colortone.level", group: "adjust", kind: kindInt, min: 0, max: 100, def: "100", sirv: "0 to 100; 100",
		doc: "How much of the toned image is blended in, in percent.",
		set: func(p *Params, v value) { p.ColortoneLevel = Level{Value: int(v.num), Set: true} }},
	{name: "colortone.mode", group: "adjust", kind: kindEnum, enum: []string{"solid", "highlights", "shadows"}, def: "solid", sirv: "solid, highlights, shadows; solid",
		doc: "Where the tone applies: everywhere (solid), more in the light tones (highlights) or more in the dark tones (shadows).",
		set: func(p *Params, v value) { p.ColortoneMode = v.str }},
	{name: "colorize.color", group: "adjust", kind: kindColor, def: "none", sirv: "RGB hex; none",
		doc: "Colour laid over the whole image.",
		set: func(p *Params, v value) { p.ColorizeColor = v.color }},
	{name: "colorize.opacity", group: "adjust", kind: kindInt, min: 0, max: 100, def: "100", sirv: "0 to 100; 100",
		doc: "Opacity of the colorize colour, in percent (times the colour's own alpha).",
		set: func(p *Params, v value) { p.ColorizeOpacity = Level{Value: int(v.num), Set: true} }},
	{name: "vignette.value", group: "adjust", kind: kindInt, min: 0, max: 100, def: "0", sirv: "0 to 100; 0",
		doc: "Depth of a vignette: edges and corners fade to vignette.color.",
		set: func(p *Params, v value) { p.VignetteValue = int(v.num) }},
	{name: "vignette.color", group: "adjust", kind: kindColor, def: "000000", sirv: "RGB or RGBA hex; 000000",
		doc: "Colour of the vignette.",
		set: func(p *Params, v value) { p.VignetteColor = v.color }},
	{name: "opacity", group: "adjust", kind: kindInt, min: 0, max: 100, def: "100", sirv: "0 to 100; 100; JPEG has no transparency: a JPEG output is flattened onto white",
		doc: "Opacity of the image in percent; formats with transparency (PNG, WebP, AVIF, GIF) keep it.",
		set: func(p *Params, v value) { p.Opacity = Level{Value: int(v.num), Set: true} }},

	// Canvas.
	{name: "canvas.width", group: "canvas", kind: kindSize, axis: axisWidth, def: "image width",
		doc: "Canvas width, in pixels or as a percentage of the image's width; the image is placed on it.",
		set: func(p *Params, v value) { p.CanvasWidth = v.dim }},
	{name: "canvas.height", group: "canvas", kind: kindSize, axis: axisHeight, def: "image height",
		doc: "Canvas height, in pixels or as a percentage of the image's height.",
		set: func(p *Params, v value) { p.CanvasHeight = v.dim }},
	{name: "canvas.color", group: "canvas", kind: kindColor, def: "ffffff",
		doc: "Canvas colour.",
		set: func(p *Params, v value) { p.CanvasColor = v.color }},
	{name: "canvas.position", group: "canvas", kind: kindEnum, enum: compass, def: "center",
		doc: "Where the image sits on the canvas.",
		set: func(p *Params, v value) { p.CanvasPosition = Position(v.str) }},

	{name: "canvas.opacity", group: "canvas", kind: kindInt, min: 0, max: 100, def: "100", sirv: "0 to 100; 100; JPEG has no transparency: a transparent canvas is flattened onto white",
		doc: "Opacity of the canvas colour in percent (times the colour's own alpha).",
		set: func(p *Params, v value) { p.CanvasOpacity = Level{Value: int(v.num), Set: true} }},
	{name: "canvas.aspectratio", group: "canvas", kind: kindRatio, def: "none", sirv: "W:H; none",
		doc: "Widen or heighten the canvas (never shrink it) to this aspect ratio, for example 1:1 for a square with the whole image on it.",
		set: func(p *Params, v value) { p.CanvasAspect = v.ratio }},
	{name: "canvas.border.width", group: "canvas", kind: kindSize, axis: axisWidth, def: "0", sirv: "px or %; 0",
		doc: "A border added left and right of the canvas, in pixels or percent of the canvas width, each side.",
		set: func(p *Params, v value) { p.CanvasBorderWidth = v.dim }},
	{name: "canvas.border.height", group: "canvas", kind: kindSize, axis: axisHeight, def: "0", sirv: "px or %; 0",
		doc: "A border added above and below the canvas, in pixels or percent of the canvas height, each side.",
		set: func(p *Params, v value) { p.CanvasBorderHeight = v.dim }},
	{name: "canvas.border.color", group: "canvas", kind: kindColor, def: "canvas.color", sirv: "RGB or RGBA hex, or a colour name; canvas colour",
		doc: "Colour of the canvas border.",
		set: func(p *Params, v value) { p.CanvasBorderColor = v.color }},
	{name: "canvas.border.opacity", group: "canvas", kind: kindInt, min: 0, max: 100, def: "100", sirv: "0 to 100; 100",
		doc: "Opacity of the border colour in percent.",
		set: func(p *Params, v value) { p.CanvasBorderOpacity = Level{Value: int(v.num), Set: true} }},
	{name: "frame.style", group: "canvas", kind: kindEnum, enum: []string{"none", "solid", "mirror", "edge"}, def: "none",
		refuse: map[string]string{"dither": "dithered frames are not drawn; use solid, mirror or edge"},
		sirv:   "none, solid, mirror, edge, dither; none; dither is refused",
		doc:    "A frame around the finished image (after text and watermark): solid in frame.color, mirror (the image reflected at its edges) or edge (its edge pixels stretched out).",
		set:    func(p *Params, v value) { p.FrameStyle = v.str }},
	{name: "frame.color", group: "canvas", kind: kindColor, def: "000000", sirv: "RGB or RGBA hex, or a colour name; 000000",
		doc: "Colour of a solid frame.",
		set: func(p *Params, v value) { p.FrameColor = v.color }},
	{name: "frame.width", group: "canvas", kind: kindSize, axis: axisLongest, def: "5%", sirv: "px or %; 5%",
		doc: "Width of the frame on each side, in pixels or percent of the image's shorter side.",
		set: func(p *Params, v value) { p.FrameWidth = v.dim }},
	{name: "frame.rim.color", group: "canvas", kind: kindColor, def: "ffffff", sirv: "RGB or RGBA hex, or a colour name; ffffff",
		doc: "Colour of a rim between the image and its frame.",
		set: func(p *Params, v value) { p.FrameRimColor = v.color }},
	{name: "frame.rim.width", group: "canvas", kind: kindInt, min: 0, max: 100, def: "0", sirv: "px; 0; at most the frame's width",
		doc: "Width of the rim in pixels, drawn on the inner edge of the frame.",
		set: func(p *Params, v value) { p.FrameRimWidth = int(v.num) }},

	// Text.
	{name: "text", group: "text", kind: kindText, def: "none",
		doc: "Text drawn over the image.",
		set: func(p *Params, v value) { p.Text = v.str }},
	{name: "text.size", group: "text", kind: kindFloat, min: 1, max: 100, def: "auto", percent: true,
		doc: "Text size as a percentage of the image width.",
		set: func(p *Params, v value) { p.TextSize = v.num }},
	{name: "text.color", group: "text", kind: kindColor, def: "000000",
		doc: "Text colour.",
		set: func(p *Params, v value) { p.TextColor = v.color }},
	{name: "text.opacity", group: "text", kind: kindInt, min: 1, max: 100, def: "100",
		doc: "Text opacity in percent. 0 is refused: leave out the text instead.",
		set: func(p *Params, v value) { p.TextOpacity = int(v.num) }},
	{name: "text.position", group: "text", kind: kindEnum, enum: compass, def: "center",
		doc: "Where the text is placed.",
		set: func(p *Params, v value) { p.TextPosition = Position(v.str) }},
	{name: "text.font.family", group: "text", kind: kindFont, def: "sans-serif",
		doc: "Font family. Text is drawn with the Go fonts: a name containing mono (monospace, DejaVu Sans Mono) selects Go Mono, bold selects the bold cut, any other name Go (sans-serif).",
		set: func(p *Params, v value) { p.TextFontFamily = v.str }},
	{name: "text.background.color", group: "text", kind: kindColor, def: "none",
		doc: "Colour of a box behind the text.",
		set: func(p *Params, v value) { p.TextBackground = v.color }},
	{name: "text.outline.color", group: "text", kind: kindColor, def: "none",
		doc: "Colour of an outline around the letters.",
		set: func(p *Params, v value) { p.TextOutline = v.color }},

	{name: "text.text64", group: "text", kind: kindText64, def: "none", sirv: "base64 text; none",
		doc: "The text, base64-encoded (standard or URL alphabet, padding optional), for text that is awkward in a URL. Not together with text.",
		set: func(p *Params, v value) { p.Text = v.str }},
	{name: "text.align", group: "text", kind: kindEnum, enum: []string{"left", "center", "right"}, def: "as text.position", sirv: "left, center, right; center; by default lines align as text.position's side (left for west, right for east)",
		doc: "Alignment of the lines of a multi-line text.",
		set: func(p *Params, v value) { p.TextAlign = v.str }},
	{name: "text.position.x", group: "text", kind: kindOffset, axis: axisWidth, def: "none", sirv: "px or %; none; the text is kept over the image: an offset that would push it off is reduced",
		doc: "Horizontal offset of the text from the text.position.gravity point, in pixels or percent of the image width (center centres it). Takes precedence over text.position.",
		set: func(p *Params, v value) { p.TextX = Offset{Dim: v.dim, Center: v.center} }},
	{name: "text.position.y", group: "text", kind: kindOffset, axis: axisHeight, def: "none", sirv: "px or %; none; the text is kept over the image: an offset that would push it off is reduced",
		doc: "Vertical offset of the text from the text.position.gravity point, in pixels or percent of the image height.",
		set: func(p *Params, v value) { p.TextY = Offset{Dim: v.dim, Center: v.center} }},
	{name: "text.position.gravity", group: "text", kind: kindEnum, enum: compass, def: "northwest", sirv: "compass point or center; northwest",
		doc: "The corner, side or centre that text.position.x and .y count from; offsets point into the image.",
		set: func(p *Params, v value) { p.TextGravity = Position(v.str) }},
	{name: "text.font.size", group: "text", kind: kindInt, min: 1, max: 1000, def: "auto", sirv: "px; auto; reduced when the text would cover more than the image",
		doc: "Font size in pixels; takes precedence over text.size.",
		set: func(p *Params, v value) { p.TextFontPx = int(v.num) }},
	{name: "text.font.style", group: "text", kind: kindEnum, enum: []string{"normal", "italic"}, def: "normal", sirv: "normal, italic; normal",
		doc: "Upright or italic letters.",
		set: func(p *Params, v value) { p.TextItalic = v.str == "italic" }},
	{name: "text.font.weight", group: "text", kind: kindEnum, enum: []string{"300", "400", "600", "700", "800"},
		alias: map[string]string{"light": "300", "normal": "400", "semi-bold": "600", "bold": "700", "extra-bold": "800"}, def: "400",
		sirv: "300, 400, 600, 700, 800; 400; the Go fonts have two weights: 300 and 400 draw regular, 600 to 800 bold",
		doc:  "Font weight.",
		set:  func(p *Params, v value) { p.TextBold = v.str >= "600" }},
	{name: "text.outline.width", group: "text", kind: kindInt, min: 1, max: 100, def: "1/16 of the font size", sirv: "px; 0; without text.outline.color the outline is black",
		doc: "Width of the outline around the letters in pixels.",
		set: func(p *Params, v value) { p.TextOutlineWidth = int(v.num) }},
	{name: "text.outline.opacity", group: "text", kind: kindInt, min: 0, max: 100, def: "100", sirv: "0 to 100; 100",
		doc: "Opacity of the outline in percent.",
		set: func(p *Params, v value) { p.TextOutlineOpacity = Level{Value: int(v.num), Set: true} }},
	{name: "text.outline.blur", group: "text", kind: kindInt, min: 0, max: 50, def: "0", sirv: "px; 0",
		doc: "Blur of the outline in pixels (a glow or soft shadow).",
		set: func(p *Params, v value) { p.TextOutlineBlur = int(v.num) }},
	{name: "text.background.opacity", group: "text", kind: kindInt, min: 0, max: 100, def: "100", sirv: "0 to 100; 100",
		doc: "Opacity of the box behind the text in percent.",
		set: func(p *Params, v value) { p.TextBackgroundOpacity = Level{Value: int(v.num), Set: true} }},

	// Watermark.
	{name: "watermark", group: "watermark", kind: kindPath, def: "none",
		doc: "Path of the watermark image, under the same root as the served file.",
		set: func(p *Params, v value) { p.Watermark = v.str }},
	{name: "watermark.position", group: "watermark", kind: kindEnum, enum: append(slices.Clip(compass), "tile"), def: "center",
		doc: "Where the watermark is placed; tile repeats it over the whole image.",
		set: func(p *Params, v value) { p.WatermarkPosition = Position(v.str) }},
	{name: "watermark.scale.width", group: "watermark", kind: kindSize, axis: axisWidth, def: "watermark's width",
		doc: "Watermark width, in pixels or as a percentage of the image's width.",
		set: func(p *Params, v value) { p.WatermarkScaleWidth = v.dim }},
	{name: "watermark.scale.height", group: "watermark", kind: kindSize, axis: axisHeight, def: "watermark's height",
		doc: "Watermark height, in pixels or as a percentage of the image's height.",
		set: func(p *Params, v value) { p.WatermarkScaleHeight = v.dim }},
	{name: "watermark.opacity", group: "watermark", kind: kindInt, min: 1, max: 100, def: "100",
		doc: "Watermark opacity in percent. 0 is refused: leave out the watermark instead.",
		set: func(p *Params, v value) { p.WatermarkOpacity = int(v.num) }},

	{name: "watermark.position.x", group: "watermark", kind: kindOffset, axis: axisWidth, def: "none", sirv: "px or %; none; the watermark is kept over the image: an offset that would push it off is reduced",
		doc: "Horizontal offset of the watermark from the watermark.position.gravity point, in pixels or percent of the image width (center centres it). Takes precedence over watermark.position.",
		set: func(p *Params, v value) { p.WatermarkX = Offset{Dim: v.dim, Center: v.center} }},
	{name: "watermark.position.y", group: "watermark", kind: kindOffset, axis: axisHeight, def: "none", sirv: "px or %; none; the watermark is kept over the image: an offset that would push it off is reduced",
		doc: "Vertical offset of the watermark from the watermark.position.gravity point, in pixels or percent of the image height.",
		set: func(p *Params, v value) { p.WatermarkY = Offset{Dim: v.dim, Center: v.center} }},
	{name: "watermark.position.gravity", group: "watermark", kind: kindEnum, enum: compass, def: "northwest", sirv: "compass point or center; northwest",
		doc: "The corner, side or centre that watermark.position.x and .y count from; offsets point into the image.",
		set: func(p *Params, v value) { p.WatermarkGravity = Position(v.str) }},
	{name: "watermark.scale.option", group: "watermark", kind: kindEnum, enum: []string{"fit", "fill", "ignore", "noup"}, def: "fit", sirv: "fit, fill, ignore, noup; noup; the default is fit: a watermark larger than the image is reduced to fit it",
		doc: "How watermark.scale.width and .height apply together, as scale.option does for the image.",
		set: func(p *Params, v value) { p.WatermarkScaleOption = ScaleOption(v.str) }},
	{name: "watermark.rotate", group: "watermark", kind: kindFloat, min: -180, max: 180, def: "0", sirv: "-180 to 180; 0",
		doc: "Rotation of the watermark in degrees, clockwise for positive values; the corners stay transparent.",
		set: func(p *Params, v value) { p.WatermarkRotate = v.num }},
	{name: "watermark.layer", group: "watermark", kind: kindEnum, enum: []string{"front", "back"}, def: "front", sirv: "front, back; front",
		doc: "front draws the watermark over the image; back under it, where only the image's transparent parts show it.",
		set: func(p *Params, v value) { p.WatermarkBack = v.str == "back" }},
	{name: "watermark.canvas.width", group: "watermark", kind: kindSize, axis: axisWidth, def: "watermark's width", sirv: "px or %; watermark width",
		doc: "Width of a canvas behind the watermark, in pixels or percent of the image width; the watermark is centred on it.",
		set: func(p *Params, v value) { p.WatermarkCanvasWidth = v.dim }},
	{name: "watermark.canvas.height", group: "watermark", kind: kindSize, axis: axisHeight, def: "watermark's height", sirv: "px or %; watermark height",
		doc: "Height of the canvas behind the watermark, in pixels or percent of the image height.",
		set: func(p *Params, v value) { p.WatermarkCanvasHeight = v.dim }},
	{name: "watermark.canvas.color", group: "watermark", kind: kindColor, def: "transparent", sirv: "RGB or RGBA hex; none",
		doc: "Colour of the canvas behind the watermark.",
		set: func(p *Params, v value) { p.WatermarkCanvasColor = v.color }},
	{name: "watermark.canvas.opacity", group: "watermark", kind: kindInt, min: 0, max: 100, def: "100", sirv: "0 to 100; 100",
		doc: "Opacity of the watermark's canvas colour, in percent.",
		set: func(p *Params, v value) { p.WatermarkCanvasOpacity = Level{Value: int(v.num), Set: true} }},
	{name: "watermark.crop.x", group: "watermark", kind: kindOffset, axis: axisWidth, def: "0", sirv: "px or %; 0",
		doc: "Left edge of a crop of the watermark image, in pixels or percent of its width, before it is scaled.",
		set: func(p *Params, v value) { p.WatermarkCrop.X = Offset{Dim: v.dim, Center: v.center} }},
	{name: "watermark.crop.y", group: "watermark", kind: kindOffset, axis: axisHeight, def: "0", sirv: "px or %; 0",
		doc: "Top edge of the crop of the watermark image.",
		set: func(p *Params, v value) { p.WatermarkCrop.Y = Offset{Dim: v.dim, Center: v.center} }},
	{name: "watermark.crop.width", group: "watermark", kind: kindSize, axis: axisWidth, def: "watermark's width", sirv: "px or %; watermark width",
		doc: "Width of the crop of the watermark image, in pixels or percent of its width.",
		set: func(p *Params, v value) { p.WatermarkCrop.W = v.dim }},
	{name: "watermark.crop.height", group: "watermark", kind: kindSize, axis: axisHeight, def: "watermark's height", sirv: "px or %; watermark height",
		doc: "Height of the crop of the watermark image, in pixels or percent of its height.",
		set: func(p *Params, v value) { p.WatermarkCrop.H = v.dim }},

	// Other.
	{name: "profile", group: "other", kind: kindName, def: "none",
		doc: "A named parameter set from the configuration. Merge expands it; parameters given next to it take precedence as described in docs/behaviour.md (Parameters).",
		set: func(p *Params, v value) { p.Profile = v.str }},
}

// byName holds the rows of params sorted by name, the canonical order.
var byName = sortedByName()

func sortedByName() []*param {
	rows := make([]*param, len(params))
	for i := range params {
		rows[i] = &params[i]
		if rows[i].sirv == "" {
			rows[i].sirv = sirvFacts[rows[i].name]
		}
	}
	slices.SortFunc(rows, func(a, b *param) int { return strings.Compare(a.name, b.name) })
	for _, d := range rows {
		if d.aliasOf != "" {
			i, _ := slices.BinarySearchFunc(rows, d.aliasOf, func(p *param, n string) int { return strings.Compare(p.name, n) })
			d.target = rows[i]
		}
	}
	return rows
}

// lookup returns the row for name, or nil for an unknown name.
func lookup(name string) *param {
	i, ok := slices.BinarySearchFunc(byName, name, func(p *param, n string) int { return strings.Compare(p.name, n) })
	if !ok {
		return nil
	}
	return byName[i]
}

// secureOnly reports that insecure layers may not set the parameter.
func (d *param) secureOnly() bool { return d.group == "text" || d.group == "watermark" }

// emptyIsValue reports that an empty value means something (true) rather
// than "not set".
func (d *param) emptyIsValue() bool { return d.kind == kindBool || d.kind == kindDownload }

// unbounded are the loosest limits; Canonical normalises with them so that
// its output does not depend on the limits a caller later parses with.
var unbounded = Limits{MaxOutputWidth: math.MaxInt32, MaxOutputHeight: math.MaxInt32, MaxTextRunes: math.MaxInt32}

// parse reads raw (non-empty unless emptyIsValue) in the row's grammar and
// checks it against lim. It returns the value and its canonical spelling;
// ok is false when raw is not acceptable, and the reason is then
// "must be " + d.values(lim). The canonical spelling of a false boolean is
// "", because it means the same as leaving the parameter out.
func (d *param) parse(raw string, lim Limits) (v value, canon string, ok bool) {
	switch d.kind {
	case kindSize, kindPixels, kindOffset:
		return d.parseDim(raw, lim)
	case kindInt, kindFloat:
		if d.percent {
			raw = strings.TrimSuffix(raw, "%")
		}
		f, ok := decimal(raw)
		if !ok || f < d.min || f > d.max || (d.kind == kindInt && f != math.Trunc(f)) {
			return v, "", false
		}
		v.num = f
		return v, formatNumber(f), true
	case kindBool:
		switch raw {
		case "", "true", "1":
			v.on = true
			return v, "true", true
		case "false", "0":
			return v, "", true
		}
		return v, "", false
	case kindDownload:
		switch raw {
		case "", "true", "1":
			v.on = true
			return v, "true", true
		case "false", "0":
			return v, "", true
		}
		if !fileName(raw) {
			return v, "", false
		}
		v.on, v.str = true, raw
		return v, raw, true
	case kindEnum:
		s := strings.ToLower(raw)
		if a, ok := d.alias[s]; ok {
			s = a
		}
		if !slices.Contains(d.enum, s) {
			return v, "", false
		}
		v.str = s
		return v, s, true
	case kindColor:
		c, ok := parseColor(raw)
		if !ok {
			return v, "", false
		}
		v.color = c
		return v, formatColor(c), true
	case kindText:
		if !plainText(raw) || utf8.RuneCountInString(raw) > lim.MaxTextRunes {
			return v, "", false
		}
		v.str = raw
		return v, raw, true
	case kindText64:
		text, ok := unbase64(raw)
		if !ok || !plainText(text) || utf8.RuneCountInString(text) > lim.MaxTextRunes {
			return v, "", false
		}
		v.str = text
		return v, raw, true
	case kindFont:
		if !fontFamily(raw) {
			return v, "", false
		}
		v.str = raw
		return v, raw, true
	case kindPath:
		if !cleanPath(raw) {
			return v, "", false
		}
		v.str = raw
		return v, raw, true
	case kindRatio:
		w, h, found := strings.Cut(raw, ":")
		a, okA := ratioTerm(w)
		b, okB := ratioTerm(h)
		if !found || !okA || !okB {
			return v, "", false
		}
		v.ratio = [2]int{a, b}
		return v, strconv.Itoa(a) + ":" + strconv.Itoa(b), true
	case kindName:
		if !profileName(raw) {
			return v, "", false
		}
		v.str = raw
		return v, raw, true
	}
	return v, "", false
}

// parseDim reads pixels, a percentage or (for offsets) center.
func (d *param) parseDim(raw string, lim Limits) (v value, canon string, ok bool) {
	if d.kind == kindOffset && strings.EqualFold(raw, "center") {
		v.dim.Set, v.center = true, true
		return v, "center", true
	}
	num, percent := strings.CutSuffix(raw, "%")
	f, ok := decimal(num)
	if !ok || (percent && d.kind == kindPixels) {
		return v, "", false
	}
	low := 1.0 // sizes are positive; offsets may be 0
	if d.kind == kindOffset {
		low = 0
	}
	if percent {
		if f > 100 || f < 0 || (f == 0 && d.kind != kindOffset) {
			return v, "", false
		}
		v.dim = Dim{Value: f, Percent: true, Set: true}
		return v, formatNumber(f) + "%", true
	}
	if f != math.Trunc(f) || f < low || f > float64(d.maxPixels(lim)) {
		return v, "", false
	}
	v.dim = Dim{Value: f, Set: true}
	v.num = f
	return v, formatNumber(f), true
}

// maxPixels is the largest pixel value the row accepts under lim. The
// longest side may be as long as the larger output bound; the engine still
// checks the final output against both bounds.
func (d *param) maxPixels(lim Limits) int {
	switch d.axis {
	case axisWidth:
		return lim.MaxOutputWidth
	case axisHeight:
		return lim.MaxOutputHeight
	}
	return max(lim.MaxOutputWidth, lim.MaxOutputHeight)
}

// values describes the accepted values under lim, for documentation and
// for error reasons ("must be " + values).
func (d *param) values(lim Limits) string {
	switch d.kind {
	case kindSize:
		return "pixels 1.." + strconv.Itoa(d.maxPixels(lim)) + ", or N% with 0 < N <= 100"
	case kindPixels:
		return "pixels 1.." + strconv.Itoa(d.maxPixels(lim))
	case kindOffset:
		return "pixels 0.." + strconv.Itoa(d.maxPixels(lim)) + ", N% with 0 <= N <= 100, or center"
	case kindInt:
		return "a whole number " + formatNumber(d.min) + ".." + formatNumber(d.max)
	case kindFloat:
		if d.percent {
			return "a number " + formatNumber(d.min) + ".." + formatNumber(d.max) + ", optionally followed by %"
		}
		return "a number " + formatNumber(d.min) + ".." + formatNumber(d.max)
	case kindBool:
		return "empty, true or 1, or false or 0"
	case kindDownload:
		return "empty, true or 1 (keep the name), false or 0, or a file name of at most " + strconv.Itoa(maxFileNameBytes) + " bytes without slashes, control or bidirectional-override characters"
	case kindEnum:
		names := slices.Clone(d.enum)
		for _, alias := range slices.Sorted(maps.Keys(d.alias)) {
			i := slices.Index(names, d.alias[alias])
			names[i] += " (or " + alias + ")"
		}
		return "one of " + strings.Join(names, ", ")
	case kindColor:
		return "a hex colour RRGGBB or RRGGBBAA, or one of " + colorNameList
	case kindText:
		return "UTF-8 text of at most " + strconv.Itoa(lim.MaxTextRunes) + " characters without control characters"
	case kindText64:
		return "base64 of UTF-8 text of at most " + strconv.Itoa(lim.MaxTextRunes) + " characters without control characters"
	case kindFont:
		return "letters, digits, spaces and hyphens, at most " + strconv.Itoa(maxFontRunes) + " characters, not starting or ending with a space"
	case kindPath:
		return "an absolute path such as /wm/logo.png of at most " + strconv.Itoa(maxPathBytes) + " bytes, without empty, . or .. segments, backslashes, colons or control characters"
	case kindRatio:
		return "W:H with whole numbers 1.." + strconv.Itoa(maxRatioTerm)
	case kindName:
		return "a name of 1.." + strconv.Itoa(maxProfileRunes) + " characters from A-Z a-z 0-9 _ . -"
	}
	return ""
}

// decimal parses [+-]digits[.digits]: no exponent, hex, underscores, Inf
// or NaN. Negative zero is returned as zero.
func decimal(s string) (float64, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	n := digits(s[i:])
	if n == 0 {
		return 0, false
	}
	i += n
	if i < len(s) && s[i] == '.' {
		n = digits(s[i+1:])
		if n == 0 {
			return 0, false
		}
		i += 1 + n
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil { // only out of float64 range can fail here
		return 0, false
	}
	if f == 0 {
		f = 0
	}
	return f, true
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// formatNumber is the canonical spelling of a number: the shortest decimal
// that reads back as the same float64, without exponent; -0 is "0".
func formatNumber(f float64) string {
	if f == 0 {
		f = 0
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func ratioTerm(s string) (int, bool) {
	if digits(s) != len(s) || s == "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxRatioTerm {
		return 0, false
	}
	return n, true
}

// colorNames are the colour names Sirv's colour options take besides hex:
// the 16 basic HTML colours with their aliases, orange and transparent.
var colorNames = map[string]string{
	"black": "000000", "white": "ffffff", "red": "ff0000", "green": "008000", "blue": "0000ff",
	"yellow": "ffff00", "gray": "808080", "grey": "808080", "silver": "c0c0c0", "maroon": "800000",
	"purple": "800080", "fuchsia": "ff00ff", "magenta": "ff00ff", "lime": "00ff00", "olive": "808000",
	"navy": "000080", "teal": "008080", "aqua": "00ffff", "cyan": "00ffff", "orange": "ffa500",
	"transparent": "00000000",
}

// colorNameList is the documentation of colorNames.
const colorNameList = "black, white, red, green, blue, yellow, gray (grey), silver, maroon, purple, fuchsia (magenta), lime, olive, navy, teal, aqua (cyan), orange, transparent"

func parseColor(s string) (Color, bool) {
	if len(s) != 6 && len(s) != 8 {
		if hex, ok := colorNames[strings.ToLower(s)]; ok {
			return parseColor(hex)
		}
		return Color{}, false
	}
	var b [4]byte
	b[3] = 255
	for i := 0; i < len(s); i += 2 {
		hi, lo := unhex(s[i]), unhex(s[i+1])
		if hi < 0 || lo < 0 {
			return Color{}, false
		}
		b[i/2] = byte(hi<<4 | lo)
	}
	return Color{R: b[0], G: b[1], B: b[2], A: b[3], Set: true}, true
}

// unhex returns the value of a hex digit, or -1. (encoding/hex's decoder
// would link fmt into the WebAssembly signer through its error type.)
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// unbase64 decodes standard or URL-alphabet base64, with or without
// padding. (encoding/base64's errors would link fmt into the
// WebAssembly signer; this loop is smaller.)
func unbase64(s string) (string, bool) {
	s = strings.TrimRight(s, "=")
	out := make([]byte, 0, len(s)*3/4)
	var acc, bits uint
	for i := 0; i < len(s); i++ {
		c := s[i]
		var v uint
		switch {
		case c >= 'A' && c <= 'Z':
			v = uint(c - 'A')
		case c >= 'a' && c <= 'z':
			v = uint(c-'a') + 26
		case c >= '0' && c <= '9':
			v = uint(c-'0') + 52
		case c == '+' || c == '-':
			v = 62
		case c == '/' || c == '_':
			v = 63
		default:
			return "", false
		}
		acc, bits = acc<<6|v, bits+6
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
			acc &= 1<<bits - 1
		}
	}
	if bits >= 6 || acc != 0 {
		return "", false
	}
	return string(out), true
}

// formatColor is the canonical spelling of a colour: lower-case hex, the
// alpha pair only when the colour is not opaque.
func formatColor(c Color) string {
	if c.A == 255 {
		return hex.EncodeToString([]byte{c.R, c.G, c.B})
	}
	return hex.EncodeToString([]byte{c.R, c.G, c.B, c.A})
}

// plainText reports valid UTF-8 without control characters.
func plainText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

func fontFamily(s string) bool {
	if s == "" || len(s) > maxFontRunes || s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for _, c := range []byte(s) {
		if !isAlnum(c) && c != ' ' && c != '-' {
			return false
		}
	}
	return true
}

func profileName(s string) bool {
	if s == "" || len(s) > maxProfileRunes {
		return false
	}
	for _, c := range []byte(s) {
		if !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// cleanPath reports a clean file path: the server's path rule
// (internal/pathrule), and not the root. Such a path cannot climb out of
// the root it is later opened under.
func cleanPath(s string) bool {
	return s != "/" && pathrule.Check(s, maxPathBytes) == ""
}

// fileName reports a safe download file name: valid UTF-8, no slashes,
// control characters or bidirectional controls, not "." or "..", at most
// maxFileNameBytes long. Bidi controls (U+202A–U+202E, U+2066–U+2069,
// U+200E, U+200F, U+061C) would let "invoice\u202Efdp.exe" show as
// "invoiceexe.pdf" in a browser's download bar.
func fileName(s string) bool {
	return s != "" && len(s) <= maxFileNameBytes && s != "." && s != ".." &&
		plainText(s) && !strings.ContainsAny(s, `/\`) && !strings.ContainsFunc(s, bidiControl)
}

// bidiControl reports the characters that reorder displayed text.
func bidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}
