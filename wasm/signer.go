//go:build js && wasm

package main

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/keyhole-dev/keyhole/internal/pathrule"
	"github.com/keyhole-dev/keyhole/internal/signreq"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

// signer is one JavaScript signer: a token.Signer, which keeps the keyed
// HMAC state so each token costs one hash, and the token's query parameter
// name.
type signer struct {
	s     *token.Signer
	param string
	// rules are what signreq.Prepare checks a request against: the
	// server's default limits, the token parameter and the watermark
	// folders (none: no watermark is signed).
	rules signreq.Rules

	// lastQuery is the query decoded from the bytes lastQueryRaw;
	// lastQueryOK is set once it has passed signreq.CheckQuery.
	lastQuery    map[string][]string
	lastQueryRaw string
	lastQueryOK  bool

	// url builds the URLs of the base URL urlBase and the query whose
	// encoded request bytes are urlQuery ("" for none).
	url               *token.URLBuilder
	urlBase, urlQuery string

	// lastArgs are the checked args of the request bytes lastArgsRaw,
	// the last argsCache hit: batches mostly repeat one args object.
	lastArgs    checkedArgs
	lastArgsRaw string

	// req, claims and pathAud are signOne's, reused for every URL.
	req     signreq.Request
	claims  token.Claims
	pathAud [1]string
}

// signers holds the live signers by handle. JavaScript frees a handle when
// its signer object is garbage-collected (FinalizationRegistry).
var (
	signers    = map[uint32]*signer{}
	nextHandle uint32
)

// newSigner decodes a key request:
//
//	str kind    "raw": key bytes as given; "base64": key is base64 text
//	str key
//	str keyId   "" for none
//	str param   the token's query parameter name, "" for "jwt"
//	u32 count, then that many str: the allowed watermark folders
//	f64 maxExpiresIn: the longest lifetime in whole seconds; NaN for
//	    signreq.DefaultMaxLifetime (30 days)
//
// and answers the new signer's handle in decimal. Messages name the key id,
// never the secret.
func newSigner(r *reader) error {
	kind, secret, id, param := r.str(), r.bytes(), r.str(), r.str()
	watermarks := make([]string, r.count(4))
	for i := range watermarks {
		watermarks[i] = r.str()
	}
	maxExpiresIn := r.f64()
	if err := r.done(); err != nil {
		return err
	}
	var k token.Key
	switch kind {
	case "raw":
		k = token.Key{ID: id, Secret: append([]byte(nil), secret...)}
	case "base64":
		var err error
		if k, err = token.KeyFromBase64(id, string(secret)); err != nil {
			return &apiError{code: codeBadKey, index: -1, msg: "keyBase64 is not valid base64"}
		}
	default:
		return errMalformed
	}
	if len(k.Secret) == 0 {
		return &apiError{code: codeBadKey, index: -1, msg: "the key is empty"}
	}
	s, err := token.NewSigner(k)
	if err != nil {
		return &apiError{code: codeBadKey, index: -1, msg: "keyId must be printable ASCII without spaces, quotes or backslashes"}
	}
	if param == "" {
		param = "jwt"
	}
	if !validParam(param) {
		return badInput("param must be a non-empty name of letters, digits, '-', '_' or '.'")
	}
	for _, w := range watermarks {
		if !strings.HasSuffix(w, "/") || pathrule.CheckFolder(w, pathrule.MaxBytes) != "" {
			return badInput("watermarks: " + strconv.Quote(w) + " is not a folder path ending in /")
		}
	}
	maxLifetime := signreq.DefaultMaxLifetime
	switch {
	case math.IsNaN(maxExpiresIn):
	case maxExpiresIn >= 1 && maxExpiresIn <= maxLifetimeSeconds && maxExpiresIn == math.Floor(maxExpiresIn):
		maxLifetime = time.Duration(maxExpiresIn) * time.Second
	default:
		return badInput("maxExpiresIn must be a whole number of seconds from 1 to " + strconv.Itoa(maxLifetimeSeconds))
	}
	nextHandle++
	signers[nextHandle] = &signer{s: s, param: param, rules: signreq.Rules{Limits: limits, TokenParam: param, Watermarks: watermarks, MaxLifetime: maxLifetime}}
	out = strconv.AppendUint(out, uint64(nextHandle), 10)
	return nil
}

// maxLifetimeSeconds bounds maxExpiresIn: about 285 years, the longest
// time.Duration in whole seconds with room to spare.
const maxLifetimeSeconds = 9_000_000_000

// signBatch decodes a u32 count of sign requests (see signOne) and answers
// "prefix\ntoken\nexp\n" for each, in order: the URL is prefix + token.
// With inputsOnly, the middle line is the token's signing input instead
// (token.Signer.AppendSigningInput), for JavaScript to add the signature
// with the runtime's HMAC. The first failing request fails the batch; its
// error carries the request's index.
func signBatch(h uint32, inputsOnly bool, r *reader) error {
	s := signers[h]
	if s == nil {
		return badInput("the signer was freed")
	}
	n := r.count(minSignRequest)
	for i := range n {
		if err := s.signOne(r, inputsOnly); err != nil {
			if e, ok := as[*apiError](err); ok && e != errMalformed {
				e.index = i
			}
			return err
		}
	}
	return r.done()
}

// minSignRequest is the smallest encoded sign request: four f64, four
// u32 and the args tag.
const minSignRequest = 4*8 + 4*4 + 1

// signOne decodes and signs one request:
//
//	f64   now (unix seconds, may be fractional)
//	f64   expiresIn (seconds; NaN = not given)
//	f64   expiresAt (unix seconds; NaN = not given)
//	f64   notBefore (unix seconds; NaN = not given)
//	str   path
//	u32   audience count, then that many str (0 = the path itself)
//	str   baseUrl
//	u32   query pair count, then that many (str name, str value)
//	value args ('-' or an object)
//
// The token gets iat = floor(now), exp = floor(now) + expiresIn (as npm
// jsonwebtoken computes it) or floor(expiresAt), nbf = floor(notBefore)
// when given, aud and args. Everything else is signreq.Prepare's, the
// checks the signing endpoint and keyhole sign apply too: the path rule,
// the audience opens the path, args and query pass the parameter parser
// under the server's default limits, a watermark lies in an allowed
// folder, the query holds no text, watermark or token parameter, and the
// token fits the server's size limit.
func (s *signer) signOne(r *reader, inputsOnly bool) error {
	now, expiresIn, expiresAt, notBefore := r.f64(), r.f64(), r.f64(), r.f64()
	path := r.str()
	var aud []string
	if n := r.count(4); n > 0 {
		aud = make([]string, n)
		for i := range aud {
			aud[i] = r.str()
		}
	}
	base := r.str()
	query := s.query(r)
	argsStart := r.off
	noArgs := r.skipValue(0)
	if r.bad {
		return errMalformed
	}
	if err := checkBase(base); err != nil {
		return err
	}
	// The request, the claims and a one-path audience are reused from
	// call to call: they are only read until the token is signed.
	if aud == nil {
		s.pathAud[0] = path
		aud = s.pathAud[:]
	}
	req := &s.req
	*req = signreq.Request{Path: path, Audience: aud, Query: query, QueryChecked: s.lastQueryOK && query != nil}
	if err := setTimes(req, now, expiresIn, expiresAt, notBefore, s.rules.MaxLifetime); err != nil {
		return err
	}
	argsRaw := r.b[argsStart:r.off]
	var enc *token.EncodedArgs
	if !noArgs {
		if a, ok := s.lastArgs, s.lastArgs.m != nil && string(argsRaw) == s.lastArgsRaw; ok {
			req.Args, req.ArgsChecked, enc = a.m, true, a.enc
		} else if a, ok := argsCache[string(argsRaw)]; ok {
			req.Args, req.ArgsChecked, enc = a.m, true, a.enc
			s.lastArgs, s.lastArgsRaw = a, string(argsRaw)
		} else {
			v, _ := (&reader{b: r.b[argsStart:r.off]}).value(0)
			m, ok := v.(map[string]any)
			if !ok {
				return badInput("args must be an object")
			}
			req.Args = m
		}
	}
	c := &s.claims
	q, err := signreq.PrepareInto(c, req, &s.rules)
	if err != nil {
		return s.prepareError(path, req.Audience, err)
	}
	if query != nil {
		s.lastQueryOK = true
	}
	if _, wm := req.Args["watermark"]; !noArgs && !req.ArgsChecked && !wm {
		if len(argsCache) >= maxArgsCache {
			clear(argsCache)
		}
		// An error here is Sign's too; it is reported below.
		if enc, err = token.EncodeArgs(req.Args); err == nil {
			argsCache[string(argsRaw)] = checkedArgs{req.Args, enc}
		}
	}
	c.EncodedArgs = enc
	rawQuery := ""
	if q != nil {
		rawQuery = s.lastQueryRaw
	}
	if s.url == nil || base != s.urlBase || rawQuery != s.urlQuery {
		s.url, s.urlBase, s.urlQuery = token.NewURLBuilder(token.URLOptions{BaseURL: base, Query: q, Param: s.param}), base, rawQuery
	}
	start := len(out)
	out = s.url.AppendPrefix(out, path)
	out = append(out, '\n')
	if inputsOnly {
		out, err = s.s.AppendSigningInput(out, c)
	} else {
		out, err = s.s.AppendSign(out, c)
	}
	if err != nil {
		out = out[:start]
		return badInput(strings.TrimPrefix(err.Error(), "token: "))
	}
	out = append(out, '\n')
	out = strconv.AppendInt(out, c.ExpiresAt.Unix(), 10)
	out = append(out, '\n')
	return nil
}

// prepareError turns a signreq.Error into the JavaScript error of its
// field: ERR_KEYHOLE_BAD_PATH for the path, ERR_KEYHOLE_INVALID_PARAMS
// naming args.* or query.* for parameters, ERR_KEYHOLE_BAD_INPUT otherwise.
func (s *signer) prepareError(path string, aud []string, err error) error {
	e, ok := as[*signreq.Error](err)
	if !ok {
		return badInput("the request cannot be signed")
	}
	switch e.Field {
	case signreq.FieldPath:
		return &apiError{code: codeBadPath, index: -1, msg: "path " + strconv.Quote(path) + ": " + strings.TrimPrefix(e.Reason, "path ")}
	case signreq.FieldArgs:
		return paramsError("args", &transform.Errors{List: e.Args})
	case signreq.FieldQuery:
		for _, pe := range e.Query {
			if pe.Reason == signreq.ReasonTokenParam {
				return badInput("query must not contain the token parameter " + strconv.Quote(s.param))
			}
		}
		return paramsError("query", &transform.Errors{List: e.Query})
	case signreq.FieldAudience:
		if e.Reason == signreq.ReasonAudience && len(aud) > 0 {
			return badInput("the audience does not allow the path: a token whose aud is " + strconv.Quote(aud[0]) + " cannot open " + strconv.Quote(path))
		}
	}
	return badInput(e.Reason)
}

// query decodes a u32 count of (str name, str value) pairs into a query map
// (a url.Values without linking net/url).
// Batches often repeat one query, so the last one is kept and reused when
// the encoded pairs are the same bytes; the maps are only read.
func (s *signer) query(r *reader) map[string][]string {
	start := r.off
	n := r.count(8)
	if n == 0 {
		return nil
	}
	for range 2 * n {
		r.bytes()
	}
	raw := r.b[start:r.off]
	if r.bad {
		return nil
	}
	if s.lastQuery != nil && string(raw) == s.lastQueryRaw {
		return s.lastQuery
	}
	q := make(map[string][]string, n)
	sub := &reader{b: raw}
	sub.u32()
	for range n {
		k, v := sub.str(), sub.str()
		q[k] = append(q[k], v)
	}
	s.lastQuery, s.lastQueryRaw, s.lastQueryOK = q, string(raw), false
	return q
}

// maxUnixSeconds is the largest time a token may carry (token.ParseClaims
// refuses larger ones).
const maxUnixSeconds = signreq.MaxUnixSeconds

// setTimes fills iat, exp and nbf. Exactly one of expiresIn (> 0) and
// expiresAt must be given, and the lifetime exp - iat may not exceed
// maxLifetime (the signer's maxExpiresIn), the rule of every Keyhole
// signer (signreq.DefaultMaxLifetime unless configured).
func setTimes(c *signreq.Request, now, expiresIn, expiresAt, notBefore float64, maxLifetime time.Duration) error {
	if !inRange(now) {
		return badInput("now() must return unix seconds (a finite number >= 0)")
	}
	iat := math.Floor(now)
	var exp float64
	in, at := !math.IsNaN(expiresIn), !math.IsNaN(expiresAt)
	switch {
	case in && at:
		return badInput("give expiresIn or expiresAt, not both")
	case in:
		if !(expiresIn > 0) || math.IsInf(expiresIn, 0) {
			return badInput("expiresIn must be a number of seconds > 0")
		}
		if expiresIn > maxLifetime.Seconds() {
			return badInput("expiresIn " + strconv.FormatFloat(expiresIn, 'f', -1, 64) + " is longer than maxExpiresIn, " + lifetimeText(maxLifetime) + ": Keyhole's signers issue no longer lifetime unless configured (createSigner's maxExpiresIn)")
		}
		exp = iat + expiresIn
	case at:
		exp = expiresAt
	default:
		return badInput("expiresIn or expiresAt is required")
	}
	if !inRange(exp) || exp < 1 {
		return badInput("the expiry must be a time between 1970 and year 36812")
	}
	if at && math.Floor(exp)-iat > maxLifetime.Seconds() {
		return badInput("expiresAt is " + strconv.FormatFloat(math.Floor(exp)-iat, 'f', 0, 64) + " seconds from now, longer than maxExpiresIn, " + lifetimeText(maxLifetime) + ": Keyhole's signers issue no longer lifetime unless configured (createSigner's maxExpiresIn)")
	}
	c.IssuedAt = time.Unix(int64(iat), 0)
	c.ExpiresAt = time.Unix(int64(math.Floor(exp)), 0)
	if !math.IsNaN(notBefore) {
		if !inRange(notBefore) {
			return badInput("notBefore must be a time between 1970 and year 36812")
		}
		c.NotBefore = time.Unix(int64(math.Floor(notBefore)), 0)
	}
	return nil
}

// lifetimeText writes d as "2592000 seconds (30 days)".
func lifetimeText(d time.Duration) string {
	secs := int64(d / time.Second)
	t := strconv.FormatInt(secs, 10) + " seconds"
	if days := secs / 86400; days > 0 && secs%86400 == 0 {
		t += " (" + strconv.FormatInt(days, 10) + " days)"
	}
	return t
}

func inRange(t float64) bool { return t >= 0 && t <= maxUnixSeconds }

// checkBase refuses a base URL that would break the URL it prefixes.
func checkBase(base string) error {
	for i := 0; i < len(base); i++ {
		if c := base[i]; c <= ' ' || c == 0x7f || c == '?' || c == '#' {
			return badInput("baseUrl must not contain spaces, control characters, ? or #")
		}
	}
	return nil
}

// validParam reports whether name is usable as the token's query parameter.
func validParam(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// argsCache remembers args that passed validation, keyed by their encoded
// bytes, so a batch that repeats the same args checks and encodes them
// once. The cached maps are only ever read (token.Signer does not modify
// args). All signers share the server's default limits, but not their
// watermark folders, so args naming a watermark are never cached.
var argsCache = map[string]checkedArgs{}

// checkedArgs are args that passed validation, and their JSON.
type checkedArgs struct {
	m   map[string]any
	enc *token.EncodedArgs
}

// maxArgsCache bounds argsCache; it is emptied when full.
const maxArgsCache = 512
