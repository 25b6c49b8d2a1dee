package handler

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// ErrBadPath is returned by CleanPath for a path that breaks the path rules.
var ErrBadPath = errors.New("bad path")

// CleanPath checks a request path that net/http has percent-decoded once
// (r.URL.Path after http.StripPrefix) and returns it with exactly one
// leading "/". It refuses, rather than repairs, anything ambiguous: invalid
// UTF-8, NUL and other control bytes, backslashes, colons, "." and ".."
// segments, empty segments (so "a//b" and a trailing "/") and paths longer
// than maxBytes. A path it accepts names the same file on every platform and
// can be compared with audience prefixes as a plain string: "/a/../b" never
// gets here, so a token for "/a/" never opens "/b".
//
// The root itself, "/", is returned as "/".
func CleanPath(p string, maxBytes int) (string, error) {
	if len(p) > maxBytes || !utf8.ValidString(p) {
		return "", ErrBadPath
	}
	if !strings.HasPrefix(p, "/") {
		// The limit holds for the rooted path, so that CleanPath accepts
		// its own output.
		if len(p)+1 > maxBytes {
			return "", ErrBadPath
		}
		p = "/" + p
	}
	if p == "/" {
		return p, nil
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' || c == ':' {
			return "", ErrBadPath
		}
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", ErrBadPath
		}
	}
	return p, nil
}

// hasDotSegment reports whether a cleaned path has a segment starting with
// "." (a dot-file or dot-folder).
func hasDotSegment(p string) bool {
	return strings.Contains(p, "/.")
}
