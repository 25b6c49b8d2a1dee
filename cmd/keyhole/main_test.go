package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/image/webp"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/transform/vips"
)

func TestMain(m *testing.M) {
	vips.Startup(vips.StartupConfig{})
	code := m.Run()
	vips.Shutdown()
	os.Exit(code)
}

// TestDemoCases serves every URL of the demo page and checks it returns
// what the page says it returns.
func TestDemoCases(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	d, err := newDemo(clock)
	if err != nil {
		t.Fatal(err)
	}
	hc := d.config()
	hc.Now = clock
	if hc.Engine, err = vips.New(vips.Config{}); err != nil {
		t.Fatal(err)
	}
	h, err := handler.New(hc)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, c := range d.cases() {
		t.Run(c.Title, func(t *testing.T) {
			res, err := srv.Client().Get(srv.URL + c.URL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != c.Status || res.Header.Get("X-Keyhole-Auth-Result") != c.Result {
				t.Fatalf("got %d %q, want %d %q; body %q", res.StatusCode, res.Header.Get("X-Keyhole-Auth-Result"), c.Status, c.Result, body)
			}
			if !c.Image {
				return
			}
			cfg, err := decodeConfig(res.Header.Get("Content-Type"), body)
			if err != nil {
				t.Fatalf("the image does not decode: %v", err)
			}
			if c.Group == "Locks" {
				// The URL's own parameters are ignored and reported; the
				// token's size stands.
				if res.Header.Get("X-Keyhole-Ignored-Params") == "" {
					t.Error("no X-Keyhole-Ignored-Params on a lock case")
				}
				if cfg.Width > 400 {
					t.Errorf("width %d: the URL widened a locked size", cfg.Width)
				}
				return
			}
			// The URL's w (or Sirv's scale.width) is the output width,
			// except where a lock ignores it or a frame adds to it.
			w := widthOf(c.URL)
			if sw, err := url.Parse(c.URL); err == nil && sw.Query().Get("scale.width") != "" {
				w, _ = strconv.Atoi(sw.Query().Get("scale.width"))
			}
			if strings.Contains(c.Title, "frame") {
				if cfg.Width <= w {
					t.Errorf("width %d with a frame, want more than %d", cfg.Width, w)
				}
				return
			}
			if w > 0 && c.Group != "Locks" && cfg.Width != w {
				t.Errorf("width %d, want %d", cfg.Width, w)
			}
		})
	}
	// The text in the token survives a text= in the URL, which is reported.
	for _, c := range d.cases() {
		if strings.Contains(c.URL, "text=removed") {
			res, err := srv.Client().Get(srv.URL + c.URL)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got := res.Header.Get("X-Keyhole-Ignored-Params"); got != "text" {
				t.Errorf("X-Keyhole-Ignored-Params = %q, want text", got)
			}
		}
	}
}

func decodeConfig(contentType string, b []byte) (image.Config, error) {
	if contentType == "image/webp" {
		return webp.DecodeConfig(bytes.NewReader(b))
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	return cfg, err
}

// widthOf returns the w= of a demo URL's query, or 0.
func widthOf(u string) int {
	_, q, _ := strings.Cut(u, "?")
	for _, kv := range strings.Split(q, "&") {
		if v, ok := strings.CutPrefix(kv, "w="); ok {
			n := 0
			for _, c := range v {
				n = n*10 + int(c-'0')
			}
			return n
		}
	}
	return 0
}

func writeConfig(t *testing.T, yaml string) (dir, name string) {
	t.Helper()
	dir = t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "files", "private"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "files", "private", "a.txt"), []byte("secret file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	name = filepath.Join(dir, "keyhole.yaml")
	if err := os.WriteFile(name, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, name
}

const testConfig = `
addr: 127.0.0.1:0
signing:
  admin_token: test-admin-token-0123456789abcdef-xyz
root: ./files
metrics_path: /metrics
leeway: 1s
open_files: -1
log_lines_per_second: 3
profiles:
  thumb:
    w: 300
    scale.option: fill
protections:
  - path: /private/
    type: jwt
    keys:
      - id: main
        secret: topsecret
      - id: next
        secret_base64: c2Vjb25kLXNlY3JldC1rZXktYnl0ZXMtMzItbG9uZyE
`

func TestLoadConfig(t *testing.T) {
	_, name := writeConfig(t, testConfig)
	c, err := loadConfig(name)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := c.handlerConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(hc.Protections) != 1 || len(hc.Protections[0].Keys) != 2 || hc.Leeway != time.Second {
		t.Fatalf("unexpected config %+v", hc)
	}
	if string(hc.Protections[0].Keys[1].Secret) != "second-secret-key-bytes-32-long!" {
		t.Errorf("secret_base64 decoded to the wrong bytes")
	}
	if hc.OpenFiles != -1 || hc.LogLinesPerSecond != 3 {
		t.Errorf("open_files %d, log_lines_per_second %d: want -1 and 3", hc.OpenFiles, hc.LogLinesPerSecond)
	}
	if hc.Profiles["thumb"]["w"] != "300" {
		t.Errorf("profile values are not strings: %v", hc.Profiles)
	}
	if !filepath.IsAbs(c.Root) {
		t.Errorf("root %q is not made absolute", c.Root)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown field", "root: x\nprotectoins: []\n", []string{"line 2", "protectoins"}},
		{"ill-typed field", "root: x\nleeway: soon\n", []string{"line 2", "soon"}},
		{"nested unknown field", "root: x\nprotections:\n  - path: /p/\n    kyes: []\n", []string{"line 4", "kyes"}},
		{"missing root", "addr: 127.0.0.1:0\n", []string{"root: is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, name := writeConfig(t, tt.yaml)
			_, err := loadConfig(name)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "main.") {
				t.Errorf("error %q names a Go type", err)
			}
		})
	}
	_, name := writeConfig(t, "root: x\nprotections:\n  - path: /p/\n    keys:\n      - id: a\n        secret: s\n        secret_base64: cw\n")
	if _, err := loadConfig(name); err == nil || !strings.Contains(err.Error(), "protections[0].keys[0] at line 5: set one of secret, secret_base64, secret_env and secret_file, not several") {
		t.Errorf("secret and secret_base64 together: err = %v", err)
	}
}

func TestSignAndInspect(t *testing.T) {
	_, name := writeConfig(t, testConfig)
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"sign", "-config", name, "-key", "main", "-path", "/private/a.txt", "-expires", "5m", "-args", `{"w":300}`, "-query", "h=100", "-base", "http://img.test"}, &out, &errb)
	if err != nil {
		t.Fatalf("sign: %v (%s)", err, errb.String())
	}
	u := strings.TrimSpace(out.String())
	if !strings.HasPrefix(u, "http://img.test/private/a.txt?h=100&jwt=") {
		t.Fatalf("signed URL %q", u)
	}
	out.Reset()
	if err := run(context.Background(), []string{"inspect", "-config", name, u}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"kid":"main"`, "aud:     /private/a.txt", "result:  ok", `"args":{"w":300}`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	err = run(context.Background(), []string{"inspect", "-config", name, "-path", "/private/b.txt", u}, &out, &errb)
	if exitCode(err, io.Discard) != 1 {
		t.Errorf("inspect of a refused token: err = %v, want exit status 1", err)
	}
	if !strings.Contains(out.String(), "result:  audience mismatch") {
		t.Errorf("inspect with another path:\n%s", out.String())
	}

	// Secure parameters are validated before a token is issued.
	err = run(context.Background(), []string{"sign", "-config", name, "-key", "main", "-path", "/private/a.txt", "-args", `{"w":99999}`}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "w=99999") {
		t.Errorf("sign with a bad secure parameter: err = %v", err)
	}
	err = run(context.Background(), []string{"sign", "-config", name, "-key", "nope", "-path", "/private/a.txt"}, &out, &errb)
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("sign with an unknown key: err = %v", err)
	}
}

func TestKeygen(t *testing.T) {
	var a, b bytes.Buffer
	if err := run(context.Background(), []string{"keygen"}, &a, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"keygen"}, &b, io.Discard); err != nil {
		t.Fatal(err)
	}
	if len(strings.TrimSpace(a.String())) != 43 || a.String() == b.String() {
		t.Errorf("keygen printed %q and %q", a.String(), b.String())
	}
}

// TestServe runs the real command on a loopback port chosen by the OS and
// stops it the way a signal would.
func TestServe(t *testing.T) {
	dir, name := writeConfig(t, testConfig)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, done := startServe(t, ctx, name)
	var out bytes.Buffer
	if err := run(ctx, []string{"sign", "-config", name, "-key", "next", "-path", "/private/a.txt", "-base", base}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url    string
		status int
		result string
	}{
		{strings.TrimSpace(out.String()), 200, "ok"},
		{base + "/private/a.txt", 403, "missing token"},
		{base + "/private/../a.txt", 400, "bad path"},
		{base + "/metrics", 200, ""},
	} {
		res, err := http.Get(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || res.Header.Get("X-Keyhole-Auth-Result") != tc.result {
			t.Errorf("%s: %d %q, want %d %q", tc.url, res.StatusCode, res.Header.Get("X-Keyhole-Auth-Result"), tc.status, tc.result)
		}
		if strings.Contains(string(body), dir) || strings.Contains(string(body), "topsecret") {
			t.Errorf("%s: body leaks a path or secret: %q", tc.url, body)
		}
		if tc.url == base+"/metrics" && !strings.Contains(string(body), `keyhole_auth_results_total{protection="/private/",result="ok"} 1`) {
			t.Errorf("metrics do not count the request:\n%s", body)
		}
	}
	// The signing endpoint mints a URL that opens the file.
	req, _ := http.NewRequest("POST", base+"/v2/files/jwt", strings.NewReader(`{"filename":"/private/a.txt","key":"main","expiresIn":60}`))
	req.Header.Set("Authorization", "Bearer test-admin-token-0123456789abcdef-xyz")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var signed struct{ URL string }
	json.NewDecoder(res.Body).Decode(&signed)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("signing endpoint: %d", res.StatusCode)
	}
	if res, err := http.Get(base + signed.URL); err != nil || res.StatusCode != 200 {
		t.Fatalf("signed URL %q: %v %v", signed.URL, res, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not shut down")
	}
}

// TestReloadProfilesOnHUP changes a profile in the config file, sends the
// process SIGHUP and waits for the reload to be counted before it checks
// the served image; a broken file is counted as a failed reload and
// changes nothing.
func TestReloadProfilesOnHUP(t *testing.T) {
	dir, name := writeConfig(t, testConfig)
	writeImage(t, filepath.Join(dir, "files", "pic.png"), 600, 400, "png")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, done := startServe(t, ctx, name)

	width := func() int {
		res, err := http.Get(base + "/pic.png?profile=thumb")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		cfg, _, err := image.DecodeConfig(res.Body)
		if err != nil {
			t.Fatalf("status %d: %v", res.StatusCode, err)
		}
		return cfg.Width
	}
	if w := width(); w != 300 {
		t.Fatalf("width %d before reload, want 300", w)
	}
	updated := strings.Replace(testConfig, "w: 300", "w: 120", 1)
	if err := os.WriteFile(name, []byte(updated), 0o644); err != nil {
		t.Fatal(err)
	}
	hup(t, base, "ok", 1)
	if w := width(); w != 120 {
		t.Errorf("width %d after the reload, want 120", w)
	}
	// A broken file changes nothing.
	if err := os.WriteFile(name, []byte("root: x\nprofiles: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hup(t, base, "failed", 1)
	if w := width(); w != 120 {
		t.Errorf("width %d after a bad reload, want 120", w)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// hup sends the process SIGHUP and waits (bounded) until
// keyhole_config_reloads_total{result} at base reaches want: the reload
// has then finished, whatever its result.
func hup(t *testing.T, base, result string, want int) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	series := fmt.Sprintf("keyhole_config_reloads_total{result=%q} %d\n", result, want)
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(body), series) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within 20 s", strings.TrimSpace(series))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startServe runs "keyhole serve -config name" until ctx ends and returns
// its base URL and the channel that receives run's result.
func startServe(t *testing.T, ctx context.Context, name string) (string, chan error) {
	t.Helper()
	return startServeArgs(t, ctx, io.Discard, "serve", "-config", name)
}

// startServeArgs runs the command line args (logs to stderr) until ctx
// ends, and returns the base URL it prints once ready.
func startServeArgs(t *testing.T, ctx context.Context, stderr io.Writer, args ...string) (string, chan error) {
	t.Helper()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, pw, stderr); pw.Close() }()
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if b, ok := strings.CutPrefix(lines.Text(), "keyhole: listening on "); ok {
			go io.Copy(io.Discard, pr)
			return b, done
		}
	}
	t.Fatalf("serve did not start: %v", <-done)
	return "", nil
}
