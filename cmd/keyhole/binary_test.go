package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/token"
)

// TestBinary builds the real command and checks what only the process
// shows: exit statuses, the environment (KEYHOLE_CONFIG, KEYHOLE_ADDR,
// secret_env), a secret_file, health paths, and a SIGTERM drain.
func TestBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "keyhole")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// No addr: KEYHOLE_ADDR gives it. The health endpoint moves and
	// the readiness one is off.
	dir, good := writeConfig(t, `
root: ./files
health_path: /livez
ready_path: ""
protections:
  - path: /private/
    keys:
      - id: main
        secret_env: KEYHOLE_BINARY_SECRET
      - id: file
        secret_file: ./file.secret
`)
	const fileSecret = "a-secret-from-a-file-that-is-32-bytes"
	if err := os.WriteFile(filepath.Join(dir, "file.secret"), []byte(fileSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, bad := writeConfig(t, "root: ./files\nleeway: -5s\nprotections:\n  - path: /p/\n    type: jwtt\n")
	env := append(os.Environ(), "KEYHOLE_BINARY_SECRET=a-secret-from-the-environment-32-bytes")
	status := func(args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return 0, string(out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"version"}, 0, "libvips  8."},
		{[]string{"serve", "-h"}, 0, "Example:"},
		{[]string{"inspect", "-h"}, 0, "Exit status"},
		{[]string{"check", "-config", good}, 0, good + ": ok"},
		{[]string{"check", "-config", bad}, 1, "leeway at line 2"},
		{[]string{"check", "-config", bad}, 1, `protections[0].type at line 5: unknown type "jwtt"`},
		{[]string{"inspect", "-config", good, "e30.e30.c2ln"}, 1, "result:"},
		{[]string{"frobnicate"}, 2, "unknown command"},
	} {
		code, out := status(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("keyhole %s: exit %d, want %d with %q:\n%s", strings.Join(tc.args, " "), code, tc.code, tc.want, out)
		}
	}

	// KEYHOLE_CONFIG stands in for -config; SIGTERM drains and exits 0.
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(env, "KEYHOLE_CONFIG="+good, "KEYHOLE_ADDR=127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := ""
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if b, ok := strings.CutPrefix(lines.Text(), "keyhole: listening on "); ok {
			base = b
			go io.Copy(io.Discard, stdout)
			break
		}
	}
	if base == "" {
		t.Fatalf("serve did not start:\n%s", stderr.String())
	}
	if base == "http://"+defaultAddr {
		t.Errorf("listening on the default address: KEYHOLE_ADDR was ignored")
	}
	get := func(target string) (int, string) {
		t.Helper()
		res, err := http.Get(target)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	for p, want := range map[string]int{"/livez": 200, "/healthz": 404, "/readyz": 404} {
		if code, _ := get(base + p); code != want {
			t.Errorf("%s: %d, want %d", p, code, want)
		}
	}
	// A token of the key from the environment and one of the key from
	// the file open the file; one of another secret does not.
	for _, k := range []struct {
		key  token.Key
		want int
	}{
		{token.KeyFromString("main", "a-secret-from-the-environment-32-bytes"), 200},
		{token.KeyFromString("file", fileSecret), 200},
		{token.KeyFromString("file", fileSecret+"!"), 403},
	} {
		s, err := token.NewSigner(k.key)
		if err != nil {
			t.Fatal(err)
		}
		u, err := s.SignURL("/private/a.txt", token.ForPath("/private/", time.Now(), time.Hour), token.URLOptions{BaseURL: base})
		if err != nil {
			t.Fatal(err)
		}
		if code, body := get(u); code != k.want || (code == 200 && body != "secret file\n") {
			t.Errorf("key %s: %d %q, want %d", k.key.ID, code, body, k.want)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop after SIGTERM")
	}
	if !strings.Contains(stderr.String(), "msg=stopped") || strings.Contains(stderr.String(), "a-secret-from-the-environment") || strings.Contains(stderr.String(), fileSecret) {
		t.Errorf("stderr after SIGTERM:\n%s", stderr.String())
	}
}
