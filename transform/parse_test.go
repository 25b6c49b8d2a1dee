package transform_test

import (
	"errors"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/keyhole-dev/keyhole/transform"
)

func px(v float64) transform.Dim  { return transform.Dim{Value: v, Set: true} }
func pct(v float64) transform.Dim { return transform.Dim{Value: v, Percent: true, Set: true} }

func rgba(r, g, b, a uint8) transform.Color {
	return transform.Color{R: r, G: g, B: b, A: a, Set: true}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]string
		want transform.Params
	}{
		{"empty", nil, transform.Params{}},
		{"unknown names ignored", map[string]string{"utm_source": "x", "jwt": "abc", "W": "nonsense"}, transform.Params{}},
		{"size pixels", map[string]string{"w": "300", "h": "0200", "s": "+50"},
			transform.Params{Width: px(300), Height: px(200), Side: 50}},
		{"size percent", map[string]string{"w": "10.50%", "h": "100%"},
			transform.Params{Width: pct(10.5), Height: pct(100)}},
		{"whole decimal pixels", map[string]string{"w": "300.0"}, transform.Params{Width: px(300)}},
		{"size at limit", map[string]string{"w": "8192", "h": "8192", "s": "8192"},
			transform.Params{Width: px(8192), Height: px(8192), Side: 8192}},
		{"scale option case-insensitive", map[string]string{"scale.option": "NoUp"}, transform.Params{ScaleOption: "noup"}},
		{"crop", map[string]string{"cw": "50%", "ch": "100", "cx": "center", "cy": "0", "crop.type": "smart", "crop.aspectratio": "16:9"},
			transform.Params{CropWidth: pct(50), CropHeight: px(100),
				CropX: transform.Offset{Dim: transform.Dim{Set: true}, Center: true}, CropY: transform.Offset{Dim: px(0)},
				CropType: "smart", CropAspect: [2]int{16, 9}}},
		{"crop offset percent", map[string]string{"cx": "0%", "cy": "25%"},
			transform.Params{CropX: transform.Offset{Dim: pct(0)}, CropY: transform.Offset{Dim: pct(25)}}},
		{"format alias", map[string]string{"format": "JPEG", "q": "85"}, transform.Params{Format: transform.FormatJPEG, Quality: 85}},
		{"format optimal", map[string]string{"format": "optimal"}, transform.Params{Format: transform.FormatOptimal}},
		{"download empty", map[string]string{"dl": ""}, transform.Params{Download: true}},
		{"download true", map[string]string{"dl": "true"}, transform.Params{Download: true}},
		{"download false", map[string]string{"dl": "0"}, transform.Params{}},
		{"download name", map[string]string{"dl": "Résumé photo.jpg"}, transform.Params{Download: true, DownloadName: "Résumé photo.jpg"}},
		{"geometry", map[string]string{"rotate": "-90.5", "flip": "", "flop": "1"},
			transform.Params{Rotate: -90.5, Flip: true, Flop: true}},
		{"booleans false", map[string]string{"flip": "false", "flop": "0", "grayscale": "false"}, transform.Params{}},
		{"adjust", map[string]string{"grayscale": "true", "blur": "2.5", "sharpen": "100", "brightness": "-100",
			"contrast": "100", "saturation": "-0", "lightness": "7", "hue": "-180"},
			transform.Params{Grayscale: true, Blur: 2.5, Sharpen: 100, Brightness: -100, Contrast: 100, Lightness: 7, Hue: -180}},
		{"canvas", map[string]string{"canvas.width": "12%", "canvas.height": "900", "canvas.color": "FF000080", "canvas.position": "southwest"},
			transform.Params{CanvasWidth: pct(12), CanvasHeight: px(900), CanvasColor: rgba(255, 0, 0, 128), CanvasPosition: "southwest"}},
		{"text", map[string]string{"text": "Hello, 世界 👋", "text.size": "20", "text.color": "00ff00", "text.opacity": "50",
			"text.position": "north", "text.font.family": "DejaVu Sans-Bold", "text.background.color": "00000080", "text.outline.color": "FFFFFF"},
			transform.Params{Text: "Hello, 世界 👋", TextSize: 20, TextColor: rgba(0, 255, 0, 255), TextOpacity: 50, TextPosition: "north",
				TextFontFamily: "DejaVu Sans-Bold", TextBackground: rgba(0, 0, 0, 128), TextOutline: rgba(255, 255, 255, 255)}},
		{"text at rune limit", map[string]string{"text": strings.Repeat("é", 256)}, transform.Params{Text: strings.Repeat("é", 256)}},
		{"watermark", map[string]string{"watermark": "/wm/logo.png", "watermark.position": "TILE", "watermark.scale.width": "25%",
			"watermark.scale.height": "64", "watermark.opacity": "40"},
			transform.Params{Watermark: "/wm/logo.png", WatermarkPosition: "tile", WatermarkScaleWidth: pct(25),
				WatermarkScaleHeight: px(64), WatermarkOpacity: 40}},
		{"profile", map[string]string{"profile": "thumb_v2.small-1"}, transform.Params{Profile: "thumb_v2.small-1"}},
		{"empty values are unset", map[string]string{"w": "", "text": "", "format": "", "canvas.color": ""}, transform.Params{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := transform.Parse(tt.in, transform.Limits{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", *got, tt.want)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name string
		in   map[string]string
		want []string // failing names
	}{
		{"w zero", map[string]string{"w": "0"}, []string{"w"}},
		{"w negative", map[string]string{"w": "-5"}, []string{"w"}},
		{"w over limit", map[string]string{"w": "8193"}, []string{"w"}},
		{"w fraction", map[string]string{"w": "300.5"}, []string{"w"}},
		{"w percent zero", map[string]string{"w": "0%"}, []string{"w"}},
		{"w percent over", map[string]string{"w": "100.01%"}, []string{"w"}},
		{"w units", map[string]string{"w": "300px"}, []string{"w"}},
		{"w exponent", map[string]string{"w": "3e2"}, []string{"w"}},
		{"w space", map[string]string{"w": " 300"}, []string{"w"}},
		{"w hex", map[string]string{"w": "0x10"}, []string{"w"}},
		{"w huge", map[string]string{"w": strings.Repeat("9", 400)}, []string{"w"}},
		{"h dot only", map[string]string{"h": "1."}, []string{"h"}},
		{"s percent", map[string]string{"s": "10%"}, []string{"s"}},
		{"scale option", map[string]string{"scale.option": "stretch"}, []string{"scale.option"}},
		{"cx negative", map[string]string{"cx": "-1"}, []string{"cx"}},
		{"cy over", map[string]string{"cy": "8193"}, []string{"cy"}},
		{"cx word", map[string]string{"cx": "middle"}, []string{"cx"}},
		{"crop type", map[string]string{"crop.type": "square"}, []string{"crop.type"}},
		{"aspect", map[string]string{"crop.aspectratio": "16x9"}, []string{"crop.aspectratio"}},
		{"aspect zero", map[string]string{"crop.aspectratio": "0:1"}, []string{"crop.aspectratio"}},
		{"aspect big", map[string]string{"crop.aspectratio": "10001:1"}, []string{"crop.aspectratio"}},
		{"format", map[string]string{"format": "bmp"}, []string{"format"}},
		{"q zero", map[string]string{"q": "0"}, []string{"q"}},
		{"q over", map[string]string{"q": "101"}, []string{"q"}},
		{"dl slash", map[string]string{"dl": "a/b.jpg"}, []string{"dl"}},
		{"dl backslash", map[string]string{"dl": `a\b.jpg`}, []string{"dl"}},
		{"dl control", map[string]string{"dl": "a\r\nb.jpg"}, []string{"dl"}},
		{"dl bidi override", map[string]string{"dl": "invoice\u202Efdp.exe"}, []string{"dl"}},
		{"dl bidi isolate", map[string]string{"dl": "a\u2067b.jpg"}, []string{"dl"}},
		{"dl bidi mark", map[string]string{"dl": "a\u200Fb.jpg"}, []string{"dl"}},
		{"dl arabic letter mark", map[string]string{"dl": "a\u061Cb.jpg"}, []string{"dl"}},
		{"dl dots", map[string]string{"dl": ".."}, []string{"dl"}},
		{"dl long", map[string]string{"dl": strings.Repeat("a", 256)}, []string{"dl"}},
		{"rotate", map[string]string{"rotate": "180.1"}, []string{"rotate"}},
		{"flip", map[string]string{"flip": "yes"}, []string{"flip"}},
		{"flop case", map[string]string{"flop": "TRUE"}, []string{"flop"}},
		{"blur negative", map[string]string{"blur": "-1"}, []string{"blur"}},
		{"brightness fraction", map[string]string{"brightness": "1.5"}, []string{"brightness"}},
		{"hue", map[string]string{"hue": "181"}, []string{"hue"}},
		{"canvas color short", map[string]string{"canvas.color": "fff"}, []string{"canvas.color"}},
		{"canvas color hash", map[string]string{"canvas.color": "#ffffff"}, []string{"canvas.color"}},
		{"canvas color not hex", map[string]string{"canvas.color": "gg0000"}, []string{"canvas.color"}},
		{"canvas position", map[string]string{"canvas.position": "top"}, []string{"canvas.position"}},
		{"text long", map[string]string{"text": long}, []string{"text"}},
		{"text newline", map[string]string{"text": "a\nb"}, []string{"text"}},
		{"text invalid utf8", map[string]string{"text": "a\xffb"}, []string{"text"}},
		{"text size zero", map[string]string{"text.size": "0"}, []string{"text.size"}},
		{"text opacity zero", map[string]string{"text.opacity": "0"}, []string{"text.opacity"}},
		{"font punctuation", map[string]string{"text.font.family": "Sans:bold"}, []string{"text.font.family"}},
		{"font long", map[string]string{"text.font.family": strings.Repeat("a", 65)}, []string{"text.font.family"}},
		{"font trailing space", map[string]string{"text.font.family": "Sans "}, []string{"text.font.family"}},
		{"watermark relative", map[string]string{"watermark": "wm/logo.png"}, []string{"watermark"}},
		{"watermark dotdot", map[string]string{"watermark": "/wm/../secret.png"}, []string{"watermark"}},
		{"watermark dot", map[string]string{"watermark": "/./logo.png"}, []string{"watermark"}},
		{"watermark empty segment", map[string]string{"watermark": "/wm//logo.png"}, []string{"watermark"}},
		{"watermark trailing slash", map[string]string{"watermark": "/wm/"}, []string{"watermark"}},
		{"watermark root", map[string]string{"watermark": "/"}, []string{"watermark"}},
		{"watermark backslash", map[string]string{"watermark": `/wm\logo.png`}, []string{"watermark"}},
		{"watermark nul", map[string]string{"watermark": "/wm/logo.png\x00.jpg"}, []string{"watermark"}},
		{"watermark long", map[string]string{"watermark": "/" + strings.Repeat("a", 1024)}, []string{"watermark"}},
		{"watermark position", map[string]string{"watermark.position": "everywhere"}, []string{"watermark.position"}},
		{"watermark opacity", map[string]string{"watermark.opacity": "101"}, []string{"watermark.opacity"}},
		{"profile chars", map[string]string{"profile": "a/b"}, []string{"profile"}},
		{"profile long", map[string]string{"profile": strings.Repeat("p", 65)}, []string{"profile"}},
		{"value over 4096 bytes", map[string]string{"text": strings.Repeat("x", transform.MaxValueBytes+1)}, []string{"text"}},
		{"several at once", map[string]string{"w": "0", "q": "200", "format": "tiff", "h": "100", "utm_source": "x"},
			[]string{"format", "q", "w"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := transform.Parse(tt.in, transform.Limits{})
			if p != nil {
				t.Errorf("Parse returned params %+v with an error", p)
			}
			var errs *transform.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse error = %v, want *Errors", err)
			}
			if got := errs.Names(); !slices.Equal(got, tt.want) {
				t.Errorf("failing names = %v, want %v", got, tt.want)
			}
			for _, pe := range errs.List {
				if !strings.HasPrefix(pe.Reason, "must be ") && !strings.HasPrefix(pe.Reason, "too long") {
					t.Errorf("reason %q is not one of the fixed forms", pe.Reason)
				}
			}
		})
	}
}

func TestParseErrorsListing(t *testing.T) {
	_, err := transform.Parse(map[string]string{"w": "0", "format": "tiff", "q": "abc"}, transform.Limits{})
	want := "format=tiff: must be one of original, optimal, jpg (or jpeg), png, webp, avif, gif\n" +
		"q=abc: must be a whole number 1..100\n" +
		"w=0: must be pixels 1..8192, or N% with 0 < N <= 100"
	if err == nil || err.Error() != want {
		t.Errorf("Error() =\n%v\nwant\n%s", err, want)
	}
}

func TestParseValueShownSafely(t *testing.T) {
	huge := strings.Repeat("ab\n", 1<<20/3)
	_, err := transform.Parse(map[string]string{"text": huge, "watermark": "/a\x00\xff"}, transform.Limits{})
	var errs *transform.Errors
	if !errors.As(err, &errs) || len(errs.List) != 2 {
		t.Fatalf("err = %v", err)
	}
	for _, pe := range errs.List {
		if n := utf8.RuneCountInString(pe.Value); n > 65 {
			t.Errorf("%s: value shown with %d runes", pe.Name, n)
		}
		if strings.ContainsAny(pe.Value, "\n\x00") || !utf8.ValidString(pe.Value) {
			t.Errorf("%s: value %q is not safe to show", pe.Name, pe.Value)
		}
	}
	if v := errs.List[0].Value; !strings.HasSuffix(v, "…") || utf8.RuneCountInString(v) != 65 {
		t.Errorf("long value shown as %q, want 64 runes and …", v)
	}
	if got := strings.Count(err.Error(), "\n"); got != 1 {
		t.Errorf("Error() has %d newlines, want 1 (one line per entry)", got)
	}
}

func TestParseTooManyParameters(t *testing.T) {
	in := map[string]string{"w": "0"}
	for i := range transform.MaxParams {
		in["utm_"+strconv.Itoa(i)] = "x"
	}
	_, err := transform.Parse(in, transform.Limits{})
	var errs *transform.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v", err)
	}
	if got := errs.Names(); !slices.Equal(got, []string{"", "w"}) {
		t.Errorf("names = %q, want the input error and w", got)
	}
	if !strings.HasPrefix(err.Error(), "too many parameters") {
		t.Errorf("Error() = %q", err)
	}
	delete(in, "w")
	if _, err := transform.Parse(in, transform.Limits{}); err != nil {
		t.Errorf("exactly MaxParams entries: %v", err)
	}
}

func TestParseHonoursLimits(t *testing.T) {
	lim := transform.Limits{MaxOutputWidth: 10000, MaxOutputHeight: 500, MaxTextRunes: 3}
	tests := []struct {
		in    map[string]string
		valid bool
	}{
		{map[string]string{"w": "10000"}, true},
		{map[string]string{"w": "10001"}, false},
		{map[string]string{"h": "501"}, false},
		{map[string]string{"cy": "500"}, true},
		{map[string]string{"s": "10000"}, true},
		{map[string]string{"s": "10001"}, false},
		{map[string]string{"text": "abc"}, true},
		{map[string]string{"text": "abcd"}, false},
	}
	for _, tt := range tests {
		t.Run(url.Values{"": {transform.Canonical(tt.in)}}.Encode(), func(t *testing.T) {
			_, err := transform.Parse(tt.in, lim)
			if (err == nil) != tt.valid {
				t.Errorf("Parse(%v) error = %v, want valid=%v", tt.in, err, tt.valid)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]string
		want string
	}{
		{"empty", nil, ""},
		{"sorted and normalised", map[string]string{"w": "0300", "h": "10.0%", "format": "JPEG", "utm_source": "mail"},
			"format=jpg&h=10%25&w=300"},
		{"colours", map[string]string{"canvas.color": "FFAA00", "text.color": "FFAA00FF", "text.outline.color": "FFAA0080"},
			"canvas.color=ffaa00&text.color=ffaa00&text.outline.color=ffaa0080"},
		{"booleans", map[string]string{"flip": "", "flop": "1", "grayscale": "false", "dl": "0"}, "flip=true&flop=true"},
		{"download name", map[string]string{"dl": "my photo.jpg"}, "dl=my+photo.jpg"},
		{"numbers", map[string]string{"rotate": "+090.50", "brightness": "-0", "q": "080", "cx": "CENTER", "cy": "12.500%"},
			"brightness=0&cx=center&cy=12.5%25&q=80&rotate=90.5"},
		{"aspect", map[string]string{"crop.aspectratio": "016:09"}, "crop.aspectratio=16%3A9"},
		{"empty values dropped", map[string]string{"w": "", "text": ""}, ""},
		{"invalid kept as given", map[string]string{"w": "0300px", "q": "0200", "canvas.color": "XYZ"},
			"canvas.color=XYZ&q=0200&w=0300px"},
		{"out of default limits still normalised", map[string]string{"w": "099999"}, "w=99999"},
		{"text escaped", map[string]string{"text": "a&b=c d", "watermark": "/wm/logo.png"},
			"text=a%26b%3Dc+d&watermark=%2Fwm%2Flogo.png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := transform.Canonical(tt.in)
			if got != tt.want {
				t.Errorf("Canonical = %q, want %q", got, tt.want)
			}
			if again := transform.Canonical(fromCanonical(t, got)); again != got {
				t.Errorf("Canonical is not idempotent: %q then %q", got, again)
			}
		})
	}
}

// fromCanonical turns a canonical string back into a map.
func fromCanonical(t testing.TB, s string) map[string]string {
	t.Helper()
	q, err := url.ParseQuery(s)
	if err != nil {
		t.Fatalf("canonical string %q does not parse: %v", s, err)
	}
	return transform.FromQuery(q)
}

func TestFromQuery(t *testing.T) {
	q := url.Values{"w": {"100", "200"}, "h": {"5"}, "empty": {}}
	got := transform.FromQuery(q)
	if len(got) != 2 || got["w"] != "100" || got["h"] != "5" {
		t.Errorf("FromQuery = %v", got)
	}
}

func TestNeedsProcessing(t *testing.T) {
	tests := []struct {
		in   map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"dl": "", "profile": "x"}, false},
		{map[string]string{"dl": "name.jpg", "format": "original"}, false},
		{map[string]string{"flip": "false"}, false},
		{map[string]string{"format": "optimal"}, true},
		{map[string]string{"format": "jpg"}, true},
		{map[string]string{"q": "50"}, true},
		{map[string]string{"w": "10"}, true},
		{map[string]string{"grayscale": ""}, true},
		{map[string]string{"cx": "center"}, true},
		{map[string]string{"text": "x"}, true},
		{map[string]string{"watermark": "/w.png"}, true},
	}
	for _, tt := range tests {
		t.Run(transform.Canonical(tt.in), func(t *testing.T) {
			p, err := transform.Parse(tt.in, transform.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.NeedsProcessing(); got != tt.want {
				t.Errorf("NeedsProcessing = %v, want %v", got, tt.want)
			}
		})
	}
	if (&transform.Params{}).NeedsProcessing() {
		t.Error("zero Params needs processing")
	}
}

// TestNeedsProcessingFields sets each field of Params in turn, down to the
// fields of the numbered layers and of nested structs, and checks that
// NeedsProcessing counts it: it fails when a field added to Params (or to
// TextLayer, WatermarkLayer, Dim, …) is left out of the check, which
// NeedsProcessing writes out because Params are not comparable. Download,
// DownloadName and Profile alone, and format=original, are the exceptions.
func TestNeedsProcessingFields(t *testing.T) {
	ignored := map[string]bool{"Download": true, "DownloadName": true, "Profile": true}
	var p transform.Params
	n := 0
	// set sets every leaf under v in turn (strings "x", booleans true,
	// numbers 1 or 0.5) and checks NeedsProcessing against want.
	var set func(path string, v reflect.Value, want bool)
	set = func(path string, v reflect.Value, want bool) {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				if f := v.Type().Field(i); f.IsExported() {
					set(path+"."+f.Name, v.Field(i), want)
				}
			}
			return
		case reflect.Array:
			for i := range v.Len() {
				set(path+"["+strconv.Itoa(i)+"]", v.Index(i), want)
			}
			return
		case reflect.String:
			v.SetString("x")
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Int:
			v.SetInt(1)
		case reflect.Uint8:
			v.SetUint(1)
		case reflect.Float64:
			v.SetFloat(0.5)
		default:
			t.Fatalf("%s: a field of kind %s; extend this test", path, v.Kind())
		}
		n++
		if got := p.NeedsProcessing(); got != want {
			t.Errorf("%s set: NeedsProcessing = %v, want %v", path, got, want)
		}
		v.SetZero()
	}
	pv := reflect.ValueOf(&p).Elem()
	for i := range pv.NumField() {
		if f := pv.Type().Field(i); f.IsExported() {
			set(f.Name, pv.Field(i), !ignored[f.Name])
		}
	}
	if n < 400 {
		t.Errorf("only %d fields checked", n)
	}
	for _, f := range []transform.Format{transform.FormatOriginal, transform.FormatUnset} {
		if (&transform.Params{Format: f, Download: true, DownloadName: "a.jpg", Profile: "p"}).NeedsProcessing() {
			t.Errorf("format %q with dl and profile needs processing", f)
		}
	}
}

func TestDefinitions(t *testing.T) {
	defs := transform.Definitions()
	seen := map[string]bool{}
	for _, d := range defs {
		if seen[d.Name] {
			t.Errorf("%s defined twice", d.Name)
		}
		seen[d.Name] = true
		if !transform.Known(d.Name) {
			t.Errorf("Known(%q) = false", d.Name)
		}
		secure := d.Group == "text" || d.Group == "watermark"
		if d.SecureOnly != secure || transform.SecureOnly(d.Name) != secure {
			t.Errorf("%s: SecureOnly = %v, want %v", d.Name, d.SecureOnly, secure)
		}
		if d.Values == "" || d.Default == "" || !strings.HasSuffix(d.Doc, ".") {
			t.Errorf("%s: incomplete documentation %+v", d.Name, d)
		}
	}
	// Every supported parameter is a Sirv option Keyhole implements,
	// except dl, Keyhole's own.
	want := 1
	for _, o := range transform.SirvOptions() {
		if o.Status != transform.SirvRefused && o.AliasOf == "" {
			want++
		}
	}
	if len(defs) != want {
		t.Errorf("%d parameters, want %d", len(defs), want)
	}
	for _, name := range []string{"utm_source", "W", "text.", ""} {
		if transform.Known(name) || transform.SecureOnly(name) {
			t.Errorf("%q reported as known", name)
		}
	}
}
