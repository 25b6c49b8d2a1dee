package token_test

import (
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/token"
)

func benchClaims() *token.Claims {
	return &token.Claims{
		Audience:  []string{"/example-image.jpg"},
		IssuedAt:  t0,
		ExpiresAt: t0.Add(5 * time.Minute),
		Args:      map[string]any{"w": "300", "text": "Hello"},
	}
}

// BenchmarkSign reuses one Signer, as a server minting many URLs would.
func BenchmarkSign(b *testing.B) {
	s, err := token.NewSigner(token.KeyFromString("", "0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	c := benchClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignOneShot builds a Signer per token (token.Sign).
func BenchmarkSignOneShot(b *testing.B) {
	k := token.KeyFromString("", "0123456789abcdef0123456789abcdef")
	c := benchClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := token.Sign(k, c); err != nil {
			b.Fatal(err)
		}
	}
}
