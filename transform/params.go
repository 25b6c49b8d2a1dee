package transform

import (
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
		set: func(p *Params, v value) { p.Width = v.dim }},
	{name: "h", group: "size", kind: kindSize, axis: axisHeight, def: "source height",
		set: func(p *Params, v value) { p.Height = v.dim }},
	{name: "s", group: "size", kind: kindPixels, axis: axisLongest, def: "none",
		set: func(p *Params, v value) { p.Side = int(v.num) }},
	{name: "scale.option", group: "size", kind: kindEnum, enum: []string{"fit", "fill", "ignore", "noup"}, def: "fit",
		set: func(p *Params, v value) { p.ScaleOption = ScaleOption(v.str) }},

	{name: "thumbnail", group: "size", kind: kindPixels, axis: axisLongest, def: "none",
		set: func(p *Params, v value) { p.Thumbnail = int(v.num) }},

	// Crop.
	{name: "cw", group: "crop", kind: kindSize, axis: axisWidth, def: "none",
		set: func(p *Params, v value) { p.CropWidth = v.dim }},
	{name: "ch", group: "crop", kind: kindSize, axis: axisHeight, def: "none",
		set: func(p *Params, v value) { p.CropHeight = v.dim }},
	{name: "cx", group: "crop", kind: kindOffset, axis: axisWidth, def: "0",
		set: func(p *Params, v value) { p.CropX = Offset{Dim: v.dim, Center: v.center} }},
	{name: "cy", group: "crop", kind: kindOffset, axis: axisHeight, def: "0",
		set: func(p *Params, v value) { p.CropY = Offset{Dim: v.dim, Center: v.center} }},
	{name: "crop.type", group: "crop", kind: kindEnum, enum: []string{"trim", "smart"}, alias: map[string]string{"poi": "smart"}, def: "none",
		refuse: map[string]string{"face": "face detection is not available; use crop.type=smart"},
		set:    func(p *Params, v value) { p.CropType = CropType(v.str) }},
	{name: "crop.pad.width", group: "crop", kind: kindSize, axis: axisWidth, def: "0",
		set: func(p *Params, v value) { p.CropPadWidth = v.dim }},
	{name: "crop.pad.height", group: "crop", kind: kindSize, axis: axisHeight, def: "0",
		set: func(p *Params, v value) { p.CropPadHeight = v.dim }},
	{name: "crop.aspectratio", group: "crop", kind: kindRatio, def: "none",
		set: func(p *Params, v value) { p.CropAspect = v.ratio }},

	// Output.
	{name: "format", group: "output", kind: kindEnum,
		enum:  []string{string(FormatOriginal), string(FormatOptimal), string(FormatJPEG), string(FormatPNG), string(FormatWebP), string(FormatAVIF), string(FormatGIF)},
		alias: map[string]string{"jpeg": string(FormatJPEG)}, def: "original",
		set: func(p *Params, v value) { p.Format = Format(v.str) }},
	{name: "q", group: "output", kind: kindInt, min: 1, max: 100, def: "80",
		set: func(p *Params, v value) { p.Quality = int(v.num) }},
	{name: "webp-fallback", group: "output", kind: kindEnum, enum: []string{string(FormatJPEG), string(FormatPNG)}, alias: map[string]string{"jpeg": string(FormatJPEG)}, def: "the source's format",
		set: func(p *Params, v value) { p.WebPFallback = Format(v.str) }},
	{name: "progressive", group: "output", kind: kindBool, def: "false",
		set: func(p *Params, v value) { p.Progressive = v.on }},
	{name: "subsampling", group: "output", kind: kindEnum, enum: []string{"4:2:0", "4:4:4"}, def: "4:2:0",
		refuse: map[string]string{"4:2:2": "libvips writes JPEG chroma subsampling 4:2:0 or 4:4:4 only"},
		set:    func(p *Params, v value) { p.Subsampling = v.str }},
	{name: "png.optimize", group: "output", kind: kindBool, def: "false",
		set: func(p *Params, v value) { p.PNGOptimize = v.on }},
	{name: "page", group: "output", kind: kindInt, min: 1, max: 10000, def: "1",
		set: func(p *Params, v value) { p.Page = int(v.num) }},
	{name: "dl", group: "output", kind: kindDownload, def: "off",
		set: func(p *Params, v value) { p.Download, p.DownloadName = v.on, v.str }},

	// Orientation.
	{name: "rotate", group: "orientation", kind: kindFloat, min: -180, max: 180, def: "0",
		set: func(p *Params, v value) { p.Rotate = v.num }},
	{name: "flip", group: "orientation", kind: kindBool, def: "false",
		set: func(p *Params, v value) { p.Flip = v.on }},
	{name: "flop", group: "orientation", kind: kindBool, def: "false",
		set: func(p *Params, v value) { p.Flop = v.on }},

	// Adjustments.
	{name: "grayscale", group: "adjust", kind: kindBool, def: "false",
		set: func(p *Params, v value) { p.Grayscale = v.on }},
	{name: "blur", group: "adjust", kind: kindFloat, min: 0, max: 100, def: "0",
		set: func(p *Params, v value) { p.Blur = v.num }},
	{name: "sharpen", group: "adjust", kind: kindFloat, min: 0, max: 100, def: "0",
		set: func(p *Params, v value) { p.Sharpen = v.num }},
	{name: "brightness", group: "adjust", kind: kindInt, min: -100, max: 100, def: "0",
		set: func(p *Params, v value) { p.Brightness = int(v.num) }},
	{name: "contrast", group: "adjust", kind: kindInt, min: -100, max: 100, def: "0",
		set: func(p *Params, v value) { p.Contrast = int(v.num) }},
	{name: "saturation", group: "adjust", kind: kindInt, min: -100, max: 100, def: "0",
		set: func(p *Params, v value) { p.Saturation = int(v.num) }},
	{name: "lightness", group: "adjust", kind: kindInt, min: -100, max: 100, def: "0",
		set: func(p *Params, v value) { p.Lightness = int(v.num) }},
	{name: "hue", group: "adjust", kind: kindInt, min: -180, max: 180, def: "0",
		set: func(p *Params, v value) { p.Hue = int(v.num) }},

	{name: "exposure", group: "adjust", kind: kindInt, min: -100, max: 100, def: "0",
		set: func(p *Params, v value) { p.Exposure = int(v.num) }},
	{name: "shadows", group: "adjust", kind: kindInt, min: -100, max: 100, def: "0",
		set: func(p *Params, v value) { p.Shadows = int(v.num) }},
	{name: "highlights", group: "adjust", kind: kindInt, min: -100, max: 100, def: "0",
		set: func(p *Params, v value) { p.Highlights = int(v.num) }},
	{name: "colorlevel.black", group: "adjust", kind: kindInt, min: 0, max: 254, def: "0",
		set: func(p *Params, v value) { p.ColorLevelBlack = int(v.num) }},
	{name: "colorlevel.white", group: "adjust", kind: kindInt, min: 1, max: 255, def: "255",
		set: func(p *Params, v value) { p.ColorLevelWhite = int(v.num) }},
	{name: "colortone", group: "adjust", kind: kindEnum, enum: colortones, def: "none",
		set: func(p *Params, v value) { p.Colortone = v.str }},
	{name: "colortone.color", group: "adjust", kind: kindColor, def: "preset's",
		set: func(p *Params, v value) { p.ColortoneColor = v.color }},
	{name: "colortone.level", group: "adjust", kind: kindInt, min: 0, max: 100, def: "100",
		set: func(p *Params, v value) { p.ColortoneLevel = Level{Value: int(v.num), Set: true} }},
	{name: "colortone.mode", group: "adjust", kind: kindEnum, enum: []string{"solid", "highlights", "shadows"}, def: "solid",
		set: func(p *Params, v value) { p.ColortoneMode = v.str }},
	{name: "colorize.color", group: "adjust", kind: kindColor, def: "none",
		set: func(p *Params, v value) { p.ColorizeColor = v.color }},
	{name: "colorize.opacity", group: "adjust", kind: kindInt, min: 0, max: 100, def: "100",
		set: func(p *Params, v value) { p.ColorizeOpacity = Level{Value: int(v.num), Set: true} }},
	{name: "vignette.value", group: "adjust", kind: kindInt, min: 0, max: 100, def: "0",
		set: func(p *Params, v value) { p.VignetteValue = int(v.num) }},
	{name: "vignette.color", group: "adjust", kind: kindColor, def: "000000",
		set: func(p *Params, v value) { p.VignetteColor = v.color }},
	{name: "opacity", group: "adjust", kind: kindInt, min: 0, max: 100, def: "100",
		set: func(p *Params, v value) { p.Opacity = Level{Value: int(v.num), Set: true} }},

	// Canvas.
	{name: "canvas.width", group: "canvas", kind: kindSize, axis: axisWidth, def: "image width",
		set: func(p *Params, v value) { p.CanvasWidth = v.dim }},
	{name: "canvas.height", group: "canvas", kind: kindSize, axis: axisHeight, def: "image height",
		set: func(p *Params, v value) { p.CanvasHeight = v.dim }},
	{name: "canvas.color", group: "canvas", kind: kindColor, def: "ffffff",
		set: func(p *Params, v value) { p.CanvasColor = v.color }},
	{name: "canvas.position", group: "canvas", kind: kindEnum, enum: compass, def: "center",
		set: func(p *Params, v value) { p.CanvasPosition = Position(v.str) }},

	{name: "canvas.opacity", group: "canvas", kind: kindInt, min: 0, max: 100, def: "100",
		set: func(p *Params, v value) { p.CanvasOpacity = Level{Value: int(v.num), Set: true} }},
	{name: "canvas.aspectratio", group: "canvas", kind: kindRatio, def: "none",
		set: func(p *Params, v value) { p.CanvasAspect = v.ratio }},
	{name: "canvas.border.width", group: "canvas", kind: kindSize, axis: axisWidth, def: "0",
		set: func(p *Params, v value) { p.CanvasBorderWidth = v.dim }},
	{name: "canvas.border.height", group: "canvas", kind: kindSize, axis: axisHeight, def: "0",
		set: func(p *Params, v value) { p.CanvasBorderHeight = v.dim }},
	{name: "canvas.border.color", group: "canvas", kind: kindColor, def: "canvas.color",
		set: func(p *Params, v value) { p.CanvasBorderColor = v.color }},
	{name: "canvas.border.opacity", group: "canvas", kind: kindInt, min: 0, max: 100, def: "100",
		set: func(p *Params, v value) { p.CanvasBorderOpacity = Level{Value: int(v.num), Set: true} }},
	{name: "frame.style", group: "canvas", kind: kindEnum, enum: []string{"none", "solid", "mirror", "edge"}, def: "none",
		refuse: map[string]string{"dither": "dithered frames are not drawn; use solid, mirror or edge"},
		set:    func(p *Params, v value) { p.FrameStyle = v.str }},
	{name: "frame.color", group: "canvas", kind: kindColor, def: "000000",
		set: func(p *Params, v value) { p.FrameColor = v.color }},
	{name: "frame.width", group: "canvas", kind: kindSize, axis: axisLongest, def: "5%",
		set: func(p *Params, v value) { p.FrameWidth = v.dim }},
	{name: "frame.rim.color", group: "canvas", kind: kindColor, def: "ffffff",
		set: func(p *Params, v value) { p.FrameRimColor = v.color }},
	{name: "frame.rim.width", group: "canvas", kind: kindInt, min: 0, max: 100, def: "0",
		set: func(p *Params, v value) { p.FrameRimWidth = int(v.num) }},

	// Text.
	{name: "text", group: "text", kind: kindText, def: "none",
		set: func(p *Params, v value) { p.Text = v.str }},
	{name: "text.size", group: "text", kind: kindFloat, min: 1, max: 100, def: "auto", percent: true,
		set: func(p *Params, v value) { p.TextSize = v.num }},
	{name: "text.color", group: "text", kind: kindColor, def: "000000",
		set: func(p *Params, v value) { p.TextColor = v.color }},
	{name: "text.opacity", group: "text", kind: kindInt, min: 1, max: 100, def: "100",
		set: func(p *Params, v value) { p.TextOpacity = int(v.num) }},
	{name: "text.position", group: "text", kind: kindEnum, enum: compass, def: "center",
		set: func(p *Params, v value) { p.TextPosition = Position(v.str) }},
	{name: "text.font.family", group: "text", kind: kindFont, def: "sans-serif",
		set: func(p *Params, v value) { p.TextFontFamily = v.str }},
	{name: "text.background.color", group: "text", kind: kindColor, def: "none",
		set: func(p *Params, v value) { p.TextBackground = v.color }},
	{name: "text.outline.color", group: "text", kind: kindColor, def: "none",
		set: func(p *Params, v value) { p.TextOutline = v.color }},

	{name: "text.text64", group: "text", kind: kindText64, def: "none",
		set: func(p *Params, v value) { p.Text = v.str }},
	{name: "text.align", group: "text", kind: kindEnum, enum: []string{"left", "center", "right"}, def: "as text.position",
		set: func(p *Params, v value) { p.TextAlign = v.str }},
	{name: "text.position.x", group: "text", kind: kindOffset, axis: axisWidth, def: "none",
		set: func(p *Params, v value) { p.TextX = Offset{Dim: v.dim, Center: v.center} }},
	{name: "text.position.y", group: "text", kind: kindOffset, axis: axisHeight, def: "none",
		set: func(p *Params, v value) { p.TextY = Offset{Dim: v.dim, Center: v.center} }},
	{name: "text.position.gravity", group: "text", kind: kindEnum, enum: compass, def: "northwest",
		set: func(p *Params, v value) { p.TextGravity = Position(v.str) }},
	{name: "text.font.size", group: "text", kind: kindInt, min: 1, max: 1000, def: "auto",
		set: func(p *Params, v value) { p.TextFontPx = int(v.num) }},
	{name: "text.font.style", group: "text", kind: kindEnum, enum: []string{"normal", "italic"}, def: "normal",
		set: func(p *Params, v value) { p.TextItalic = v.str == "italic" }},
	{name: "text.font.weight", group: "text", kind: kindEnum, enum: []string{"300", "400", "600", "700", "800"},
		alias: map[string]string{"light": "300", "normal": "400", "semi-bold": "600", "bold": "700", "extra-bold": "800"}, def: "400",
		set: func(p *Params, v value) { p.TextBold = v.str >= "600" }},
	{name: "text.outline.width", group: "text", kind: kindInt, min: 1, max: 100, def: "1/16 of the font size",
		set: func(p *Params, v value) { p.TextOutlineWidth = int(v.num) }},
	{name: "text.outline.opacity", group: "text", kind: kindInt, min: 0, max: 100, def: "100",
		set: func(p *Params, v value) { p.TextOutlineOpacity = Level{Value: int(v.num), Set: true} }},
	{name: "text.outline.blur", group: "text", kind: kindInt, min: 0, max: 50, def: "0",
		set: func(p *Params, v value) { p.TextOutlineBlur = int(v.num) }},
	{name: "text.background.opacity", group: "text", kind: kindInt, min: 0, max: 100, def: "100",
		set: func(p *Params, v value) { p.TextBackgroundOpacity = Level{Value: int(v.num), Set: true} }},

	// Watermark.
	{name: "watermark", group: "watermark", kind: kindPath, def: "none",
		set: func(p *Params, v value) { p.Watermark = v.str }},
	{name: "watermark.position", group: "watermark", kind: kindEnum, enum: append(slices.Clip(compass), "tile"), def: "center",
		set: func(p *Params, v value) { p.WatermarkPosition = Position(v.str) }},
	{name: "watermark.scale.width", group: "watermark", kind: kindSize, axis: axisWidth, def: "watermark's width",
		set: func(p *Params, v value) { p.WatermarkScaleWidth = v.dim }},
	{name: "watermark.scale.height", group: "watermark", kind: kindSize, axis: axisHeight, def: "watermark's height",
		set: func(p *Params, v value) { p.WatermarkScaleHeight = v.dim }},
	{name: "watermark.opacity", group: "watermark", kind: kindInt, min: 1, max: 100, def: "100",
		set: func(p *Params, v value) { p.WatermarkOpacity = int(v.num) }},

	{name: "watermark.position.x", group: "watermark", kind: kindOffset, axis: axisWidth, def: "none",
		set: func(p *Params, v value) { p.WatermarkX = Offset{Dim: v.dim, Center: v.center} }},
	{name: "watermark.position.y", group: "watermark", kind: kindOffset, axis: axisHeight, def: "none",
		set: func(p *Params, v value) { p.WatermarkY = Offset{Dim: v.dim, Center: v.center} }},
	{name: "watermark.position.gravity", group: "watermark", kind: kindEnum, enum: compass, def: "northwest",
		set: func(p *Params, v value) { p.WatermarkGravity = Position(v.str) }},
	{name: "watermark.scale.option", group: "watermark", kind: kindEnum, enum: []string{"fit", "fill", "ignore", "noup"}, def: "fit",
		set: func(p *Params, v value) { p.WatermarkScaleOption = ScaleOption(v.str) }},
	{name: "watermark.rotate", group: "watermark", kind: kindFloat, min: -180, max: 180, def: "0",
		set: func(p *Params, v value) { p.WatermarkRotate = v.num }},
	{name: "watermark.layer", group: "watermark", kind: kindEnum, enum: []string{"front", "back"}, def: "front",
		set: func(p *Params, v value) { p.WatermarkBack = v.str == "back" }},
	{name: "watermark.canvas.width", group: "watermark", kind: kindSize, axis: axisWidth, def: "watermark's width",
		set: func(p *Params, v value) { p.WatermarkCanvasWidth = v.dim }},
	{name: "watermark.canvas.height", group: "watermark", kind: kindSize, axis: axisHeight, def: "watermark's height",
		set: func(p *Params, v value) { p.WatermarkCanvasHeight = v.dim }},
	{name: "watermark.canvas.color", group: "watermark", kind: kindColor, def: "transparent",
		set: func(p *Params, v value) { p.WatermarkCanvasColor = v.color }},
	{name: "watermark.canvas.opacity", group: "watermark", kind: kindInt, min: 0, max: 100, def: "100",
		set: func(p *Params, v value) { p.WatermarkCanvasOpacity = Level{Value: int(v.num), Set: true} }},
	{name: "watermark.crop.x", group: "watermark", kind: kindOffset, axis: axisWidth, def: "0",
		set: func(p *Params, v value) { p.WatermarkCrop.X = Offset{Dim: v.dim, Center: v.center} }},
	{name: "watermark.crop.y", group: "watermark", kind: kindOffset, axis: axisHeight, def: "0",
		set: func(p *Params, v value) { p.WatermarkCrop.Y = Offset{Dim: v.dim, Center: v.center} }},
	{name: "watermark.crop.width", group: "watermark", kind: kindSize, axis: axisWidth, def: "watermark's width",
		set: func(p *Params, v value) { p.WatermarkCrop.W = v.dim }},
	{name: "watermark.crop.height", group: "watermark", kind: kindSize, axis: axisHeight, def: "watermark's height",
		set: func(p *Params, v value) { p.WatermarkCrop.H = v.dim }},

	// Other.
	{name: "profile", group: "other", kind: kindName, def: "none",
		set: func(p *Params, v value) { p.Profile = v.str }},
}

// rowText is a row's documentation (param.doc and param.sirv), kept
// apart from the rows so that a build can leave it out (paramtext.go).
type rowText struct{ doc, sirv string }

// byName holds the rows of params sorted by name, the canonical order.
var byName = sortedByName()

func sortedByName() []*param {
	rows := make([]*param, len(params))
	for i := range params {
		rows[i] = &params[i]
		if t, ok := paramText[rows[i].name]; ok {
			rows[i].doc = t.doc
			if t.sirv != "" {
				rows[i].sirv = t.sirv
			}
		}
		if rows[i].sirv == "" {
			rows[i].sirv = sirvFacts[rows[i].name]
		}
	}
	// An insertion sort: about 110 rows, once at start-up (about 2,000
	// swaps). slices.SortFunc would link a pdqsort for this call alone
	// into the WebAssembly signer.
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && rows[j].name < rows[j-1].name; j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
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
// (Importing encoding/hex would link fmt, and with it os, into the
// WebAssembly signer.)
func formatColor(c Color) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, 8)
	for _, x := range [4]byte{c.R, c.G, c.B, c.A} {
		b = append(b, digits[x>>4], digits[x&15])
	}
	if c.A == 255 {
		b = b[:6]
	}
	return string(b)
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
