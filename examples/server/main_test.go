package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/token"
)

// TestServesAProtectedTransformedImage runs the example program on
// loopback ports chosen by the OS, opens a signed, resized image, and
// stops it as SIGTERM would.
func TestServesAProtectedTransformedImage(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "private"), 0o755)
	var pic bytes.Buffer
	if err := png.Encode(&pic, image.NewRGBA(image.Rect(0, 0, 640, 480))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "private", "pic.png"), pic.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	const secret = "an-example-secret-of-32-bytes-or-more"
	var logs bytes.Buffer
	lw := &syncWriter{w: &logs}
	logger := slog.New(slog.NewTextHandler(lw, nil))

	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan [2]string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, logger, dir, "127.0.0.1:0", "127.0.0.1:0", secret, func(img, met string) { addrs <- [2]string{img, met} })
	}()
	var a [2]string
	select {
	case a = <-addrs:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	base := "http://" + a[0] + "/img"

	s, err := token.NewSigner(token.KeyFromString("main", secret))
	if err != nil {
		t.Fatal(err)
	}
	c := token.ForPath("/private/pic.png", time.Now(), 5*time.Minute)
	c.Args = map[string]any{"w": 160}
	signed, err := s.SignURL("/private/pic.png", c, token.URLOptions{BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(signed)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("signed URL: %d %q", res.StatusCode, body)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(body))
	if err != nil || cfg.Width != 160 || cfg.Height != 120 {
		t.Fatalf("signed URL: %v, %dx%d, want 160x120", err, cfg.Width, cfg.Height)
	}

	res, err = http.Get(base + "/private/pic.png")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Errorf("no token: %d, want 403", res.StatusCode)
	}
	res, err = http.Get("http://" + a[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(metrics), `keyhole_auth_results_total{protection="/private/",result="ok"} 1`) {
		t.Errorf("metrics do not count the request:\n%.2000s", metrics)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	tok := signed[strings.Index(signed, "jwt=")+4:]
	if !strings.Contains(logs.String(), "jwt=sha256:") || strings.Contains(logs.String(), tok) {
		t.Errorf("the access log holds the token or no redacted URL:\n%s", logs.String())
	}
}

// TestREADMEShowsTheExamples: the README's Go snippets are the code of
// these example programs (between their README:…begin and README:…end
// lines, one tab less indented), so they compile as written.
func TestREADMEShowsTheExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ file, marker string }{
		{"main.go", "README"},
		{"main.go", "README:shutdown"},
		{"../mint/main.go", "README"},
	} {
		src, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		block := between(string(src), "// "+c.marker+":begin\n", "// "+c.marker+":end\n")
		if block == "" {
			t.Fatalf("%s has no %s block", c.file, c.marker)
		}
		lines := strings.Split(block, "\n")
		for i, l := range lines {
			if c.marker == "README" {
				lines[i] = strings.TrimPrefix(l, "\t")
			}
		}
		block = strings.TrimSpace(strings.Join(lines, "\n"))
		if !strings.Contains(string(readme), "```go\n"+block+"\n```") {
			t.Errorf("README.md does not show the %s block of %s as written:\n%s", c.marker, c.file, block)
		}
	}
}

func between(s, begin, end string) string {
	_, rest, ok := strings.Cut(s, begin)
	if !ok {
		return ""
	}
	block, _, ok := strings.Cut(rest, end)
	if !ok {
		return ""
	}
	return block
}

// syncWriter serialises writes from the server's goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
