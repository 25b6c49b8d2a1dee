package token_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/token"
)

func TestParseClaimsValid(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    token.Claims
	}{
		{"minimal", `{"exp":1700000000,"aud":"/"}`,
			token.Claims{Audience: []string{"/"}, ExpiresAt: time.Unix(1700000000, 0)}},
		{"jsonwebtoken order", `{"args":{"text":"Hello"},"iat":1700000000,"exp":1700000300,"aud":"/example-image.jpg"}`,
			token.Claims{Audience: []string{"/example-image.jpg"}, IssuedAt: time.Unix(1700000000, 0), ExpiresAt: time.Unix(1700000300, 0), Args: map[string]any{"text": "Hello"}}},
		{"aud array", `{"exp":1,"aud":["/a/","/b"]}`,
			token.Claims{Audience: []string{"/a/", "/b"}, ExpiresAt: time.Unix(1, 0)}},
		{"aud array of one", `{"exp":1,"aud":["/a/"]}`,
			token.Claims{Audience: []string{"/a/"}, ExpiresAt: time.Unix(1, 0)}},
		{"fractional exp", `{"exp":1700000000.5,"aud":"/"}`,
			token.Claims{Audience: []string{"/"}, ExpiresAt: time.Unix(1700000000, 5e8)}},
		{"exponent exp", `{"exp":1.7e9,"aud":"/"}`,
			token.Claims{Audience: []string{"/"}, ExpiresAt: time.Unix(1700000000, 0)}},
		{"exp zero", `{"exp":0,"aud":"/"}`,
			token.Claims{Audience: []string{"/"}, ExpiresAt: time.Unix(0, 0)}},
		{"nbf and iat", `{"exp":3,"nbf":2,"iat":1,"aud":"/"}`,
			token.Claims{Audience: []string{"/"}, ExpiresAt: time.Unix(3, 0), NotBefore: time.Unix(2, 0), IssuedAt: time.Unix(1, 0)}},
		{"empty args", `{"exp":1,"aud":"/","args":{}}`,
			token.Claims{Audience: []string{"/"}, ExpiresAt: time.Unix(1, 0), Args: map[string]any{}}},
		{"nested args", `{"exp":1,"aud":"/","args":{"w":300,"crop":{"pad":[1,"a",null,true]}}}`,
			token.Claims{Audience: []string{"/"}, ExpiresAt: time.Unix(1, 0), Args: map[string]any{"w": 300.0, "crop": map[string]any{"pad": []any{1.0, "a", nil, true}}}}},
		{"other claims ignored", `{"exp":1,"aud":"/","sub":"x","iss":{"a":1},"jti":[1],"ARGS":"nope","Exp":"x"}`,
			token.Claims{Audience: []string{"/"}, ExpiresAt: time.Unix(1, 0)}},
		{"whitespace", " \n\t{ \"exp\" : 1 , \"aud\" : \"/\" }\r\n",
			token.Claims{Audience: []string{"/"}, ExpiresAt: time.Unix(1, 0)}},
		{"escaped names", `{"\u0065xp":1,"a\u0075d":"\/a"}`,
			token.Claims{Audience: []string{"/a"}, ExpiresAt: time.Unix(1, 0)}},
		{"duplicate exp, last wins", `{"exp":1,"exp":2,"aud":"/"}`,
			token.Claims{Audience: []string{"/"}, ExpiresAt: time.Unix(2, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := token.ParseClaims([]byte(tt.payload))
			if err != nil {
				t.Fatalf("ParseClaims(%s): %v", tt.payload, err)
			}
			if !reflect.DeepEqual(c.Audience, tt.want.Audience) || !c.ExpiresAt.Equal(tt.want.ExpiresAt) ||
				!c.IssuedAt.Equal(tt.want.IssuedAt) || !c.NotBefore.Equal(tt.want.NotBefore) ||
				!reflect.DeepEqual(c.Args, tt.want.Args) {
				t.Errorf("ParseClaims(%s)\n = %+v\nwant %+v", tt.payload, *c, tt.want)
			}
			if c.IssuedAt.IsZero() != tt.want.IssuedAt.IsZero() || c.NotBefore.IsZero() != tt.want.NotBefore.IsZero() {
				t.Errorf("absent iat/nbf must be the zero time: %+v", *c)
			}
		})
	}
}

func TestParseClaimsInvalid(t *testing.T) {
	tests := []struct{ name, payload string }{
		{"empty", ``},
		{"space", `   `},
		{"not JSON", `exp=1`},
		{"not an object: string", `"exp"`},
		{"not an object: number", `1700000000`},
		{"not an object: null", `null`},
		{"not an object: true", `true`},
		{"array", `[{"exp":1,"aud":"/"}]`},
		{"truncated", `{"exp":1,"aud":"/"`},
		{"trailing data", `{"exp":1,"aud":"/"}x`},
		{"two objects", `{"exp":1,"aud":"/"}{}`},
		{"trailing comma", `{"exp":1,"aud":"/",}`},
		{"single quotes", `{'exp':1,'aud':'/'}`},
		{"exp missing", `{"aud":"/"}`},
		{"exp string", `{"exp":"1700000000","aud":"/"}`},
		{"exp null", `{"exp":null,"aud":"/"}`},
		{"exp bool", `{"exp":true,"aud":"/"}`},
		{"exp object", `{"exp":{},"aud":"/"}`},
		{"exp array", `{"exp":[1],"aud":"/"}`},
		{"exp negative", `{"exp":-1,"aud":"/"}`},
		{"exp huge", `{"exp":1e300,"aud":"/"}`},
		{"exp overflow", `{"exp":1e400,"aud":"/"}`},
		{"exp past 2^40", `{"exp":1099511627777,"aud":"/"}`},
		{"exp case: EXP", `{"EXP":1,"aud":"/"}`},
		{"exp case: Exp", `{"Exp":1,"aud":"/"}`},
		{"aud missing", `{"exp":1}`},
		{"aud number", `{"exp":1,"aud":1}`},
		{"aud null", `{"exp":1,"aud":null}`},
		{"aud bool", `{"exp":1,"aud":false}`},
		{"aud object", `{"exp":1,"aud":{"/":true}}`},
		{"aud empty array", `{"exp":1,"aud":[]}`},
		{"aud array of numbers", `{"exp":1,"aud":[1]}`},
		{"aud array with a number", `{"exp":1,"aud":["/a",1]}`},
		{"aud array with null", `{"exp":1,"aud":["/a",null]}`},
		{"aud array of null", `{"exp":1,"aud":[null]}`},
		{"aud nested array", `{"exp":1,"aud":[["/a"]]}`},
		{"aud case: AUD", `{"exp":1,"AUD":"/"}`},
		{"args array", `{"exp":1,"aud":"/","args":[]}`},
		{"args null", `{"exp":1,"aud":"/","args":null}`},
		{"args string", `{"exp":1,"aud":"/","args":"w=300"}`},
		{"args number", `{"exp":1,"aud":"/","args":300}`},
		{"args bool", `{"exp":1,"aud":"/","args":true}`},
		{"nbf string", `{"exp":1,"aud":"/","nbf":"1"}`},
		{"nbf null", `{"exp":1,"aud":"/","nbf":null}`},
		{"nbf negative", `{"exp":1,"aud":"/","nbf":-5}`},
		{"iat string", `{"exp":1,"aud":"/","iat":"1"}`},
		{"iat null", `{"exp":1,"aud":"/","iat":null}`},
		{"iat huge", `{"exp":1,"aud":"/","iat":1e20}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := token.ParseClaims([]byte(tt.payload))
			if err == nil {
				t.Fatalf("ParseClaims(%s) = %+v, want invalid payload", tt.payload, *c)
			}
			if c != nil {
				t.Errorf("claims returned with an error: %+v", *c)
			}
			var r token.Result
			if !errors.As(err, &r) || r != token.ResultInvalidPayload {
				t.Errorf("ParseClaims(%s) error %q is %v, want %v", tt.payload, err, r, token.ResultInvalidPayload)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	// Segments are canonical base64url: "QQ", "ww" and "gA" have no bits
	// set in their last character's unused low bits.
	long := strings.Repeat("Q", token.MaxTokenBytes-6) + ".ww.gA"
	tests := []struct {
		tok     string
		h, p, s string
		ok      bool
	}{
		{"QQ.ww.gA", "QQ", "ww", "gA", true},
		{long, long[:token.MaxTokenBytes-6], "ww", "gA", true},
		{long + "A", "", "", "", false},
		{"", "", "", "", false},
		{"QQ", "", "", "", false},
		{"QQ.ww", "", "", "", false},
		{"QQ.ww.", "QQ", "ww", "", true}, // unsecured (alg none) shape: refused later, by alg
		{".ww.gA", "", "", "", false},
		{"QQ..gA", "", "", "", false},
		{"QQ.ww.gA.d", "", "", "", false},
		{"QQ.ww.gA.", "", "", "", false},
		{"..", "", "", "", false},
		{"QQ.ww.gA.QQ.ww", "", "", "", false},
		{"a.ww.gA", "", "", "", false},    // a length no encoding has
		{"QR.ww.gA", "", "", "", false},   // R sets an unused bit
		{"QQ.wx.gA", "", "", "", false},   // so does x
		{"QQ.ww.gB", "", "", "", false},   // and B
		{"QQ.ww.gA=", "", "", "", false},  // padding
		{"QQ.w+.gA", "", "", "", false},   // the standard alphabet
		{"QQ.ww.g\nA", "", "", "", false}, // a newline, which encoding/base64 skips
	}
	for _, tt := range tests {
		name := tt.tok
		if len(name) > 20 {
			name = "long" + string(rune('0'+len(tt.tok)-token.MaxTokenBytes))
		}
		t.Run(name, func(t *testing.T) {
			h, p, s, err := token.Split(tt.tok)
			if tt.ok {
				if err != nil || h != tt.h || p != tt.p || s != tt.s {
					t.Errorf("Split = %q %q %q %v", h, p, s, err)
				}
				return
			}
			if err != token.ResultMalformedToken {
				t.Errorf("Split(%q) err = %v, want malformed token", tt.tok, err)
			}
		})
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name   string
		seg    string
		want   token.Header
		result token.Result // ResultOK: no error
	}{
		{"jsonwebtoken", b64(`{"alg":"HS256","typ":"JWT"}`), token.Header{Alg: "HS256", Typ: "JWT"}, token.ResultOK},
		{"kid", b64(`{"alg":"HS256","kid":"k1","typ":"JWT"}`), token.Header{Alg: "HS256", KeyID: "k1", Typ: "JWT"}, token.ResultOK},
		{"other alg is returned", b64(`{"alg":"HS512"}`), token.Header{Alg: "HS512"}, token.ResultOK},
		{"extra members ignored", b64(`{"alg":"HS256","jku":"https://evil","x":[1]}`), token.Header{Alg: "HS256"}, token.ResultOK},
		{"missing alg", b64(`{"typ":"JWT"}`), token.Header{Typ: "JWT"}, token.ResultAlgorithmNotAllowed},
		{"empty alg", b64(`{"alg":""}`), token.Header{}, token.ResultAlgorithmNotAllowed},
		{"empty object", b64(`{}`), token.Header{}, token.ResultAlgorithmNotAllowed},
		{"ALG is not alg", b64(`{"ALG":"HS256"}`), token.Header{}, token.ResultAlgorithmNotAllowed},
		{"crit", b64(`{"alg":"HS256","crit":["exp"],"exp":1}`), token.Header{}, token.ResultMalformedToken},
		{"b64", b64(`{"alg":"HS256","b64":false}`), token.Header{}, token.ResultMalformedToken},
		{"alg number", b64(`{"alg":256}`), token.Header{}, token.ResultMalformedToken},
		{"kid number", b64(`{"alg":"HS256","kid":1}`), token.Header{}, token.ResultMalformedToken},
		{"alg null", b64(`{"alg":null}`), token.Header{}, token.ResultMalformedToken},
		{"kid null", b64(`{"alg":"HS256","kid":null}`), token.Header{}, token.ResultMalformedToken},
		{"typ null", b64(`{"alg":"HS256","typ":null}`), token.Header{}, token.ResultMalformedToken},
		{"typ object", b64(`{"alg":"HS256","typ":{}}`), token.Header{}, token.ResultMalformedToken},
		{"not JSON", b64(`alg=HS256`), token.Header{}, token.ResultMalformedToken},
		{"array", b64(`["HS256"]`), token.Header{}, token.ResultMalformedToken},
		{"string", b64(`"HS256"`), token.Header{}, token.ResultMalformedToken},
		{"trailing garbage", b64(`{"alg":"HS256"}x`), token.Header{}, token.ResultMalformedToken},
		{"bad base64", "eyJ!bGciOiJIUzI1NiJ9", token.Header{}, token.ResultMalformedToken},
		{"padded base64", b64(`{"alg":"HS256"}`) + "=", token.Header{}, token.ResultMalformedToken},
		{"std alphabet", "eyJhbGciOiJIUzI1NiIsIngiOiI+In0", token.Header{}, token.ResultMalformedToken},
		{"empty", "", token.Header{}, token.ResultMalformedToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := token.ParseHeader(tt.seg)
			if tt.result == token.ResultOK {
				if err != nil || h != tt.want {
					t.Errorf("ParseHeader = %+v, %v; want %+v", h, err, tt.want)
				}
				return
			}
			var r token.Result
			if !errors.As(err, &r) || r != tt.result {
				t.Errorf("ParseHeader err = %v, want %v", err, tt.result)
			}
		})
	}
}

// TestDecodeJSONWebToken decodes a token laid out exactly as npm
// jsonwebtoken's jwt.sign(data, 'topsecret', {expiresIn: 300, audience})
// writes it in Sirv's example script.
func TestDecodeJSONWebToken(t *testing.T) {
	tok := handToken(`{"alg":"HS256","typ":"JWT"}`,
		`{"args":{"text":"Hello"},"iat":1700000000,"exp":1700000300,"aud":"/example-image.jpg"}`,
		[]byte("topsecret"))
	d, err := token.Decode(tok)
	if err != nil {
		t.Fatal(err)
	}
	if d.Header != (token.Header{Alg: "HS256", Typ: "JWT"}) {
		t.Errorf("header = %+v", d.Header)
	}
	want := token.Claims{Audience: []string{"/example-image.jpg"}, IssuedAt: time.Unix(1700000000, 0),
		ExpiresAt: time.Unix(1700000300, 0), Args: map[string]any{"text": "Hello"}}
	if !reflect.DeepEqual(d.Claims.Audience, want.Audience) || !d.Claims.ExpiresAt.Equal(want.ExpiresAt) ||
		!d.Claims.IssuedAt.Equal(want.IssuedAt) || !d.Claims.NotBefore.IsZero() || !reflect.DeepEqual(d.Claims.Args, want.Args) {
		t.Errorf("claims = %+v", d.Claims)
	}
	if !strings.HasPrefix(string(d.Payload), `{"args"`) {
		t.Errorf("payload = %s", d.Payload)
	}
}

func TestDecodeErrors(t *testing.T) {
	hdr := b64(`{"alg":"HS256","typ":"JWT"}`)
	tests := []struct {
		name        string
		tok         string
		want        token.Result
		wantDecoded bool // the header and payload are returned with the error
	}{
		{"empty", "", token.ResultMalformedToken, false},
		{"two parts", hdr + "." + b64(`{}`), token.ResultMalformedToken, false},
		{"bad header", "x." + b64(`{}`) + ".AA", token.ResultMalformedToken, false},
		{"alg missing", b64(`{"typ":"JWT"}`) + "." + b64(`{"exp":1,"aud":"/"}`) + ".AA", token.ResultAlgorithmNotAllowed, false},
		{"bad payload base64", hdr + ".e30=.AA", token.ResultMalformedToken, false},
		{"payload not an object", hdr + "." + b64(`[]`) + ".AA", token.ResultInvalidPayload, true},
		{"signature with unused bits set", hdr + "." + b64(`{"exp":1,"aud":"/"}`) + ".AB", token.ResultMalformedToken, false},
		{"header with unused bits set", withUnusedBit(b64(`{"alg":"HS256" }`)) + "." + b64(`{"exp":1,"aud":"/"}`) + ".AA", token.ResultMalformedToken, false},
		{"payload with unused bits set", hdr + "." + withUnusedBit(b64(`{"exp":1,"aud":"/" }`)) + ".AA", token.ResultMalformedToken, false},
		{"payload without aud", hdr + "." + b64(`{"exp":1}`) + ".AA", token.ResultInvalidPayload, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := token.Decode(tt.tok)
			var r token.Result
			if !errors.As(err, &r) || r != tt.want {
				t.Fatalf("Decode err = %v, want %v", err, tt.want)
			}
			if (d != nil) != tt.wantDecoded {
				t.Errorf("Decoded = %+v, want non-nil %v", d, tt.wantDecoded)
			}
			if d != nil && (d.Header.Alg != "HS256" || len(d.Payload) == 0) {
				t.Errorf("partial Decoded = %+v", d)
			}
		})
	}
	// Decode does not check the signature.
	tok := handToken(`{"alg":"HS256"}`, `{"exp":1,"aud":"/"}`, []byte("one"))
	other := handToken(`{"alg":"HS256"}`, `{"exp":1,"aud":"/"}`, []byte("two"))
	if tok == other {
		t.Fatal("same signature with different keys")
	}
	if _, err := token.Decode(tok[:strings.LastIndexByte(tok, '.')] + other[strings.LastIndexByte(other, '.'):]); err != nil {
		t.Errorf("Decode checked the signature: %v", err)
	}
}

// withUnusedBit sets the lowest unused bit of a base64url segment whose
// length is not a multiple of 4: another spelling of the same bytes.
func withUnusedBit(seg string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(seg)%4 == 0 {
		panic("no unused bits in " + seg)
	}
	v := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[v|1])
}

// TestSplitOneSpelling: of the four spellings of one HS256 signature
// (43 characters, 2 unused bits), only the canonical one is accepted.
func TestSplitOneSpelling(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	tok := handToken(`{"alg":"HS256","typ":"JWT"}`, `{"aud":"/a","exp":4102444800}`, []byte("secret"))
	i := strings.LastIndexByte(tok, '.')
	sig := tok[i+1:]
	v := strings.IndexByte(alphabet, sig[len(sig)-1])
	if len(sig) != 43 || v&3 != 0 {
		t.Fatalf("signature %q is not canonical", sig)
	}
	for bits := range 4 {
		spelling := tok[:len(tok)-1] + string(alphabet[v|bits])
		_, _, _, err := token.Split(spelling)
		if (err == nil) != (bits == 0) {
			t.Errorf("unused bits %02b: Split error %v", bits, err)
		}
	}
}
