package transform_test

import (
	"errors"
	"net/url"
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
				if *p1 != *p2 {
					t.Fatalf("canonical %q changes params:\n%+v\n%+v", canon, *p1, *p2)
				}
			}
			if n1, n2 := errorNames(err1), errorNames(err2); !slices.Equal(n1, n2) {
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
			if !strings.HasPrefix(pe.Reason, "must be ") && !strings.HasPrefix(pe.Reason, "too long: ") && !strings.HasPrefix(pe.Reason, "too many parameters: ") {
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
