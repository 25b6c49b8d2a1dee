// Package urlenc escapes URL paths and query strings exactly as net/url
// does, without linking net/url. The signing packages use it so the
// WebAssembly signer stays small; its tests compare every output with
// net/url's.
package urlenc

import (
	"slices"
	"strings"
)

const upperHex = "0123456789ABCDEF"

// AppendQuery appends s escaped as url.QueryEscape does: unreserved bytes
// (A-Z a-z 0-9 - _ . ~) are kept, a space becomes "+", everything else %XX.
func AppendQuery(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case unreserved(c):
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return b
}

// AppendPathSegment appends s escaped as url.PathEscape does: unreserved
// bytes and $ & + = : @ are kept, everything else (including "/") is
// %XX.
func AppendPathSegment(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || strings.IndexByte("$&+=:@", c) >= 0 {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return b
}

// AppendPath appends p with each "/"-separated segment escaped by
// AppendPathSegment.
func AppendPath(b []byte, p string) []byte {
	for i := 0; ; i++ {
		seg, rest, more := strings.Cut(p, "/")
		b = AppendPathSegment(b, seg)
		if !more {
			return b
		}
		b = append(b, '/')
		p = rest
	}
}

// AppendValues appends q encoded as url.Values.Encode does: "k=v" pairs
// joined by "&", sorted by key, values in their given order.
func AppendValues(b []byte, q map[string][]string) []byte {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	first := true
	for _, k := range keys {
		for _, v := range q[k] {
			if !first {
				b = append(b, '&')
			}
			first = false
			b = AppendQuery(b, k)
			b = append(b, '=')
			b = AppendQuery(b, v)
		}
	}
	return b
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}
