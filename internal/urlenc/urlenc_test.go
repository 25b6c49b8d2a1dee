package urlenc_test

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"
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

// FuzzMatchesNetURL compares all four functions with net/url on arbitrary
// input: the two escapings byte for byte, AppendPath with PathEscape of
// each "/"-separated segment, and AppendValues with url.Values.Encode on
// values built from the input (and parsed back by url.ParseQuery).
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
		segs := strings.Split(s, "/")
		for i, seg := range segs {
			segs[i] = url.PathEscape(seg)
		}
		if got, want := string(urlenc.AppendPath(nil, s)), strings.Join(segs, "/"); got != want {
			t.Errorf("AppendPath(%q) = %q, want %q", s, got, want)
		}
		// Names and values from the input: "k=v&k2=v2" split by hand, so
		// every byte (also "%", "+", ";") is a literal.
		q := url.Values{}
		for pair := range strings.SplitSeq(s, "&") {
			k, v, _ := strings.Cut(pair, "=")
			q[k] = append(q[k], v)
		}
		got := string(urlenc.AppendValues(nil, q))
		if want := q.Encode(); got != want {
			t.Fatalf("AppendValues(%q) = %q, want %q", q, got, want)
		}
		back, err := url.ParseQuery(got)
		if err != nil || !reflect.DeepEqual(back, q) {
			t.Errorf("ParseQuery(AppendValues(%q)) = %q, %v", q, back, err)
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
