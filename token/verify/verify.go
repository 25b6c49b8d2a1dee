// Package verify checks Keyhole tokens with github.com/lestrrat-go/jwx/v3.
//
// It is kept apart from package token so that signers (the WebAssembly
// build above all) do not link jwx. The verifier is secure by default: the
// algorithm is pinned to HS256 whatever the token header says, "exp" and
// "aud" are required, and every failure maps to exactly one token.Result.
package verify

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/keyhole-dev/keyhole/token"
)

// DefaultLeeway is the clock skew allowed on "exp" and "nbf".
const DefaultLeeway = 30 * time.Second

// DefaultCacheSize is the number of verified tokens remembered.
const DefaultCacheSize = 4096

// Config configures a Verifier.
type Config struct {
	// Keys are the protection's keys; at least one. A token whose header has
	// "kid" is checked against that key only; a token without "kid" is
	// tried against each key in order. A key's NotBefore refuses the
	// tokens it verifies that were issued ("iat") before it, or that have
	// no "iat" (token.ResultRevoked).
	Keys []token.Key
	// Leeway is the clock skew allowed on exp and nbf. Zero means
	// DefaultLeeway; a negative value means no leeway at all.
	Leeway time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// CacheSize bounds the verified-token cache, in entries. Zero means
	// DefaultCacheSize; negative disables the cache. A cached token is
	// accepted again without HMAC or JSON work until its exp (+ leeway),
	// never after.
	CacheSize int
}

// Verifier checks tokens. It is safe for concurrent use.
type Verifier struct {
	keys   atomic.Pointer[keySet]
	leeway time.Duration
	now    func() time.Time
	cache  *lru.Cache[string, *entry] // nil when disabled
}

type keySet struct {
	keys []token.Key
	byID map[string]int // index in keys
	gen  uint64
}

type entry struct {
	claims *token.Claims
	gen    uint64
}

// New returns a Verifier. It fails when there is no key or a key is invalid.
func New(cfg Config) (*Verifier, error) {
	v := &Verifier{leeway: cfg.Leeway, now: cfg.Now}
	switch {
	case v.leeway == 0:
		v.leeway = DefaultLeeway
	case v.leeway < 0:
		v.leeway = 0
	}
	if v.now == nil {
		v.now = time.Now
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.CacheSize > 0 {
		c, err := lru.New[string, *entry](cfg.CacheSize)
		if err != nil {
			return nil, err
		}
		v.cache = c
	}
	if err := v.SetKeys(cfg.Keys); err != nil {
		return nil, err
	}
	return v, nil
}

// SetKeys replaces the key set (key rotation, config reload) and forgets
// every cached verification, so a removed key stops working at once.
func (v *Verifier) SetKeys(keys []token.Key) error {
	if len(keys) == 0 {
		return errors.New("verify: at least one key is required")
	}
	keys = slices.Clone(keys)
	ks := &keySet{keys: keys, byID: make(map[string]int, len(keys))}
	for i, k := range keys {
		if err := k.Validate(); err != nil {
			return fmt.Errorf("verify: keys[%d]: %w", i, err)
		}
		if k.ID != "" {
			if _, dup := ks.byID[k.ID]; dup {
				return fmt.Errorf("verify: keys[%d]: duplicate id %q", i, k.ID)
			}
			ks.byID[k.ID] = i
		}
	}
	if old := v.keys.Load(); old != nil {
		ks.gen = old.gen + 1
	}
	v.keys.Store(ks)
	if v.cache != nil {
		v.cache.Purge()
	}
	return nil
}

// Verify checks tok and that it may open path (a cleaned path such as
// "/private/a.jpg"). On success it returns the token's claims (shared:
// read-only) and a nil error. On failure the error wraps exactly one
// token.Result; recover it with errors.As. The error's cause text is for
// logs and never contains the token or a secret.
func (v *Verifier) Verify(tok, path string) (*token.Claims, error) {
	ks := v.keys.Load()
	now := v.now()
	if v.cache != nil {
		if e, ok := v.cache.Get(tok); ok && e.gen == ks.gen {
			if err := v.checkTime(e.claims, now); err != nil {
				v.cache.Remove(tok)
				return nil, err
			}
			if !token.AudienceAllows(e.claims.Audience, path) {
				return nil, token.ResultAudienceMismatch
			}
			return e.claims, nil
		}
	}
	c, err := v.verify(ks, tok, now)
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.cache.Add(tok, &entry{claims: c, gen: ks.gen})
	}
	if !token.AudienceAllows(c.Audience, path) {
		return nil, token.ResultAudienceMismatch
	}
	return c, nil
}

func (v *Verifier) verify(ks *keySet, tok string, now time.Time) (*token.Claims, error) {
	h, _, _, err := token.Split(tok)
	if err != nil {
		return nil, err
	}
	hdr, err := token.ParseHeader(h)
	if err != nil {
		return nil, err
	}
	if hdr.Alg != "HS256" {
		return nil, token.ResultAlgorithmNotAllowed
	}
	// jwx decodes leniently (padding, the standard alphabet, unused bits);
	// token.Split has already refused every segment that is not canonical
	// unpadded base64url, whether or not its signature would verify.
	var payload []byte
	var key *token.Key
	if hdr.KeyID != "" {
		i, ok := ks.byID[hdr.KeyID]
		if !ok {
			return nil, token.ResultUnknownKey
		}
		key = &ks.keys[i]
		payload, err = jws.VerifyCompactFast(key.Secret, []byte(tok), jwa.HS256())
	} else {
		for i := range ks.keys {
			if payload, err = jws.VerifyCompactFast(ks.keys[i].Secret, []byte(tok), jwa.HS256()); err == nil {
				key = &ks.keys[i]
				break
			}
		}
	}
	if err != nil {
		return nil, token.ResultSignatureMismatch
	}
	c, err := token.ParseClaims(payload)
	if err != nil {
		return nil, err
	}
	if err := v.checkTime(c, now); err != nil {
		return nil, err
	}
	// Revocation depends only on the claims and the key set, both fixed for
	// a cache generation, so only verified-and-not-revoked tokens are
	// cached and a cache hit needs no second look.
	if key.Revokes(c.IssuedAt) {
		return nil, token.ResultRevoked
	}
	return c, nil
}

// checkTime refuses a token at or after exp + leeway (RFC 7519 §4.1.4, and
// what jsonwebtoken and jwx do) and before nbf - leeway.
func (v *Verifier) checkTime(c *token.Claims, now time.Time) error {
	if !now.Before(c.ExpiresAt.Add(v.leeway)) {
		return token.ResultExpired
	}
	if !c.NotBefore.IsZero() && now.Add(v.leeway).Before(c.NotBefore) {
		return token.ResultNotYetValid
	}
	return nil
}
