package handler

import (
	"net/http"
	"net/url"
	"strings"
)

// RedactURL returns u as a string in which every value of the query
// parameter param (the token parameter, "jwt" by default) is replaced by
// "sha256:" and the first 12 hex digits of the token's SHA-256, the same
// short hash Keyhole's own log lines use, and so is anything else in the
// path or query shaped like a JSON Web Token (three base64url segments,
// the first starting "eyJ"), wherever it stands: under a mangled name
// ("?x=1;jwt=…", "&amp;jwt=…", "?JWT=…", "?jwt%00=…") it is still a
// working token. The rest of the URL is kept as sent. A token in a log is a working URL until it expires; its hash only
// lets you match log lines.
//
// Use it wherever a host application logs request URLs, for example:
//
//	logger.Info("request", "url", handler.RedactURL(r.URL, "jwt"))
func RedactURL(u *url.URL, param string) string {
	c := *u
	c.RawQuery = redactQuery(u.RawQuery, param)
	if hasJWTShape(c.Path) || hasJWTShape(c.RawPath) {
		c.Path, c.RawPath = redactShaped(c.Path), redactShaped(c.RawPath)
	}
	return c.String()
}

// RedactRequest returns a shallow copy of r whose URL and RequestURI have
// the values of the query parameter param replaced as in RedactURL. Give
// it to request loggers that print r.RequestURI or r.URL (chi's
// middleware.Logger does), never to the handler: the copy has no token.
// r itself is not changed.
func RedactRequest(r *http.Request, param string) *http.Request {
	c := *r
	u := *r.URL
	u.RawQuery = redactQuery(r.URL.RawQuery, param)
	c.URL = &u
	if hasJWTShape(u.Path) || hasJWTShape(u.RawPath) {
		u.Path, u.RawPath = redactShaped(u.Path), redactShaped(u.RawPath)
	}
	path, query, ok := strings.Cut(r.RequestURI, "?")
	path = redactShaped(path)
	if ok {
		c.RequestURI = path + "?" + redactQuery(query, param)
	} else {
		c.RequestURI = path
	}
	return &c
}

// hasJWTShape reports whether s may hold a token: "eyJ" followed by two
// dots.
func hasJWTShape(s string) bool {
	i := strings.Index(s, "eyJ")
	return i >= 0 && strings.Count(s[i:], ".") >= 2
}

// redactShaped replaces every run shaped like a JSON Web Token (three
// base64url segments, the first starting "eyJ", the base64url of `{"`)
// by its short hash.
func redactShaped(s string) string {
	if !hasJWTShape(s) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "eyJ")
		if i < 0 {
			break
		}
		end, ok := jwtEnd(s[i:])
		if !ok {
			b.WriteString(s[:i+3])
			s = s[i+3:]
			continue
		}
		if i > 0 && isB64URL(s[i-1]) {
			// Inside a longer run: the run as a whole is checked.
			b.WriteString(s[:i+3])
			s = s[i+3:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString("sha256:" + tokenID(s[i:i+end]))
		s = s[i+end:]
	}
	b.WriteString(s)
	return b.String()
}

// jwtEnd returns the length of the token shape at the start of s: a
// segment, a dot, a segment, a dot and an optional segment.
func jwtEnd(s string) (int, bool) {
	i, dots := 0, 0
	for i < len(s) {
		c := s[i]
		switch {
		case isB64URL(c):
		case c == '.' && dots < 2 && i > 0 && s[i-1] != '.':
			dots++
		default:
			return i, dots == 2
		}
		i++
	}
	return i, dots == 2
}

func isB64URL(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// redactQuery replaces the value of every param=value pair of a raw query
// string; names are compared after unescaping, as the handler reads them.
func redactQuery(raw, param string) string {
	if raw == "" {
		return raw
	}
	if !strings.Contains(raw, "=") {
		return redactShaped(raw)
	}
	var b strings.Builder
	for i, pair := range strings.Split(raw, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		name, value, ok := strings.Cut(pair, "=")
		if n, err := url.QueryUnescape(name); ok && err == nil && n == param && value != "" {
			tok, err := url.QueryUnescape(value)
			if err != nil {
				tok = value
			}
			b.WriteString(name + "=sha256:" + tokenID(tok))
			continue
		}
		b.WriteString(pair)
	}
	// A token under any other name, or in a pair that does not parse.
	return redactShaped(b.String())
}
