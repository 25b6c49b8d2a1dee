package token_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/keyhole-dev/keyhole/token"
)

func TestCleanPathReasons(t *testing.T) {
	tests := []struct{ in, want, reason string }{
		{"/a/b.jpg", "/a/b.jpg", ""},
		{"a", "/a", ""},
		{"/", "/", ""},
		{"/" + strings.Repeat("a", 1024), "", "longer than 1024 bytes"},
		{"/\xff", "", "not valid UTF-8"},
		{"/a:b", "", "contains a control character, a backslash or a colon"},
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
