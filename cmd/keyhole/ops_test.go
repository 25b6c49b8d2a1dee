package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/token"
)

// TestConfigErrors: every config error names the YAML key path and line,
// in the file's vocabulary, with its cause and never a secret.
func TestConfigErrors(t *testing.T) {
	t.Setenv("KEYHOLE_TEST_UNSET", "")
	tests := []struct {
		name, yaml string
		want       string
	}{
		{"unknown type", "root: .\nprotections:\n  - path: /a/\n    keys: [{id: a, secret: s}]\n  - path: /b/\n    type: jwtt\n",
			`protections[1].type at line 6: unknown type "jwtt" (jwt, basic, strict-profile)`},
		{"wrong type names the field", "root: .\nlimits:\n  max_concurrent: two\n",
			`limits.max_concurrent at line 3: "two" is not an integer`},
		{"duration", "root: .\nleeway: soon\n", `leeway at line 2: "soon" is not a duration such as 30s or 5m`},
		{"unknown key", "root: .\nprotectoins: []\n", `protectoins at line 2: unknown key "protectoins"`},
		{"metrics path without /", "root: .\nmetrics_path: metrics\n", `metrics_path at line 2: "metrics" must start with /`},
		{"empty token param", "root: .\ntoken_param: \"\"\n", `token_param at line 2: must not be empty`},
		{"negative leeway", "root: .\nleeway: -5s\n", `leeway at line 2: must not be negative`},
		{"empty segment", "root: .\nprotections:\n  - path: /a//b/\n    keys: [{id: a, secret: s}]\n", `protections[0].path at line 3: "/a//b/" has an empty segment`},
		{"variable literal", "root: .\nprotections:\n  - path: /a/\n    keys:\n      - id: a\n        secret: ${KEYHOLE_SECRET}\n",
			`protections[0].keys[0].secret at line 6: looks like a variable, which keyhole does not expand: use secret_env: NAME or secret_file: PATH`},
		{"unset variable", "root: .\nprotections:\n  - path: /a/\n    keys:\n      - id: a\n        secret_env: KEYHOLE_TEST_UNSET\n",
			`protections[0].keys[0].secret_env at line 6: the environment variable KEYHOLE_TEST_UNSET is not set or empty`},
		{"missing secret file", "root: .\nprotections:\n  - path: /a/\n    keys:\n      - id: a\n        secret_file: nope.key\n",
			`nope.key: no such file or directory`},
		{"admin token variable", "root: .\nsigning:\n  admin_token: $ADMIN\n", `signing.admin_token at line 3: looks like a variable`},
		{"log format", "root: .\nlog_format: xml\n", `log_format at line 2: unknown format "xml" (text, json)`},
		{"missing root", "addr: 127.0.0.1:0\n", "root: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, name := writeConfig(t, tt.yaml)
			_, err := loadConfig(name)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "main.") || strings.Contains(err.Error(), "Config.") {
				t.Errorf("error %q names a Go type", err)
			}
		})
	}
}

// TestHandlerErrorsInYAMLTerms: the rules only handler.New applies come
// back with YAML key paths and lines.
func TestHandlerErrorsInYAMLTerms(t *testing.T) {
	_, name := writeConfig(t, "root: ./files\nprotections:\n  - path: /a/\n    keys: [{id: a, secret: s}]\n  - path: /a/\n    keys: [{id: b, secret: s}]\n")
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"check", "-config", name}, io.Discard, &stderr)
	if exitCode(err, io.Discard) != 1 || !strings.Contains(stderr.String(), `protections[1] at line 5: path "/a/" is guarded twice`) {
		t.Fatalf("check: %v\n%s", err, stderr.String())
	}
}

// TestCheck: keyhole check exits 0 on a good file and 1 with every error
// and its line on a bad one, including the cause of an unreadable root.
func TestCheck(t *testing.T) {
	_, good := writeConfig(t, testConfig)
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"check", "-config", good}, &out, &errb); err != nil {
		t.Fatalf("check of a good file: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), good+": ok") {
		t.Errorf("check printed %q", out.String())
	}
	_, bad := writeConfig(t, "root: ./missing\nleeway: -1s\nmetrics_path: m\n")
	errb.Reset()
	err := run(context.Background(), []string{"check", "-config", bad}, io.Discard, &errb)
	if exitCode(err, io.Discard) != 1 {
		t.Fatalf("check of a bad file: err = %v", err)
	}
	for _, want := range []string{"leeway at line 2", "metrics_path at line 3"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, errb.String())
		}
	}
	_, noRoot := writeConfig(t, "root: ./missing\n")
	errb.Reset()
	err = run(context.Background(), []string{"check", "-config", noRoot}, io.Discard, &errb)
	want := "root at line 1: cannot open the directory " + filepath.Join(filepath.Dir(noRoot), "missing") + ": no such file or directory"
	if exitCode(err, io.Discard) != 1 || !strings.Contains(errb.String(), want) {
		t.Errorf("check with a missing root: %v\n%s\nwant %q", err, errb.String(), want)
	}
}

// TestSecretsFromEnvAndFile: keys (and the admin token) come from the
// environment or a file; a token signed with the secret opens the file
// through the running server, and no log line holds the secret.
func TestSecretsFromEnvAndFile(t *testing.T) {
	const envSecret = "secret-from-the-environment-32-bytes!!"
	const fileSecret = "secret-from-a-file-that-is-32-bytes-long"
	t.Setenv("KEYHOLE_TEST_SECRET", envSecret)
	t.Setenv("KEYHOLE_TEST_ADMIN", "admin-token-from-env-0123456789abcdef")
	dir, name := writeConfig(t, `
addr: 127.0.0.1:0
root: ./files
access_log: true
protections:
  - path: /private/
    keys:
      - id: env
        secret_env: KEYHOLE_TEST_SECRET
      - id: file
        secret_file: keys/main.key
signing:
  admin_token_env: KEYHOLE_TEST_ADMIN
`)
	os.Mkdir(filepath.Join(dir, "keys"), 0o700)
	if err := os.WriteFile(filepath.Join(dir, "keys", "main.key"), []byte(fileSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, done := startServeArgs(t, ctx, &logs, "serve", "-config", name)
	for _, k := range []token.Key{token.KeyFromString("env", envSecret), token.KeyFromString("file", fileSecret)} {
		s, _ := token.NewSigner(k)
		u, err := s.SignURL("/private/a.txt", token.ForPath("/private/a.txt", time.Now(), time.Minute), token.URLOptions{BaseURL: base})
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("key %s: %d, want 200", k.ID, res.StatusCode)
		}
	}
	req, _ := http.NewRequest("POST", base+"/v2/files/jwt", strings.NewReader(`{"filename":"/private/a.txt","key":"env","expiresIn":60}`))
	req.Header.Set("Authorization", "Bearer admin-token-from-env-0123456789abcdef")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("signing endpoint with the admin token from the environment: %d", res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{envSecret, fileSecret, "admin-token-from-env"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds a secret:\n%s", logs.String())
		}
	}
	if !strings.Contains(logs.String(), "jwt=sha256:") || strings.Contains(logs.String(), "jwt=eyJ") {
		t.Errorf("the access log does not redact the token:\n%s", logs.String())
	}
}

// TestHealthMetricsAddrAndDrain: /healthz and /readyz answer on both
// listeners; metrics_addr moves /metrics off the file listener (which,
// with deny_unprotected, refuses it); the JSON log has the start-up line.
func TestHealthMetricsAddrAndDrain(t *testing.T) {
	_, name := writeConfig(t, `
addr: 127.0.0.1:0
metrics_addr: 127.0.0.1:0
root: ./files
deny_unprotected: true
log_format: json
protections:
  - path: /private/
    keys: [{id: a, secret: a-secret-that-is-32-bytes-long-ok}]
`)
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, done := startServeArgs(t, ctx, &logs, "serve", "-config", name)
	metricsURL := ""
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"msg":"listening"`) {
			_, rest, _ := strings.Cut(line, `"metrics_url":"`)
			metricsURL, _, _ = strings.Cut(rest, `"`)
		}
	}
	if metricsURL == "" {
		t.Fatalf("no JSON start-up line with metrics_url:\n%s", logs.String())
	}
	for _, tc := range []struct {
		url    string
		status int
		body   string
	}{
		{base + "/healthz", 200, "ok\n"},
		{base + "/readyz", 200, "ready\n"},
		{metricsURL + "/healthz", 200, "ok\n"},
		{metricsURL + "/readyz", 200, "ready\n"},
		{metricsURL + "/metrics", 200, "keyhole_requests_total"},
		{base + "/metrics", 403, "unprotected path denied"},
	} {
		res, err := http.Get(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || !strings.Contains(string(body), tc.body) {
			t.Errorf("%s: %d %.80q, want %d %q", tc.url, res.StatusCode, body, tc.status, tc.body)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"msg":"draining`, `"msg":"stopped"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s:\n%s", want, logs.String())
		}
	}
}

// TestReadyzDrains: while serve drains, /readyz answers 503 so a load
// balancer stops sending first.
func TestReadyzDrains(t *testing.T) {
	st := &serveState{}
	rt := &router{state: st, readyPath: "/readyz", healthPath: "/healthz", files: http.NotFoundHandler()}
	for _, tc := range []struct {
		ready  bool
		status int
	}{{true, 200}, {false, 503}} {
		st.ready.Store(tc.ready)
		rec := httptest.NewRecorder()
		rt.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		if rec.Code != tc.status {
			t.Errorf("ready=%v: /readyz %d, want %d", tc.ready, rec.Code, tc.status)
		}
	}
}

// TestReloadKeysOnHUP: a key added to the file is accepted after SIGHUP,
// a removed key is refused, and a changed addr is reported as needing a
// restart.
func TestReloadKeysOnHUP(t *testing.T) {
	const one = "first-secret-that-is-32-bytes-long!!"
	const two = "second-secret-that-is-also-32-bytes!"
	// cfg writes a config with the keys given as id, secret pairs.
	cfg := func(addr string, keys ...string) string {
		var b strings.Builder
		b.WriteString("addr: " + addr + "\nroot: ./files\nprotections:\n  - path: /private/\n    keys:\n")
		for i := 0; i+1 < len(keys); i += 2 {
			b.WriteString("      - id: " + keys[i] + "\n        secret_base64: " + base64.RawURLEncoding.EncodeToString([]byte(keys[i+1])) + "\n")
		}
		return b.String()
	}
	_, name := writeConfig(t, cfg("127.0.0.1:0", "k1", one))
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, done := startServeArgs(t, ctx, &logs, "serve", "-config", name)
	status := func(id, secret string) int {
		s, _ := token.NewSigner(token.KeyFromString(id, secret))
		u, _ := s.SignURL("/private/a.txt", token.ForPath("/private/a.txt", time.Now(), time.Minute), token.URLOptions{BaseURL: base})
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if s := status("k2", two); s != 403 {
		t.Fatalf("unknown key before the reload: %d", s)
	}
	os.WriteFile(name, []byte(cfg("127.0.0.1:1", "k1", one, "k2", two)), 0o644)
	hup(t, base, "ok", 1)
	if s := status("k2", two); s != 200 {
		t.Errorf("key added by the reload: %d, want 200", s)
	}
	if !strings.Contains(logs.String(), "needs a restart") || !strings.Contains(logs.String(), "field=addr") {
		t.Errorf("a changed addr is not reported:\n%s", logs.String())
	}
	if s := status("k1", one); s != 200 {
		t.Errorf("the old key beside the new one: %d, want 200", s)
	}
	os.WriteFile(name, []byte(cfg("127.0.0.1:1", "k2", two)), 0o644)
	hup(t, base, "ok", 2)
	if s := status("k1", one); s != 403 {
		t.Errorf("key removed by the reload: %d, want 403", s)
	}
	os.WriteFile(name, []byte("root: ./files\nprotections:\n  - path: /private/\n    type: jwtt\n"), 0o644)
	hup(t, base, "failed", 1)
	if s := status("k2", two); s != 200 {
		t.Errorf("after an invalid file: %d, want the last good config's 200", s)
	}
	if !strings.Contains(logs.String(), "config=keyhole.yaml") || !strings.Contains(logs.String(), `protections[0].type at line 4`) {
		t.Errorf("the failed reload's log line lacks the file's name or the reason:\n%s", logs.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestHelpAndVersion: every command's -h describes it with an example and
// exits 0; version prints the Go and libvips versions.
func TestHelpAndVersion(t *testing.T) {
	for _, cmd := range []string{"serve", "check", "keygen", "sign", "inspect", "version"} {
		t.Run(cmd, func(t *testing.T) {
			var errb bytes.Buffer
			err := run(context.Background(), []string{cmd, "-h"}, io.Discard, &errb)
			if !errors.Is(err, flag.ErrHelp) || exitCode(err, io.Discard) != 0 {
				t.Errorf("%s -h: err = %v", cmd, err)
			}
			if !strings.Contains(errb.String(), "Usage: keyhole "+cmd) || !strings.Contains(errb.String(), "Example:") {
				t.Errorf("%s -h:\n%s", cmd, errb.String())
			}
		})
	}
	if code := exitCode(run(context.Background(), nil, io.Discard, io.Discard), io.Discard); code != 2 {
		t.Errorf("no command: exit status %d, want 2", code)
	}
	if code := exitCode(run(context.Background(), []string{"serve", "-nope"}, io.Discard, io.Discard), io.Discard); code != 2 {
		t.Errorf("unknown flag: exit status %d, want 2", code)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"keyhole ", "go       go1.", "libvips  8."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("version lacks %q:\n%s", want, out.String())
		}
	}
}

// TestInspect: refusals exit 1, a folder audience is explained, the header
// is printed as sent, and control characters from a token are escaped.
func TestInspect(t *testing.T) {
	_, name := writeConfig(t, testConfig)
	key := token.KeyFromString("main", "topsecret")
	sign := func(c *token.Claims) string {
		tok, err := token.Sign(key, c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	inspect := func(args ...string) (string, int) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"inspect", "-config", name}, args...), &out, io.Discard)
		return out.String(), exitCode(err, io.Discard)
	}
	folder := sign(token.ForPath("/private/", time.Now(), time.Minute))
	out, code := inspect(folder)
	if code != 0 || !strings.Contains(out, "path:    any file under /private/ (the audience is a folder)") || !strings.Contains(out, "result:  ok") {
		t.Errorf("folder audience: exit %d\n%s", code, out)
	}
	expired := sign(token.ForPath("/private/a.txt", time.Now().Add(-time.Hour), time.Minute))
	if out, code := inspect(expired); code != 1 || !strings.Contains(out, "result:  expired") {
		t.Errorf("expired token: exit %d\n%s", code, out)
	}
	// A hand-made header without kid, with a terminal escape in typ.
	header := base64.RawURLEncoding.EncodeToString([]byte("{\"alg\":\"HS256\",\"typ\":\"\x1b[31mJWT\"}"))
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"aud":"/private/\u001b]0;owned\u0007","exp":4102444800}`))
	out, _ = inspect(header + "." + payload + ".c2ln")
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("inspect printed raw control characters:\n%q", out)
	}
	if !strings.Contains(out, `header:  {"alg":"HS256","typ":"\u001b[31mJWT"}`) || strings.Contains(out, "kid") {
		t.Errorf("the header is not printed as sent:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
