package token

import "strings"

// AudienceAllows reports whether a token whose "aud" claim is aud may open
// the file at path, following Sirv's rule: path must start with one of the
// audience strings.
//
//	"/"                 every file
//	"/path/t"           /path/to/x, /path/t1/y, …
//	"/path/to/"         everything in that folder
//	"/path/to/file.jpg" that file, and any path it is a prefix of
//	                    (/path/to/file.jpg.orig): Sirv's rule is a prefix
//	                    match; a handler protection with the exact audience
//	                    rule (handler.AudienceExact) opens that file only
//
// path must already be cleaned (the handler rejects "..", "." and empty
// segments before calling this), so a token for "/a/" never opens
// "/a/../b". An empty audience string, or one not starting with "/", allows
// nothing.
func AudienceAllows(aud []string, path string) bool {
	for _, a := range aud {
		if len(a) > 0 && a[0] == '/' && strings.HasPrefix(path, a) {
			return true
		}
	}
	return false
}
