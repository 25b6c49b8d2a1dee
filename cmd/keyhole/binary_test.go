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
)

// TestBinary builds the real command and checks what only the process
// shows: exit statuses, the environment, and a SIGTERM drain.
func TestBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "keyhole")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	_, good := writeConfig(t, `
addr: 127.0.0.1:0
root: ./files
protections:
  - path: /private/
    keys:
      - id: main
        secret_env: KEYHOLE_BINARY_SECRET
`)
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
	cmd.Env = append(env, "KEYHOLE_CONFIG="+good)
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
	for _, p := range []string{"/healthz", "/readyz"} {
		res, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", p, res.StatusCode)
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
	if !strings.Contains(stderr.String(), "msg=stopped") || strings.Contains(stderr.String(), "a-secret-from-the-environment") {
		t.Errorf("stderr after SIGTERM:\n%s", stderr.String())
	}
}
