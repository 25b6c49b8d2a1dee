package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/token"
)

// TestRevokeOnHUP: a leaked URL is killed in one reload by a key's
// not_before, without rotating the key: URLs signed after the cut still
// open, the refusal says "revoked token", and removing not_before with
// another SIGHUP undoes it.
func TestRevokeOnHUP(t *testing.T) {
	const secret = "first-secret-that-is-32-bytes-long!!"
	cfg := func(notBefore string) string {
		s := "addr: 127.0.0.1:0\nroot: ./files\nprotections:\n  - path: /private/\n    keys:\n      - id: k1\n        secret: " + secret + "\n"
		if notBefore != "" {
			s += "        not_before: " + notBefore + "\n"
		}
		return s
	}
	_, name := writeConfig(t, cfg(""))
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, done := startServeArgs(t, ctx, &logs, "serve", "-config", name)

	s, _ := token.NewSigner(token.KeyFromString("k1", secret))
	signed := func(iat time.Time) string {
		u, err := s.SignURL("/private/a.txt", token.ForPath("/private/a.txt", iat, 3*time.Hour), token.URLOptions{BaseURL: base})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	get := func(u string) (int, string) {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("X-Keyhole-Auth-Result")
	}
	leaked := signed(time.Now().Add(-time.Hour))
	if code, res := get(leaked); code != 200 {
		t.Fatalf("leaked URL before the reload: %d %s", code, res)
	}

	cut := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	os.WriteFile(name, []byte(cfg(cut)), 0o644)
	hup(t, base, "ok", 1)
	if code, res := get(leaked); code != 403 || res != "revoked token" {
		t.Errorf("leaked URL after the reload: %d %q, want 403 \"revoked token\"", code, res)
	}
	if code, res := get(signed(time.Now())); code != 200 {
		t.Errorf("URL signed after the cut: %d %q, want 200", code, res)
	}

	os.WriteFile(name, []byte(cfg("")), 0o644)
	hup(t, base, "ok", 2)
	if code, res := get(leaked); code != 200 {
		t.Errorf("leaked URL once not_before is removed: %d %q, want 200", code, res)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestNotBeforeInvalid: a not_before that is not an RFC 3339 time is a
// config error naming the key.
func TestNotBeforeInvalid(t *testing.T) {
	_, name := writeConfig(t, "root: ./files\nprotections:\n  - path: /private/\n    keys:\n      - id: k1\n        secret: first-secret-that-is-32-bytes-long!!\n        not_before: yesterday\n")
	var errb bytes.Buffer
	err := run(context.Background(), []string{"check", "-config", name}, io.Discard, &errb)
	if exitCode(err, io.Discard) != 1 || !strings.Contains(errb.String(), `protections[0].keys[0].not_before at line 7: "yesterday" is not a time such as 2027-01-01T00:00:00Z`) {
		t.Errorf("check of not_before: yesterday: %v\n%s", err, errb.String())
	}
	if strings.Contains(errb.String(), "first-secret") {
		t.Errorf("the error holds the secret:\n%s", errb.String())
	}
}

// TestSignRefusesARevokingKey: a key whose not_before is after now would
// sign tokens the server refuses as revoked, so keyhole sign says so and
// exits 1 instead of printing a dead URL.
func TestSignRefusesARevokingKey(t *testing.T) {
	later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	_, name := writeConfig(t, "root: ./files\nprotections:\n  - path: /private/\n    keys:\n      - id: k1\n        secret: first-secret-that-is-32-bytes-long!!\n        not_before: "+later+"\n")
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"sign", "-config", name, "-key", "k1", "-path", "/private/a.txt"}, &out, &errb)
	if exitCode(err, &errb) != 1 || !strings.Contains(errb.String(), "not_before "+later+", after now") || out.Len() != 0 {
		t.Errorf("sign with a key whose not_before is in an hour: %v, stdout %q\n%s", err, out.String(), errb.String())
	}
}

// TestLoginExpiresInvalid: a login's expires that is not a time is
// reported with its key path and line, like not_before.
func TestLoginExpiresInvalid(t *testing.T) {
	_, name := writeConfig(t, "root: ./files\nprotections:\n  - path: /members/\n    type: basic\n    logins:\n      - user: ann\n        password_hash: $2a$10$abcdefghijklmnopqrstuuJ3zYl0j8nN2bq4u8oQ2lVnSxg8Y0k6a\n        expires: next week\n")
	var errb bytes.Buffer
	err := run(context.Background(), []string{"check", "-config", name}, io.Discard, &errb)
	if exitCode(err, io.Discard) != 1 || !strings.Contains(errb.String(), `protections[0].logins[0].expires at line 8: "next week" is not a time such as 2027-01-01T00:00:00Z`) {
		t.Errorf("check of expires: next week: %v\n%s", err, errb.String())
	}
}
