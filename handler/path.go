package handler

import (
	"strings"

	"github.com/keyhole-dev/keyhole/token"
)

// ErrBadPath matches (errors.Is) every error of CleanPath.
var ErrBadPath = token.ErrBadPath

// CleanPath checks a request path that net/http has percent-decoded once
// (r.URL.Path after http.StripPrefix) and returns it with exactly one
// leading "/". It refuses, rather than repairs, anything ambiguous: invalid
// UTF-8, NUL and other control bytes, backslashes, colons, "." and ".."
// segments, empty segments (so "a//b" and a trailing "/") and paths longer
// than maxBytes. A path it accepts names the same file on every platform and
// can be compared with audience prefixes as a plain string: "/a/../b" never
// gets here, so a token for "/a/" never opens "/b". It is token.CleanPath,
// the same rules the signers apply.
//
// The root itself, "/", is returned as "/".
func CleanPath(p string, maxBytes int) (string, error) {
	return token.CleanPath(p, maxBytes)
}

// hasDotSegment reports whether a cleaned path has a segment starting with
// "." (a dot-file or dot-folder).
func hasDotSegment(p string) bool {
	return strings.Contains(p, "/.")
}
