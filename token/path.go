package token

import (
	"strings"

	"github.com/keyhole-dev/keyhole/internal/pathrule"
)

// DefaultMaxPathBytes is the longest path, in bytes, a server accepts
// unless configured with a smaller limit (handler.Config.MaxPathBytes), and
// the longest path a signer signs.
const DefaultMaxPathBytes = pathrule.MaxBytes

// PathError is a path that breaks the path rules; Reason says which, in a
// fixed text that may be shown to a client.
type PathError struct{ Reason string }

func (e *PathError) Error() string { return "bad path: " + e.Reason }

// Is makes every *PathError match ErrBadPath.
func (e *PathError) Is(target error) bool { return target == ErrBadPath }

// ErrBadPath matches (errors.Is) every error of CleanPath.
var ErrBadPath error = &PathError{Reason: "breaks the path rules"}

// CleanPath checks a path with the rules the server applies to every
// request path (docs/behaviour.md, "Paths"). p is a path percent-decoded
// exactly once, such as r.URL.Path; a missing leading "/" is added, and
// the rooted path is returned. CleanPath refuses, rather than repairs,
// anything ambiguous: paths longer than maxBytes, invalid UTF-8, control
// characters (U+0000–U+001F, U+007F, U+0080–U+009F), backslashes, colons,
// "." and ".." segments and empty segments (so "a//b" and a trailing "/").
// A path it accepts names the same file on every platform and can be
// compared with audience prefixes as a plain string: "/a/../b" never gets
// through, so a token for "/a/" never opens "/b". The root itself, "/", is
// returned as "/". The signers apply the same rules, so they never issue a
// URL the server answers with 400 bad path.
func CleanPath(p string, maxBytes int) (string, error) {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // the limit holds for the rooted path
	}
	if reason := pathrule.Check(p, maxBytes); reason != "" {
		return "", &PathError{Reason: reason}
	}
	return p, nil
}
