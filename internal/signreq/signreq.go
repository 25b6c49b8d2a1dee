// Package signreq prepares a signature: it is the one place where Keyhole's
// three signers (the signing endpoint POST /v2/files/jwt in package
// handler, the WebAssembly signer and `keyhole sign`) check what they are
// asked to sign and build the token's claims and the URL's query. What it
// accepts, the server accepts: the path passes the server's path rule, the
// audience opens the path, secure and insecure parameters pass the
// parameter parser under the caller's limits, a watermark lies in an
// allowed watermark folder, and the times fit in a token. Whether the token
// fits the server's size limit (token.MaxTokenBytes) is checked by
// token.Signer itself, the last step of every signer.
//
// The package is pure Go (no jwx, no cgo, no fmt), so the WebAssembly
// signer links it.
package signreq

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keyhole-dev/keyhole/internal/pathrule"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

// MaxUnixSeconds is the latest exp, nbf or iat a token may carry, in Unix
// seconds (about the year 36812); token.ParseClaims refuses later times.
const MaxUnixSeconds = 1 << 40

// DefaultMaxLifetime is the longest lifetime (exp - iat) every signer
// issues unless configured otherwise: the signing endpoint
// (handler.SigningConfig.MaxExpiresIn, the config's
// signing.max_expires_in), `keyhole sign -expires` and the WebAssembly
// signer (createSigner's maxExpiresIn). A signed URL is a capability until
// exp; 30 days bounds how long a leaked URL stays useful.
const DefaultMaxLifetime = 30 * 24 * time.Hour

// Rules are what the server that will answer the URL accepts.
type Rules struct {
	// Limits bound the secure and insecure parameters as the server's
	// handler.Config.Limits do. Zero fields take transform.DefaultLimits.
	Limits transform.Limits
	// Watermarks are the folders (each "/" or a clean path ending in "/")
	// a secure watermark may be read from, as handler.Config.Watermarks.
	// None means no watermark can be signed.
	Watermarks []string
	// MaxLifetime caps exp - iat. Zero means no cap beyond MaxUnixSeconds.
	MaxLifetime time.Duration
	// TokenParam is the token's query parameter, which the insecure query
	// may not hold. Empty means "jwt".
	TokenParam string
}

// Request is one URL to sign.
type Request struct {
	// Path is the file the URL opens. It must pass the path rule; "/" is
	// allowed as the audience of everything a key guards.
	Path string
	// Folder allows Path to be a folder ending in "/" ("/private/"): the
	// signing endpoint signs folder audiences as Sirv does. The server
	// answers the folder's own URL with 400 bad path; the token opens the
	// files under it.
	Folder bool
	// Audience is the token's "aud": path prefixes it opens, each starting
	// with "/"; one of them must be a prefix of Path. Nil means Path.
	Audience []string
	// IssuedAt is "iat"; zero leaves it out.
	IssuedAt time.Time
	// ExpiresAt is "exp". Required, at most MaxUnixSeconds. It may lie in
	// the past (a test of expiry); the server then answers "expired".
	ExpiresAt time.Time
	// NotBefore is "nbf"; zero leaves it out.
	NotBefore time.Time
	// Args are the secure parameters ("args"); nil leaves them out.
	Args map[string]any
	// ArgsChecked tells Prepare that Args already passed CheckArgs under
	// the same Rules (a caller's cache of checked args); Prepare then
	// skips that work.
	ArgsChecked bool
	// Query holds the insecure parameters, which are not signed: a
	// url.Values, by its underlying type so that the WebAssembly signer
	// does not link net/url.
	Query map[string][]string
	// QueryChecked is ArgsChecked for Query and CheckQuery.
	QueryChecked bool
}

// Field names the part of a Request an Error is about. Each signer shows
// it in its own words (filename, secureParams, -args, …).
type Field uint8

// The fields of a Request.
const (
	FieldPath Field = iota + 1
	FieldAudience
	FieldExpiry
	FieldNotBefore
	FieldArgs
	FieldQuery
)

// Error is a refused Request. Reason is a fixed text (no input echoed
// except within Args and Query, where values are made safe to show).
// Args and Query list the refused secure and insecure parameters, named as
// transform names them (text.size, watermark); both are filled when both
// fail, and Field is then FieldArgs.
type Error struct {
	Field  Field
	Reason string
	Args   []transform.ParamError
	Query  []transform.ParamError
}

func (e *Error) Error() string {
	list := append(e.Args[:len(e.Args):len(e.Args)], e.Query...)
	if len(list) == 0 {
		return e.Reason
	}
	return e.Reason + ": " + (&transform.Errors{List: list}).Error()
}

// Reasons of the errors that Prepare, CheckArgs and CheckQuery return.
const (
	ReasonWatermarkFolder = "not in an allowed watermark folder"
	ReasonAudience        = "the audience does not open the path"
	ReasonSecureOnly      = "token only: the server ignores it in the query string"
	ReasonTokenParam      = "the token's parameter cannot be an insecure parameter"
	ReasonInvalidParams   = "invalid parameters"
)

// Prepare checks req against rules and returns the token's claims and the
// URL's query. A nil error means the server will accept the URL once it is
// signed with a key of the protection that covers Path (subject to the
// token fitting token.MaxTokenBytes, which token.Signer checks). Nothing
// in req is modified; the claims share req's Audience and Args.
func Prepare(req *Request, rules *Rules) (*token.Claims, map[string][]string, error) {
	c := new(token.Claims)
	q, err := PrepareInto(c, req, rules)
	if err != nil {
		return nil, nil, err
	}
	return c, q, nil
}

// PrepareInto is Prepare writing the claims into *c, all of whose fields
// it sets, for callers that sign in bulk and reuse one Claims. On error
// *c holds no claims to sign.
func PrepareInto(c *token.Claims, req *Request, rules *Rules) (map[string][]string, error) {
	check := pathrule.Check
	if req.Folder {
		check = pathrule.CheckFolder
	}
	if reason := check(req.Path, pathrule.MaxBytes); reason != "" {
		return nil, &Error{Field: FieldPath, Reason: "path " + reason}
	}
	*c = token.Claims{
		Audience: req.Audience, IssuedAt: req.IssuedAt, ExpiresAt: req.ExpiresAt,
		NotBefore: req.NotBefore, Args: req.Args,
	}
	if len(c.Audience) == 0 {
		c.Audience = []string{req.Path}
	}
	for _, a := range c.Audience {
		if !strings.HasPrefix(a, "/") || len(a) > pathrule.MaxBytes {
			return nil, &Error{Field: FieldAudience, Reason: "every audience entry must start with / and be at most " + strconv.Itoa(pathrule.MaxBytes) + " bytes"}
		}
	}
	if !token.AudienceAllows(c.Audience, req.Path) {
		return nil, &Error{Field: FieldAudience, Reason: ReasonAudience}
	}
	if err := checkTimes(c, rules.MaxLifetime); err != nil {
		return nil, err
	}
	var argsErr, queryErr *Error
	if req.Args != nil && !req.ArgsChecked {
		argsErr = CheckArgs(req.Args, rules)
	}
	if len(req.Query) > 0 && !req.QueryChecked {
		queryErr = CheckQuery(req.Query, rules)
	}
	switch {
	case argsErr != nil && queryErr != nil:
		argsErr.Query = queryErr.Query
		return nil, argsErr
	case argsErr != nil:
		return nil, argsErr
	case queryErr != nil:
		return nil, queryErr
	}
	return req.Query, nil
}

func checkTimes(c *token.Claims, maxLifetime time.Duration) error {
	exp := c.ExpiresAt.Unix()
	switch {
	case c.ExpiresAt.IsZero():
		return &Error{Field: FieldExpiry, Reason: "an expiry is required"}
	case exp < 1 || exp > MaxUnixSeconds:
		return &Error{Field: FieldExpiry, Reason: "the expiry must be a time between 1970 and the year 36812"}
	case !c.IssuedAt.IsZero() && (c.IssuedAt.Unix() < 0 || c.IssuedAt.Unix() > MaxUnixSeconds):
		return &Error{Field: FieldExpiry, Reason: "the issue time must be a time between 1970 and the year 36812"}
	case maxLifetime > 0 && !c.IssuedAt.IsZero() && c.ExpiresAt.Sub(c.IssuedAt) > maxLifetime:
		return &Error{Field: FieldExpiry, Reason: "the lifetime is longer than the allowed " + strconv.FormatInt(int64(maxLifetime/time.Second), 10) + " seconds"}
	case !c.NotBefore.IsZero() && (c.NotBefore.Unix() < 0 || c.NotBefore.Unix() > MaxUnixSeconds):
		return &Error{Field: FieldNotBefore, Reason: "notBefore must be a time between 1970 and the year 36812"}
	}
	return nil
}

// maxDurationSeconds is a little under the longest time.Duration (about
// 292 years), in seconds.
const maxDurationSeconds = 9e9

// ExpiryAfter returns now + seconds, refusing (with ok false) a number of
// seconds that is not finite, below 1 or above max (when max > 0; about
// 285 years otherwise) before converting it, so a huge number cannot
// overflow into the past.
func ExpiryAfter(now time.Time, seconds float64, max time.Duration) (exp time.Time, ok bool) {
	limit := float64(maxDurationSeconds)
	if max > 0 {
		limit = max.Seconds()
	}
	if !(seconds >= 1 && seconds <= limit) {
		return time.Time{}, false
	}
	return now.Add(time.Duration(seconds * float64(time.Second))), true
}

// CheckArgs checks secure parameters as the server will: transform.FromArgs
// flattens them, transform.Parse accepts them under rules.Limits, and a
// watermark of every layer lies in one of rules.Watermarks. Refused
// parameters are named as FromArgs flattens them (text.size, watermark),
// a watermark of layer N as watermark.N.image.
func CheckArgs(args map[string]any, rules *Rules) *Error {
	flat, err := transform.FromArgs(args)
	if err != nil {
		return paramsError(FieldArgs, err)
	}
	p, err := transform.Parse(flat, rules.Limits)
	if err != nil {
		return paramsError(FieldArgs, err)
	}
	var list []transform.ParamError
	for i, l := range p.WatermarkLayers() {
		if l.Watermark != "" && !pathrule.InFolders(l.Watermark, rules.Watermarks) {
			name := "watermark"
			if i > 0 {
				name = "watermark." + strconv.Itoa(i) + ".image"
			}
			list = append(list, transform.ParamError{Name: name, Value: shown(l.Watermark), Reason: ReasonWatermarkFolder})
		}
	}
	if len(list) > 0 {
		return &Error{Field: FieldArgs, Reason: ReasonInvalidParams, Args: list}
	}
	return nil
}

// CheckQuery checks insecure parameters as the server will read them
// (transform.FromQuery, then transform.Parse under rules.Limits) and
// refuses what the server would silently ignore: text and watermark
// parameters, which only a token can set, and the token's own parameter.
func CheckQuery(q map[string][]string, rules *Rules) *Error {
	param := rules.TokenParam
	if param == "" {
		param = "jwt"
	}
	var list []transform.ParamError
	for name := range q {
		switch {
		case name == param:
			list = append(list, transform.ParamError{Name: shown(name), Reason: ReasonTokenParam})
		case transform.SecureOnly(name):
			list = append(list, transform.ParamError{Name: name, Value: shown(first(q[name])), Reason: ReasonSecureOnly})
		}
	}
	if len(list) > 0 {
		return &Error{Field: FieldQuery, Reason: ReasonInvalidParams, Query: sorted(list)}
	}
	if _, err := transform.Parse(transform.FromQuery(q), rules.Limits); err != nil {
		return paramsError(FieldQuery, err)
	}
	return nil
}

func paramsError(f Field, err error) *Error {
	e := &Error{Field: f, Reason: ReasonInvalidParams}
	var list []transform.ParamError
	if perrs, ok := err.(*transform.Errors); ok {
		list = perrs.List
	}
	if f == FieldArgs {
		e.Args = list
	} else {
		e.Query = list
	}
	return e
}

// shown repeats a value the way transform's errors do: at most 64
// characters, then "…", with invalid UTF-8 and control characters replaced
// by U+FFFD. (A plain loop: strings.Map and ToValidUTF8 cost the
// WebAssembly signer 1.4 KB gzipped.)
// first returns the first of values, or "" (url.Values.Get).
func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

func shown(s string) string {
	b := make([]byte, 0, min(len(s), 64)+3)
	n := 0
	for _, r := range s {
		if n == 64 {
			b = append(b, "…"...)
			break
		}
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			r = utf8.RuneError
		}
		b = utf8.AppendRune(b, r)
		n++
	}
	return string(b)
}

// sorted sorts list by name, keeping the order of errors of one name (as
// transform.Errors does: one sort function, which the WebAssembly signer
// links once instead of twice).
func sorted(list []transform.ParamError) []transform.ParamError {
	slices.SortStableFunc(list, func(a, b transform.ParamError) int { return strings.Compare(a.Name, b.Name) })
	return list
}
