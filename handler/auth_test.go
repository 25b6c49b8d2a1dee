package handler_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"golang.org/x/crypto/bcrypt"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/token"
)

// jwxToken makes a real token with jwx: aud, iat and exp (now+1h) signed
// with alg and key.
func jwxToken(t *testing.T, opt jwt.SignOption, aud string) string {
	t.Helper()
	tok, err := jwt.NewBuilder().Audience([]string{aud}).IssuedAt(now).Expiration(now.Add(time.Hour)).Build()
	if err != nil {
		t.Fatal(err)
	}
	b, err := jwt.Sign(tok, opt)
	if err != nil {
		t.Fatalf("jwt.Sign: %v", err)
	}
	return string(b)
}

// tamper replaces segment i of tok with s.
func tamper(tok string, i int, s string) string {
	parts := strings.Split(tok, ".")
	parts[i] = s
	return strings.Join(parts, ".")
}

// flipFirst changes the first character of segment i; the first character
// carries six real bits, unlike the last one of a 32-byte signature.
func flipFirst(tok string, i int) string {
	seg := strings.Split(tok, ".")[i]
	c := byte('A')
	if seg[0] == 'A' {
		c = 'B'
	}
	return tamper(tok, i, string(c)+seg[1:])
}

// TestJWTResults covers every row of the results table (docs/behaviour.md) that a jwt protection can
// give: status, the X-Keyhole-Auth-Result header and one increment of
// keyhole_auth_results_total{protection,result}.
func TestJWTResults(t *testing.T) {
	e := newEnv(t, handler.Config{Protections: jwtProtections()})
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const target = "/private/doc.txt"
	good := e.sign(t, keyOne, claims(target, time.Hour))
	unknownKid := e.sign(t, token.KeyFromString("k9", secretOne), claims(target, time.Hour))
	noKid := func(secret string) string {
		return e.sign(t, token.KeyFromString("", secret), claims(target, time.Hour))
	}
	hsHeader := `{"alg":"HS256","typ":"JWT"}`
	exp := strconv.FormatInt(now.Add(time.Hour).Unix(), 10)
	withTimes := func(expAt, nbf time.Time) string {
		c := claims(target, 0)
		c.ExpiresAt, c.NotBefore = expAt, nbf
		return e.sign(t, keyOne, c)
	}
	aud := func(a ...string) string {
		return e.sign(t, keyOne, &token.Claims{Audience: a, ExpiresAt: now.Add(time.Hour)})
	}
	// A payload with a different audience, keeping good's signature.
	otherPayload := b64(`{"aud":"/","exp":` + exp + `}`)
	none := jwxToken(t, jwt.WithInsecureNoSignature(), target)

	tests := []struct {
		name   string
		target string
		tok    string
		hdr    []string
		status int
		result string
	}{
		{"valid", target, good, nil, 200, "ok"},
		{"no token", target, "", nil, 403, "missing token"},
		{"empty jwt param", target + "?jwt=", "", nil, 403, "missing token"},
		{"garbage", target, "not-a-token", nil, 403, "malformed token"},
		{"two parts", target, "a.b", nil, 403, "malformed token"},
		{"alg none with a signature", target, tamper(none, 2, "c2ln"), nil, 403, "algorithm not allowed"},
		{"alg HS512 (jwx)", target, jwxToken(t, jwt.WithKey(jwa.HS512(), []byte(secretOne)), target), nil, 403, "algorithm not allowed"},
		{"alg RS256 (jwx)", target, jwxToken(t, jwt.WithKey(jwa.RS256(), rsaKey), target), nil, 403, "algorithm not allowed"},
		{"alg missing", target, handToken(`{"typ":"JWT"}`, `{"aud":"/","exp":`+exp+`}`, []byte(secretOne)), nil, 403, "algorithm not allowed"},
		{"HS256 (jwx) ok", target, jwxToken(t, jwt.WithKey(jwa.HS256(), []byte(secretOne)), target), nil, 200, "ok"},
		{"unknown kid", target, unknownKid, nil, 403, "unknown key"},
		{"tampered signature", target, flipFirst(good, 2), nil, 403, "signature mismatch"},
		{"tampered payload", target, tamper(good, 1, otherPayload), nil, 403, "signature mismatch"},
		{"signature of another key", target, tamper(good, 2, strings.Split(e.sign(t, token.KeyFromString("k1", "x"+secretOne), claims(target, time.Hour)), ".")[2]), nil, 403, "signature mismatch"},
		{"expired past leeway", target, withTimes(now.Add(-31*time.Second), time.Time{}), nil, 403, "expired key"},
		{"expired inside leeway", target, withTimes(now.Add(-29*time.Second), time.Time{}), nil, 200, "ok"},
		{"nbf in the future", target, withTimes(now.Add(time.Hour), now.Add(time.Minute)), nil, 403, "not yet valid"},
		{"nbf inside leeway", target, withTimes(now.Add(time.Hour), now.Add(20*time.Second)), nil, 200, "ok"},
		{"missing exp", target, handToken(hsHeader, `{"aud":"/"}`, []byte(secretOne)), nil, 403, "invalid payload"},
		{"missing aud", target, handToken(hsHeader, `{"exp":`+exp+`}`, []byte(secretOne)), nil, 403, "invalid payload"},
		{"exp a string", target, handToken(hsHeader, `{"aud":"/","exp":"`+exp+`"}`, []byte(secretOne)), nil, 403, "invalid payload"},
		{"args not an object", target, handToken(hsHeader, `{"aud":"/","exp":`+exp+`,"args":"w=1"}`, []byte(secretOne)), nil, 403, "invalid payload"},
		{"payload not JSON", target, handToken(hsHeader, `not json`, []byte(secretOne)), nil, 403, "invalid payload"},
		{"aud array", target, aud("/elsewhere/", "/private/doc"), nil, 200, "ok"},
		{"aud array, no match", target, aud("/elsewhere/", "/private/dir/"), nil, 403, "audience mismatch"},
		{"aud /", target, aud("/"), nil, 200, "ok"},
		{"aud another file", target, aud("/private/a.jpg"), nil, 403, "audience mismatch"},
		{"aud without leading slash", target, handToken(hsHeader, `{"aud":"private/","exp":`+exp+`}`, []byte(secretOne)), nil, 403, "audience mismatch"},
		{"aud /p/t opens /p/to/x", "/p/to/x.jpg", aud("/p/t"), nil, 200, "ok"},
		{"aud /p/t opens /p/t1/y", "/p/t1/y.jpg", aud("/p/t"), nil, 200, "ok"},
		{"aud /p/t not /p/other", "/p/other.jpg", aud("/p/t"), nil, 403, "audience mismatch"},
		{"aud /p/to/ not /p/x", "/p/x.jpg", aud("/p/to/"), nil, 403, "audience mismatch"},
		{"aud folder is a prefix of the path only", "/p/to/x.jpg", aud("/p/to/x.jpg/"), nil, 403, "audience mismatch"},
		{"bearer header", target, "", []string{"Authorization", "Bearer " + good}, 200, "ok"},
		{"bearer header lower case", target, "", []string{"Authorization", "bearer " + good}, 200, "ok"},
		{"basic header is no token", target, "", []string{"Authorization", "Basic dTpw"}, 403, "missing token"},
		{"cookie ignored when not configured", target, "", []string{"Cookie", "kh=" + good}, 403, "missing token"},
		{"query wins over header", target, "garbage", []string{"Authorization", "Bearer " + good}, 403, "malformed token"},
		{"kid picks the key", target, e.sign(t, token.KeyFromString("k2", secretTwo), claims(target, time.Hour)), nil, 200, "ok"},
		{"kid picks only that key", target, e.sign(t, token.KeyFromString("k2", secretOne), claims(target, time.Hour)), nil, 403, "signature mismatch"},
		{"kid-less tries the first key", target, noKid(secretOne), nil, 200, "ok"},
		{"kid-less tries the second key", target, noKid(secretTwo), nil, 200, "ok"},
		{"kid-less with no matching key", target, noKid("a-third-secret-nobody-configured!!"), nil, 403, "signature mismatch"},
		{"key of another protection's kid", "/p/to/x.jpg", e.sign(t, keyTwo, claims("/p/", time.Hour)), nil, 403, "unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prot := "private"
			if strings.HasPrefix(tc.target, "/p/") {
				prot = "p"
			}
			e.forbid(tc.tok)
			target := tc.target
			if tc.tok != "" {
				target += "?jwt=" + url.QueryEscape(tc.tok)
			}
			var res *response
			e.counted(t, prot, tc.result, func() { res = e.get(t, target, tc.hdr...) })
			res.expect(t, tc.status, tc.result)
			switch {
			case tc.status == 403:
				if res.body != tc.result+"\n" {
					t.Errorf("403 body = %q, want exactly %q", res.body, tc.result+"\n")
				}
				if res.Header.Get("WWW-Authenticate") != "" {
					t.Error("a jwt refusal has WWW-Authenticate")
				}
			case tc.status == 200 && res.body == "":
				t.Error("empty body")
			}
		})
	}
}

// TestAlgNoneUnsigned sends the unsecured JWS exactly as jwx makes it
// ("header.payload." with an empty signature). docs/behaviour.md names alg none
// "algorithm not allowed".
func TestAlgNoneUnsigned(t *testing.T) {
	e := newEnv(t, handler.Config{Protections: jwtProtections()})
	none := jwxToken(t, jwt.WithInsecureNoSignature(), "/private/")
	if !strings.HasSuffix(none, ".") {
		t.Fatalf("jwx none token %q does not end with an empty signature", none)
	}
	var res *response
	e.counted(t, "private", "algorithm not allowed", func() { res = e.get(t, "/private/doc.txt?jwt="+none) })
	res.expect(t, 403, "algorithm not allowed")
	// The same with an HS256 header: an empty signature is a mismatch.
	hs := e.sign(t, keyOne, claims("/private/", time.Hour))
	hs = hs[:strings.LastIndexByte(hs, '.')+1]
	e.get(t, "/private/doc.txt?jwt="+hs).expect(t, 403, "signature mismatch")
}

// TestJWSAPIToken checks a token made with jws.Sign on a raw payload (not
// through jwt.Builder), HS256 with a kid header: it verifies.
func TestJWSAPIToken(t *testing.T) {
	e := newEnv(t, handler.Config{Protections: jwtProtections()})
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, "k2"); err != nil {
		t.Fatal(err)
	}
	payload := `{"aud":["/private/"],"exp":` + strconv.FormatInt(now.Add(time.Minute).Unix(), 10) + `}`
	b, err := jws.Sign([]byte(payload), jws.WithKey(jwa.HS256(), []byte(secretTwo), jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	e.get(t, "/private/doc.txt?jwt="+string(b)).expect(t, 200, "ok")
}

// TestSirvReferenceToken builds a token exactly as Sirv's Node.js example
// (npm jsonwebtoken with the string key 'topsecret', expiresIn 300,
// audience '/example-image.jpg', args {text: 'Hello'}) lays it out, and
// sends the URL the script prints.
func TestSirvReferenceToken(t *testing.T) {
	files := testFiles()
	files["example-image.jpg"] = files["public/img.jpg"]
	iat := now.Add(-10 * time.Second).Unix()
	payload := `{"args":{"text":"Hello"},"iat":` + strconv.FormatInt(iat, 10) + `,"exp":` + strconv.FormatInt(iat+300, 10) + `,"aud":"/example-image.jpg"}`
	tok := handToken(`{"alg":"HS256","typ":"JWT"}`, payload, []byte("topsecret"))
	params := url.Values{"w": {"10%"}, "h": {"25%"}}
	target := "/example-image.jpg?" + params.Encode() + "&jwt=" + tok

	for _, withEngine := range []bool{false, true} {
		t.Run("engine="+strconv.FormatBool(withEngine), func(t *testing.T) {
			cfg := handler.Config{
				Files: files,
				Protections: []handler.Protection{{
					Name: "sirv", Path: "/", Keys: []token.Key{token.KeyFromString("", "topsecret")},
				}},
			}
			eng := &fakeEngine{}
			if withEngine {
				cfg.Engine = eng
			}
			e := newEnv(t, cfg)
			e.forbid(tok)
			var res *response
			e.counted(t, "sirv", "ok", func() { res = e.get(t, target) })
			if !withEngine {
				// Without an engine the token's text cannot be applied, so
				// the original is not served at all (fail closed).
				res.expect(t, 503, "ok")
				if res.body != "image processing is not available\n" {
					t.Errorf("body %q", res.body)
				}
				return
			}
			res.expect(t, 200, "ok")
			// The token sets only text: the URL keeps its responsive
			// size, but may not enlarge (the lock rule adds noup).
			want := "fake jpg Width=10% Height=25% ScaleOption=noup Text=Hello"
			if res.body != want || eng.calls.Load() != 1 {
				t.Errorf("body %q (engine calls %d), want %q", res.body, eng.calls.Load(), want)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "private, max-age=290" {
				t.Errorf("Cache-Control %q, want private, max-age=290 (token lifetime left)", cc)
			}
			// Wrong key, same shape.
			bad := handToken(`{"alg":"HS256","typ":"JWT"}`, payload, []byte("topsecreT"))
			e.forbid(bad)
			e.get(t, "/example-image.jpg?jwt="+bad).expect(t, 403, "signature mismatch")
		})
	}
}

func TestTokenSources(t *testing.T) {
	t.Run("cookie", func(t *testing.T) {
		e := newEnv(t, handler.Config{Protections: jwtProtections(), TokenCookie: "kh"})
		tok := e.sign(t, keyOne, claims("/private/", time.Hour))
		e.get(t, "/private/doc.txt", "Cookie", "kh="+tok).expect(t, 200, "ok")
		e.get(t, "/private/doc.txt", "Cookie", "other="+tok).expect(t, 403, "missing token")
		// The header comes before the cookie.
		e.get(t, "/private/doc.txt", "Cookie", "kh="+tok, "Authorization", "Bearer "+flipFirst(tok, 2)).expect(t, 403, "signature mismatch")
	})
	t.Run("custom param", func(t *testing.T) {
		e := newEnv(t, handler.Config{Protections: jwtProtections(), TokenParam: "t"})
		tok := e.sign(t, keyOne, claims("/private/", time.Hour))
		e.get(t, "/private/doc.txt?t="+tok).expect(t, 200, "ok")
		e.get(t, "/private/doc.txt?jwt="+tok).expect(t, 403, "missing token")
		// The signer's URL builder with the same parameter name.
		s, _ := token.NewSigner(keyOne)
		u, err := s.SignURL("/private/doc.txt", claims("/private/doc.txt", time.Hour), token.URLOptions{BaseURL: e.srv.URL + "/files", Param: "t"})
		if err != nil {
			t.Fatal(err)
		}
		e.forbid(u[strings.LastIndex(u, "=")+1:])
		res, err := e.srv.Client().Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("SignURL with Param t: %d", res.StatusCode)
		}
	})
}

// TestTokenCacheRespectsExpiry: a verified token is cached, but the cache
// never serves it past exp + leeway, nor for another path.
func TestTokenCacheRespectsExpiry(t *testing.T) {
	clock := now
	e := newEnv(t, handler.Config{Protections: jwtProtections(), Now: func() time.Time { return clock }})
	tok := e.sign(t, keyOne, claims("/private/doc.txt", time.Minute))
	e.get(t, "/private/doc.txt?jwt="+tok).expect(t, 200, "ok")
	e.get(t, "/private/a.jpg?jwt="+tok).expect(t, 403, "audience mismatch")
	clock = now.Add(time.Minute + 31*time.Second) // only this goroutine writes, before the request
	e.get(t, "/private/doc.txt?jwt="+tok).expect(t, 403, "expired key")
}

func TestBasic(t *testing.T) {
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	e := newEnv(t, handler.Config{Protections: []handler.Protection{{
		Name: "basic", Path: "/basic/", Kind: handler.KindBasic, Realm: "staff",
		Logins: []handler.Login{
			{User: "alice", PasswordHash: hash("wonderland")},
			{User: "bob", PasswordHash: hash("builder"), Expires: now.Add(-time.Hour)},
			{User: "carol", PasswordHash: hash("singer"), Expires: now.Add(time.Hour)},
		},
	}}})
	e.forbid("wonderland", "builder", "$2a$")
	basic := func(u, p string) []string {
		return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))}
	}
	tests := []struct {
		name   string
		hdr    []string
		status int
		result string
	}{
		{"no credentials", nil, 401, "credentials required"},
		{"bearer is not basic", []string{"Authorization", "Bearer x.y.z"}, 401, "credentials required"},
		{"wrong password", basic("alice", "Wonderland"), 401, "credentials invalid"},
		{"unknown user", basic("mallory", "wonderland"), 401, "credentials invalid"},
		{"empty password", basic("alice", ""), 401, "credentials invalid"},
		{"expired login", basic("bob", "builder"), 401, "credentials expired"},
		{"expired login, wrong password", basic("bob", "x"), 401, "credentials invalid"},
		{"ok", basic("alice", "wonderland"), 200, "ok"},
		{"ok before expiry", basic("carol", "singer"), 200, "ok"},
	}
	// Twice: the second pass meets the cache of credentials that passed
	// bcrypt, which must change no answer.
	for pass := range 2 {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/pass%d", tc.name, pass), func(t *testing.T) {
				var res *response
				e.counted(t, "basic", tc.result, func() { res = e.get(t, "/basic/s.txt", tc.hdr...) })
				res.expect(t, tc.status, tc.result)
				wa := res.Header.Get("WWW-Authenticate")
				if tc.status == 401 {
					if wa != `Basic realm="staff", charset="UTF-8"` {
						t.Errorf("WWW-Authenticate = %q", wa)
					}
					if res.body != tc.result+"\n" {
						t.Errorf("body %q", res.body)
					}
				} else if wa != "" {
					t.Errorf("200 with WWW-Authenticate %q", wa)
				}
			})
		}
	}

	// A login that passed (and is cached) still expires on time.
	var clock atomic.Int64
	clock.Store(now.Unix())
	e2 := newEnv(t, handler.Config{
		Now: func() time.Time { return time.Unix(clock.Load(), 0) },
		Protections: []handler.Protection{{
			Name: "basic", Path: "/basic/", Kind: handler.KindBasic,
			Logins: []handler.Login{{User: "carol", PasswordHash: hash("singer"), Expires: now.Add(time.Hour)}},
		}},
	})
	e2.get(t, "/basic/s.txt", basic("carol", "singer")...).expect(t, 200, "ok")
	clock.Store(now.Add(2 * time.Hour).Unix())
	e2.get(t, "/basic/s.txt", basic("carol", "singer")...).expect(t, 401, "credentials expired")
	e2.get(t, "/basic/s.txt", basic("carol", "Singer")...).expect(t, 401, "credentials invalid")
}

func TestReferrers(t *testing.T) {
	refProt := func(name, path string, r *handler.Referrers) handler.Protection {
		return handler.Protection{Name: name, Path: path, Keys: []token.Key{keyOne}, Referrers: r}
	}
	e := newEnv(t, handler.Config{Protections: []handler.Protection{
		refProt("ref", "/ref/", &handler.Referrers{Hosts: []string{"Example.com", ".example.org"}}),
		refProt("refreq", "/refreq/", &handler.Referrers{Hosts: []string{"example.com"}, RequireReferer: true}),
	}})
	tok := e.sign(t, keyOne, claims("/", time.Hour))
	tests := []struct {
		name, prot, referer string
		status              int
		result              string
	}{
		{"allowed host", "ref", "https://example.com/page", 200, "ok"},
		{"allowed host, case and port", "ref", "https://EXAMPLE.com:8443/page", 200, "ok"},
		{"exact rule refuses a subdomain", "ref", "https://www.example.com/", 403, "referrer denied"},
		{"leading dot allows a subdomain", "ref", "https://img.example.org/x", 200, "ok"},
		{"leading dot allows a deep subdomain", "ref", "https://a.b.example.org/x", 200, "ok"},
		{"leading dot allows the bare domain", "ref", "http://example.org/", 200, "ok"},
		{"suffix is not a subdomain", "ref", "https://evilexample.org/", 403, "referrer denied"},
		{"host in the path only", "ref", "https://evil.test/example.com", 403, "referrer denied"},
		{"refused host", "ref", "https://evil.test/", 403, "referrer denied"},
		{"relative referer", "ref", "/local", 403, "referrer denied"},
		{"missing referer allowed", "ref", "", 200, "ok"},
		{"missing referer required", "refreq", "", 403, "referrer denied"},
		{"required and present", "refreq", "https://example.com/", 200, "ok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.referer != "" {
				hdr = []string{"Referer", tc.referer}
			}
			var res *response
			e.counted(t, tc.prot, tc.result, func() { res = e.get(t, "/"+tc.prot+"/a.txt?jwt="+tok, hdr...) })
			res.expect(t, tc.status, tc.result)
			if tc.status == 403 && res.body != "referrer denied\n" {
				t.Errorf("body %q", res.body)
			}
		})
	}
	// The referrer is checked before the token: no token, bad referrer.
	e.get(t, "/ref/a.txt", "Referer", "https://evil.test/").expect(t, 403, "referrer denied")
}

func TestStrictProfileAndUnprotected(t *testing.T) {
	eng := &fakeEngine{}
	e := newEnv(t, handler.Config{
		Engine:   eng,
		Profiles: map[string]map[string]string{"stamp": {"w": "50", "text": "(c) Keyhole"}},
		Protections: []handler.Protection{
			{Name: "strict", Path: "/strict/", Kind: handler.KindStrictProfile, Profile: "stamp"},
		},
	})
	var res *response
	e.counted(t, "strict", "ok", func() { res = e.get(t, "/strict/img.jpg?w=500&text=mine&jwt=whatever") })
	res.expect(t, 200, "ok")
	if want := "fake jpg Width=50 Text=(c) Keyhole"; res.body != want {
		t.Errorf("body %q, want %q (the profile wins over the query)", res.body, want)
	}
	if got := res.Header.Get("X-Keyhole-Ignored-Params"); got != "text, w" {
		t.Errorf("X-Keyhole-Ignored-Params = %q, want text, w", got)
	}
	// Unprotected paths are public by default.
	e.counted(t, handler.NoProtection, "public", func() { res = e.get(t, "/public/a.txt") })
	res.expect(t, 200, "public")

	d := newEnv(t, handler.Config{DenyUnprotected: true, Protections: jwtProtections()})
	d.counted(t, handler.NoProtection, "unprotected path denied", func() { res = d.get(t, "/public/a.txt") })
	res.expect(t, 403, "unprotected path denied")
	if res.body != "unprotected path denied\n" {
		t.Errorf("body %q", res.body)
	}
	tok := d.sign(t, keyOne, claims("/private/", time.Hour))
	d.get(t, "/private/doc.txt?jwt="+tok).expect(t, 200, "ok")
}

// TestLongestPrefixWins: a public-ish folder inside a protected one is
// checked by the innermost protection only.
func TestLongestPrefixWins(t *testing.T) {
	hashA, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	e := newEnv(t, handler.Config{Protections: []handler.Protection{
		{Name: "outer", Path: "/private/", Keys: []token.Key{keyOne}},
		{Name: "inner", Path: "/private/dir/", Kind: handler.KindBasic, Logins: []handler.Login{{User: "u", PasswordHash: string(hashA)}}},
	}})
	tok := e.sign(t, keyOne, claims("/private/", time.Hour))
	e.get(t, "/private/dir/b.txt?jwt="+tok).expect(t, 401, "credentials required")
	e.get(t, "/private/doc.txt?jwt="+tok).expect(t, 200, "ok")
	req, _ := http.NewRequest("GET", e.srv.URL+"/files/private/dir/b.txt", nil)
	req.SetBasicAuth("u", "pw")
	e.send(t, req).expect(t, 200, "ok")
}

func TestMethods(t *testing.T) {
	e := newEnv(t, handler.Config{Protections: jwtProtections()})
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		t.Run(m, func(t *testing.T) {
			var res *response
			e.counted(t, handler.NoProtection, "method not allowed", func() { res = e.do(t, m, "/private/doc.txt") })
			res.expect(t, 405, "method not allowed")
			if a := res.Header.Get("Allow"); a != "GET, HEAD" {
				t.Errorf("Allow = %q", a)
			}
			if res.body != "method not allowed\n" {
				t.Errorf("body %q", res.body)
			}
		})
	}
	t.Run("HEAD", func(t *testing.T) {
		tok := e.sign(t, keyOne, claims("/private/", time.Hour))
		res := e.do(t, "HEAD", "/private/doc.txt?jwt="+tok)
		res.expect(t, 200, "ok")
		if res.body != "" {
			t.Errorf("HEAD body %q", res.body)
		}
		if res.ContentLength != int64(len("private document 0123456789\n")) {
			t.Errorf("HEAD Content-Length %d", res.ContentLength)
		}
		e.do(t, "HEAD", "/private/doc.txt").expect(t, 403, "missing token")
	})
}

// TestQueryForms: the token is found the same way whatever the query looks
// like (only the token, escaped, among other parameters, odd names).
func TestQueryForms(t *testing.T) {
	e := newEnv(t, handler.Config{Protections: jwtProtections()})
	tok := e.sign(t, keyOne, claims("/private/", time.Hour))
	escaped := strings.ReplaceAll(tok, ".", "%2E")
	for _, tc := range []struct {
		query  string
		status int
		result string
	}{
		{"jwt=" + tok, 200, "ok"},
		{"jwt=" + escaped, 200, "ok"},
		{"jwt=" + tok + "&dl", 200, "ok"},
		{"utm_source=x&jwt=" + tok, 200, "ok"},
		{"jwt=" + tok + "&jwt=garbage", 200, "ok"},
		{"jwt=garbage&jwt=" + tok, 403, "malformed token"},
		{"JWT=" + tok, 403, "missing token"},
		{"jwtx=" + tok, 403, "missing token"},
		{"jwt=" + tok + ";x", 403, "missing token"},
		{"jwt=" + tok + "+", 403, "malformed token"}, // "+" is a space
		{"jwt=" + tok + "&a=%zz", 400, "ok"},
	} {
		t.Run(tc.query[:min(len(tc.query), 12)], func(t *testing.T) {
			e.get(t, "/private/doc.txt?"+tc.query).expect(t, tc.status, tc.result)
		})
	}
	s := newEnv(t, handler.Config{Protections: jwtProtections(), TokenParam: "access token"})
	tok = s.sign(t, keyOne, claims("/private/", time.Hour))
	s.get(t, "/private/doc.txt?access+token="+tok).expect(t, 200, "ok")
	s.get(t, "/private/doc.txt?access%20token="+tok).expect(t, 200, "ok")
	s.get(t, "/private/doc.txt?jwt="+tok).expect(t, 403, "missing token")
}

// TestRefusedTokenLogsLimited: a flood of refused tokens writes at most
// LogLinesPerSecond lines per result and second; the next line after the
// window says how many were suppressed, and the metric counts them.
func TestRefusedTokenLogsLimited(t *testing.T) {
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	var logs syncBuffer
	e := newEnv(t, handler.Config{
		Protections:       jwtProtections(),
		Logger:            slog.New(slog.NewTextHandler(&logs, nil)),
		LogLinesPerSecond: 3,
		Now:               func() time.Time { return time.Unix(0, clock.Load()) },
	})
	bad := e.sign(t, keyOne, claims("/private/", time.Hour))
	bad = bad[:len(bad)-2] + "AA"
	for range 10 {
		e.get(t, "/private/doc.txt?jwt="+bad).expect(t, 403, "signature mismatch")
	}
	e.get(t, "/private/doc.txt").expect(t, 403, "missing token") // not logged
	if n := strings.Count(logs.String(), "token refused"); n != 3 {
		t.Fatalf("%d lines in the first second, want 3:\n%s", n, logs.String())
	}
	if v := e.metric(t, "keyhole_log_lines_suppressed_total"); v != 7 {
		t.Errorf("suppressed %v, want 7", v)
	}
	clock.Add(int64(time.Second))
	e.get(t, "/private/doc.txt?jwt="+bad)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[3], "suppressed=7") {
		t.Errorf("line after the window: %q", lines[len(lines)-1])
	}
}

// TestBasicUnknownUserCost: the dummy hash an unknown user is compared
// against has the highest cost among the logins, so an unknown user takes
// as long as the slowest real one (timing does not enumerate users).
func TestBasicUnknownUserCost(t *testing.T) {
	hash := func(cost int) string {
		h, err := bcrypt.GenerateFromPassword([]byte("pw"), cost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	logins := func(costs ...int) []handler.Login {
		var l []handler.Login
		for i, c := range costs {
			l = append(l, handler.Login{User: fmt.Sprint("u", i), PasswordHash: hash(c)})
		}
		return l
	}
	for _, costs := range [][]int{{4}, {5, 5}, {6, 6, 6}} {
		e := newEnv(t, handler.Config{Protections: []handler.Protection{{Name: "basic", Path: "/basic/", Kind: handler.KindBasic, Logins: logins(costs...)}}})
		if got, want := handler.DummyCost(e.h, "basic"), costs[0]; got != want {
			t.Errorf("logins of costs %v: dummy cost %d, want %d", costs, got, want)
		}
	}
	// Mixed costs would let a wrong password for the cheaper login be
	// told apart from an unknown user by its answer time.
	for _, costs := range [][]int{{4, 6}, {6, 5}, {5, 5, 4}} {
		_, err := handler.New(handler.Config{Files: testFiles(), Protections: []handler.Protection{{Path: "/basic/", Kind: handler.KindBasic, Logins: logins(costs...)}}})
		if err == nil || !strings.Contains(err.Error(), "the same cost") {
			t.Errorf("logins of costs %v: %v, want a refusal of mixed costs", costs, err)
		}
	}
	if _, err := handler.New(handler.Config{Files: testFiles(), Protections: []handler.Protection{{
		Path: "/basic/", Kind: handler.KindBasic, Logins: []handler.Login{{User: "a", PasswordHash: "$2a$99$notahash"}},
	}}}); err == nil {
		t.Error("a malformed bcrypt hash was accepted")
	}
}

// TestBasicBusy: when every bcrypt slot is taken, a request with
// credentials that are not cached is refused with 429 and Retry-After
// after a bounded wait, without a comparison; credentials already checked
// still pass.
func TestBasicBusy(t *testing.T) {
	h, _ := bcrypt.GenerateFromPassword([]byte("wonderland"), bcrypt.MinCost)
	e := newEnv(t, handler.Config{Protections: []handler.Protection{{
		Name: "basic", Path: "/basic/", Kind: handler.KindBasic,
		Logins: []handler.Login{{User: "alice", PasswordHash: string(h)}},
	}}})
	basic := func(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }
	e.get(t, "/basic/s.txt", "Authorization", basic("alice", "wonderland")).expect(t, 200, "ok")
	release := handler.HoldBcryptSlots(e.h, 10*time.Millisecond)
	res := e.get(t, "/basic/s.txt", "Authorization", basic("alice", "guess"))
	res.expect(t, 429, "too many login attempts")
	if res.Header.Get("Retry-After") != "1" || res.body != "too many login attempts\n" || res.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("Retry-After %q body %q WWW-Authenticate %q", res.Header.Get("Retry-After"), res.body, res.Header.Get("WWW-Authenticate"))
	}
	if v := e.auth(t, "basic", "too many login attempts"); v != 1 {
		t.Errorf("auth{too many login attempts} = %v", v)
	}
	// A credential that passed before needs no slot.
	e.get(t, "/basic/s.txt", "Authorization", basic("alice", "wonderland")).expect(t, 200, "ok")
	release()
	e.get(t, "/basic/s.txt", "Authorization", basic("alice", "guess")).expect(t, 401, "credentials invalid")
}

// TestAudienceExact: under AudienceExact a file audience opens that file
// only and a prefix that is not a folder opens nothing else; under the
// default (Sirv's prefix rule) both open more.
func TestAudienceExact(t *testing.T) {
	files := testFiles()
	files["private/doc.txt.orig"] = &fstest.MapFile{Data: []byte("the original\n"), ModTime: mtime}
	for _, tc := range []struct {
		aud    handler.Audience
		tokAud string
		path   string
		result string
	}{
		{"", "/private/doc.txt", "/private/doc.txt", "ok"},
		{"", "/private/doc.txt", "/private/doc.txt.orig", "ok"}, // Sirv's rule
		{"", "/private/d", "/private/doc.txt", "ok"},
		{handler.AudiencePrefix, "/private/doc.txt", "/private/doc.txt.orig", "ok"},
		{handler.AudienceExact, "/private/doc.txt", "/private/doc.txt", "ok"},
		{handler.AudienceExact, "/private/doc.txt", "/private/doc.txt.orig", "audience mismatch"},
		{handler.AudienceExact, "/private/d", "/private/doc.txt", "audience mismatch"},
		{handler.AudienceExact, "/private/", "/private/dir/b.txt", "ok"},
		{handler.AudienceExact, "/", "/private/doc.txt", "ok"},
	} {
		t.Run(fmt.Sprintf("%s %s %s", tc.aud, tc.tokAud, tc.path), func(t *testing.T) {
			e := newEnv(t, handler.Config{Files: files, Protections: []handler.Protection{
				{Name: "private", Path: "/private/", Keys: []token.Key{keyOne}, Audience: tc.aud},
			}})
			tok := e.sign(t, keyOne, claims(tc.tokAud, time.Hour))
			status := 200
			if tc.result != "ok" {
				status = 403
			}
			e.get(t, tc.path+"?jwt="+tok).expect(t, status, tc.result)
		})
	}
}
