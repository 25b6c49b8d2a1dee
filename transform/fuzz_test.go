package transform_test

import (
	"errors"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/keyhole-dev/keyhole/transform"
)

// fuzzLimits are the limits the fuzz targets parse under: the defaults and
// a tight set, so that canonical forms are checked against both.
var fuzzLimits = []transform.Limits{{}, {MaxOutputWidth: 100, MaxOutputHeight: 50, MaxTextRunes: 5}}

// fuzzValues builds a parameter map from a query string plus one explicit
// name=value pair, which lets the fuzzer reach raw bytes directly.
func fuzzValues(name, value, query string) map[string]string {
	q, _ := url.ParseQuery(query) // keeps the pairs it could parse
	values := transform.FromQuery(q)
	values[name] = value
	return values
}

// spelledTwice reports values that give one parameter under two
// spellings; their canonical form keeps both names, so the failing names
// may differ in spelling.
func spelledTwice(values map[string]string) bool {
	seen := map[string]bool{}
	for name := range values {
		c := transform.CanonicalName(name)
		if seen[c] {
			return true
		}
		seen[c] = true
	}
	return false
}

func errorNames(err error) []string {
	var errs *transform.Errors
	if !errors.As(err, &errs) {
		return nil
	}
	return slices.DeleteFunc(errs.Names(), func(n string) bool { return n == "" })
}

func FuzzCanonicalRoundTrip(f *testing.F) {
	for _, c := range loadCases(f) {
		q := url.Values{}
		for k, v := range c.Params {
			q.Set(k, v)
		}
		f.Add("", "", q.Encode())
	}
	f.Add("scale.width", "0300", "crop.x=center&quality=050&text.0.text=a")
	f.Add("w", "300", "scale.width=400")
	f.Add("text.00.text", "x", "watermark.1.position=north&text.text64=SGk")
	f.Fuzz(func(t *testing.T, name, value, query string) {
		values := fuzzValues(name, value, query)
		canon := transform.Canonical(values)
		back := fromCanonical(t, canon)
		if again := transform.Canonical(back); again != canon {
			t.Fatalf("not idempotent:\n%q\n%q", canon, again)
		}
		for k := range back {
			if !transform.Known(k) {
				t.Fatalf("canonical string %q has unknown name %q", canon, k)
			}
		}
		for _, lim := range fuzzLimits {
			p1, err1 := transform.Parse(values, lim)
			p2, err2 := transform.Parse(back, lim)
			if err1 == nil {
				if err2 != nil {
					t.Fatalf("valid %v, canonical %q rejected: %v", values, canon, err2)
				}
				if !reflect.DeepEqual(p1, p2) {
					t.Fatalf("canonical %q changes params:\n%+v\n%+v", canon, *p1, *p2)
				}
			}
			n1 := errorNames(err1)
			for i, n := range n1 {
				n1[i] = transform.CanonicalName(n)
			}
			slices.Sort(n1)
			n1 = slices.Compact(n1)
			if n2 := errorNames(err2); !slices.Equal(n1, n2) && !(len(n2) > 0 && spelledTwice(values)) {
				t.Fatalf("canonical %q changes failing names from %v to %v", canon, n1, n2)
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add("w", "300", "h=10%25")
	f.Add("text", "a\x00b", "watermark=/a/../b")
	f.Add("dl", "", "format=JPEG&q=0")
	f.Add("canvas.color", "FFAA0080", "cx=center&cy=-1")
	f.Add("utm_source", strings.Repeat("x", 5000), "text="+strings.Repeat("%C3%A9", 300))
	f.Add("crop.type", "face", "histogram=rgb&text.1.text=x")
	f.Add("scale.width", "300", "w=300&text.0.size=5&text.size=5")
	f.Add("text.text64", "SMOpIOKckw", "text.0.text=a&colorlevel.black=200&colorlevel.white=100")
	f.Add("colortone", "TEXAS", "frame.style=dither&subsampling=4:2:2&watermark.0.image=/wm/a.png")
	f.Fuzz(func(t *testing.T, name, value, query string) {
		values := fuzzValues(name, value, query)
		p, err := transform.Parse(values, transform.Limits{})
		if err == nil {
			if p == nil {
				t.Fatal("nil params without an error")
			}
			return
		}
		if p != nil {
			t.Fatal("params with an error")
		}
		var errs *transform.Errors
		if !errors.As(err, &errs) || len(errs.List) == 0 {
			t.Fatalf("error %v is not a non-empty *Errors", err)
		}
		if lines := strings.Count(err.Error(), "\n") + 1; lines != len(errs.List) {
			t.Fatalf("Error() has %d lines for %d entries", lines, len(errs.List))
		}
		for _, pe := range errs.List {
			if pe.Name != "" && !transform.Known(pe.Name) {
				t.Fatalf("error names unknown parameter %q", pe.Name)
			}
			if _, given := values[pe.Name]; pe.Name != "" && !given {
				t.Fatalf("error names %q, which was not given", pe.Name)
			}
			if utf8.RuneCountInString(pe.Value) > 65 || !utf8.ValidString(pe.Value) || strings.ContainsFunc(pe.Value, unicode.IsControl) {
				t.Fatalf("unsafe value shown: %q", pe.Value)
			}
			if !slices.ContainsFunc([]string{"must be ", "too long: ", "too many parameters: ", "not supported by Keyhole: ",
				"given more than once: also as ", "given together with text"}, func(form string) bool { return strings.HasPrefix(pe.Reason, form) }) {
				t.Fatalf("reason %q is not one of the fixed forms", pe.Reason)
			}
		}
	})
}

func FuzzSniff(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00avif"))
	f.Add([]byte("\uFEFF<?xml?><!-- c --><svg>"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBP"))
	f.Fuzz(func(t *testing.T, data []byte) {
		switch got := transform.Sniff(data); got {
		case transform.FormatUnset, transform.FormatJPEG, transform.FormatPNG, transform.FormatGIF, transform.FormatWebP,
			transform.FormatAVIF, transform.FormatHEIF, transform.FormatSVG, transform.FormatPDF:
			out, _ := transform.Negotiate(transform.FormatOriginal, "", got)
			if out == transform.FormatSVG || out == transform.FormatPDF || out == transform.FormatHEIF {
				t.Fatalf("original of %s negotiates to unencodable %s", got, out)
			}
		default:
			t.Fatalf("Sniff = %q", got)
		}
	})
}
