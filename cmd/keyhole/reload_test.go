package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/token"
)

// TestReloadLimitsWatermarksSigningOnHUP: limits, watermark folders and the
// signing endpoint's settings change with a SIGHUP, like keys do
// (TestReloadKeysOnHUP).
func TestReloadLimitsWatermarksSigningOnHUP(t *testing.T) {
	const secret = "first-secret-that-is-32-bytes-long!!"
	const admin = "test-admin-token-0123456789abcdef-xyz"
	cfg := func(maxWidth int, folder, maxExpires string) string {
		return fmt.Sprintf(`addr: 127.0.0.1:0
root: ./files
watermarks: [%s]
limits:
  max_output_width: %d
signing:
  admin_token: %s
  max_expires_in: %s
protections:
  - path: /private/
    keys:
      - id: k1
        secret: %s
`, folder, maxWidth, admin, maxExpires, secret)
	}
	dir, name := writeConfig(t, cfg(500, "/wm/", "1h"))
	writeImage(t, filepath.Join(dir, "files", "private", "img.jpg"), 800, 600, "jpeg")
	writeImage(t, filepath.Join(dir, "files", "wm", "logo.png"), 40, 20, "png")
	writeImage(t, filepath.Join(dir, "files", "wm2", "logo.png"), 40, 20, "png")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	base, done := startServeArgs(t, ctx, &logs, "serve", "-config", name)
	signer, err := token.NewSigner(token.KeyFromString("k1", secret))
	if err != nil {
		t.Fatal(err)
	}
	get := func(query string, args map[string]any) int {
		t.Helper()
		c := token.ForPath("/private/", time.Now(), time.Minute)
		c.Args = args
		u, err := signer.SignURL("/private/img.jpg", c, token.URLOptions{BaseURL: base})
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.Get(u + query)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	sign := func(expiresIn int) int {
		t.Helper()
		body := fmt.Sprintf(`{"filename":"/private/img.jpg","key":"k1","expiresIn":%d}`, expiresIn)
		req, _ := http.NewRequest("POST", base+"/v2/files/jwt", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+admin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	wm2 := map[string]any{"watermark": "/wm2/logo.png"}
	check := func(when string, want map[string]int) {
		t.Helper()
		got := map[string]int{
			"w=700":           get("&w=700", nil),
			"watermark /wm2/": get("", wm2),
			"sign 2h":         sign(7200),
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: %s got %d, want %d", when, k, got[k], w)
			}
		}
	}
	check("before the reload", map[string]int{"w=700": 400, "watermark /wm2/": 400, "sign 2h": 400})
	if err := os.WriteFile(name, []byte(cfg(1000, "/wm2/", "3h")), 0o644); err != nil {
		t.Fatal(err)
	}
	hup(t, base, "ok", 1)
	check("after the reload", map[string]int{"w=700": 200, "watermark /wm2/": 200, "sign 2h": 200})
	if strings.Contains(logs.String(), "needs a restart") {
		t.Errorf("a reloadable setting was reported as needing a restart:\n%s", logs.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// writeImage writes a w×h JPEG or PNG at name, creating its folder.
func writeImage(t *testing.T, name string, w, h int, format string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLogLevelAndFormatFlags: -log-level warn drops the info lines (the
// start-up line among them) and -log-format json writes one JSON object
// per line; a failed reload is still logged, as an error.
func TestLogLevelAndFormatFlags(t *testing.T) {
	_, name := writeConfig(t, "addr: 127.0.0.1:0\nroot: ./files\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	base, done := startServeArgs(t, ctx, &logs, "serve", "-config", name, "-log-level", "warn", "-log-format", "json")
	if err := os.WriteFile(name, []byte("root: ./files\nleeway: -5s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hup(t, base, "failed", 1)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	sawReload := false
	for _, l := range lines {
		if !strings.HasPrefix(l, "{") || !strings.HasSuffix(l, "}") {
			t.Errorf("not a JSON line: %q", l)
		}
		if strings.Contains(l, `"level":"INFO"`) || strings.Contains(l, `"level":"DEBUG"`) {
			t.Errorf("below -log-level warn: %q", l)
		}
		if strings.Contains(l, `"level":"ERROR"`) && strings.Contains(l, "leeway") {
			sawReload = true
		}
	}
	if !sawReload {
		t.Errorf("the failed reload is not logged as an error:\n%s", logs.String())
	}
}
