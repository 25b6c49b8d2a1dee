package handler

import "strings"

// Request and watermark paths are checked with token.CleanPath, the one
// path rule (internal/pathrule) that the signers apply too.

// hasDotSegment reports whether a cleaned path has a segment starting with
// "." (a dot-file or dot-folder).
func hasDotSegment(p string) bool {
	return strings.Contains(p, "/.")
}
