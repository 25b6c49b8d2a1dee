package verify_test

import (
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/token/verify"
)

// BenchmarkVerify measures one verification of a Sirv-like token (aud, exp
// far in the future, args {"w":"300","text":"Hello"}). jwx-parse is a bare
// jwx v3 jwt.Parse of the same token, the reference for cold.
func BenchmarkVerify(b *testing.B) {
	key := token.KeyFromString("", "0123456789abcdef0123456789abcdef")
	tok := sign(b, key, &token.Claims{
		Audience:  []string{"/example-image.jpg"},
		IssuedAt:  t0,
		ExpiresAt: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
		Args:      map[string]any{"w": "300", "text": "Hello"},
	})
	const path = "/example-image.jpg"
	bench := func(cacheSize int) func(b *testing.B) {
		return func(b *testing.B) {
			v := newVerifier(b, verify.Config{Keys: []token.Key{key}, CacheSize: cacheSize})
			if _, err := v.Verify(tok, path); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(tok, path); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("cold", bench(-1))
	b.Run("warm", bench(0))
	b.Run("jwx-parse", func(b *testing.B) {
		raw := []byte(tok)
		if _, err := jwt.Parse(raw, jwt.WithKey(jwa.HS256(), key.Secret)); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jwt.Parse([]byte(tok), jwt.WithKey(jwa.HS256(), key.Secret)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
