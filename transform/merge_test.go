package transform_test

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/keyhole-dev/keyhole/transform"
)

type m = map[string]string

var testProfiles = map[string]map[string]string{
	"default": {"w": "100", "q": "60", "watermark": "/wm/default.png", "watermark.opacity": "50"},
	"query":   {"w": "200", "h": "200", "text": "from query profile", "watermark.opacity": "1"},
	"secure":  {"w": "300", "format": "webp", "text": "from secure profile", "profile": "default"},
	"strict":  {"w": "400", "text": "strict", "watermark": "/wm/strict.png"},
	"empty":   {},
}

func TestMergePrecedence(t *testing.T) {
	tests := []struct {
		name    string
		layers  transform.Layers
		merged  m
		ignored []string
	}{
		{name: "nothing", merged: m{}},
		{name: "default profile alone", layers: transform.Layers{Default: "default"}, merged: testProfiles["default"]},
		{name: "query beats default profile",
			layers: transform.Layers{Default: "default", Insecure: m{"w": "150"}},
			merged: m{"w": "150", "scale.option": "noup", "q": "60", "watermark": "/wm/default.png", "watermark.opacity": "50"}},
		{name: "query profile beats default profile, minus its text and watermark options",
			layers:  transform.Layers{Default: "default", Insecure: m{"profile": "query"}},
			merged:  m{"w": "200", "h": "200", "scale.option": "noup", "q": "60", "watermark": "/wm/default.png", "watermark.opacity": "50"},
			ignored: []string{"text", "watermark.opacity"}},
		{name: "query beats query profile",
			layers: transform.Layers{Insecure: m{"profile": "query", "w": "50"}},
			merged: m{"w": "50", "h": "200"}, ignored: []string{"text", "watermark.opacity"}},
		{name: "secure profile closes the query's geometry and output",
			layers:  transform.Layers{Secure: m{"profile": "secure"}, Insecure: m{"w": "50", "format": "png", "h": "10"}},
			merged:  m{"w": "300", "format": "webp", "text": "from secure profile"},
			ignored: []string{"format", "h", "w"}},
		{name: "secure args beat secure profile",
			layers: transform.Layers{Secure: m{"profile": "secure", "w": "10"}},
			merged: m{"w": "10", "format": "webp", "text": "from secure profile"}},
		{name: "secure empty value overrides a profile's value",
			layers: transform.Layers{Secure: m{"profile": "secure", "text": ""}},
			merged: m{"w": "300", "format": "webp", "text": ""}},
		{name: "strict beats secure args",
			layers: transform.Layers{Strict: "strict", Secure: m{"w": "10", "text": "token", "q": "90"}},
			merged: m{"w": "400", "text": "strict", "watermark": "/wm/strict.png", "q": "90"}},
		{name: "strict beats insecure and secure profile",
			layers:  transform.Layers{Strict: "strict", Secure: m{"profile": "secure"}, Insecure: m{"w": "1", "profile": "query"}, Default: "default"},
			merged:  m{"w": "400", "q": "60", "format": "webp", "text": "strict", "watermark": "/wm/strict.png", "watermark.opacity": "50"},
			ignored: []string{"h", "text", "w", "watermark.opacity"}},
		{name: "insecure profile cannot displace the secure one",
			layers: transform.Layers{Secure: m{"profile": "empty"}, Insecure: m{"profile": "query"}},
			merged: m{"w": "200", "h": "200"}, ignored: []string{"text", "watermark.opacity"}},
		{name: "unknown names dropped silently",
			layers: transform.Layers{Secure: m{"tracking": "1"}, Insecure: m{"utm_source": "x", "jwt": "t", "W": "5", "TEXT": "x"}},
			merged: m{}},
		{name: "profile inside a profile is ignored",
			layers: transform.Layers{Secure: m{"profile": "secure"}},
			merged: m{"w": "300", "format": "webp", "text": "from secure profile"}},
		{name: "lock ignores every known insecure name",
			layers:  transform.Layers{Lock: true, Secure: m{"w": "10"}, Insecure: m{"w": "20", "h": "30", "profile": "query", "text": "x", "utm_source": "y"}},
			merged:  m{"w": "10"},
			ignored: []string{"h", "profile", "text", "w"}},
		{name: "lock keeps the default profile",
			layers:  transform.Layers{Lock: true, Default: "default", Insecure: m{"q": "100"}},
			merged:  testProfiles["default"],
			ignored: []string{"q"}},
		{name: "overridden secure-only names are still reported",
			layers:  transform.Layers{Secure: m{"text": "token"}, Insecure: m{"text": "query"}},
			merged:  m{"text": "token"},
			ignored: []string{"text"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			merged, ignored, err := transform.Merge(tt.layers, testProfiles)
			if err != nil {
				t.Fatalf("Merge: %v", err)
			}
			if !maps.Equal(merged, tt.merged) {
				t.Errorf("merged = %v, want %v", merged, tt.merged)
			}
			if !slices.Equal(ignored, tt.ignored) {
				t.Errorf("ignored = %q, want %q", ignored, tt.ignored)
			}
		})
	}
}

// TestMergeEveryParameter checks, for every parameter, that the token beats
// the query string and that the query string cannot set a text or
// watermark option.
func TestMergeEveryParameter(t *testing.T) {
	for _, d := range transform.Definitions() {
		if d.Name == "profile" {
			continue
		}
		t.Run(d.Name, func(t *testing.T) {
			merged, _, err := transform.Merge(transform.Layers{
				Secure: m{d.Name: "secure"}, Insecure: m{d.Name: "insecure"}}, nil)
			if err != nil || merged[d.Name] != "secure" {
				t.Errorf("secure vs insecure: merged = %v, err = %v", merged, err)
			}
			merged, ignored, err := transform.Merge(transform.Layers{Insecure: m{d.Name: "insecure"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if d.SecureOnly {
				if _, ok := merged[d.Name]; ok || !slices.Equal(ignored, []string{d.Name}) {
					t.Errorf("insecure %s: merged = %v, ignored = %v; want it ignored and reported", d.Name, merged, ignored)
				}
			} else if merged[d.Name] != "insecure" || ignored != nil {
				t.Errorf("insecure %s: merged = %v, ignored = %v; want it applied", d.Name, merged, ignored)
			}
			merged, ignored, _ = transform.Merge(transform.Layers{Lock: true, Insecure: m{d.Name: "insecure"}}, nil)
			if len(merged) != 0 || !slices.Equal(ignored, []string{d.Name}) {
				t.Errorf("locked %s: merged = %v, ignored = %v", d.Name, merged, ignored)
			}
			merged, _, _ = transform.Merge(transform.Layers{Strict: "p", Secure: m{d.Name: "secure"}},
				map[string]map[string]string{"p": {d.Name: "strict"}})
			if merged[d.Name] != "strict" {
				t.Errorf("strict vs secure: merged = %v", merged)
			}
		})
	}
}

func TestMergeUnknownProfiles(t *testing.T) {
	merged, ignored, err := transform.Merge(transform.Layers{
		Strict: "nope1", Secure: m{"profile": "nope2"}, Insecure: m{"profile": "query"}, Default: "nope3",
	}, testProfiles)
	var errs *transform.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v, want *Errors", err)
	}
	if merged != nil || ignored != nil {
		t.Errorf("results with an error: %v %v", merged, ignored)
	}
	var values []string
	for _, pe := range errs.List {
		if pe.Name != "profile" || pe.Reason != "unknown profile" {
			t.Errorf("entry %+v", pe)
		}
		values = append(values, pe.Value)
	}
	slices.Sort(values)
	if !slices.Equal(values, []string{"nope1", "nope2", "nope3"}) {
		t.Errorf("unknown profiles reported = %v", values)
	}
	// A locked query's profile is never looked up.
	if _, _, err := transform.Merge(transform.Layers{Lock: true, Insecure: m{"profile": "nope"}}, nil); err != nil {
		t.Errorf("locked unknown query profile: %v", err)
	}
}

// TestMergeThenParse runs the usual pipeline: the merged map parses and the
// text survives only from the token.
func TestMergeThenParse(t *testing.T) {
	secure, err := transform.FromArgs(map[string]any{"text": map[string]any{"text": "© ACME", "size": 5.0}, "w": 640.0})
	if err != nil {
		t.Fatal(err)
	}
	merged, ignored, err := transform.Merge(transform.Layers{
		Secure: secure, Insecure: m{"w": "10", "h": "480", "text": "pwned", "utm_source": "x"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := transform.Parse(merged, transform.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Text != "© ACME" || p.TextSize != 5 || p.Width != px(640) || p.Height.Set {
		t.Errorf("params = %+v", p)
	}
	if !slices.Equal(ignored, []string{"h", "text", "w"}) {
		t.Errorf("ignored = %v", ignored)
	}
}
