package handler

import (
	"net/http"
	"net/url"
	"strings"
)

// RedactURL returns u as a string in which every value of the query
// parameter param (the token parameter, "jwt" by default) is replaced by
// "sha256:" and the first 12 hex digits of the token's SHA-256, the same
// short hash Keyhole's own log lines use. The rest of the URL is kept as
// sent. A token in a log is a working URL until it expires; its hash only
// lets you match log lines.
//
// Use it wherever a host application logs request URLs, for example:
//
//	logger.Info("request", "url", handler.RedactURL(r.URL, "jwt"))
func RedactURL(u *url.URL, param string) string {
	c := *u
	c.RawQuery = redactQuery(u.RawQuery, param)
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
	if path, query, ok := strings.Cut(r.RequestURI, "?"); ok {
		c.RequestURI = path + "?" + redactQuery(query, param)
	}
	return &c
}

// redactQuery replaces the value of every param=value pair of a raw query
// string; names are compared after unescaping, as the handler reads them.
func redactQuery(raw, param string) string {
	if raw == "" || !strings.Contains(raw, "=") {
		return raw
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
	return b.String()
}
