package token_test

import (
	"path"
	"testing"

	"github.com/keyhole-dev/keyhole/token"
)

func TestAudienceAllows(t *testing.T) {
	tests := []struct {
		name string
		aud  []string
		path string
		want bool
	}{
		{"root allows a file", []string{"/"}, "/a.jpg", true},
		{"root allows a deep file", []string{"/"}, "/p/to/x/y.jpg", true},
		{"root allows root", []string{"/"}, "/", true},
		{"prefix allows the folder it starts", []string{"/p/t"}, "/p/to/x", true},
		{"prefix allows a sibling with the same start", []string{"/p/t"}, "/p/t1/y", true},
		{"prefix allows itself", []string{"/p/t"}, "/p/t", true},
		{"prefix refuses another folder", []string{"/p/t"}, "/p/x", false},
		{"prefix refuses the parent", []string{"/p/t"}, "/p/", false},
		{"prefix refuses a shorter path", []string{"/p/t"}, "/p", false},
		{"folder allows a file in it", []string{"/p/to/"}, "/p/to/x.jpg", true},
		{"folder allows a subfolder file", []string{"/p/to/"}, "/p/to/sub/x.jpg", true},
		{"folder refuses the sibling with the same start", []string{"/p/to/"}, "/p/tooth/x.jpg", false},
		{"folder refuses the folder name without slash", []string{"/p/to/"}, "/p/to", false},
		{"file allows itself", []string{"/p/to/file.jpg"}, "/p/to/file.jpg", true},
		{"file refuses its folder", []string{"/p/to/file.jpg"}, "/p/to/", false},
		{"file refuses another file", []string{"/p/to/file.jpg"}, "/p/to/other.jpg", false},
		// Sirv's rule is a plain prefix: a file audience also opens names
		// that extend it. The test pins that behaviour.
		{"file is a prefix of a longer name", []string{"/p/to/file.jpg"}, "/p/to/file.jpg.bak", true},
		{"empty audience string never", []string{""}, "/a.jpg", false},
		{"empty audience string never, empty path", []string{""}, "", false},
		{"no slash never", []string{"p/to"}, "p/to/x.jpg", false},
		{"no slash never, slash path", []string{"p/to"}, "/p/to/x.jpg", false},
		{"nil audience", nil, "/a.jpg", false},
		{"empty list", []string{}, "/a.jpg", false},
		{"empty path", []string{"/"}, "", false},
		{"case sensitive", []string{"/P/"}, "/p/a.jpg", false},
		{"multiple, first matches", []string{"/a/", "/b/"}, "/a/x.jpg", true},
		{"multiple, second matches", []string{"/a/", "/b/"}, "/b/x.jpg", true},
		{"multiple, none matches", []string{"/a/", "/b/"}, "/c/x.jpg", false},
		{"multiple, bad entries skipped", []string{"", "b/", "/b/"}, "/b/x.jpg", true},
		{"multiple, only bad entries", []string{"", "b/"}, "b/x.jpg", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := token.AudienceAllows(tt.aud, tt.path); got != tt.want {
				t.Errorf("AudienceAllows(%q, %q) = %v, want %v", tt.aud, tt.path, got, tt.want)
			}
		})
	}
}

// TestAudienceDotDot checks the threat model: a path is cleaned before the
// check, so a token for "/p/to/" never opens "/p/to/../secret".
func TestAudienceDotDot(t *testing.T) {
	aud := []string{"/p/to/"}
	for _, raw := range []string{
		"/p/to/../secret.jpg",
		"/p/to/../../secret.jpg",
		"/p/to/./../secret.jpg",
		"/p/to/x/../../secret.jpg",
		"/p/to/..",
	} {
		t.Run(raw, func(t *testing.T) {
			clean := path.Clean(raw)
			if token.AudienceAllows(aud, clean) {
				t.Errorf("AudienceAllows(%q, Clean(%q) = %q) = true", aud, raw, clean)
			}
		})
	}
}
