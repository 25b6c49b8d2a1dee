package verify_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/token/verify"
)

// The fuzz seeds are signed with these keys (see testdata/fuzz).
var fuzzKeys = []token.Key{
	token.KeyFromString("k1", "0123456789abcdef0123456789abcdef"),
	token.KeyFromString("", "topsecret"),
}

// FuzzVerify verifies arbitrary strings: Verify must not panic, its error
// must carry exactly one token.Result, the cache must not change the
// answer, and nothing jwx refuses may be accepted.
func FuzzVerify(f *testing.F) {
	cold := newVerifier(f, verify.Config{Keys: fuzzKeys, CacheSize: -1})
	warm := newVerifier(f, verify.Config{Keys: fuzzKeys})
	f.Fuzz(func(t *testing.T, tok string) {
		for _, path := range []string{"/p/a.jpg", "/example-image.jpg"} {
			c, err := cold.Verify(tok, path)
			r := resultOf(t, err)
			if (r == token.ResultOK) != (c != nil) {
				t.Fatalf("result %v with claims %v", r, c)
			}
			for range 2 {
				_, werr := warm.Verify(tok, path)
				if w := resultOf(t, werr); w != r {
					t.Fatalf("with the cache %v, without %v", w, r)
				}
			}
			if r != token.ResultOK {
				continue
			}
			if !token.AudienceAllows(c.Audience, path) {
				t.Fatalf("accepted for %s with aud %q", path, c.Audience)
			}
			verified := false
			for _, k := range fuzzKeys {
				if _, err := jws.Verify([]byte(tok), jws.WithKey(jwa.HS256(), k.Secret)); err == nil {
					verified = true
				}
			}
			if !verified {
				t.Fatalf("accepted a token jwx refuses: %q", tok)
			}
		}
	})
}

// FuzzSignVerifyRoundTrip signs a token for a fuzzed audience and argument
// and checks that it verifies for that audience with the argument intact
// (strings as encoding/json would carry them: invalid UTF-8 becomes U+FFFD).
func FuzzSignVerifyRoundTrip(f *testing.F) {
	key := fuzzKeys[0]
	v := newVerifier(f, verify.Config{Keys: fuzzKeys, CacheSize: -1})
	s, err := token.NewSigner(key)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, aud, name, value string) {
		if !strings.HasPrefix(aud, "/") {
			aud = "/" + aud
		}
		args := map[string]any{"w": "300"}
		args[name] = value // replaces w when name is "w"
		c := &token.Claims{Audience: []string{aud}, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour), Args: args}
		tok, err := s.Sign(c)
		if !utf8.ValidString(aud) {
			if err == nil {
				t.Fatalf("Sign accepted an audience that is not UTF-8: %q", aud)
			}
			return
		}
		if errors.Is(err, token.ErrTooLong) {
			// The signer refuses what the server would refuse as
			// malformed (longer than MaxTokenBytes).
			return
		}
		if err != nil {
			t.Fatalf("Sign: %v", err)
		}
		if len(tok) > token.MaxTokenBytes {
			t.Fatalf("Sign made a %d-byte token, over MaxTokenBytes", len(tok))
		}
		wantAud, wantName, wantValue := viaJSON(aud), viaJSON(name), viaJSON(value)
		got, err := v.Verify(tok, wantAud+"x.jpg")
		if err != nil {
			t.Fatalf("Verify: %v (token %s)", err, tok)
		}
		if len(got.Audience) != 1 || got.Audience[0] != wantAud {
			t.Errorf("aud = %q, want %q", got.Audience, wantAud)
		}
		if g, ok := got.Args[wantName]; !ok || g != wantValue {
			t.Errorf("args[%q] = %q (present %v), want %q; args %v", wantName, g, ok, wantValue, got.Args)
		}
		if !got.ExpiresAt.Equal(c.ExpiresAt) || !got.IssuedAt.Equal(c.IssuedAt) {
			t.Errorf("times %v %v", got.IssuedAt, got.ExpiresAt)
		}
	})
}

// viaJSON returns s as it comes back from an encoding/json round trip.
func viaJSON(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}
