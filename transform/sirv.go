package transform

import (
	"strconv"
	"strings"
)

// This file is Keyhole's side of Sirv parity: every option of Sirv's
// dynamic-imaging reference is a row of the parameter table, so the parser
// knows each of them. An option is implemented (a row with a grammar),
// implemented with a stated difference (a row with a note), an alias of
// another row (scale.width is w), or refused (kindRefused): a refused
// option with a value is a 400 that names it and says why, never a silent
// wrong answer. Names that are no Sirv option (utm_source) stay ignored.

// Sirv parity statuses, as SirvOption.Status reports them.
const (
	// SirvImplemented: Keyhole accepts the option with Sirv's name, value
	// forms and default.
	SirvImplemented = "implemented"
	// SirvDiffers: Keyhole accepts the option; SirvOption.Note states how
	// the result or the accepted values differ from Sirv's.
	SirvDiffers = "differs"
	// SirvRefused: Keyhole answers a request that sets the option with
	// 400; SirvOption.Note says why.
	SirvRefused = "refused"
)

// sirvParams are the Sirv options that are aliases of another row or that
// Keyhole refuses. Implemented options are rows of params (params.go).
var sirvParams = []param{
	// Aliases: Sirv's second spelling of a parameter.
	{name: "scale.width", aliasOf: "w"},
	{name: "scale.height", aliasOf: "h"},
	{name: "crop.width", aliasOf: "cw"},
	{name: "crop.height", aliasOf: "ch"},
	{name: "crop.x", aliasOf: "cx"},
	{name: "crop.y", aliasOf: "cy"},
	{name: "quality", aliasOf: "q"},

	// Refused.
	refused("clipPath", "crop", "name of a clipping path; none", "clipping paths stored in PSD and TIFF files are not read"),
	refused("histogram", "adjust", "rgb, r, g, b; none", "Keyhole does not draw histograms"),
	refused("gif.lossy", "output", "0 to 100; 0", "libvips has no lossy GIF encoder"),
}

// refused returns the row of a Sirv option that Keyhole refuses.
func refused(name, group, sirv, why string) param {
	return param{name: name, group: group, kind: kindRefused, sirv: sirv, note: why}
}

// Rows for the numbered layers Keyhole refuses: text layers from
// MaxTextLayers on, watermark layers from MaxWatermarkLayers on.
var (
	extraTextLayer      = &param{name: "text.N", group: "text", kind: kindRefused, note: "at most 4 text layers: text.0.* (or text.*) to text.3.*"}
	extraWatermarkLayer = &param{name: "watermark.N", group: "watermark", kind: kindRefused, note: "at most 4 watermarks: watermark.0.* (or watermark.*) to watermark.3.*"}
)

// resolve returns the row that name stands for and the canonical name it
// is stored under: the row's own name, the target of an alias
// (scale.width → w), or the unnumbered name of a first layer
// (text.0.size → text.size, text.0.text → text, watermark.0.image →
// watermark; layer numbers are 0 to 99 without leading zeros). Layers 1
// to MaxTextLayers-1 (MaxWatermarkLayers-1) resolve to their option's
// row under their own name (see layerOf); higher layers to a refused row
// under their own name. d is nil for a name that is no option
// (utm_source, text.0.foo).
func resolve(name string) (d *param, canon string) {
	if d = lookup(name); d != nil {
		if d.target != nil {
			return d.target, d.target.name
		}
		return d, name
	}
	var base string
	var extra *param
	switch {
	case strings.HasPrefix(name, "text."):
		base, extra = "text", extraTextLayer
	case strings.HasPrefix(name, "watermark."):
		base, extra = "watermark", extraWatermarkLayer
	default:
		return nil, ""
	}
	rest := name[len(base)+1:]
	n := digits(rest)
	if n == 0 || n > 2 || (n > 1 && rest[0] == '0') || n == len(rest) || rest[n] != '.' {
		return nil, ""
	}
	layer, _ := strconv.Atoi(rest[:n])
	suffix := rest[n+1:]
	canon = base + "." + suffix
	if suffix == base || (base == "watermark" && suffix == "image") {
		canon = base
	}
	if d = lookup(canon); d == nil || d.target != nil {
		return nil, ""
	}
	if layer > 0 {
		if base == "text" && layer < MaxTextLayers || base == "watermark" && layer < MaxWatermarkLayers {
			return d, name // stored under its own name; see layerOf
		}
		return extra, name
	}
	return d, canon
}

// SirvOption is one option of Sirv's dynamic-imaging reference and what
// Keyhole does with it.
type SirvOption struct {
	// Name is Sirv's name of the option, such as "colortone.level".
	Name string `json:"name"`
	// Group is the documentation group of the parameter table (size,
	// crop, output, orientation, adjust, canvas, text, watermark, other).
	Group string `json:"group"`
	// Sirv are the values Sirv's reference documents for the option.
	Sirv string `json:"sirv"`
	// SirvDefault is Sirv's default.
	SirvDefault string `json:"sirvDefault"`
	// Status is SirvImplemented, SirvDiffers or SirvRefused.
	Status string `json:"status"`
	// AliasOf names the Keyhole parameter the option is another spelling
	// of ("w" for scale.width), or is empty.
	AliasOf string `json:"aliasOf,omitempty"`
	// Note states the difference (SirvDiffers) or the reason for the
	// refusal (SirvRefused); it may be empty for SirvImplemented.
	Note string `json:"note,omitempty"`
	// Example is a value Keyhole's parser accepts for the option (for a
	// refused option, a value it refuses with the reason Note).
	Example string `json:"example"`
}

// SirvOptions returns every option of Sirv's dynamic-imaging reference,
// sorted by name, with Keyhole's status for each. The numbered forms of
// the text and watermark options (text.0.size, watermark.1.position) are
// not listed: text.0.* and watermark.0.* are the unnumbered options, and
// higher layers are refused.
func SirvOptions() []SirvOption {
	var out []SirvOption
	for _, d := range byName {
		if d.sirv == "" {
			continue
		}
		values, rest, _ := strings.Cut(d.sirv, "; ")
		def, diff, _ := strings.Cut(rest, "; ")
		o := SirvOption{Name: d.name, Group: d.group, Sirv: values, SirvDefault: def, Status: SirvImplemented, Note: diff, Example: d.example()}
		switch {
		case d.kind == kindRefused:
			o.Status, o.Note = SirvRefused, d.note
		case d.target != nil:
			o.AliasOf, o.Group, o.Example = d.target.name, d.target.group, d.target.example()
			if _, tr, _ := strings.Cut(d.target.sirv, "; "); strings.Contains(tr, "; ") || diff != "" {
				o.Status = SirvDiffers
				if diff == "" {
					_, o.Note, _ = strings.Cut(tr, "; ")
				}
			}
		case diff != "":
			o.Status = SirvDiffers
		}
		out = append(out, o)
	}
	return out
}

// example returns a value the row accepts (or, refused, one it refuses).
func (d *param) example() string {
	if d.target != nil {
		return d.target.example()
	}
	switch d.kind {
	case kindSize, kindPixels:
		return "10"
	case kindOffset:
		return "center"
	case kindInt, kindFloat:
		if d.min == 0 {
			return formatNumber(d.max)
		}
		return formatNumber(d.min)
	case kindBool, kindRefused:
		return "true"
	case kindDownload:
		return "a.jpg"
	case kindEnum:
		return d.enum[len(d.enum)-1]
	case kindColor:
		return "ff0000"
	case kindText:
		return "Hello"
	case kindText64:
		return "SGVsbG8"
	case kindFont:
		return "Open Sans"
	case kindPath:
		return "/wm/logo.png"
	case kindRatio:
		return "16:9"
	case kindName:
		return "thumb"
	}
	return ""
}

// CanonicalName returns the name Merge and Canonical store the parameter
// name under: w for scale.width, text.size for text.0.size, text for
// text.0.text; name itself for every other name, known or not.
func CanonicalName(name string) string {
	if d, canon := resolve(name); d != nil {
		return canon
	}
	return name
}

// layerOf returns the layer number of a numbered text or watermark
// option that resolve stores under its own name (text.2.size is 2), or 0.
func layerOf(name string, d *param) int {
	if d == nil || name == d.name || d.kind == kindRefused {
		return 0
	}
	_, rest, _ := strings.Cut(name, ".")
	n := digits(rest)
	layer, _ := strconv.Atoi(rest[:n])
	return layer
}
