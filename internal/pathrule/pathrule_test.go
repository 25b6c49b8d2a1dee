package pathrule_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/keyhole-dev/keyhole/internal/pathrule"
)

func TestCheck(t *testing.T) {
	long := "/" + strings.Repeat("a", pathrule.MaxBytes-1)
	tests := []struct{ in, reason string }{
		{"/", ""},
		{"/a.jpg", ""},
		{"/a/b c/é.png", ""},
		{"/a/%2e%2e/b", ""}, // decoded once: a file named "%2e%2e"
		{"/a/.hidden", ""},
		{"/a/..b", ""},
		{long, ""},
		{long + "a", pathrule.ReasonTooLong(pathrule.MaxBytes)},
		{"", pathrule.ReasonNotRooted},
		{"a/b", pathrule.ReasonNotRooted},
		{"/\xff", pathrule.ReasonUTF8},
		{"/a\x00b", pathrule.ReasonControl},
		{"/a\x1fb", pathrule.ReasonControl},
		{"/a\x7fb", pathrule.ReasonControl},
		{"/a\u0080b", pathrule.ReasonControl},
		{"/a\u0085b", pathrule.ReasonControl}, // NEL
		{"/a\u009fb", pathrule.ReasonControl},
		{"/a\u00a0b", ""}, // NBSP is not a control character
		{"/a\\b", pathrule.ReasonBackslash},
		{"/wm/a:b.png", pathrule.ReasonColon},
		{"/c:", pathrule.ReasonColon},
		{"//", pathrule.ReasonEmpty},
		{"/a//b", pathrule.ReasonEmpty},
		{"/a/", pathrule.ReasonEmpty},
		{"/./a", pathrule.ReasonDot},
		{"/a/..", pathrule.ReasonDot},
		{"/a/../b", pathrule.ReasonDot},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := pathrule.Check(tc.in, pathrule.MaxBytes); got != tc.reason {
				t.Errorf("Check(%q) = %q, want %q", tc.in, got, tc.reason)
			}
		})
	}
}

func TestCheckFolder(t *testing.T) {
	tests := []struct{ in, reason string }{
		{"/", ""},
		{"/wm/", ""},
		{"/wm", ""},
		{"/a/b/", ""},
		{"//", pathrule.ReasonEmpty},
		{"/a//", pathrule.ReasonEmpty},
		{"/../", pathrule.ReasonDot},
		{"wm/", pathrule.ReasonNotRooted},
		{"/a:b/", pathrule.ReasonColon},
		{"/" + strings.Repeat("a", pathrule.MaxBytes-1) + "/", pathrule.ReasonTooLong(pathrule.MaxBytes)},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := pathrule.CheckFolder(tc.in, pathrule.MaxBytes); got != tc.reason {
				t.Errorf("CheckFolder(%q) = %q, want %q", tc.in, got, tc.reason)
			}
		})
	}
}

func TestInFolders(t *testing.T) {
	tests := []struct {
		path    string
		folders []string
		want    bool
	}{
		{"/wm/logo.png", []string{"/wm/"}, true},
		{"/wm/sub/logo.png", []string{"/wm/"}, true},
		{"/wm/logo.png", nil, false},
		{"/wmx/logo.png", []string{"/wm/"}, false},
		{"/wm/logo.png", []string{"/wm"}, false}, // a folder ends in "/"
		{"/wm/", []string{"/wm/"}, false},
		{"/wm/../private/a.jpg", []string{"/wm/"}, false},
		{"/wm/a:b.png", []string{"/wm/"}, false},
		{"/private/a.jpg", []string{"/wm/", "/"}, true},
		{"/private/a.jpg", []string{"/wm/", "/other/"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			if got := pathrule.InFolders(tc.path, tc.folders); got != tc.want {
				t.Errorf("InFolders(%q, %q) = %v, want %v", tc.path, tc.folders, got, tc.want)
			}
		})
	}
}

// reference is the path rule written the slow, obvious way, for the fuzz
// target to compare with.
func reference(p string, maxBytes int) bool {
	if !strings.HasPrefix(p, "/") || len(p) > maxBytes || !utf8.ValidString(p) ||
		strings.ContainsFunc(p, unicode.IsControl) || strings.ContainsAny(p, `\:`) {
		return false
	}
	if p == "/" {
		return true
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// FuzzCheck compares Check with the obvious implementation above and
// checks what a clean path guarantees: CheckFolder accepts it, and with a
// "/" added it is a clean folder that holds p+"/x".
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"/a.jpg", "/", "//", "/a/../b", "/a\\b", "/a\x00b", "/a\u0085b", "/wm/a:b.png", "/\xff", "/a/", "/\xc2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		for _, max := range []int{8, pathrule.MaxBytes} {
			reason := pathrule.Check(p, max)
			if want := reference(p, max); (reason == "") != want {
				t.Fatalf("Check(%q, %d) = %q, reference says clean=%v", p, max, reason, want)
			}
			if reason != "" {
				continue
			}
			if got := pathrule.CheckFolder(p, max); got != "" {
				t.Fatalf("CheckFolder(%q) = %q for a clean path", p, got)
			}
			if p != "/" && len(p)+3 <= pathrule.MaxBytes && !pathrule.InFolders(p+"/x", []string{p + "/"}) {
				t.Fatalf("InFolders(%q, %q) = false", p+"/x", p+"/")
			}
		}
	})
}
