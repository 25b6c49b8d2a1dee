package transform_test

import (
	"net/url"
	"testing"

	"github.com/keyhole-dev/keyhole/transform"
)

// typicalQuery is a responsive-image request with a tracking parameter.
const typicalQuery = "w=640&h=50%25&scale.option=fill&format=optimal&q=80&sharpen=5&utm_source=newsletter"

func typicalValues(b *testing.B) map[string]string {
	q, err := url.ParseQuery(typicalQuery)
	if err != nil {
		b.Fatal(err)
	}
	return transform.FromQuery(q)
}

func BenchmarkParse(b *testing.B) {
	values := typicalValues(b)
	lim := transform.DefaultLimits()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := transform.Parse(values, lim); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCanonical(b *testing.B) {
	values := typicalValues(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = transform.Canonical(values)
	}
}

// BenchmarkParseAndCanonical is the per-request cost a handler pays for a
// transformed variant: merge with a token, parse, and key the cache.
func BenchmarkParseAndCanonical(b *testing.B) {
	values := typicalValues(b)
	secure := map[string]string{"text": "© ACME", "text.size": "4", "text.position": "southeast"}
	lim := transform.DefaultLimits()
	b.ReportAllocs()
	for b.Loop() {
		merged, _, err := transform.Merge(transform.Layers{Secure: secure, Insecure: values}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := transform.Parse(merged, lim); err != nil {
			b.Fatal(err)
		}
		_ = transform.Canonical(merged)
	}
}

func BenchmarkParseErrors(b *testing.B) {
	values := map[string]string{"w": "99999", "text": string(make([]byte, transform.MaxValueBytes+1)), "canvas.color": "red"}
	lim := transform.DefaultLimits()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := transform.Parse(values, lim); err == nil {
			b.Fatal("no error")
		}
	}
}

// BenchmarkNeedsProcessing is the handler's per-request check, on
// parameters that only set headers (the whole check runs) and on a
// typical transform (it stops at the first field set).
func BenchmarkNeedsProcessing(b *testing.B) {
	for _, bc := range []struct {
		name   string
		values map[string]string
	}{
		{"headers-only", map[string]string{"dl": "a.jpg", "format": "original", "profile": "p"}},
		{"typical", typicalValues(b)},
	} {
		p, err := transform.Parse(bc.values, transform.DefaultLimits())
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if p.NeedsProcessing() == (bc.name == "headers-only") {
					b.Fatal("wrong answer")
				}
			}
		})
	}
}
