// Package pathrule is Keyhole's one definition of a clean path. The server
// (request paths, watermark paths, audience folders, watermark folders),
// the parameter parser and every signer check paths with it, so a URL a
// signer issues is never refused by the server as a bad path, and a path
// the server refuses is never signed.
//
// A clean path is a path that has already been percent-decoded exactly
// once (net/http does that for r.URL.Path; a signer's input is taken as
// already decoded). It starts with "/", is at most MaxBytes long, is valid
// UTF-8, and holds no control character (Unicode category Cc: U+0000–U+001F,
// U+007F and U+0080–U+009F), no backslash and no colon. Split at "/", it has
// no empty, "." or ".." segment, so "a//b" and a trailing "/" are refused;
// the root "/" itself is clean. A "%" is an ordinary byte: nothing decodes
// a path twice, so "%2e%2e" is a file name, never "..".
//
// The colon is refused because it means something else on some file
// systems (a drive letter or an NTFS alternate data stream) and, as the
// first segment of a relative URL, a scheme. The backslash is refused
// because it is a separator on Windows. Paths are refused rather than
// repaired, so a clean path names one file on every platform and can be
// compared with an audience or a folder as a plain string.
//
// The package is pure Go without fmt, so the WebAssembly signer links it
// cheaply.
package pathrule

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxBytes is the longest clean path, in bytes, unless a server is
// configured with a smaller limit (handler.Config.MaxPathBytes).
const MaxBytes = 1024

// Reasons a path is not clean, as Check returns them. Each is a fixed text
// that may be shown to a client.
const (
	ReasonNotRooted = "does not start with /"
	ReasonUTF8      = "is not valid UTF-8"
	ReasonControl   = "contains a control character"
	ReasonBackslash = "contains a backslash"
	ReasonColon     = "contains a colon"
	ReasonEmpty     = "has an empty segment (// or a trailing /)"
	ReasonDot       = "has a . or .. segment"
)

// ReasonTooLong is the reason for a path longer than maxBytes.
func ReasonTooLong(maxBytes int) string {
	return "is longer than " + strconv.Itoa(maxBytes) + " bytes"
}

// Check reports why p is not a clean path at most maxBytes long, or ""
// when it is clean. The root "/" is clean. It does not allocate for a
// clean path.
func Check(p string, maxBytes int) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return ReasonNotRooted
	case len(p) > maxBytes:
		return ReasonTooLong(maxBytes)
	case !utf8.ValidString(p):
		return ReasonUTF8
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c < 0x20 || c == 0x7f:
			return ReasonControl
		case c == 0xc2 && i+1 < len(p) && p[i+1] >= 0x80 && p[i+1] <= 0x9f:
			return ReasonControl // U+0080..U+009F, encoded as C2 80..C2 9F
		case c == '\\':
			return ReasonBackslash
		case c == ':':
			return ReasonColon
		}
	}
	if p == "/" {
		return ""
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		switch seg {
		case "":
			return ReasonEmpty
		case ".", "..":
			return ReasonDot
		}
	}
	return ""
}

// CheckFolder is Check for a folder or a prefix: "/" or a clean path,
// optionally followed by one "/". It is the rule for audiences that name a
// folder ("/private/") and for watermark folders.
func CheckFolder(p string, maxBytes int) string {
	if p == "/" {
		return ""
	}
	if q, ok := strings.CutSuffix(p, "/"); ok {
		if q == "" || q == "/" || strings.HasSuffix(q, "/") {
			return ReasonEmpty
		}
		if len(p) > maxBytes {
			return ReasonTooLong(maxBytes)
		}
		p = q
	}
	return Check(p, maxBytes)
}

// InFolders reports whether the clean path p lies inside one of folders,
// each a clean folder ending in "/" (or "/" for everything). No folders
// means nothing is inside. p itself must not end in "/": a folder is not
// a file in it.
func InFolders(p string, folders []string) bool {
	if Check(p, MaxBytes) != "" || p == "/" {
		return false
	}
	for _, f := range folders {
		if strings.HasSuffix(f, "/") && strings.HasPrefix(p, f) {
			return true
		}
	}
	return false
}
