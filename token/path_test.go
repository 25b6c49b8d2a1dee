package token_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

func TestCleanPathReasons(t *testing.T) {
	tests := []struct{ in, want, reason string }{
		{"/a/b.jpg", "/a/b.jpg", ""},
		{"a", "/a", ""},
		{"/", "/", ""},
		{"/" + strings.Repeat("a", 1024), "", "is longer than 1024 bytes"},
		{"/\xff", "", "is not valid UTF-8"},
		{"/a:b", "", "contains a colon"},
		{"/a\\b", "", "contains a backslash"},
		{"/a\x00b", "", "contains a control character"},
		{"/a\u0085b", "", "contains a control character"},
		{"/a/", "", "has an empty segment (// or a trailing /)"},
		{"/a/./b", "", "has a . or .. segment"},
	}
	for _, tc := range tests {
		got, err := token.CleanPath(tc.in, token.DefaultMaxPathBytes)
		if got != tc.want {
			t.Errorf("CleanPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
		var pe *token.PathError
		switch {
		case tc.reason == "" && err != nil:
			t.Errorf("CleanPath(%q): %v", tc.in, err)
		case tc.reason != "" && (!errors.As(err, &pe) || pe.Reason != tc.reason || !errors.Is(err, token.ErrBadPath)):
			t.Errorf("CleanPath(%q) error %v, want reason %q matching ErrBadPath", tc.in, err, tc.reason)
		}
	}
}

// TestPathRuleSharedWithWatermark checks that the signers' path rule
// (token.CleanPath, which the server applies to request paths too) and the
// parameter parser's watermark rule agree, so no signer signs a watermark
// the server then refuses on every request, and the other way round.
func TestPathRuleSharedWithWatermark(t *testing.T) {
	tests := []struct{ name, path string }{
		{"plain", "/wm/logo.png"},
		{"colon", "/wm/a:b.png"},
		{"NEL U+0085", "/wm/a\u0085b.png"},
		{"NBSP U+00A0", "/wm/a\u00a0b.png"},
		{"DEL", "/wm/a\x7fb.png"},
		{"backslash", "/wm/a\\b.png"},
		{"dot segment", "/wm/../secret.png"},
		{"empty segment", "/wm//logo.png"},
		{"percent, decoded once", "/wm/%2e%2e/x.png"},
		{"at the limit", "/" + strings.Repeat("a", token.DefaultMaxPathBytes-1)},
		{"over the limit", "/" + strings.Repeat("a", token.DefaultMaxPathBytes)},
	}
	for _, tc := range tests {
		p := tc.path
		t.Run(tc.name, func(t *testing.T) {
			_, pathErr := token.CleanPath(p, token.DefaultMaxPathBytes)
			_, paramErr := transform.Parse(map[string]string{"watermark": p}, transform.DefaultLimits())
			if (pathErr == nil) != (paramErr == nil) {
				t.Errorf("CleanPath error %v, watermark parse error %v: the rules disagree", pathErr, paramErr)
			}
		})
	}
}
