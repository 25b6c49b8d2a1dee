package verify_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/token/verify"
)

const hs256 = `{"alg":"HS256","typ":"JWT"}`

// payload returns claims JSON for a token valid at t0 for aud "/p/".
func payload(extra string) string {
	p := fmt.Sprintf(`{"aud":"/p/","exp":%d`, t0.Add(time.Hour).Unix())
	if extra != "" {
		p += "," + extra
	}
	return p + "}"
}

// jwxToken signs a JWT with jwx itself, for algorithms Keyhole must refuse.
func jwxToken(t *testing.T, alg jwa.SignatureAlgorithm, key any) string {
	t.Helper()
	tok, err := jwt.NewBuilder().Audience([]string{"/p/"}).Expiration(t0.Add(time.Hour)).Build()
	if err != nil {
		t.Fatal(err)
	}
	b, err := jwt.Sign(tok, jwt.WithKey(alg, key))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func replaceSegment(tok string, i int, seg string) string {
	parts := strings.Split(tok, ".")
	parts[i] = seg
	return strings.Join(parts, ".")
}

func TestVerifyResults(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs256, err := jws.Sign([]byte(payload("")), jws.WithKey(jwa.RS256(), rsaKey))
	if err != nil {
		t.Fatal(err)
	}
	secretA := keyA.Secret
	good := handToken(hs256, payload(""), secretA)
	goodSig := good[strings.LastIndexByte(good, '.')+1:]
	tamperedSig := good[:strings.LastIndexByte(good, '.')+1] + string("ABCDEFGHIJ"[strings.IndexByte("ABCDEFGHIJ", goodSig[0])+1%10]) + goodSig[1:]
	if goodSig[0] == 'A' || !strings.ContainsRune("ABCDEFGHIJ", rune(goodSig[0])) {
		tamperedSig = good[:strings.LastIndexByte(good, '.')+1] + "A" + goodSig[1:]
	}
	exp := func(d time.Duration) string { return fmt.Sprintf(`"exp":%d`, t0.Add(d).Unix()) }
	nbf := func(d time.Duration) string { return fmt.Sprintf(`"nbf":%d`, t0.Add(d).Unix()) }
	claims := func(fields ...string) string { return "{" + strings.Join(fields, ",") + "}" }
	aud := `"aud":"/p/"`

	oneKey := []token.Key{keyA}
	tests := []struct {
		name   string
		tok    string
		path   string
		keys   []token.Key
		leeway time.Duration
		want   token.Result
	}{
		{"ok", good, "/p/a.jpg", nil, 0, token.ResultOK},
		{"ok, signed by token.Signer", sign(t, keyA, token.ForPath("/p/", t0, time.Hour)), "/p/a.jpg", nil, 0, token.ResultOK},
		{"ok, jsonwebtoken layout", handToken(hs256, `{"args":{"text":"Hello"},"iat":1740830400,"exp":1740830700,"aud":"/p/a.jpg"}`, secretA), "/p/a.jpg", nil, 0, token.ResultOK},
		{"ok, kid", handToken(`{"alg":"HS256","kid":"a"}`, payload(""), secretA), "/p/a.jpg", nil, 0, token.ResultOK},
		{"ok, key without id", handToken(hs256, payload(""), []byte("x")), "/p/a.jpg", []token.Key{token.KeyFromString("", "x")}, 0, token.ResultOK},

		// missing token: the handler maps "no token" to missing token; the
		// verifier sees an empty string as malformed.
		{"empty", "", "/p/a.jpg", nil, 0, token.ResultMalformedToken},
		{"one part", "abc", "/p/a.jpg", nil, 0, token.ResultMalformedToken},
		{"two parts", b64(hs256) + "." + b64(payload("")), "/p/a.jpg", nil, 0, token.ResultMalformedToken},
		{"four parts", good + ".x", "/p/a.jpg", nil, 0, token.ResultMalformedToken},
		{"four parts, empty last", good + ".", "/p/a.jpg", nil, 0, token.ResultMalformedToken},
		{"empty header", "." + b64(payload("")) + "." + goodSig, "/p/a.jpg", nil, 0, token.ResultMalformedToken},
		{"empty payload", b64(hs256) + ".." + goodSig, "/p/a.jpg", nil, 0, token.ResultMalformedToken},
		{"bad base64 header", "eyJh!GciOiJIUzI1NiJ9." + b64(payload("")) + "." + goodSig, "/p/a.jpg", nil, 0, token.ResultMalformedToken},
		{"padded header", replaceSegment(good, 0, b64(hs256)+"="), "/p/a.jpg", nil, 0, token.ResultMalformedToken},
		{"header not JSON", handToken(`alg: HS256`, payload(""), secretA), "/p/a.jpg", nil, 0, token.ResultMalformedToken},
		{"header an array", handToken(`["HS256"]`, payload(""), secretA), "/p/a.jpg", nil, 0, token.ResultMalformedToken},
		{"header with crit", handToken(`{"alg":"HS256","crit":["exp"]}`, payload(""), secretA), "/p/a.jpg", nil, 0, token.ResultMalformedToken},
		{"header with b64", handToken(`{"alg":"HS256","b64":false}`, payload(""), secretA), "/p/a.jpg", nil, 0, token.ResultMalformedToken},
		{"header kid number", handToken(`{"alg":"HS256","kid":1}`, payload(""), secretA), "/p/a.jpg", nil, 0, token.ResultMalformedToken},
		{"bad base64 payload", replaceSegment(good, 1, "eyJ!"), "/p/a.jpg", nil, 0, token.ResultMalformedToken},
		{"bad base64 signature", replaceSegment(good, 2, "not*base64"), "/p/a.jpg", nil, 0, token.ResultMalformedToken},
		{"over MaxTokenBytes", handToken(hs256, payload(`"pad":"`+strings.Repeat("x", token.MaxTokenBytes)+`"`), secretA), "/p/a.jpg", nil, 0, token.ResultMalformedToken},

		{"alg none", b64(`{"alg":"none","typ":"JWT"}`) + "." + b64(payload("")) + ".", "/p/a.jpg", nil, 0, token.ResultAlgorithmNotAllowed},
		{"alg none with a signature", replaceSegment(good, 0, b64(`{"alg":"none"}`)), "/p/a.jpg", nil, 0, token.ResultAlgorithmNotAllowed},
		{"alg none, signed", handToken(`{"alg":"none"}`, payload(""), secretA), "/p/a.jpg", nil, 0, token.ResultAlgorithmNotAllowed},
		{"alg HS512", jwxToken(t, jwa.HS512(), secretA), "/p/a.jpg", nil, 0, token.ResultAlgorithmNotAllowed},
		{"alg HS384", jwxToken(t, jwa.HS384(), secretA), "/p/a.jpg", nil, 0, token.ResultAlgorithmNotAllowed},
		{"alg RS256", jwxToken(t, jwa.RS256(), rsaKey), "/p/a.jpg", nil, 0, token.ResultAlgorithmNotAllowed},
		{"alg RS256 via jws", string(rs256), "/p/a.jpg", nil, 0, token.ResultAlgorithmNotAllowed},
		{"alg missing", handToken(`{"typ":"JWT"}`, payload(""), secretA), "/p/a.jpg", nil, 0, token.ResultAlgorithmNotAllowed},
		{"alg empty", handToken(`{"alg":""}`, payload(""), secretA), "/p/a.jpg", nil, 0, token.ResultAlgorithmNotAllowed},
		{"alg lowercase", handToken(`{"alg":"hs256"}`, payload(""), secretA), "/p/a.jpg", nil, 0, token.ResultAlgorithmNotAllowed},
		{"alg with space", handToken(`{"alg":"HS256 "}`, payload(""), secretA), "/p/a.jpg", nil, 0, token.ResultAlgorithmNotAllowed},

		{"unknown kid", handToken(`{"alg":"HS256","kid":"zz"}`, payload(""), secretA), "/p/a.jpg", nil, 0, token.ResultUnknownKey},
		{"kid with a key that has no id", handToken(`{"alg":"HS256","kid":"x"}`, payload(""), []byte("x")), "/p/a.jpg", []token.Key{token.KeyFromString("", "x")}, 0, token.ResultUnknownKey},
		{"no kid, two keys, first", handToken(hs256, payload(""), keyA.Secret), "/p/a.jpg", []token.Key{keyA, keyB}, 0, token.ResultOK},
		{"no kid, two keys, second", handToken(hs256, payload(""), keyB.Secret), "/p/a.jpg", []token.Key{keyA, keyB}, 0, token.ResultOK},
		{"no kid, two keys, neither", handToken(hs256, payload(""), []byte("other")), "/p/a.jpg", []token.Key{keyA, keyB}, 0, token.ResultSignatureMismatch},
		{"kid b, two keys", handToken(`{"alg":"HS256","kid":"b"}`, payload(""), keyB.Secret), "/p/a.jpg", []token.Key{keyA, keyB}, 0, token.ResultOK},
		{"kid a, signed with b", handToken(`{"alg":"HS256","kid":"a"}`, payload(""), keyB.Secret), "/p/a.jpg", []token.Key{keyA, keyB}, 0, token.ResultSignatureMismatch},

		{"wrong key", handToken(hs256, payload(""), []byte("wrong")), "/p/a.jpg", nil, 0, token.ResultSignatureMismatch},
		{"tampered signature", tamperedSig, "/p/a.jpg", nil, 0, token.ResultSignatureMismatch},
		{"truncated signature", good[:len(good)-4], "/p/a.jpg", nil, 0, token.ResultSignatureMismatch},
		{"empty signature", good[:strings.LastIndexByte(good, '.')+1], "/p/a.jpg", nil, 0, token.ResultSignatureMismatch},
		{"tampered payload", replaceSegment(good, 1, b64(strings.Replace(payload(""), `"/p/"`, `"/"`, 1))), "/", nil, 0, token.ResultSignatureMismatch},
		{"tampered header", replaceSegment(good, 0, b64(`{"alg":"HS256","typ":"JWS"}`)), "/p/a.jpg", nil, 0, token.ResultSignatureMismatch},
		{"signature of another token", replaceSegment(good, 2, strings.Split(handToken(hs256, payload(`"x":1`), secretA), ".")[2]), "/p/a.jpg", nil, 0, token.ResultSignatureMismatch},

		{"expired", handToken(hs256, claims(aud, exp(-time.Hour)), secretA), "/p/a.jpg", nil, 0, token.ResultExpired},
		{"expired past leeway", handToken(hs256, claims(aud, exp(-31*time.Second)), secretA), "/p/a.jpg", nil, 0, token.ResultExpired},
		{"expired at exactly exp+leeway", handToken(hs256, claims(aud, exp(-30*time.Second)), secretA), "/p/a.jpg", nil, 0, token.ResultExpired},
		{"expired inside leeway", handToken(hs256, claims(aud, exp(-29*time.Second)), secretA), "/p/a.jpg", nil, 0, token.ResultOK},
		{"exp now, inside leeway", handToken(hs256, claims(aud, exp(0)), secretA), "/p/a.jpg", nil, 0, token.ResultOK},
		{"custom leeway, outside", handToken(hs256, claims(aud, exp(-6*time.Second)), secretA), "/p/a.jpg", nil, 5 * time.Second, token.ResultExpired},
		{"custom leeway, inside", handToken(hs256, claims(aud, exp(-4*time.Second)), secretA), "/p/a.jpg", nil, 5 * time.Second, token.ResultOK},
		{"long leeway", handToken(hs256, claims(aud, exp(-59*time.Minute)), secretA), "/p/a.jpg", nil, time.Hour, token.ResultOK},
		{"no leeway, 1s ago", handToken(hs256, claims(aud, exp(-time.Second)), secretA), "/p/a.jpg", nil, -1, token.ResultExpired},
		{"no leeway, exp now", handToken(hs256, claims(aud, exp(0)), secretA), "/p/a.jpg", nil, -1, token.ResultExpired},
		{"no leeway, 1s left", handToken(hs256, claims(aud, exp(time.Second)), secretA), "/p/a.jpg", nil, -1, token.ResultOK},
		{"exp 1970", handToken(hs256, claims(aud, `"exp":0`), secretA), "/p/a.jpg", nil, 0, token.ResultExpired},
		{"fractional exp inside", handToken(hs256, claims(aud, fmt.Sprintf(`"exp":%d.5`, t0.Unix())), secretA), "/p/a.jpg", nil, -1, token.ResultOK},

		{"nbf far future", handToken(hs256, claims(aud, exp(time.Hour), nbf(10*time.Minute)), secretA), "/p/a.jpg", nil, 0, token.ResultNotYetValid},
		{"nbf past leeway", handToken(hs256, claims(aud, exp(time.Hour), nbf(31*time.Second)), secretA), "/p/a.jpg", nil, 0, token.ResultNotYetValid},
		{"nbf at leeway", handToken(hs256, claims(aud, exp(time.Hour), nbf(30*time.Second)), secretA), "/p/a.jpg", nil, 0, token.ResultOK},
		{"nbf inside leeway", handToken(hs256, claims(aud, exp(time.Hour), nbf(29*time.Second)), secretA), "/p/a.jpg", nil, 0, token.ResultOK},
		{"nbf past", handToken(hs256, claims(aud, exp(time.Hour), nbf(-time.Hour)), secretA), "/p/a.jpg", nil, 0, token.ResultOK},
		{"no leeway, nbf now", handToken(hs256, claims(aud, exp(time.Hour), nbf(0)), secretA), "/p/a.jpg", nil, -1, token.ResultOK},
		{"no leeway, nbf in 1s", handToken(hs256, claims(aud, exp(time.Hour), nbf(time.Second)), secretA), "/p/a.jpg", nil, -1, token.ResultNotYetValid},
		{"expired and not yet valid", handToken(hs256, claims(aud, exp(-time.Hour), nbf(time.Hour)), secretA), "/p/a.jpg", nil, 0, token.ResultExpired},
		{"iat in the future is ignored", handToken(hs256, claims(aud, exp(time.Hour), `"iat":4070908800`), secretA), "/p/a.jpg", nil, 0, token.ResultOK},

		{"payload not JSON", handToken(hs256, `exp=1`, secretA), "/p/a.jpg", nil, 0, token.ResultInvalidPayload},
		{"payload an array", handToken(hs256, `[]`, secretA), "/p/a.jpg", nil, 0, token.ResultInvalidPayload},
		{"payload a string", handToken(hs256, `"x"`, secretA), "/p/a.jpg", nil, 0, token.ResultInvalidPayload},
		{"missing exp", handToken(hs256, claims(aud), secretA), "/p/a.jpg", nil, 0, token.ResultInvalidPayload},
		{"exp string", handToken(hs256, claims(aud, `"exp":"4070908800"`), secretA), "/p/a.jpg", nil, 0, token.ResultInvalidPayload},
		{"exp null", handToken(hs256, claims(aud, `"exp":null`), secretA), "/p/a.jpg", nil, 0, token.ResultInvalidPayload},
		{"missing aud", handToken(hs256, claims(exp(time.Hour)), secretA), "/p/a.jpg", nil, 0, token.ResultInvalidPayload},
		{"aud number", handToken(hs256, claims(exp(time.Hour), `"aud":1`), secretA), "/p/a.jpg", nil, 0, token.ResultInvalidPayload},
		{"aud null", handToken(hs256, claims(exp(time.Hour), `"aud":null`), secretA), "/p/a.jpg", nil, 0, token.ResultInvalidPayload},
		{"aud empty array", handToken(hs256, claims(exp(time.Hour), `"aud":[]`), secretA), "/p/a.jpg", nil, 0, token.ResultInvalidPayload},
		{"aud array with a number", handToken(hs256, claims(exp(time.Hour), `"aud":["/p/",1]`), secretA), "/p/a.jpg", nil, 0, token.ResultInvalidPayload},
		{"args array", handToken(hs256, claims(aud, exp(time.Hour), `"args":[]`), secretA), "/p/a.jpg", nil, 0, token.ResultInvalidPayload},
		{"args null", handToken(hs256, claims(aud, exp(time.Hour), `"args":null`), secretA), "/p/a.jpg", nil, 0, token.ResultInvalidPayload},
		{"args string", handToken(hs256, claims(aud, exp(time.Hour), `"args":"w=1"`), secretA), "/p/a.jpg", nil, 0, token.ResultInvalidPayload},
		{"nbf string", handToken(hs256, claims(aud, exp(time.Hour), `"nbf":"1"`), secretA), "/p/a.jpg", nil, 0, token.ResultInvalidPayload},
		{"EXP is not exp", handToken(hs256, claims(aud, `"EXP":4070908800`), secretA), "/p/a.jpg", nil, 0, token.ResultInvalidPayload},

		{"aud array", handToken(hs256, claims(exp(time.Hour), `"aud":["/q/","/p/"]`), secretA), "/p/a.jpg", nil, 0, token.ResultOK},
		{"aud array, no match", handToken(hs256, claims(exp(time.Hour), `"aud":["/q/","/r/"]`), secretA), "/p/a.jpg", nil, 0, token.ResultAudienceMismatch},
		{"aud root", handToken(hs256, claims(exp(time.Hour), `"aud":"/"`), secretA), "/any/thing.jpg", nil, 0, token.ResultOK},
		{"aud other folder", good, "/q/a.jpg", nil, 0, token.ResultAudienceMismatch},
		{"aud folder without slash", good, "/p", nil, 0, token.ResultAudienceMismatch},
		{"aud, dot-dot path cleaned by the caller", good, "/secret.jpg", nil, 0, token.ResultAudienceMismatch},
		{"aud prefix", handToken(hs256, claims(exp(time.Hour), `"aud":"/p/t"`), secretA), "/p/t1/y.jpg", nil, 0, token.ResultOK},
		{"aud file", handToken(hs256, claims(exp(time.Hour), `"aud":"/p/a.jpg"`), secretA), "/p/b.jpg", nil, 0, token.ResultAudienceMismatch},
		{"aud empty string", handToken(hs256, claims(exp(time.Hour), `"aud":""`), secretA), "/p/a.jpg", nil, 0, token.ResultAudienceMismatch},
		{"aud relative", handToken(hs256, claims(exp(time.Hour), `"aud":"p/"`), secretA), "/p/a.jpg", nil, 0, token.ResultAudienceMismatch},
		{"aud empty path", good, "", nil, 0, token.ResultAudienceMismatch},
	}
	for _, tt := range tests {
		for _, cacheSize := range []int{-1, 0} {
			t.Run(fmt.Sprintf("%s/cache=%d", tt.name, cacheSize), func(t *testing.T) {
				keys := tt.keys
				if keys == nil {
					keys = oneKey
				}
				v := newVerifier(t, verify.Config{Keys: keys, Leeway: tt.leeway, CacheSize: cacheSize})
				// Twice: the second call may be answered from the cache.
				for i := range 2 {
					c, err := v.Verify(tt.tok, tt.path)
					if got := resultOf(t, err); got != tt.want {
						t.Fatalf("call %d: Verify = %v (%v), want %v", i+1, got, err, tt.want)
					}
					if (c != nil) != (tt.want == token.ResultOK) {
						t.Errorf("claims %v with result %v", c, tt.want)
					}
					if err != nil {
						msg := err.Error()
						for _, k := range keys {
							if strings.Contains(msg, string(k.Secret)) {
								t.Errorf("error %q contains a secret", msg)
							}
						}
						if len(tt.tok) > 8 && strings.Contains(msg, tt.tok) {
							t.Errorf("error %q contains the token", msg)
						}
					}
				}
			})
		}
	}
}

func TestVerifyClaims(t *testing.T) {
	v := newVerifier(t, verify.Config{Keys: []token.Key{keyA}})
	want := &token.Claims{Audience: []string{"/p/", "/q/"}, IssuedAt: t0, NotBefore: t0, ExpiresAt: t0.Add(time.Hour),
		Args: map[string]any{"w": "300", "text": "Hello", "n": 1.5}}
	c, err := v.Verify(sign(t, keyA, want), "/q/x")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(c)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Errorf("claims\n%s\nwant\n%s", got, exp)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		keys []token.Key
	}{
		{"no keys", nil},
		{"empty keys", []token.Key{}},
		{"empty secret", []token.Key{{ID: "a"}}},
		{"bad id", []token.Key{token.KeyFromString("a b", "hunter2hunter2")}},
		{"duplicate id", []token.Key{keyA, token.KeyFromString("a", "hunter2hunter2")}},
		{"second key invalid", []token.Key{keyA, {ID: "c"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := verify.New(verify.Config{Keys: tt.keys})
			if err == nil {
				t.Fatalf("New = %v, want an error", v)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), string(keyA.Secret)) {
				t.Errorf("error %q contains a secret", err)
			}
		})
	}
	// Two keys without an id are allowed: both are tried.
	if _, err := verify.New(verify.Config{Keys: []token.Key{token.KeyFromString("", "x"), token.KeyFromString("", "y")}}); err != nil {
		t.Errorf("two id-less keys: %v", err)
	}
}

// TestSetKeysErrorKeepsKeys checks that a rejected key set leaves the
// verifier working with the old one.
func TestSetKeysErrorKeepsKeys(t *testing.T) {
	v := newVerifier(t, verify.Config{Keys: []token.Key{keyA}})
	tok := sign(t, keyA, token.ForPath("/p/", t0, time.Hour))
	for _, bad := range [][]token.Key{nil, {{ID: "x"}}, {keyB, keyB}} {
		if err := v.SetKeys(bad); err == nil {
			t.Errorf("SetKeys(%v) accepted", bad)
		}
		if _, err := v.Verify(tok, "/p/a"); err != nil {
			t.Errorf("after a rejected SetKeys: %v", err)
		}
	}
}

func TestDefaultClock(t *testing.T) {
	// Config.Now nil uses the wall clock: a token valid now verifies.
	v, err := verify.New(verify.Config{Keys: []token.Key{keyA}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(sign(t, keyA, token.ForPath("/", time.Now(), time.Minute)), "/a"); err != nil {
		t.Error(err)
	}
	if _, err := v.Verify(sign(t, keyA, token.ForPath("/", time.Now().Add(-time.Hour), time.Minute)), "/a"); resultOf(t, err) != token.ResultExpired {
		t.Errorf("old token: %v", err)
	}
	if verify.DefaultLeeway != 30*time.Second {
		t.Errorf("DefaultLeeway = %v, want 30s (docs/behaviour.md, Tokens)", verify.DefaultLeeway)
	}
}

func TestCache(t *testing.T) {
	tok := sign(t, keyA, &token.Claims{Audience: []string{"/p/"}, ExpiresAt: t0.Add(time.Minute)})

	t.Run("hit returns the cached claims", func(t *testing.T) {
		v := newVerifier(t, verify.Config{Keys: []token.Key{keyA}})
		c1, err := v.Verify(tok, "/p/a")
		if err != nil {
			t.Fatal(err)
		}
		c2, err := v.Verify(tok, "/p/b")
		if err != nil {
			t.Fatal(err)
		}
		if c1 != c2 {
			t.Error("second Verify did not come from the cache")
		}
	})

	t.Run("disabled", func(t *testing.T) {
		v := newVerifier(t, verify.Config{Keys: []token.Key{keyA}, CacheSize: -1})
		c1, _ := v.Verify(tok, "/p/a")
		c2, _ := v.Verify(tok, "/p/a")
		if c1 == nil || c1 == c2 {
			t.Error("CacheSize -1 still caches")
		}
	})

	t.Run("audience checked per path on a hit", func(t *testing.T) {
		v := newVerifier(t, verify.Config{Keys: []token.Key{keyA}})
		c1, _ := v.Verify(tok, "/p/a")
		for _, step := range []struct {
			path string
			want token.Result
		}{{"/q/a", token.ResultAudienceMismatch}, {"/", token.ResultAudienceMismatch}, {"/p/b", token.ResultOK}} {
			c, err := v.Verify(tok, step.path)
			if got := resultOf(t, err); got != step.want {
				t.Errorf("Verify(%s) = %v, want %v", step.path, got, step.want)
			}
			if step.want == token.ResultOK && c != c1 {
				t.Errorf("Verify(%s) not from the cache", step.path)
			}
		}
	})

	t.Run("audience mismatch on the first call still caches", func(t *testing.T) {
		v := newVerifier(t, verify.Config{Keys: []token.Key{keyA}})
		if _, err := v.Verify(tok, "/q/a"); resultOf(t, err) != token.ResultAudienceMismatch {
			t.Fatal(err)
		}
		c1, _ := v.Verify(tok, "/p/a")
		c2, _ := v.Verify(tok, "/p/a")
		if c1 == nil || c1 != c2 {
			t.Error("not cached")
		}
	})

	t.Run("never past exp", func(t *testing.T) {
		clk := &clock{now: t0}
		v := newVerifier(t, verify.Config{Keys: []token.Key{keyA}, Now: clk.Now})
		if _, err := v.Verify(tok, "/p/a"); err != nil {
			t.Fatal(err)
		}
		clk.now = t0.Add(time.Minute + 29*time.Second) // inside the leeway
		if _, err := v.Verify(tok, "/p/a"); err != nil {
			t.Fatalf("inside the leeway: %v", err)
		}
		clk.now = t0.Add(time.Minute + 30*time.Second)
		if _, err := v.Verify(tok, "/p/a"); resultOf(t, err) != token.ResultExpired {
			t.Fatalf("cached token past exp+leeway: %v, want expired key", err)
		}
		// The clock going back does not resurrect a stale entry: the token is
		// verified again from scratch (and is valid at that time).
		clk.now = t0
		if _, err := v.Verify(tok, "/p/a"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("SetKeys drops entries", func(t *testing.T) {
		v := newVerifier(t, verify.Config{Keys: []token.Key{keyA, keyB}})
		c1, err := v.Verify(tok, "/p/a")
		if err != nil {
			t.Fatal(err)
		}
		if err := v.SetKeys([]token.Key{keyA, keyB}); err != nil {
			t.Fatal(err)
		}
		c2, err := v.Verify(tok, "/p/a")
		if err != nil {
			t.Fatal(err)
		}
		if c1 == c2 {
			t.Error("SetKeys with the same keys kept the cached entry")
		}
	})

	t.Run("SetKeys removing the key", func(t *testing.T) {
		kidless := handToken(hs256, payload(""), keyA.Secret)
		withKid := sign(t, keyA, token.ForPath("/p/", t0, time.Hour))
		v := newVerifier(t, verify.Config{Keys: []token.Key{keyA, keyB}})
		for _, tk := range []string{kidless, withKid} {
			if _, err := v.Verify(tk, "/p/a"); err != nil {
				t.Fatal(err)
			}
		}
		if err := v.SetKeys([]token.Key{keyB}); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(kidless, "/p/a"); resultOf(t, err) != token.ResultSignatureMismatch {
			t.Errorf("kid-less token after its key was removed: %v, want signature mismatch", err)
		}
		if _, err := v.Verify(withKid, "/p/a"); resultOf(t, err) != token.ResultUnknownKey {
			t.Errorf("kid token after its key was removed: %v, want unknown key", err)
		}
		// Rotating back makes them valid again.
		if err := v.SetKeys([]token.Key{keyA}); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(withKid, "/p/a"); err != nil {
			t.Error(err)
		}
	})

	t.Run("bounded", func(t *testing.T) {
		v := newVerifier(t, verify.Config{Keys: []token.Key{keyA}, CacheSize: 2})
		toks := make([]string, 3)
		first := make([]*token.Claims, 3)
		for i := range toks {
			toks[i] = sign(t, keyA, &token.Claims{Audience: []string{"/p/"}, ExpiresAt: t0.Add(time.Duration(i+1) * time.Hour)})
			first[i], _ = v.Verify(toks[i], "/p/a")
		}
		if c, _ := v.Verify(toks[2], "/p/a"); c != first[2] {
			t.Error("newest entry evicted")
		}
		if c, _ := v.Verify(toks[0], "/p/a"); c == first[0] {
			t.Error("oldest entry kept beyond CacheSize")
		}
	})

	t.Run("failures are not cached", func(t *testing.T) {
		clk := &clock{now: t0.Add(-time.Hour)}
		early := sign(t, keyA, &token.Claims{Audience: []string{"/p/"}, NotBefore: t0, ExpiresAt: t0.Add(time.Hour)})
		v := newVerifier(t, verify.Config{Keys: []token.Key{keyA}, Now: clk.Now})
		if _, err := v.Verify(early, "/p/a"); resultOf(t, err) != token.ResultNotYetValid {
			t.Fatal(err)
		}
		clk.now = t0
		if _, err := v.Verify(early, "/p/a"); err != nil {
			t.Errorf("valid now: %v", err)
		}
	})
}

// TestVerifyConcurrent verifies from many goroutines while keys are
// replaced; run with -race.
func TestVerifyConcurrent(t *testing.T) {
	for _, cacheSize := range []int{-1, 8, 0} {
		t.Run(fmt.Sprint("cache=", cacheSize), func(t *testing.T) {
			v := newVerifier(t, verify.Config{Keys: []token.Key{keyA, keyB}, CacheSize: cacheSize})
			type job struct {
				tok, path string
				want      token.Result
			}
			var jobs []job
			for i := range 16 {
				k := keyA
				if i%2 == 1 {
					k = keyB
				}
				tok := sign(t, k, &token.Claims{Audience: []string{fmt.Sprintf("/p%d/", i)}, ExpiresAt: t0.Add(time.Hour), Args: map[string]any{"i": i}})
				jobs = append(jobs,
					job{tok, fmt.Sprintf("/p%d/a.jpg", i), token.ResultOK},
					job{tok, "/other/a.jpg", token.ResultAudienceMismatch},
					job{replaceSegment(tok, 2, "AAAA"), fmt.Sprintf("/p%d/a.jpg", i), token.ResultSignatureMismatch},
				)
			}
			jobs = append(jobs, job{sign(t, keyA, &token.Claims{Audience: []string{"/"}, ExpiresAt: t0.Add(-time.Hour)}), "/a", token.ResultExpired})
			var wg sync.WaitGroup
			stop := make(chan struct{})
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
						if err := v.SetKeys([]token.Key{keyA, keyB}); err != nil {
							t.Error(err)
							return
						}
					}
				}
			})
			var workers sync.WaitGroup
			for g := range 16 {
				workers.Go(func() {
					for i := range 300 {
						j := jobs[(g*7+i)%len(jobs)]
						c, err := v.Verify(j.tok, j.path)
						n, r := resultsIn(err)
						if err == nil {
							r, n = token.ResultOK, 1
						}
						if n != 1 || r != j.want {
							t.Errorf("Verify(%s) = %v (%v), want %v", j.path, r, err, j.want)
							return
						}
						if r == token.ResultOK && !token.AudienceAllows(c.Audience, j.path) {
							t.Errorf("claims for the wrong token: %v", c.Audience)
							return
						}
					}
				})
			}
			workers.Wait()
			close(stop)
			wg.Wait()
		})
	}
}

// TestPaddedTokenParts checks that parts in padded or standard-alphabet
// base64, which jwx alone would decode, are malformed even when the
// signature verifies over those exact bytes.
func TestPaddedTokenParts(t *testing.T) {
	good := handToken(hs256, payload(""), keyA.Secret)
	parts := strings.Split(good, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	v := newVerifier(t, verify.Config{Keys: []token.Key{keyA}})
	// A payload whose base64 needs padding, signed over the padded form.
	pl := payload(`"x":"ab"`)
	for len(pl)%3 == 0 {
		pl = payload(`"x":"ab` + strings.Repeat("c", 1+len(pl)%3) + `"`)
	}
	in := parts[0] + "." + base64.URLEncoding.EncodeToString([]byte(pl))
	mac := hmac.New(sha256.New, keyA.Secret)
	mac.Write([]byte(in))
	paddedPayload := in + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	in = parts[0] + "." + base64.StdEncoding.EncodeToString([]byte(`{"aud":"/p/???","exp":4070908800}`))
	mac = hmac.New(sha256.New, keyA.Secret)
	mac.Write([]byte(in))
	stdPayload := in + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	if !strings.ContainsAny(stdPayload, "+/=") {
		t.Fatal("test token not in the standard alphabet")
	}
	for name, tok := range map[string]string{
		"padded payload":       paddedPayload,
		"std payload":          stdPayload,
		"padded signature":     parts[0] + "." + parts[1] + "." + base64.URLEncoding.EncodeToString(sig),
		"std signature":        parts[0] + "." + parts[1] + "." + base64.StdEncoding.EncodeToString(sig),
		"unpadded std sig":     parts[0] + "." + parts[1] + "." + base64.RawStdEncoding.EncodeToString(sig),
		"signature with space": parts[0] + "." + parts[1] + "." + parts[2][:10] + " " + parts[2][10:],
	} {
		_, err := v.Verify(tok, "/p/a")
		if r := resultOf(t, err); r != token.ResultMalformedToken && !(name == "unpadded std sig" && r == token.ResultOK && !strings.ContainsAny(tok, "+/")) {
			t.Errorf("%s: %v, want malformed token", name, r)
		}
	}
	if _, err := v.Verify(good, "/p/a"); err != nil {
		t.Fatal(err)
	}

}

// TestOneSpelling: a signature whose last character has its unused bits
// set spells the same bytes; each such spelling is a malformed token, and
// only the canonical one verifies, whether or not the canonical one was
// verified (and cached) first.
func TestOneSpelling(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	tok := sign(t, keyA, &token.Claims{Audience: []string{"/p/"}, ExpiresAt: t0.Add(time.Hour)})
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	if last&3 != 0 {
		t.Fatalf("the signer wrote a non-canonical signature: %s", tok)
	}
	for _, cache := range []int{-1, 16} {
		v := newVerifier(t, verify.Config{Keys: []token.Key{keyA}, CacheSize: cache})
		for _, bits := range []int{1, 2, 3, 0, 1, 2, 3} {
			spelling := tok[:len(tok)-1] + string(alphabet[last|bits])
			_, err := v.Verify(spelling, "/p/a.jpg")
			want := token.ResultMalformedToken
			if bits == 0 {
				want = token.ResultOK
			}
			if got := resultOf(t, err); got != want {
				t.Errorf("cache %d, unused bits %02b: %v, want %v", cache, bits, got, want)
			}
		}
	}
}
