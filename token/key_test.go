package token_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/keyhole-dev/keyhole/token"
)

func TestKeyFromString(t *testing.T) {
	k := token.KeyFromString("k1", "topsecret")
	if k.ID != "k1" || string(k.Secret) != "topsecret" {
		t.Fatalf("KeyFromString = %q %q", k.ID, k.Secret)
	}
	// The secret is used exactly as given: no trimming, no decoding.
	k = token.KeyFromString("", " c2VjcmV0 ")
	if string(k.Secret) != " c2VjcmV0 " {
		t.Errorf("secret changed: %q", k.Secret)
	}
}

func TestKeyFromBase64(t *testing.T) {
	// 0xfb 0xff 0xbf encodes to "+/+/" (std) and "-_-_" (url), so the two
	// alphabets are told apart.
	tests := []struct {
		name    string
		in      string
		want    []byte
		wantErr bool
	}{
		{"std unpadded", "+/+/", []byte{0xfb, 0xff, 0xbf}, false},
		{"url unpadded", "-_-_", []byte{0xfb, 0xff, 0xbf}, false},
		{"std padded", "+w==", []byte{0xfb}, false},
		{"url padded", "-w==", []byte{0xfb}, false},
		{"std, one pad", "+/8=", []byte{0xfb, 0xff}, false},
		{"url, no pad needed", "_-8", []byte{0xff, 0xef}, false},
		{"text", "dG9wc2VjcmV0", []byte("topsecret"), false},
		{"surrounding space", "  dG9wc2VjcmV0\n", []byte("topsecret"), false},
		{"32 bytes", base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfe}, 32)), bytes.Repeat([]byte{0xfe}, 32), false},
		{"invalid character", "dG9w!2VjcmV0", nil, true},
		{"mixed alphabets", "+/-_", nil, true},
		{"inner space", "dG9w c2VjcmV0", nil, true},
		{"impossible length", "dG9wc", nil, true},
		{"dot", "dG9w.c2Vj", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := token.KeyFromBase64("k1", tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("KeyFromBase64(%q) = %x, want an error", tt.in, k.Secret)
				}
				if !strings.Contains(err.Error(), `"k1"`) {
					t.Errorf("error %q does not name the key", err)
				}
				if strings.Contains(err.Error(), tt.in) {
					t.Errorf("error %q contains the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("KeyFromBase64(%q): %v", tt.in, err)
			}
			if k.ID != "k1" || !bytes.Equal(k.Secret, tt.want) {
				t.Errorf("KeyFromBase64(%q) = %q %x, want k1 %x", tt.in, k.ID, k.Secret, tt.want)
			}
		})
	}
}

// TestKeyFromBase64Empty pins that an empty secret_base64 decodes without
// error to a key that Validate (and so NewSigner and verify.New) refuses.
func TestKeyFromBase64Empty(t *testing.T) {
	k, err := token.KeyFromBase64("k1", "")
	if err != nil {
		t.Fatal(err)
	}
	if k.Validate() == nil {
		t.Error("empty secret passes Validate")
	}
}

func TestGenerateSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 8 {
		s, err := token.GenerateSecret()
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 43 {
			t.Errorf("len(%q) = %d, want 43", s, len(s))
		}
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(raw) != 32 {
			t.Errorf("%q decodes to %d bytes, %v; want 32", s, len(raw), err)
		}
		k, err := token.KeyFromBase64("", s)
		if err != nil || !bytes.Equal(k.Secret, raw) {
			t.Errorf("KeyFromBase64(%q) = %x, %v", s, k.Secret, err)
		}
		if k.Weak() || token.KeyFromString("", s).Weak() {
			t.Errorf("generated secret %q is weak", s)
		}
		if seen[s] {
			t.Errorf("GenerateSecret repeated %q", s)
		}
		seen[s] = true
	}
}

func TestKeyWeak(t *testing.T) {
	for _, n := range []int{0, 1, 9, token.WeakSecretBytes - 1, token.WeakSecretBytes, 64} {
		k := token.Key{Secret: bytes.Repeat([]byte("x"), n)}
		if got, want := k.Weak(), n < token.WeakSecretBytes; got != want {
			t.Errorf("Weak() with %d bytes = %v, want %v", n, got, want)
		}
	}
	if token.WeakSecretBytes != 32 {
		t.Errorf("WeakSecretBytes = %d, want 32 (docs/behaviour.md, Tokens)", token.WeakSecretBytes)
	}
}

func TestKeyValidate(t *testing.T) {
	const secret = "hunter2-hunter2"
	tests := []struct {
		id, secret string
		ok         bool
	}{
		{"", secret, true},
		{"k1", secret, true},
		{"2024-01_rot.A~!#$%&'()*+,/:;<=>?@[]^`{|}", secret, true},
		{"k1", "", false},
		{"", "", false},
		{"k 1", secret, false},
		{`k"1`, secret, false},
		{`k\1`, secret, false},
		{"k\x001", secret, false},
		{"k\n", secret, false},
		{"k\x7f", secret, false},
		{"clé", secret, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q/%d", tt.id, len(tt.secret)), func(t *testing.T) {
			err := token.KeyFromString(tt.id, tt.secret).Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
}

// TestKeyNeverPrintsSecret formats keys, alone and nested, with every common
// verb and through slog's handlers, and looks for the secret in any of its
// usual spellings.
func TestKeyNeverPrintsSecret(t *testing.T) {
	const secret = "S3cr3t-V4lue-0123456789-abcdef-XYZ"
	k := token.KeyFromString("k1", secret)
	spellings := []string{
		secret,
		base64.StdEncoding.EncodeToString([]byte(secret)),
		base64.RawURLEncoding.EncodeToString([]byte(secret)),
		hex.EncodeToString([]byte(secret)),
		fmt.Sprint([]byte(secret)), // [83 51 ...]
		fmt.Sprint([]byte(secret))[1:20],
	}
	check := func(t *testing.T, what, out string) {
		t.Helper()
		for _, s := range spellings {
			if strings.Contains(out, s) {
				t.Errorf("%s leaks the secret (%q): %s", what, s, out)
			}
		}
		if !strings.Contains(out, "k1") {
			t.Errorf("%s does not show the key id: %s", what, out)
		}
	}

	type holder struct {
		Name string
		Key  token.Key
		Keys []token.Key
		Ptr  *token.Key
	}
	values := map[string]any{
		"Key":    k,
		"*Key":   &k,
		"[]Key":  []token.Key{k, k},
		"struct": holder{Name: "p", Key: k, Keys: []token.Key{k}, Ptr: &k},
		"map":    map[string]token.Key{"a": k},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%o", "%b", "%t", "%e"} {
			t.Run(name+"/"+verb, func(t *testing.T) {
				check(t, verb, fmt.Sprintf(verb, v))
			})
		}
		t.Run(name+"/json", func(t *testing.T) {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			check(t, "json.Marshal", string(b))
		})
	}
	if got := k.String(); got != "key(k1)" {
		t.Errorf("String() = %q, want key(k1)", got)
	}
	if got := k.GoString(); got != "key(k1)" {
		t.Errorf("GoString() = %q, want key(k1)", got)
	}
	if err := fmt.Errorf("sign with %v: %w", k, token.KeyFromString("k1", "").Validate()); strings.Contains(err.Error(), secret) {
		t.Errorf("error leaks the secret: %v", err)
	}

	for name, v := range values {
		for hname, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
			"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			t.Run("slog/"+hname+"/"+name, func(t *testing.T) {
				var buf bytes.Buffer
				log := slog.New(newHandler(&buf))
				log.Info("loaded", "key", v)
				log.Info("loaded", slog.Any("key", v), slog.Group("g", "key", v))
				log.With("key", v).Info("with")
				check(t, "slog "+hname, buf.String())
			})
		}
	}
}
