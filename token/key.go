package token

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// WeakSecretBytes is the length under which a secret is weak. Such secrets
// are accepted for compatibility with existing tokens, but callers should
// log a warning (once, at start-up).
const WeakSecretBytes = 32

// Key is one HMAC-SHA256 key of a protection. The zero Key is invalid.
//
// A Key never prints its secret: String, GoString, Format and
// MarshalJSON show only the id, so a Key that ends up in a log line (slog's
// text or JSON handler, alone or inside a struct or slice), an error or any
// fmt verb leaks nothing. Format (key_format.go) is left out of builds
// with the keyhole_nofmt tag, which only a program that links no fmt at
// all may set: the WebAssembly signer, where internal/archtest checks it.
type Key struct {
	// ID is the key id matched against a token header's "kid". It may be
	// empty for a protection that has a single key.
	ID string
	// Secret is the raw HMAC key.
	Secret []byte
	// NotBefore revokes, without rotating the key, every token it signed
	// before this instant: a token whose "iat" is earlier is refused with
	// ResultRevoked, and so is a token without "iat", whose issue time
	// cannot be known. Tokens issued at or after NotBefore are unaffected.
	// No leeway applies. A NotBefore in the future refuses every token,
	// fresh ones included, until then. The zero value (the default) revokes
	// nothing. It is the "not_before" of a key in keyhole's YAML config.
	NotBefore time.Time
}

// KeyFromString returns a Key whose HMAC key is the bytes of secret exactly
// as given. This is what npm jsonwebtoken does with a string key, so tokens
// made by Sirv's Node.js example script verify unchanged.
func KeyFromString(id, secret string) Key {
	return Key{ID: id, Secret: []byte(secret)}
}

// KeyFromBase64 returns a Key whose HMAC key is the bytes that s decodes to.
// Standard and URL-safe alphabets, with or without padding, are accepted.
func KeyFromBase64(id, s string) (Key, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return Key{}, errors.New("key " + strconv.Quote(id) + ": secret_base64 is not valid base64")
	}
	return Key{ID: id, Secret: b}, nil
}

// GenerateSecret returns a new random 256-bit secret, base64url-encoded
// without padding. Use it as a key's secret (its 43 characters are the HMAC
// key) or as secret_base64 (the 32 decoded bytes are).
func GenerateSecret() (string, error) {
	var b [32]byte
	if err := randomBytes(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Validate reports whether the key can sign and verify: its secret must not
// be empty and its id must be printable ASCII without quotes or backslashes.
func (k Key) Validate() error {
	if len(k.Secret) == 0 {
		return errors.New("key " + strconv.Quote(k.ID) + ": empty secret")
	}
	for i := 0; i < len(k.ID); i++ {
		if c := k.ID[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return errors.New("key id: only printable ASCII without quotes or backslashes")
		}
	}
	return nil
}

// Revokes reports whether k's NotBefore refuses a token issued at iat (the
// zero time when the token has no "iat").
func (k Key) Revokes(iat time.Time) bool {
	if k.NotBefore.IsZero() {
		return false
	}
	return iat.IsZero() || iat.Before(k.NotBefore)
}

// Weak reports whether the secret is shorter than WeakSecretBytes.
func (k Key) Weak() bool { return len(k.Secret) < WeakSecretBytes }

// String returns "key(ID)", never the secret.
func (k Key) String() string { return "key(" + k.ID + ")" }

// GoString returns the same as String, so %#v does not print the secret.
func (k Key) GoString() string { return k.String() }

// MarshalJSON writes String as a JSON string, so that slog's JSON handler
// and any other JSON dump never contain the secret. (slog's text handler
// prints a Key through Format.)
func (k Key) MarshalJSON() ([]byte, error) { return appendString(nil, k.String()), nil }
