package e2e_test

import (
	"bytes"
	"context"
	"image"
	_ "image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/transform"
	"github.com/keyhole-dev/keyhole/transform/vips"
)

// TestIssue22SirvURLs sends Sirv URLs through the handler and the real
// engine: the issue's colortone=texas&frame.style=mirror renders both (a
// frame makes the output larger, the tone changes the pixels), and a
// Sirv option Keyhole does not render is a 400 naming it, never a 200
// without it.
func TestIssue22SirvURLs(t *testing.T) {
	files := fstest.MapFS{"public/a.jpg": {Data: photoJPEG(t, 800, 600)}}
	engine, err := vips.New(vips.Config{Limits: transform.Limits{}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := handler.New(handler.Config{Files: files, Engine: engine, VariantCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close(context.Background())
	fetch := func(query string) (int, string, image.Image) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/public/a.jpg?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return resp.StatusCode, string(body), nil
		}
		img, _, err := image.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return resp.StatusCode, "", img
	}
	_, _, plain := fetch("w=300")
	status, body, styled := fetch("w=300&colortone=texas&frame.style=mirror&utm_source=mail")
	if status != 200 {
		t.Fatalf("issue URL: %d %q", status, body)
	}
	// 5 % of the shorter side (225) is an 11 px frame on each side.
	if b := styled.Bounds(); b.Dx() != 322 || b.Dy() != 247 || plain.Bounds().Dx() != 300 {
		t.Errorf("framed output %v, plain %v", b, plain.Bounds())
	}
	r0, g0, b0 := meanRGB(plain, image.Rect(100, 80, 200, 140))
	r1, g1, b1 := meanRGB(styled, image.Rect(111, 91, 211, 151))
	if !(r1-b1 > r0-b0+10) || g1 == g0 {
		t.Errorf("colortone=texas did not warm the picture: plain %.0f,%.0f,%.0f, toned %.0f,%.0f,%.0f", r0, g0, b0, r1, g1, b1)
	}
	// Sirv's own example URL: colour names and text.size=40% parse; the
	// text options, token-only, are ignored from a query (and named in
	// X-Keyhole-Ignored-Params) rather than refused.
	resp, err := http.Get(srv.URL + "/public/a.jpg?w=300&colortone=texas&frame.style=mirror&text=%C2%A9Steve%20Wilson&text.size=40%25&text.color=white&text.position=northeast&text.font.family=Shadows%20Into%20Light%20Two&canvas.color=white")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Keyhole-Ignored-Params") != "text, text.color, text.font.family, text.position, text.size" {
		t.Errorf("Sirv's example URL: %d, ignored %q", resp.StatusCode, resp.Header.Get("X-Keyhole-Ignored-Params"))
	}
	for query, want := range map[string]string{
		"w=300&crop.type=face": "crop.type=face: not supported by Keyhole: face detection",
		"histogram=rgb":        "histogram=rgb: not supported by Keyhole",
		"gif.lossy=40":         "gif.lossy=40: not supported by Keyhole",
		"w=300&scale.width=40": "given more than once",
	} {
		if status, body, _ := fetch(query); status != 400 || !strings.Contains(body, want) {
			t.Errorf("%s: %d %q, want 400 with %q", query, status, body, want)
		}
	}
}

func meanRGB(img image.Image, r image.Rectangle) (float64, float64, float64) {
	var sr, sg, sb, n float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			sr, sg, sb, n = sr+float64(cr>>8), sg+float64(cg>>8), sb+float64(cb>>8), n+1
		}
	}
	return sr / n, sg / n, sb / n
}
