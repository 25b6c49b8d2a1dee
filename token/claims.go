package token

import (
	"encoding/base64"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxTokenBytes bounds the length of a token accepted for parsing. Longer
// tokens are malformed before any decoding work is done.
const MaxTokenBytes = 8 << 10

// Claims are the claims Keyhole reads from and writes to a token. Claims
// returned by a verifier are shared and must be treated as read-only.
type Claims struct {
	// Audience is "aud": path prefixes the token opens (see AudienceAllows).
	Audience []string
	// ExpiresAt is "exp". Required.
	ExpiresAt time.Time
	// IssuedAt is "iat"; zero when absent.
	IssuedAt time.Time
	// NotBefore is "nbf"; zero when absent.
	NotBefore time.Time
	// Args is "args": the secure image parameters, locked by the signature.
	// Nil when absent.
	Args map[string]any
	// EncodedArgs, when not nil, is what signing writes as "args" instead
	// of encoding Args again: Args as EncodeArgs encoded it, for callers
	// that sign many tokens with the same args. Decoding never sets it.
	EncodedArgs *EncodedArgs
}

// EncodedArgs are args in the JSON form a token carries them (keys
// sorted, as Sign writes them). Only EncodeArgs makes them, so they are
// always an object that Sign would have written itself.
type EncodedArgs struct{ json []byte }

// EncodeArgs encodes args once for Claims.EncodedArgs. It fails where Sign
// would fail on the same Args: a non-finite number, a value that is not
// JSON, nesting deeper than 8.
func EncodeArgs(args map[string]any) (*EncodedArgs, error) {
	b, err := appendValue(nil, args, 0)
	if err != nil {
		return nil, err
	}
	return &EncodedArgs{json: b}, nil
}

// Header is the part of a token's JOSE header that Keyhole looks at.
type Header struct {
	// Alg is "alg"; only HS256 is ever accepted.
	Alg string
	// KeyID is "kid"; empty when absent.
	KeyID string
	// Typ is "typ"; informational.
	Typ string
}

// Decoded is a token split into its parts without checking its signature.
type Decoded struct {
	Header Header
	Claims Claims
	// Payload is the raw claims JSON.
	Payload []byte
}

// Split returns the three base64url segments of a compact token, or
// ResultMalformedToken. It decodes nothing, but refuses a segment that is
// not in the one canonical spelling of unpadded base64url: only the
// characters A-Z a-z 0-9 - _, no padding, and zero unused bits in the last
// character. So each token has exactly one spelling (four spellings of one
// signature differ only in those unused bits; npm jsonwebtoken refuses
// three of them too), and a cached verification cannot be reached through
// another. The signature may be empty (an unsecured "alg":"none" token is
// "header.payload."), so that such a token reaches the algorithm check and
// is refused as ResultAlgorithmNotAllowed rather than as malformed.
//
// Split, ParseHeader and ParseClaims are the steps token/verify runs
// around its signature check, so that the verifier and Decode share one
// parser; programs inspect a token with Decode and verify it with
// token/verify.
func Split(tok string) (header, payload, signature string, err error) {
	if len(tok) == 0 || len(tok) > MaxTokenBytes {
		return "", "", "", ResultMalformedToken
	}
	h, rest, ok1 := strings.Cut(tok, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || h == "" || p == "" || strings.IndexByte(s, '.') >= 0 ||
		!canonicalBase64URL(h) || !canonicalBase64URL(p) || !canonicalBase64URL(s) {
		return "", "", "", ResultMalformedToken
	}
	return h, p, s, nil
}

// base64URLValue maps a base64url character to its value, and every other
// byte to 0xff.
var base64URLValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		t[c] = byte(i)
	}
	return t
}()

// canonicalBase64URL reports whether s is unpadded base64url in its one
// canonical spelling: a valid length, only base64url characters, and the
// bits of the last character that encode no data all zero. It does not
// allocate.
func canonicalBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		if base64URLValue[s[i]] == 0xff {
			return false
		}
	}
	switch len(s) % 4 {
	case 1:
		return false
	case 2: // 12 bits for one byte: the last character's low 4 bits unused
		return base64URLValue[s[len(s)-1]]&0x0f == 0
	case 3: // 18 bits for two bytes: the low 2 bits unused
		return base64URLValue[s[len(s)-1]]&0x03 == 0
	}
	return true
}

// ParseHeader decodes a token's header segment. A segment that is not
// base64url JSON, or has a "crit" or "b64" member, or a non-string alg/kid,
// is ResultMalformedToken; a missing alg is ResultAlgorithmNotAllowed.
func ParseHeader(segment string) (Header, error) {
	raw, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		return Header{}, ResultMalformedToken
	}
	obj, err := decodeObject(raw)
	if err != nil {
		return Header{}, ResultMalformedToken
	}
	var h Header
	for name, v := range obj {
		ok := true
		switch name {
		case "alg":
			h.Alg, ok = v.(string)
		case "kid":
			h.KeyID, ok = v.(string)
		case "typ":
			h.Typ, ok = v.(string)
		case "crit", "b64":
			ok = false
		}
		if !ok {
			return Header{}, ResultMalformedToken
		}
	}
	if h.Alg == "" {
		return h, ResultAlgorithmNotAllowed
	}
	return h, nil
}

// ParseClaims decodes a claims JSON payload. exp and aud are required; exp,
// nbf and iat must be numbers; aud a string or a non-empty array of strings;
// args an object. Anything else (null included) is ResultInvalidPayload.
// Other claims are ignored. Claim names are case-sensitive.
func ParseClaims(payload []byte) (*Claims, error) {
	obj, err := decodeObject(payload)
	if err != nil {
		return nil, invalidPayload("claims are not a JSON object")
	}
	c := new(Claims)
	var hasExp, hasAud bool
	for name, v := range obj {
		switch name {
		case "exp":
			hasExp = true
			c.ExpiresAt, err = numericDate(v)
		case "nbf":
			c.NotBefore, err = numericDate(v)
		case "iat":
			c.IssuedAt, err = numericDate(v)
		case "aud":
			hasAud = true
			c.Audience, err = audience(v)
		case "args":
			var ok bool
			if c.Args, ok = v.(map[string]any); !ok || !finite(c.Args) {
				err = errors.New("not an object")
			}
		}
		if err != nil {
			return nil, invalidPayload("claim " + strconv.Quote(name) + ": " + err.Error())
		}
	}
	switch {
	case !hasExp:
		return nil, invalidPayload("exp is required")
	case !hasAud:
		return nil, invalidPayload("aud is required")
	}
	return c, nil
}

// Decode splits and decodes a token without verifying its signature. Use it
// to inspect a token; never to authorise a request.
func Decode(tok string) (*Decoded, error) {
	h, p, _, err := Split(tok)
	if err != nil {
		return nil, err
	}
	d := new(Decoded)
	if d.Header, err = ParseHeader(h); err != nil {
		return nil, err
	}
	if d.Payload, err = base64.RawURLEncoding.DecodeString(p); err != nil {
		return nil, ResultMalformedToken
	}
	c, err := ParseClaims(d.Payload)
	if err != nil {
		return d, err
	}
	d.Claims = *c
	return d, nil
}

func decodeObject(b []byte) (map[string]any, error) {
	v, err := decodeJSON(b)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not an object")
	}
	return obj, nil
}

func numericDate(v any) (time.Time, error) {
	f, ok := v.(float64)
	if !ok {
		return time.Time{}, errors.New("not a number")
	}
	if math.IsNaN(f) || f < 0 || f > 1<<40 {
		return time.Time{}, errors.New("out of range")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

func audience(v any) ([]string, error) {
	errAud := errors.New("not a string or a non-empty array of strings")
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		if len(v) == 0 {
			return nil, errAud
		}
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, errAud
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, errAud
}

// resultError is a Result with a detail for logs. It unwraps to the Result,
// so errors.Is and errors.As find it. (Built without fmt to keep the
// WebAssembly signer small.)
type resultError struct {
	result Result
	detail string
}

func (e *resultError) Error() string { return e.result.String() + ": " + e.detail }
func (e *resultError) Unwrap() error { return e.result }

func invalidPayload(detail string) error {
	return &resultError{result: ResultInvalidPayload, detail: detail}
}
