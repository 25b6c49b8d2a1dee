package transform

import (
	"slices"
	"strconv"
	"strings"

	"github.com/keyhole-dev/keyhole/internal/urlenc"
)

// Parse validates values (normally the output of Merge) against lim and
// returns the effective parameters. Every known parameter is checked and all
// failures are returned together as *Errors, sorted by name; the error's
// reasons are fixed text and its values are cut short, so it is safe to send
// to the client in a 400 response. Parse returns a nil *Params whenever it
// returns an error.
//
// Sirv's other spellings are read as the parameter they stand for
// (scale.width as w, text.0.size as text.size); both spellings of one
// parameter together are an error. A Sirv option that Keyhole does not
// implement (see SirvOptions), and a numbered text or watermark layer
// above 0, is an error that names it and says it is not supported, so
// such a request is never answered as if the option were absent.
//
// Unknown names are ignored, but more than MaxParams entries in all is an
// error, as is a known value longer than MaxValueBytes. An empty value means
// "not set" (the default) for every parameter except the booleans and dl,
// where it means true. Zero fields of lim take their defaults.
func Parse(values map[string]string, lim Limits) (*Params, error) {
	lim = lim.WithDefaults()
	var errs Errors
	if len(values) > MaxParams {
		errs.add("", strconv.Itoa(len(values)), "too many parameters: at most "+strconv.Itoa(MaxParams)+" are accepted")
	}
	p := new(Params)
	var text64 [MaxTextLayers]string // text.text64 and text both set a layer's text
	var plain [MaxTextLayers]bool
	for name, raw := range values {
		d, canon := resolve(name)
		if d == nil || (raw == "" && !d.emptyIsValue()) {
			continue
		}
		layer := layerOf(name, d)
		switch d.name {
		case "text":
			plain[layer] = true
		case "text.text64":
			text64[layer] = name
		}
		if canon != name {
			if other := spelling(values, name, canon, false); other != "" {
				errs.add(name, raw, "given more than once: also as "+other)
				continue
			}
		}
		if len(raw) > MaxValueBytes {
			errs.add(name, raw, "too long: at most "+strconv.Itoa(MaxValueBytes)+" bytes")
			continue
		}
		if d.kind == kindRefused {
			errs.add(name, raw, "not supported by Keyhole: "+d.note)
			continue
		}
		v, _, ok := d.parse(raw, lim)
		if !ok {
			if why, refused := d.refuse[strings.ToLower(raw)]; refused {
				errs.add(name, raw, "not supported by Keyhole: "+why)
				continue
			}
			errs.add(name, raw, "must be "+d.values(lim))
			continue
		}
		if layer > 0 {
			p.setLayer(layer, d, v)
			continue
		}
		d.set(p, v)
	}
	for layer, name := range text64 {
		if name != "" && plain[layer] {
			errs.add(name, values[name], "given together with text: give one of them")
		}
	}
	p.check(&errs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// spelling returns another name in values, set to a value that counts
// (any value, when empty is true), that stands for the same parameter as name (canonical name canon), or
// "". Sirv's aliases and numbered first layers make two spellings of one
// parameter possible (w and scale.width, text.size and text.0.size);
// given both, neither wins.
func spelling(values map[string]string, name, canon string, empty bool) string {
	var found string
	for other, raw := range values {
		if other == name {
			continue
		}
		if d, c := resolve(other); d != nil && c == canon && (empty || raw != "" || d.emptyIsValue()) && (found == "" || other < found) {
			found = other
		}
	}
	return found
}

// Canonical returns the known parameters of values as a query string
// ("a=1&b=2", values query-escaped) sorted by name, each value in its
// normal spelling: numbers without leading zeros, trailing zeros or "+"
// ("0300" → "300", "10.0%" → "10%"), enumerations lower-case with aliases
// resolved ("JPEG" → "jpg"), colours lower-case hex without an opaque alpha
// pair, true booleans as "true". Parameters that mean the same as leaving
// them out (empty values, false booleans) are left out. A value that is not
// valid is kept as given, so the canonical string of invalid input is still
// invalid. Unknown names are left out.
//
// Canonical is idempotent, and when Parse(values, lim) succeeds,
// Parse(FromQuery(url.ParseQuery(Canonical(values))), lim) returns identical
// Params. Normalisation does not depend on limits. Use it on the output of
// Merge to key variant caches and ETags.
func Canonical(values map[string]string) string {
	for name := range values {
		if d := lookup(name); d == nil || d.target != nil {
			if d, _ := resolve(name); d != nil {
				return canonicalSpelt(values)
			}
		}
	}
	var b []byte
	for _, d := range byName {
		raw, ok := values[d.name]
		if !ok {
			continue
		}
		b = appendCanonical(b, d.name, d.canonical(raw))
	}
	return string(b)
}

// canonicalSpelt is Canonical for values that use an alias or a numbered
// layer: each is written under its canonical name (scale.width as w,
// text.0.size as text.size) unless another spelling of the same
// parameter is also given, which keeps the input invalid.
func canonicalSpelt(values map[string]string) string {
	type entry struct{ name, value string }
	var list []entry
	for name, raw := range values {
		d, canon := resolve(name)
		if d == nil {
			continue
		}
		if canon != name && spelling(values, name, canon, false) != "" {
			canon = name
		}
		list = append(list, entry{canon, d.canonical(raw)})
	}
	slices.SortFunc(list, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	var b []byte
	for _, e := range list {
		b = appendCanonical(b, e.name, e.value)
	}
	return string(b)
}

func appendCanonical(b []byte, name, c string) []byte {
	if c == "" {
		return b
	}
	if len(b) > 0 {
		b = append(b, '&')
	}
	b = append(b, name...)
	b = append(b, '=')
	return urlenc.AppendQuery(b, c)
}

// canonical returns the normal spelling of raw, raw itself when it is not
// valid, or "" when the parameter is as good as absent.
func (d *param) canonical(raw string) string {
	if d.target != nil {
		d = d.target
	}
	if raw == "" && !d.emptyIsValue() {
		return ""
	}
	if len(raw) > MaxValueBytes {
		return raw
	}
	_, c, ok := d.parse(raw, unbounded)
	if !ok {
		return raw
	}
	return c
}

// FromQuery turns URL query values (a url.Values; the parameter has its
// underlying type so that the WebAssembly signer does not link net/url)
// into the map Merge and Parse take,
// keeping the first value of each name (as url.Values.Get does). It is the
// inverse of Canonical: FromQuery(url.ParseQuery(Canonical(m))) holds the
// canonical values of m's known parameters.
func FromQuery(q map[string][]string) map[string]string {
	m := make(map[string]string, len(q))
	for name, vs := range q {
		if len(vs) > 0 {
			m[name] = vs[0]
		}
	}
	return m
}

// NeedsProcessing reports whether p asks for anything an Engine must do. dl
// and profile alone only change headers or are informational, and format
// original with nothing else keeps the source bytes, so a handler serves
// such requests as originals (with http.ServeContent). Any other parameter,
// including format=optimal or an explicit format equal to the source's,
// means a transform; comparing formats with the source is the handler's
// choice.
//
// Params are not comparable (see noCompare), so the check is written out
// field by field: every field but Download, DownloadName and Profile
// counts, and TestNeedsProcessingFields fails when a new field is left
// out.
func (p *Params) NeedsProcessing() bool {
	var (
		dim    Dim
		offset Offset
		color  Color
		level  Level
	)
	if p.Format != FormatUnset && p.Format != FormatOriginal {
		return true
	}
	if p.Width != dim || p.Height != dim || p.Side != 0 || p.ScaleOption != "" ||
		p.CropWidth != dim || p.CropHeight != dim || p.CropX != offset || p.CropY != offset ||
		p.CropType != "" || p.CropAspect != [2]int{} ||
		p.Quality != 0 || p.Rotate != 0 || p.Flip || p.Flop ||
		p.Grayscale || p.Blur != 0 || p.Sharpen != 0 || p.Brightness != 0 || p.Contrast != 0 ||
		p.Saturation != 0 || p.Hue != 0 || p.Lightness != 0 ||
		p.Exposure != 0 || p.Shadows != 0 || p.Highlights != 0 ||
		p.ColorLevelBlack != 0 || p.ColorLevelWhite != 0 ||
		p.Colortone != "" || p.ColortoneColor != color || p.ColortoneLevel != level || p.ColortoneMode != "" ||
		p.ColorizeColor != color || p.ColorizeOpacity != level ||
		p.VignetteValue != 0 || p.VignetteColor != color || p.Opacity != level ||
		p.Thumbnail != 0 || p.CropPadWidth != dim || p.CropPadHeight != dim || p.WebPFallback != "" ||
		p.Progressive || p.Subsampling != "" || p.PNGOptimize || p.Page != 0 ||
		p.CanvasWidth != dim || p.CanvasHeight != dim || p.CanvasColor != color || p.CanvasPosition != "" ||
		p.CanvasOpacity != level || p.CanvasAspect != [2]int{} ||
		p.CanvasBorderWidth != dim || p.CanvasBorderHeight != dim ||
		p.CanvasBorderColor != color || p.CanvasBorderOpacity != level ||
		p.FrameStyle != "" || p.FrameColor != color || p.FrameWidth != dim ||
		p.FrameRimColor != color || p.FrameRimWidth != 0 {
		return true
	}
	// The text and watermark fields of layer 0, then the numbered layers.
	if p.Text != "" || p.TextSize != 0 || p.TextColor != color || p.TextOpacity != 0 ||
		p.TextPosition != "" || p.TextFontFamily != "" || p.TextBackground != color ||
		p.TextOutline != color || p.TextAlign != "" || p.TextX != offset || p.TextY != offset ||
		p.TextGravity != "" || p.TextFontPx != 0 || p.TextItalic || p.TextBold ||
		p.TextOutlineWidth != 0 || p.TextOutlineOpacity != level || p.TextOutlineBlur != 0 ||
		p.TextBackgroundOpacity != level {
		return true
	}
	if p.Watermark != "" || p.WatermarkPosition != "" ||
		p.WatermarkScaleWidth != dim || p.WatermarkScaleHeight != dim || p.WatermarkOpacity != 0 ||
		p.WatermarkX != offset || p.WatermarkY != offset || p.WatermarkGravity != "" ||
		p.WatermarkScaleOption != "" || p.WatermarkRotate != 0 || p.WatermarkBack ||
		p.WatermarkCanvasWidth != dim || p.WatermarkCanvasHeight != dim ||
		p.WatermarkCanvasColor != color || p.WatermarkCanvasOpacity != level ||
		p.WatermarkCrop != (CropBox{}) {
		return true
	}
	for i := range p.MoreText {
		if !p.MoreText[i].IsZero() {
			return true
		}
	}
	for i := range p.MoreWatermarks {
		if !p.MoreWatermarks[i].IsZero() {
			return true
		}
	}
	return false
}

// Definition documents one supported parameter. Definitions are generated
// from the same table that Parse and Canonical use.
type Definition struct {
	// Name is the parameter's name, such as "w" or "text.color".
	Name string `json:"name"`
	// Group is the documentation group: size, crop, output, orientation,
	// adjust, canvas, text, watermark or other.
	Group string `json:"group"`
	// Values describes the accepted values under DefaultLimits.
	Values string `json:"values"`
	// Default is what applies when the parameter is not given.
	Default string `json:"default"`
	// Doc is a sentence or two on the parameter's meaning.
	Doc string `json:"doc"`
	// SecureOnly reports a text or watermark parameter, which only the
	// token (or a strict or token-named profile) can set; Merge ignores it
	// in the query string.
	SecureOnly bool `json:"secureOnly"`
}

// Definitions returns every supported parameter in documentation order
// (grouped as in PARAMS.md).
func Definitions() []Definition {
	lim := DefaultLimits()
	defs := make([]Definition, len(coreParams))
	for i := range coreParams {
		d := &coreParams[i]
		doc := paramText[d.name].doc
		for _, a := range byName {
			if a.aliasOf == d.name {
				doc += " Also spelt " + a.name + "."
			}
		}
		defs[i] = Definition{Name: d.name, Group: d.group, Values: d.values(lim), Default: d.def, Doc: doc, SecureOnly: d.secureOnly()}
	}
	return defs
}

// Known reports whether name is a parameter name Parse reads: a supported
// parameter, one of Sirv's other spellings of one (scale.width,
// text.0.size), or a Sirv option that Parse refuses (see SirvOptions).
func Known(name string) bool {
	d, _ := resolve(name)
	return d != nil
}

// SecureOnly reports whether name is a text or watermark parameter, which
// the query string may neither add nor change (docs/behaviour.md, Locks).
func SecureOnly(name string) bool {
	d, _ := resolve(name)
	return d != nil && d.secureOnly()
}
