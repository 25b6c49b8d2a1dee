package transform_test

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/keyhole-dev/keyhole/transform"
)

// refusal returns the reason Parse gives for name, or "" when Parse
// accepts values.
func refusal(t *testing.T, values map[string]string, name string) string {
	t.Helper()
	_, err := transform.Parse(values, transform.Limits{})
	if err == nil {
		return ""
	}
	var errs *transform.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse error %T, want *Errors", err)
	}
	for _, pe := range errs.List {
		if pe.Name == name {
			return pe.Reason
		}
	}
	t.Fatalf("Parse(%v) = %v, which does not name %s", values, err, name)
	return ""
}

func TestSirvRefusals(t *testing.T) {
	cases := []struct {
		name   string
		values m
		refuse string // the parameter Parse must name as not supported
	}{
		{"face detection", m{"w": "300", "crop.type": "face"}, "crop.type"},
		{"face detection upper case", m{"crop.type": "FACE"}, "crop.type"},
		{"histogram", m{"histogram": "rgb"}, "histogram"},
		{"clip path", m{"clipPath": "p1"}, "clipPath"},
		{"lossy gif", m{"format": "gif", "gif.lossy": "50"}, "gif.lossy"},
		{"fifth text layer", m{"text.4.text": "five"}, "text.4.text"},
		{"fifth text layer option", m{"text": "one", "text.4.size": "20"}, "text.4.size"},
		{"fifth watermark", m{"watermark.4.position": "north"}, "watermark.4.position"},
		{"numbered refused option", m{"text.0.text": "x", "text.12.position": "north"}, "text.12.position"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := refusal(t, c.values, c.refuse); !strings.HasPrefix(got, "not supported by Keyhole: ") {
				t.Errorf("reason %q, want a refusal", got)
			}
		})
	}
	// An empty value means "not set", for refused options too.
	if _, err := transform.Parse(m{"histogram": "", "w": "10"}, transform.Limits{}); err != nil {
		t.Errorf("empty refused option: %v", err)
	}
	// Names that are no Sirv option are still ignored.
	for _, name := range []string{"utm_source", "text.0.nonsense", "text.01.text", "text.100.text", "watermark.x.y", "Histogram", "fbclid"} {
		if p, err := transform.Parse(m{name: "1"}, transform.Limits{}); err != nil || p.NeedsProcessing() {
			t.Errorf("Parse(%s=1) = %+v, %v; want it ignored", name, p, err)
		}
	}
}

func TestSirvSpellings(t *testing.T) {
	same := []struct{ a, b m }{
		{m{"scale.width": "300"}, m{"w": "300"}},
		{m{"scale.height": "50%"}, m{"h": "50%"}},
		{m{"crop.width": "10", "crop.height": "20", "crop.x": "center", "crop.y": "5"}, m{"cw": "10", "ch": "20", "cx": "center", "cy": "5"}},
		{m{"quality": "55"}, m{"q": "55"}},
		{m{"text.0.text": "Hi", "text.0.size": "20", "text.0.color": "ff0000"}, m{"text": "Hi", "text.size": "20", "text.color": "ff0000"}},
		{m{"watermark.0.image": "/wm/a.png", "watermark.0.opacity": "50"}, m{"watermark": "/wm/a.png", "watermark.opacity": "50"}},
		{m{"crop.type": "poi"}, m{"crop.type": "smart"}},
	}
	for _, c := range same {
		p, err := transform.Parse(c.a, transform.Limits{})
		q, err2 := transform.Parse(c.b, transform.Limits{})
		if err != nil || err2 != nil || !reflect.DeepEqual(p, q) {
			t.Errorf("Parse(%v) = %+v, %v; want as Parse(%v) = %+v, %v", c.a, p, err, c.b, q, err2)
		}
		// The canonical form writes the canonical names.
		if got, want := transform.Canonical(c.a), transform.Canonical(c.b); got != want && c.a["crop.type"] == "" {
			t.Errorf("Canonical(%v) = %q, want %q", c.a, got, want)
		}
	}
	// Two spellings of one parameter: neither wins.
	for _, v := range []m{{"w": "300", "scale.width": "400"}, {"text.size": "5", "text.0.size": "5"}, {"text": "a", "text.0.text": "b"}} {
		if _, err := transform.Parse(v, transform.Limits{}); err == nil {
			t.Errorf("Parse(%v) accepted two spellings", v)
		}
		c := transform.Canonical(v)
		q, _ := url.ParseQuery(c)
		if _, err := transform.Parse(transform.FromQuery(q), transform.Limits{}); err == nil {
			t.Errorf("Canonical(%v) = %q, which parses", v, c)
		}
		if _, _, err := transform.Merge(transform.Layers{Insecure: v}, nil); err == nil {
			t.Errorf("Merge accepted two spellings %v", v)
		}
	}
}

// TestSirvRefusalsInEveryLayer checks that a refused option is refused
// whichever layer sets it: the query, the token's args (flattened), and a
// profile named by either; and that the query's text layers are dropped
// like text.
func TestSirvRefusalsInEveryLayer(t *testing.T) {
	profiles := map[string]map[string]string{"bad": {"histogram": "rgb"}}
	args, err := transform.FromArgs(map[string]any{"crop": map[string]any{"type": "face"}})
	if err != nil {
		t.Fatal(err)
	}
	layers := []transform.Layers{
		{Insecure: m{"histogram": "rgb"}},
		{Secure: m{"histogram": "rgb"}},
		{Secure: args},
		{Secure: m{"profile": "bad"}},
		{Insecure: m{"profile": "bad"}},
		{Default: "bad"},
		{Strict: "bad"},
	}
	for _, l := range layers {
		merged, _, err := transform.Merge(l, profiles)
		if err != nil {
			t.Fatalf("Merge(%+v): %v", l, err)
		}
		if _, err := transform.Parse(merged, transform.Limits{}); err == nil || !strings.Contains(err.Error(), "not supported by Keyhole") {
			t.Errorf("layers %+v: Parse(%v) = %v, want a refusal", l, merged, err)
		}
	}
	// Numbered text from the query is token-only, as text is.
	merged, ignored, err := transform.Merge(transform.Layers{Insecure: m{"text.0.text": "x", "text.1.text": "y", "text.7.text": "z", "w": "10"}}, nil)
	if err != nil || len(merged) != 1 || strings.Join(ignored, ",") != "text.0.text,text.1.text,text.7.text" {
		t.Errorf("Merge = %v, %v, %v", merged, ignored, err)
	}
	if !transform.SecureOnly("text.0.size") || !transform.SecureOnly("watermark.3.position") || transform.LockGroup("scale.width") != transform.GroupGeometry {
		t.Error("numbered and alias names belong to their parameter's group")
	}
}

func TestSirvThumbnailAndCropPad(t *testing.T) {
	parse := func(v m) *transform.Params {
		t.Helper()
		p, err := transform.Parse(v, transform.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	l := parse(m{"thumbnail": "100"}).Plan(1600, 1200)
	if l.Scale.Fill.W != 100 || l.Scale.Fill.H != 100 || l.Scale.H != 100 {
		t.Errorf("thumbnail=100 of 1600x1200: %+v, want a 100x100 fill of a 133x100 scale", l.Scale)
	}
	if l := parse(m{"thumbnail": "100", "w": "400"}).Plan(1600, 1200); l.Scale.W != 400 || l.Scale.Fill.W != 0 {
		t.Errorf("w takes precedence over thumbnail: %+v", l.Scale)
	}
	r, _, ok := parse(m{"cw": "100", "ch": "50", "cx": "200", "cy": "100", "crop.pad.width": "10", "crop.pad.height": "10%"}).CropFor(1000, 500)
	if !ok || r != (transform.Rect{X: 190, Y: 50, W: 120, H: 150}) {
		t.Errorf("padded crop %+v, want 120x150 at (190, 50)", r)
	}
	r, _, _ = parse(m{"cw": "100", "ch": "50", "crop.pad.width": "500"}).CropFor(300, 200)
	if r.X != 0 || r.W != 300 {
		t.Errorf("a pad wider than the image stays within it: %+v", r)
	}
}

func TestSirvWebPFallback(t *testing.T) {
	cases := []struct {
		values m
		accept string
		want   transform.Format
		vary   bool
	}{
		{m{"format": "webp", "webp-fallback": "png"}, "image/webp,*/*", transform.FormatWebP, true},
		{m{"format": "webp", "webp-fallback": "png"}, "image/png,*/*", transform.FormatPNG, true},
		{m{"format": "webp"}, "image/png", transform.FormatWebP, false},
		{m{"format": "optimal", "webp-fallback": "jpeg"}, "*/*", transform.FormatJPEG, true},
		{m{"format": "optimal", "webp-fallback": "png"}, "image/avif", transform.FormatAVIF, true},
		{m{"format": "png", "webp-fallback": "jpg"}, "*/*", transform.FormatPNG, false},
	}
	for _, c := range cases {
		p, err := transform.Parse(c.values, transform.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if got, vary := p.NegotiateFor(c.accept, transform.FormatGIF); got != c.want || vary != c.vary {
			t.Errorf("%v with Accept %q: %s, vary %v; want %s, %v", c.values, c.accept, got, vary, c.want, c.vary)
		}
	}
}
