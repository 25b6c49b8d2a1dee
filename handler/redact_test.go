package handler_test

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/keyhole-dev/keyhole/handler"
)

func TestRedactURL(t *testing.T) {
	const tok = "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiIvcCJ9.c2lnbmF0dXJl"
	const hash = "sha256:" // followed by 12 hex digits
	tests := []struct {
		name, in, param string
		keep            []string
	}{
		{"only the token", "/p/a.jpg?jwt=" + tok, "jwt", []string{"/p/a.jpg?jwt=sha256:"}},
		{"between parameters", "/p/a.jpg?w=300&jwt=" + tok + "&h=200", "jwt", []string{"w=300&jwt=sha256:", "&h=200"}},
		{"escaped name", "/p/a.jpg?%6Awt=" + tok, "jwt", []string{"%6Awt=sha256:"}},
		{"twice", "/p/a.jpg?jwt=" + tok + "&jwt=" + tok, "jwt", []string{"jwt=sha256:"}},
		{"another name", "/p/a.jpg?token=" + tok, "token", []string{"token=sha256:"}},
		// Mangled names still carry a working token (issue: the access log
		// printed these in full).
		{"semicolon", "/p/a.jpg?x=1;jwt=" + tok, "jwt", []string{"x=1;jwt=sha256:"}},
		{"html-escaped amp", "/p/a.jpg?w=1&amp;jwt=" + tok, "jwt", []string{"amp;jwt=sha256:"}},
		{"upper case", "/p/a.jpg?JWT=" + tok, "jwt", []string{"JWT=sha256:"}},
		{"nul in name", "/p/a.jpg?jwt%00=" + tok, "jwt", []string{"jwt%00=sha256:"}},
		{"bare value", "/p/a.jpg?" + tok, "jwt", []string{"?sha256:"}},
		{"in the path", "/p/" + tok + "/a.jpg", "jwt", []string{"/p/sha256:", "/a.jpg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got := handler.RedactURL(u, tt.param)
			if strings.Contains(got, "c2lnbmF0dXJl") || !strings.Contains(got, hash) {
				t.Fatalf("RedactURL(%q) = %q: the token is still there", tt.in, got)
			}
			for _, k := range tt.keep {
				if !strings.Contains(got, k) {
					t.Errorf("RedactURL(%q) = %q, lacks %q", tt.in, got, k)
				}
			}
			if u.String() != tt.in {
				t.Errorf("RedactURL changed its argument to %q", u)
			}
		})
	}
	u, _ := url.Parse("/p/a.jpg?w=300")
	if got := handler.RedactURL(u, "jwt"); got != "/p/a.jpg?w=300" {
		t.Errorf("a URL without a token became %q", got)
	}
	// The same token gives the same hash, so log lines can be matched.
	a, _ := url.Parse("/a?jwt=" + tok)
	b, _ := url.Parse("/b?x=1&jwt=" + tok)
	ha := handler.RedactURL(a, "jwt")
	hb := handler.RedactURL(b, "jwt")
	if ha[strings.Index(ha, hash):] != hb[strings.Index(hb, hash):] {
		t.Errorf("one token, two hashes: %q %q", ha, hb)
	}
}

func TestRedactRequest(t *testing.T) {
	const tok = "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiIvcCJ9.c2lnbmF0dXJl"
	r := httptest.NewRequest("GET", "/p/a.jpg?w=1&jwt="+tok, nil)
	c := handler.RedactRequest(r, "jwt")
	for _, s := range []string{c.RequestURI, c.URL.String(), c.URL.RawQuery} {
		if strings.Contains(s, tok) || !strings.Contains(s, "w=1&jwt=sha256:") {
			t.Errorf("redacted request still holds the token or lost a parameter: %q", s)
		}
	}
	if !strings.Contains(r.RequestURI, tok) || r.URL.Query().Get("jwt") != tok {
		t.Error("RedactRequest changed the original request")
	}
}
