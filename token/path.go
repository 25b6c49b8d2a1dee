package token

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultMaxPathBytes is the longest request path a server accepts unless
// configured otherwise (handler.Config.MaxPathBytes).
const DefaultMaxPathBytes = 1024

// PathError is a path that breaks the path rules; Reason says which.
type PathError struct{ Reason string }

func (e *PathError) Error() string { return "bad path: " + e.Reason }

// Is makes every *PathError match ErrBadPath.
func (e *PathError) Is(target error) bool { return target == ErrBadPath }

// ErrBadPath matches (errors.Is) every error of CleanPath.
var ErrBadPath error = &PathError{Reason: "breaks the path rules"}

// CleanPath checks a path as the server does (SPEC §1): p is a request path
// percent-decoded once, and it is returned with exactly one leading "/".
// It refuses, rather than repairs, anything ambiguous: invalid UTF-8, NUL
// and other control bytes, backslashes, colons, "." and ".." segments,
// empty segments (so "a//b" and a trailing "/") and paths longer than
// maxBytes. A path it accepts names the same file on every platform and can
// be compared with audience prefixes as a plain string: "/a/../b" never
// gets through, so a token for "/a/" never opens "/b". The root itself,
// "/", is returned as "/". Signers use it too, so they never issue a URL
// the server answers with 400 bad path.
func CleanPath(p string, maxBytes int) (string, error) {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // the limit holds for the rooted path
	}
	switch {
	case len(p) > maxBytes:
		return "", &PathError{"longer than " + strconv.Itoa(maxBytes) + " bytes"}
	case !utf8.ValidString(p):
		return "", &PathError{"not valid UTF-8"}
	case p == "/":
		return p, nil
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' || c == ':' {
			return "", &PathError{"contains a control character, a backslash or a colon"}
		}
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		switch seg {
		case "":
			return "", &PathError{"has an empty segment (// or a trailing /)"}
		case ".", "..":
			return "", &PathError{"has a . or .. segment"}
		}
	}
	return p, nil
}
