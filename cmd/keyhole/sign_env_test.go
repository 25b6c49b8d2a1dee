package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/token/verify"
)

// signCmd runs "keyhole sign" as main does: the error goes through
// exitCode, which prints it (or not) to the same stderr.
func signCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"sign"}, args...), &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

// TestSignRefusals: keyhole sign refuses relative paths, lifetimes over
// the signing endpoint's cap (the config's signing.max_expires_in, else
// 720h) and bad flags, with the status of a usage error (2) or a refusal
// (1), and prints each error exactly once.
func TestSignRefusals(t *testing.T) {
	_, capped := writeConfig(t, strings.Replace(testConfig, "signing:\n", "signing:\n  max_expires_in: 1h\n", 1))
	_, plain := writeConfig(t, strings.Replace(testConfig, "signing:\n  admin_token: test-admin-token-0123456789abcdef-xyz\n", "", 1))
	t.Setenv("H7_SIGN_SECRET", "env-secret-that-is-32-bytes-long!!!")
	for _, tc := range []struct {
		name string
		args []string
		code int
		once string // printed exactly once on stderr
	}{
		{"relative path", []string{"-config", plain, "-key", "main", "-path", "private/a.txt"}, 2, `-path "private/a.txt" is relative`},
		{"relative path, env key", []string{"-secret-env", "H7_SIGN_SECRET", "-path", "a.jpg"}, 2, `-path "a.jpg" is relative`},
		{"over max_expires_in", []string{"-config", capped, "-key", "main", "-path", "/private/a.txt", "-expires", "61m"}, 1, "-expires must be 1s..1h0m0s (signing.max_expires_in)"},
		{"over the default cap", []string{"-config", plain, "-key", "main", "-path", "/private/a.txt", "-expires", "721h"}, 1, "-expires must be 1s..720h0m0s (the default of every Keyhole signer)"},
		{"over the default cap, env key", []string{"-secret-env", "H7_SIGN_SECRET", "-path", "/a.jpg", "-expires", "10000h"}, 1, "-expires must be 1s..720h0m0s"},
		{"under a second", []string{"-config", plain, "-key", "main", "-path", "/private/a.txt", "-expires", "500ms"}, 1, "-expires must be 1s.."},
		{"negative", []string{"-config", plain, "-key", "main", "-path", "/private/a.txt", "-expires", "-5m"}, 1, "-expires must be 1s.."},
		{"unknown flag", []string{"-bogus"}, 2, "flag provided but not defined: -bogus"},
		{"bad duration", []string{"-expires", "soon"}, 2, `invalid value "soon" for flag -expires`},
		{"nothing to sign with", []string{"-path", "/a.jpg"}, 2, "sign needs -config FILE and -key ID, or -secret-env NAME"},
		{"config and env", []string{"-config", plain, "-secret-env", "H7_SIGN_SECRET", "-path", "/a.jpg"}, 2, "give -config or -secret-env/-secret-base64-env, not both"},
		{"unset variable", []string{"-secret-env", "H7_SIGN_UNSET", "-path", "/a.jpg"}, 1, "-secret-env: the environment variable H7_SIGN_UNSET is not set or empty"},
		{"variable not base64", []string{"-secret-base64-env", "H7_SIGN_SECRET", "-path", "/a.jpg"}, 1, "-secret-base64-env: H7_SIGN_SECRET is not valid base64"},
		{"stray argument", []string{"-secret-env", "H7_SIGN_SECRET", "/a.jpg"}, 2, "sign takes no arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := signCmd(t, tc.args...)
			if code != tc.code || out != "" {
				t.Errorf("exit %d, stdout %q; want exit %d and nothing", code, out, tc.code)
			}
			if n := strings.Count(errs, tc.once); n != 1 {
				t.Errorf("stderr holds %q %d times, want once:\n%s", tc.once, n, errs)
			}
			if strings.Contains(errs, "env-secret") {
				t.Errorf("stderr holds the secret:\n%s", errs)
			}
		})
	}
	// At the cap exactly, it signs.
	if out, errs, code := signCmd(t, "-config", capped, "-key", "main", "-path", "/private/a.txt", "-expires", "1h", "-base", "http://img.test"); code != 0 || !strings.HasPrefix(out, "http://img.test/private/a.txt?jwt=") {
		t.Errorf("-expires 1h with max_expires_in 1h: exit %d, %q, %s", code, out, errs)
	}
}

// TestSignSecretFromEnv: with -secret-env or -secret-base64-env keyhole
// sign needs no config; the URL it prints verifies with that key, carries
// the kid given by -key and iat, and has the default token parameter.
func TestSignSecretFromEnv(t *testing.T) {
	const secret = "env-secret-that-is-32-bytes-long!!!"
	t.Setenv("H7_SIGN_SECRET", secret)
	t.Setenv("H7_SIGN_SECRET_B64", base64.StdEncoding.EncodeToString([]byte(secret)))
	for _, tc := range []struct {
		name string
		args []string
		kid  string
	}{
		{"raw, kid", []string{"-secret-env", "H7_SIGN_SECRET", "-key", "main"}, "main"},
		{"raw, no kid", []string{"-secret-env", "H7_SIGN_SECRET"}, ""},
		{"base64", []string{"-secret-base64-env", "H7_SIGN_SECRET_B64", "-key", "b"}, "b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now().Add(-time.Second)
			out, errs, code := signCmd(t, append(tc.args, "-path", "/private/a.jpg", "-query", "w=300", "-base", "https://img.test")...)
			if code != 0 || errs != "" {
				t.Fatalf("exit %d: %s", code, errs)
			}
			u, err := url.Parse(strings.TrimSpace(out))
			if err != nil || u.Host != "img.test" || u.Path != "/private/a.jpg" || u.Query().Get("w") != "300" {
				t.Fatalf("URL %q: %v", out, err)
			}
			tok := u.Query().Get("jwt")
			v, err := verify.New(verify.Config{Keys: []token.Key{token.KeyFromString(tc.kid, secret)}})
			if err != nil {
				t.Fatal(err)
			}
			c, err := v.Verify(tok, "/private/a.jpg")
			if err != nil {
				t.Fatalf("the printed token does not verify: %v", err)
			}
			if c.IssuedAt.Before(before.Truncate(time.Second)) || c.ExpiresAt.Sub(c.IssuedAt) != 5*time.Minute {
				t.Errorf("iat %v, exp %v", c.IssuedAt, c.ExpiresAt)
			}
			h, _, _, _ := token.Split(tok)
			hdr, err := token.ParseHeader(h)
			if err != nil || hdr.KeyID != tc.kid {
				t.Errorf("kid %q, %v; want %q", hdr.KeyID, err, tc.kid)
			}
		})
	}
	// A short secret signs, with one warning.
	t.Setenv("H7_SIGN_SHORT", "short")
	out, errs, code := signCmd(t, "-secret-env", "H7_SIGN_SHORT", "-path", "/a.jpg")
	if code != 0 || out == "" || strings.Count(errs, "warning: the secret is 5 bytes") != 1 || strings.Contains(errs, "short\n") {
		t.Errorf("short secret: exit %d, %q, %q", code, out, errs)
	}
}
