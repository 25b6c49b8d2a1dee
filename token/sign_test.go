package token_test

import (
	"bytes"
	"encoding/json"
	"math"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/keyhole-dev/keyhole/token"
)

var testKey = token.KeyFromString("k1", "0123456789abcdef0123456789abcdef")

func newSigner(t testing.TB, k token.Key) *token.Signer {
	t.Helper()
	s, err := token.NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// jwxParse is the reference: a bare jwx v3 parse pinned to HS256.
func jwxParse(t *testing.T, tok string, secret []byte) jwt.Token {
	t.Helper()
	parsed, err := jwt.Parse([]byte(tok), jwt.WithKey(jwa.HS256(), secret))
	if err != nil {
		t.Fatalf("jwx rejects %s: %v", tok, err)
	}
	return parsed
}

func TestSignVerifiesWithJWX(t *testing.T) {
	tests := []struct {
		name string
		key  token.Key
		c    token.Claims
	}{
		{"minimal", testKey, token.Claims{Audience: []string{"/"}, ExpiresAt: future}},
		{"sirv example", token.KeyFromString("", "topsecret"), token.Claims{
			Audience: []string{"/example-image.jpg"}, IssuedAt: t0, ExpiresAt: future,
			Args: map[string]any{"text": "Hello", "w": "300"},
		}},
		{"all claims, two audiences", testKey, token.Claims{
			Audience: []string{"/a/", "/b/c.jpg"}, IssuedAt: t0, NotBefore: t0, ExpiresAt: future,
			Args: map[string]any{"w": 300.0, "crop": map[string]any{"type": "face", "pad": []any{1.0, 2.0}}, "gray": true},
		}},
		{"empty args", testKey, token.Claims{Audience: []string{"/x"}, ExpiresAt: future, Args: map[string]any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := newSigner(t, tt.key).Sign(&tt.c)
			if err != nil {
				t.Fatal(err)
			}
			p := jwxParse(t, tok, tt.key.Secret)
			aud, _ := p.Audience()
			if !reflect.DeepEqual(aud, tt.c.Audience) {
				t.Errorf("aud = %q, want %q", aud, tt.c.Audience)
			}
			times := []struct {
				name string
				get  func() (time.Time, bool)
				want time.Time
			}{{"exp", p.Expiration, tt.c.ExpiresAt}, {"iat", p.IssuedAt, tt.c.IssuedAt}, {"nbf", p.NotBefore, tt.c.NotBefore}}
			for _, tm := range times {
				got, ok := tm.get()
				if ok != !tm.want.IsZero() || (ok && !got.Equal(tm.want)) {
					t.Errorf("%s = %v (present %v), want %v", tm.name, got, ok, tm.want)
				}
			}
			var args map[string]any
			err = p.Get("args", &args)
			if tt.c.Args == nil {
				if err == nil {
					t.Errorf("args present: %v", args)
				}
			} else if err != nil || !reflect.DeepEqual(args, tt.c.Args) {
				t.Errorf("args = %v (%v), want %v", args, err, tt.c.Args)
			}
			// token.Decode agrees with jwx.
			d, err := token.Decode(tok)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d.Claims.Audience, tt.c.Audience) || !d.Claims.ExpiresAt.Equal(tt.c.ExpiresAt) ||
				!d.Claims.IssuedAt.Equal(tt.c.IssuedAt) || !d.Claims.NotBefore.Equal(tt.c.NotBefore) ||
				!reflect.DeepEqual(d.Claims.Args, tt.c.Args) {
				t.Errorf("Decode claims = %+v, want %+v", d.Claims, tt.c)
			}
		})
	}
}

func TestSignAudienceShape(t *testing.T) {
	s := newSigner(t, testKey)
	for _, tt := range []struct {
		aud  []string
		want string
	}{
		{[]string{"/a.jpg"}, `"/a.jpg"`},
		{[]string{"/a/", "/b/"}, `["/a/","/b/"]`},
		{[]string{"/a/", "/b/", "/c"}, `["/a/","/b/","/c"]`},
	} {
		tok, err := s.Sign(&token.Claims{Audience: tt.aud, ExpiresAt: future})
		if err != nil {
			t.Fatal(err)
		}
		if got := string(segmentJSON(t, tok, 1)["aud"]); got != tt.want {
			t.Errorf("aud %q serialised as %s, want %s", tt.aud, got, tt.want)
		}
	}
}

func TestSignHeader(t *testing.T) {
	c := &token.Claims{Audience: []string{"/"}, ExpiresAt: future}
	for _, tt := range []struct {
		key     token.Key
		wantKid string // "" = absent
	}{
		{token.KeyFromString("", "s"), ""},
		{token.KeyFromString("2024-rot.A", "s"), `"2024-rot.A"`},
	} {
		tok, err := newSigner(t, tt.key).Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		h := segmentJSON(t, tok, 0)
		if string(h["alg"]) != `"HS256"` || string(h["typ"]) != `"JWT"` {
			t.Errorf("header %v", h)
		}
		kid, ok := h["kid"]
		if ok != (tt.wantKid != "") || string(kid) != tt.wantKid {
			t.Errorf("kid = %s (present %v), want %s", kid, ok, tt.wantKid)
		}
		d, err := token.Decode(tok)
		if err != nil {
			t.Fatal(err)
		}
		if d.Header.Alg != "HS256" || d.Header.Typ != "JWT" || d.Header.KeyID != tt.key.ID {
			t.Errorf("Decode header = %+v", d.Header)
		}
	}
}

// TestSignArgsLikeEncodingJSON checks that args survive signing as if they
// had been written by encoding/json: decoding the payload gives what
// decoding json.Marshal(args) gives.
func TestSignArgsLikeEncodingJSON(t *testing.T) {
	tests := map[string]map[string]any{
		"strings":       {"text": "Hello", "w": "300", "empty": ""},
		"numbers":       {"i": 300, "i64": int64(-9007199254740993), "f": 1.5, "neg0": math.Copysign(0, -1), "tiny": 1e-7, "big": 1e21, "max": math.MaxFloat64, "maxint": int64(math.MaxInt64)},
		"bools and nil": {"t": true, "f": false, "n": nil},
		"nested":        {"crop": map[string]any{"type": "face", "pad": []any{1, "2", false, nil, map[string]any{"x": "y"}}}, "list": []any{}},
		"string map":    {"m": map[string]string{"b": "2", "a": "1"}},
		"unicode":       {"text": "Grüße, 世界 🌍", "ключ": "значение", "rtl": "שלום"},
		"invalid utf8":  {"bad": "a\xffb\xc3", "bad\xfekey": "v", "trunc": "\xe4\xb8"},
		"controls":      {"ctl": "a\x00b\x01\x1f\x7f", "ws": "tab\tnl\ncr\r", "quote": `"q" \ back`, "html": "<b>&amp;</b>", "seps": "\u2028\u2029"},
		"key order":     {"z": 1, "a": 2, "m": 3, "A": 4, "": 5},
	}
	s := newSigner(t, testKey)
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			tok, err := s.Sign(&token.Claims{Audience: []string{"/"}, ExpiresAt: future, Args: args})
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			if err := json.Unmarshal(segmentJSON(t, tok, 1)["args"], &got); err != nil {
				t.Fatal(err)
			}
			ref, err := json.Marshal(args)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(ref, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("args decode to\n%#v\nencoding/json gives\n%#v", got, want)
			}
			// and jwx reads the same.
			var viaJWX map[string]any
			if err := jwxParse(t, tok, testKey.Secret).Get("args", &viaJWX); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(any(viaJWX), want) {
				t.Errorf("jwx reads args\n%#v\nwant\n%#v", viaJWX, want)
			}
		})
	}
}

// TestSignArgsSortedKeys pins the byte layout: keys sorted, no spaces, so a
// token for the same claims is always the same string.
func TestSignArgsSortedKeys(t *testing.T) {
	s := newSigner(t, testKey)
	tok, err := s.Sign(&token.Claims{Audience: []string{"/"}, ExpiresAt: future, IssuedAt: t0, NotBefore: t0,
		Args: map[string]any{"w": "300", "text": "Hello", "crop": map[string]any{"y": 1, "x": 2}}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := token.Decode(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"aud":"/","exp":4070908800,"iat":1740830400,"nbf":1740830400,"args":{"crop":{"x":2,"y":1},"text":"Hello","w":"300"}}`
	if string(d.Payload) != want {
		t.Errorf("payload\n%s\nwant\n%s", d.Payload, want)
	}
	again, _ := s.Sign(&token.Claims{Audience: []string{"/"}, ExpiresAt: future, IssuedAt: t0, NotBefore: t0,
		Args: map[string]any{"text": "Hello", "crop": map[string]any{"x": 2, "y": 1}, "w": "300"}})
	if again != tok {
		t.Error("same claims signed twice give different tokens")
	}
}

func nested(depth int) map[string]any {
	m := map[string]any{"leaf": "v"}
	for range depth - 1 {
		m = map[string]any{"n": m}
	}
	return m
}

func TestSignErrors(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	tests := []struct {
		name string
		c    token.Claims
	}{
		{"missing exp", token.Claims{Audience: []string{"/"}}},
		{"missing aud", token.Claims{ExpiresAt: future}},
		{"empty aud list", token.Claims{Audience: []string{}, ExpiresAt: future}},
		{"aud without slash", token.Claims{Audience: []string{"a/b.jpg"}, ExpiresAt: future}},
		{"empty aud string", token.Claims{Audience: []string{""}, ExpiresAt: future}},
		{"second aud without slash", token.Claims{Audience: []string{"/a", "b"}, ExpiresAt: future}},
		{"NaN", token.Claims{Audience: []string{"/"}, ExpiresAt: future, Args: map[string]any{"w": math.NaN()}}},
		{"+Inf", token.Claims{Audience: []string{"/"}, ExpiresAt: future, Args: map[string]any{"w": math.Inf(1)}}},
		{"nested -Inf", token.Claims{Audience: []string{"/"}, ExpiresAt: future, Args: map[string]any{"a": []any{math.Inf(-1)}}}},
		{"struct", token.Claims{Audience: []string{"/"}, ExpiresAt: future, Args: map[string]any{"s": struct{}{}}}},
		{"float32", token.Claims{Audience: []string{"/"}, ExpiresAt: future, Args: map[string]any{"f": float32(1)}}},
		{"uint", token.Claims{Audience: []string{"/"}, ExpiresAt: future, Args: map[string]any{"u": uint(1)}}},
		{"[]string", token.Claims{Audience: []string{"/"}, ExpiresAt: future, Args: map[string]any{"l": []string{"a"}}}},
		{"json.Number", token.Claims{Audience: []string{"/"}, ExpiresAt: future, Args: map[string]any{"n": json.Number("1")}}},
		{"func", token.Claims{Audience: []string{"/"}, ExpiresAt: future, Args: map[string]any{"f": func() {}}}},
		{"nested unsupported", token.Claims{Audience: []string{"/"}, ExpiresAt: future, Args: map[string]any{"m": map[string]any{"c": make(chan int)}}}},
		{"too deep", token.Claims{Audience: []string{"/"}, ExpiresAt: future, Args: nested(20)}},
		{"cyclic", token.Claims{Audience: []string{"/"}, ExpiresAt: future, Args: cyclic}},
	}
	s := newSigner(t, testKey)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := s.Sign(&tt.c)
			if err == nil {
				t.Fatalf("Sign = %s, want an error", tok)
			}
			if tok != "" {
				t.Errorf("Sign returned %q with an error", tok)
			}
			if _, err := token.Sign(testKey, &tt.c); err == nil {
				t.Error("one-shot Sign: no error")
			}
			dst := []byte("prefix")
			out, err := s.AppendSign(dst, &tt.c)
			if err == nil || string(out) != "prefix" {
				t.Errorf("AppendSign = %q, %v; want the prefix unchanged and an error", out, err)
			}
		})
	}
}

func TestSignNestingLimit(t *testing.T) {
	s := newSigner(t, testKey)
	ok := 0
	for d := 1; d <= 12; d++ {
		_, err := s.Sign(&token.Claims{Audience: []string{"/"}, ExpiresAt: future, Args: nested(d)})
		if err == nil {
			if d != ok+1 {
				t.Fatalf("depth %d signs after depth %d failed", d, ok+1)
			}
			ok = d
		}
	}
	if ok < 4 || ok > 10 {
		t.Errorf("deepest args that sign: %d levels, want a limit between 4 and 10", ok)
	}
}

func TestNewSignerErrors(t *testing.T) {
	for _, k := range []token.Key{
		{},
		{ID: "k1"},
		token.KeyFromString(`k"1`, "secret"),
		token.KeyFromString("k 1", "secret"),
	} {
		if _, err := token.NewSigner(k); err == nil {
			t.Errorf("NewSigner(%v) accepted", k)
		}
	}
	s := newSigner(t, testKey)
	if s.Key().ID != testKey.ID || !bytes.Equal(s.Key().Secret, testKey.Secret) {
		t.Errorf("Key() = %v", s.Key())
	}
}

func TestSignOneShotAndAppend(t *testing.T) {
	c := &token.Claims{Audience: []string{"/a/"}, ExpiresAt: future, Args: map[string]any{"w": "1"}}
	s := newSigner(t, testKey)
	want, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := token.Sign(testKey, c)
	if err != nil || got != want {
		t.Errorf("token.Sign = %q, %v; want %q", got, err, want)
	}
	buf, err := s.AppendSign([]byte("jwt="), c)
	if err != nil || string(buf) != "jwt="+want {
		t.Errorf("AppendSign = %q, %v", buf, err)
	}
	if _, err := token.Sign(token.Key{}, c); err == nil {
		t.Error("token.Sign with the zero key: no error")
	}
}

// TestSignConcurrent shares one Signer between goroutines (run with -race):
// the pooled HMAC state must not mix tokens.
func TestSignConcurrent(t *testing.T) {
	s := newSigner(t, testKey)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				c := &token.Claims{Audience: []string{"/g/"}, ExpiresAt: future, Args: map[string]any{"g": g, "i": i}}
				tok, err := s.Sign(c)
				if err != nil {
					t.Error(err)
					return
				}
				want, _ := token.Sign(testKey, c)
				if tok != want {
					t.Errorf("concurrent Sign differs from one-shot: %s vs %s", tok, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestForPath(t *testing.T) {
	c := token.ForPath("/p/a.jpg", t0, time.Hour)
	if !reflect.DeepEqual(c.Audience, []string{"/p/a.jpg"}) || !c.IssuedAt.Equal(t0) || !c.ExpiresAt.Equal(t0.Add(time.Hour)) ||
		!c.NotBefore.IsZero() || c.Args != nil {
		t.Errorf("ForPath = %+v", c)
	}
}

func TestBuildURL(t *testing.T) {
	const tok = "aaa.bbb.ccc"
	tests := []struct {
		name string
		path string
		o    token.URLOptions
		want string
	}{
		{"plain", "/a/b.jpg", token.URLOptions{}, "/a/b.jpg?jwt=aaa.bbb.ccc"},
		{"space", "/my photos/a b.jpg", token.URLOptions{}, "/my%20photos/a%20b.jpg?jwt=aaa.bbb.ccc"},
		{"unicode", "/grüße/世界.jpg", token.URLOptions{}, "/gr%C3%BC%C3%9Fe/%E4%B8%96%E7%95%8C.jpg?jwt=aaa.bbb.ccc"},
		{"reserved", "/a?b#c%d;e+f&g=h.jpg", token.URLOptions{}, "/a%3Fb%23c%25d%3Be+f&g=h.jpg?jwt=aaa.bbb.ccc"},
		{"query before jwt", "/a.jpg", token.URLOptions{Query: url.Values{"w": {"10%"}, "h": {"25%"}, "text": {"Hello World"}}},
			"/a.jpg?h=25%25&text=Hello+World&w=10%25&jwt=aaa.bbb.ccc"},
		{"empty query", "/a.jpg", token.URLOptions{Query: url.Values{}}, "/a.jpg?jwt=aaa.bbb.ccc"},
		{"custom param", "/a.jpg", token.URLOptions{Param: "token"}, "/a.jpg?token=aaa.bbb.ccc"},
		{"custom param escaped", "/a.jpg", token.URLOptions{Param: "my token&"}, "/a.jpg?my+token%26=aaa.bbb.ccc"},
		{"base", "/a.jpg", token.URLOptions{BaseURL: "https://img.example.com/files"}, "https://img.example.com/files/a.jpg?jwt=aaa.bbb.ccc"},
		{"base with slash", "/a.jpg", token.URLOptions{BaseURL: "https://img.example.com/files/"}, "https://img.example.com/files/a.jpg?jwt=aaa.bbb.ccc"},
		{"host only base", "/a.jpg", token.URLOptions{BaseURL: "https://img.example.com/"}, "https://img.example.com/a.jpg?jwt=aaa.bbb.ccc"},
		{"relative path", "a b.jpg", token.URLOptions{}, "a%20b.jpg?jwt=aaa.bbb.ccc"},
		{"relative path joined to base", "p/a.jpg", token.URLOptions{BaseURL: "https://img.example.com/files"}, "https://img.example.com/files/p/a.jpg?jwt=aaa.bbb.ccc"},
		{"everything", "/p/a b.jpg", token.URLOptions{BaseURL: "https://x.test/", Query: url.Values{"w": {"300"}}, Param: "t"},
			"https://x.test/p/a%20b.jpg?w=300&t=aaa.bbb.ccc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := token.BuildURL(tt.path, tok, tt.o)
			if got != tt.want {
				t.Errorf("BuildURL = %q\nwant          %q", got, tt.want)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			param := tt.o.Param
			if param == "" {
				param = "jwt"
			}
			if !strings.HasSuffix(u.Path, tt.path) || u.Query().Get(param) != tok {
				t.Errorf("parsed back: path %q, %s=%q", u.Path, param, u.Query().Get(param))
			}
			for k, v := range tt.o.Query {
				if !reflect.DeepEqual(u.Query()[k], v) {
					t.Errorf("query %s = %q, want %q", k, u.Query()[k], v)
				}
			}
		})
	}
}

func TestSignURL(t *testing.T) {
	s := newSigner(t, testKey)
	c := token.ForPath("/p/a b.jpg", t0, 100*365*24*time.Hour)
	got, err := s.SignURL("/p/a b.jpg", c, token.URLOptions{BaseURL: "https://x.test", Query: url.Values{"w": {"300"}}})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := s.Sign(c)
	if !strings.HasPrefix(got, "https://x.test/p/a%20b.jpg?w=300&jwt=") || !strings.HasSuffix(got, "jwt="+want) {
		t.Errorf("SignURL = %q", got)
	}
	u, _ := url.Parse(got)
	jwxParse(t, u.Query().Get("jwt"), testKey.Secret)

	if u, err := s.SignURL("/a", &token.Claims{Audience: []string{"/a"}}, token.URLOptions{}); err == nil {
		t.Errorf("SignURL without exp = %q, want an error", u)
	}
}

// TestSignRefusesTooLong checks that no signer can mint a token longer than
// the server accepts (token.MaxTokenBytes), which it would refuse as
// malformed on every request; a token just under the limit is signed and
// decodes.
func TestSignRefusesTooLong(t *testing.T) {
	s := newSigner(t, testKey)
	claims := func(n int) *token.Claims {
		return &token.Claims{Audience: []string{"/a.jpg"}, ExpiresAt: future, Args: map[string]any{"x": strings.Repeat("a", n)}}
	}
	// Find the longest args value that fits, then one byte more must fail.
	fits := 0
	for n := 5000; n < 7000; n++ {
		tok, err := s.Sign(claims(n))
		if err != nil {
			break
		}
		if len(tok) > token.MaxTokenBytes {
			t.Fatalf("signed a token of %d bytes", len(tok))
		}
		fits = n
	}
	if fits == 0 || fits == 6999 {
		t.Fatalf("no boundary found (fits = %d)", fits)
	}
	tok, err := s.Sign(claims(fits))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := token.Decode(tok); err != nil {
		t.Errorf("the longest token does not decode: %v", err)
	}
	if len(tok) < token.MaxTokenBytes-3 {
		t.Errorf("the longest token signed is %d bytes, well under the limit", len(tok))
	}
	if _, err := s.Sign(claims(fits + 1)); err != token.ErrTooLong {
		t.Errorf("one byte more: error %v, want ErrTooLong", err)
	}
	if _, err := s.Sign(claims(9 << 10)); err != token.ErrTooLong {
		t.Errorf("9 KiB args: error %v, want ErrTooLong", err)
	}
}

// TestEncodedArgs checks that claims carrying EncodedArgs sign the same
// token as the args map they were encoded from, and that EncodeArgs
// refuses what Sign refuses.
func TestEncodedArgs(t *testing.T) {
	s, err := token.NewSigner(token.KeyFromString("main", "topsecret"))
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]any{"w": 300.0, "text": map[string]any{"text": "Grüße", "size": 20.0}, "flip": true}
	enc, err := token.EncodeArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	c := &token.Claims{Audience: []string{"/a.jpg"}, ExpiresAt: time.Unix(2e9, 0), IssuedAt: time.Unix(1e9, 0), Args: args}
	want, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	c2 := *c
	c2.Args, c2.EncodedArgs = nil, enc
	if got, err := s.Sign(&c2); err != nil || got != want {
		t.Errorf("with EncodedArgs: %q, %v; want %q", got, err, want)
	}
	for name, bad := range map[string]map[string]any{
		"infinite": {"w": math.Inf(1)},
		"func":     {"w": func() {}},
	} {
		if _, err := token.EncodeArgs(bad); err == nil {
			t.Errorf("%s: EncodeArgs accepted it", name)
		}
		if _, err := s.Sign(&token.Claims{Audience: []string{"/a"}, ExpiresAt: time.Unix(2e9, 0), Args: bad}); err == nil {
			t.Errorf("%s: Sign accepted it", name)
		}
	}
}
