package verify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/token/verify"
)

// The fixed clock every test verifies at.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

var (
	keyA = token.KeyFromString("a", "secret-A-0123456789abcdef0123456789")
	keyB = token.KeyFromString("b", "secret-B-0123456789abcdef0123456789")
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// handToken builds an HS256-signed token over the exact header and payload
// JSON given, as npm jsonwebtoken would.
func handToken(header, payload string, secret []byte) string {
	in := b64(header) + "." + b64(payload)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func sign(t testing.TB, k token.Key, c *token.Claims) string {
	t.Helper()
	tok, err := token.Sign(k, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// clock is a settable clock for Config.Now.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newVerifier(t testing.TB, cfg verify.Config) *verify.Verifier {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return t0 }
	}
	v, err := verify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// resultsIn counts the token.Result values in err's tree.
func resultsIn(err error) (n int, last token.Result) {
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if r, ok := e.(token.Result); ok {
			n++
			last = r
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return n, last
}

// resultOf returns the one Result an error from Verify carries (ResultOK for
// nil), failing the test when there is not exactly one.
func resultOf(t testing.TB, err error) token.Result {
	t.Helper()
	if err == nil {
		return token.ResultOK
	}
	n, r := resultsIn(err)
	var as token.Result
	if n != 1 || !errors.As(err, &as) || as != r {
		t.Fatalf("error %q carries %d results (errors.As: %v), want exactly one", err, n, as)
	}
	return r
}
