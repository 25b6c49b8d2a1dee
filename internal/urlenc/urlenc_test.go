package urlenc_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/keyhole-dev/keyhole/internal/urlenc"
)

var samples = []string{
	"", "a", "abc-_.~XYZ09", " ", "a b", "a+b", "a/b", "a?b#c", "%", "100%", "$&+,;=:@",
	"é", "日本語", "\x00\x1f\x7f\xff", "/leading/and/trailing/", "a//b", "..", "quote\"'<>",
}

func TestMatchesNetURL(t *testing.T) {
	for _, s := range samples {
		if got, want := string(urlenc.AppendQuery(nil, s)), url.QueryEscape(s); got != want {
			t.Errorf("AppendQuery(%q) = %q, want %q", s, got, want)
		}
		if got, want := string(urlenc.AppendPathSegment(nil, s)), url.PathEscape(s); got != want {
			t.Errorf("AppendPathSegment(%q) = %q, want %q", s, got, want)
		}
	}
	q := url.Values{"w": {"300"}, "text": {"a b&c"}, "z": {"1", "2"}, "é": {"ü"}}
	if got, want := string(urlenc.AppendValues(nil, q)), q.Encode(); got != want {
		t.Errorf("AppendValues = %q, want %q", got, want)
	}
	if got := string(urlenc.AppendPath(nil, "/a b/c?d/")); got != "/a%20b/c%3Fd/" {
		t.Errorf("AppendPath = %q", got)
	}
}

func FuzzMatchesNetURL(f *testing.F) {
	for _, s := range samples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(urlenc.AppendQuery(nil, s)), url.QueryEscape(s); got != want {
			t.Errorf("AppendQuery(%q) = %q, want %q", s, got, want)
		}
		if got, want := string(urlenc.AppendPathSegment(nil, s)), url.PathEscape(s); got != want {
			t.Errorf("AppendPathSegment(%q) = %q, want %q", s, got, want)
		}
	})
}

func ExampleAppendPath() {
	b := urlenc.AppendPath(nil, "/photos/summer 2026/a&b.jpg")
	b = append(b, '?')
	b = urlenc.AppendValues(b, url.Values{"w": {"300"}, "text": {"Hi there"}})
	fmt.Println(string(b))
	// Output: /photos/summer%202026/a&b.jpg?text=Hi+there&w=300
}
