package token

import (
	"encoding/base64"
	"errors"
	"hash"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/keyhole-dev/keyhole/internal/urlenc"
)

// Signer mints HS256 tokens with one key. It keeps the keyed HMAC state, so
// signing many tokens costs one hash each. A Signer is safe for concurrent
// use.
type Signer struct {
	key    Key
	header string // base64url of the JOSE header
	pool   sync.Pool
}

// NewSigner returns a Signer for k. The token header carries "kid" when k
// has an ID.
func NewSigner(k Key) (*Signer, error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	h := `{"alg":"HS256","typ":"JWT"}`
	if k.ID != "" {
		h = `{"alg":"HS256","kid":"` + k.ID + `","typ":"JWT"}`
	}
	s := &Signer{key: k, header: base64.RawURLEncoding.EncodeToString([]byte(h))}
	s.pool.New = func() any { return &signState{mac: newMAC(k.Secret)} }
	return s, nil
}

// signState is what one signing needs besides the key: the keyed HMAC
// state and a buffer for the claims JSON. Signers keep them in a pool.
type signState struct {
	mac     hash.Hash
	payload []byte
}

// Key returns the signer's key.
func (s *Signer) Key() Key { return s.key }

// ErrTooLong is the error of Sign for a token longer than MaxTokenBytes,
// which every verifier refuses as malformed: the claims, usually the args,
// are too large.
var ErrTooLong = errors.New("token: longer than 8192 bytes, the longest token a server accepts: the args are too large")

// macSize is the length of an HMAC-SHA-256 in bytes.
const macSize = 32

// sigLen is the length of an HS256 signature in base64url.
var sigLen = base64.RawURLEncoding.EncodedLen(macSize)

// Sign returns a compact HS256 token for c. ExpiresAt and a non-empty
// Audience are required (a verifier refuses tokens without them). "aud" is
// written as a string when there is one entry, as npm jsonwebtoken does.
// Args are written with sorted keys; they may hold strings, numbers, bools,
// nil, and nested map[string]any / []any of those. A token longer than
// MaxTokenBytes is not signed (ErrTooLong).
func (s *Signer) Sign(c *Claims) (string, error) {
	b, err := s.AppendSign(make([]byte, 0, 256), c)
	return string(b), err
}

// AppendSign appends the token for c to dst, for callers that sign in bulk.
func (s *Signer) AppendSign(dst []byte, c *Claims) ([]byte, error) {
	st := s.pool.Get().(*signState)
	defer s.pool.Put(st)
	start := len(dst)
	dst, err := s.appendSigningInput(dst, c, st)
	if err != nil {
		return dst, err
	}
	st.mac.Reset()
	st.mac.Write(dst[start:])
	var sum [macSize]byte
	sig := st.mac.Sum(sum[:0])
	dst = append(dst, '.')
	return base64.RawURLEncoding.AppendEncode(dst, sig), nil
}

// AppendSigningInput appends the part of c's token that the HMAC signs,
// base64url(header) "." base64url(claims), after every check Sign makes.
// The token is that input, ".", and base64url of HMAC-SHA-256 over it with
// the signer's key: for callers that compute the HMAC elsewhere (the
// WebAssembly signer hands it to the JavaScript runtime's crypto). The
// length check counts the signature, so a token that Sign would refuse
// as too long is refused here too.
func (s *Signer) AppendSigningInput(dst []byte, c *Claims) ([]byte, error) {
	st := s.pool.Get().(*signState)
	defer s.pool.Put(st)
	return s.appendSigningInput(dst, c, st)
}

func (s *Signer) appendSigningInput(dst []byte, c *Claims, st *signState) ([]byte, error) {
	if c.ExpiresAt.IsZero() {
		return dst, errors.New("token: exp is required")
	}
	if len(c.Audience) == 0 {
		return dst, errors.New("token: aud is required")
	}
	for _, a := range c.Audience {
		if !strings.HasPrefix(a, "/") || !utf8.ValidString(a) {
			return dst, errors.New("token: every aud entry must be valid UTF-8 and start with /")
		}
	}
	payload, err := appendClaims(st.payload[:0], c)
	if err != nil {
		return dst, err
	}
	if cap(payload) <= MaxTokenBytes {
		st.payload = payload // keep the buffer; a huge one is left to the GC
	}
	if len(s.header)+1+base64.RawURLEncoding.EncodedLen(len(payload))+1+sigLen > MaxTokenBytes {
		return dst, ErrTooLong
	}
	dst = append(dst, s.header...)
	dst = append(dst, '.')
	return base64.RawURLEncoding.AppendEncode(dst, payload), nil
}

// Sign is a one-shot form of NewSigner(k) and Signer.Sign.
func Sign(k Key, c *Claims) (string, error) {
	s, err := NewSigner(k)
	if err != nil {
		return "", err
	}
	return s.Sign(c)
}

// URLOptions shape a signed URL.
type URLOptions struct {
	// BaseURL is prepended to the path, e.g. "https://img.example.com/files".
	// Empty gives a root-relative URL.
	BaseURL string
	// Query holds insecure parameters (w=300); they are not signed. Pass a
	// url.Values: the field has its underlying type so that the WebAssembly
	// signer does not link net/url (24 KB gzipped).
	Query map[string][]string
	// Param is the token's query parameter name. Default "jwt".
	Param string
}

// SignURL signs c and returns BaseURL + path + "?" + query + "&jwt=token".
// path is escaped segment by segment; it should be the same path the token's
// audience allows.
func (s *Signer) SignURL(path string, c *Claims, o URLOptions) (string, error) {
	tok, err := s.Sign(c)
	if err != nil {
		return "", err
	}
	return BuildURL(path, tok, o), nil
}

// BuildURL joins a base URL, an escaped path, the query and the token. There
// is always exactly one slash between BaseURL and path. Escaping is
// net/url's (PathEscape per segment, Values.Encode for the query).
func BuildURL(path, tok string, o URLOptions) string {
	u := NewURLBuilder(o)
	return string(u.Append(make([]byte, 0, len(u.base)+3*len(path)+len(u.tail)+len(tok)), path, tok))
}

// URLBuilder builds the URLs of one URLOptions, as BuildURL does, with the
// base URL, the encoded query and the token parameter worked out once: for
// callers that make many URLs with the same options.
type URLBuilder struct {
	base string // BaseURL without its trailing slash
	tail string // "?" query "&" param "=": what comes between path and token
	// slash: a "/" goes between base and a path without one.
	slash bool
}

// NewURLBuilder returns the URLBuilder of o. o.Query is encoded now; later
// changes to it are not seen.
func NewURLBuilder(o URLOptions) *URLBuilder {
	param := o.Param
	if param == "" {
		param = "jwt"
	}
	t := make([]byte, 0, 16*len(o.Query)+len(param)+2)
	t = append(t, '?')
	if len(o.Query) > 0 {
		t = urlenc.AppendValues(t, o.Query)
		t = append(t, '&')
	}
	t = urlenc.AppendQuery(t, param)
	t = append(t, '=')
	return &URLBuilder{base: strings.TrimSuffix(o.BaseURL, "/"), tail: string(t), slash: o.BaseURL != ""}
}

// Append appends the URL of path with token tok to dst.
func (u *URLBuilder) Append(dst []byte, path, tok string) []byte {
	dst = u.AppendPrefix(dst, path)
	return append(dst, tok...)
}

// AppendPrefix appends the URL of path up to its token: the URL is that
// prefix followed by the token as it is (a token's characters need no
// escaping in a query).
func (u *URLBuilder) AppendPrefix(dst []byte, path string) []byte {
	dst = append(dst, u.base...)
	if u.slash && !strings.HasPrefix(path, "/") {
		dst = append(dst, '/')
	}
	dst = urlenc.AppendPath(dst, path)
	return append(dst, u.tail...)
}

// ForPath returns claims for a token that opens path (audience = path) for
// ttl from now, with iat = now.
func ForPath(path string, now time.Time, ttl time.Duration) *Claims {
	return &Claims{Audience: []string{path}, IssuedAt: now, ExpiresAt: now.Add(ttl)}
}

func appendClaims(b []byte, c *Claims) ([]byte, error) {
	b = append(b, `{"aud":`...)
	if len(c.Audience) == 1 {
		b = appendString(b, c.Audience[0])
	} else {
		b = append(b, '[')
		for i, a := range c.Audience {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, a)
		}
		b = append(b, ']')
	}
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.ExpiresAt.Unix(), 10)
	if !c.IssuedAt.IsZero() {
		b = append(b, `,"iat":`...)
		b = strconv.AppendInt(b, c.IssuedAt.Unix(), 10)
	}
	if !c.NotBefore.IsZero() {
		b = append(b, `,"nbf":`...)
		b = strconv.AppendInt(b, c.NotBefore.Unix(), 10)
	}
	if c.EncodedArgs != nil {
		b = append(b, `,"args":`...)
		b = append(b, c.EncodedArgs.json...)
	} else if c.Args != nil {
		b = append(b, `,"args":`...)
		var err error
		if b, err = appendValue(b, c.Args, 0); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

const maxArgsDepth = 8

// appendValue writes v as JSON without reflection. It covers what decoded
// JSON and hand-built args hold.
func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxArgsDepth {
		return nil, errors.New("token: args nested too deeply")
	}
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, errors.New("token: args hold a non-finite number")
		}
		return strconv.AppendFloat(b, v, 'f', -1, 64), nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendValue(b, v[k], depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case map[string]string:
		m := make(map[string]any, len(v))
		for k, s := range v {
			m[k] = s
		}
		return appendValue(b, m, depth)
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValue(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	return nil, errors.New("token: args hold a value that is not JSON")
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string, replacing invalid UTF-8 with
// U+FFFD as encoding/json does. Runs that need no escaping are copied
// whole.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			if c == '"' || c == '\\' {
				b = append(b, '\\', c)
			} else {
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			start = i + size
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
