package handler_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing/fstest"
	"time"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/token"
)

// ExampleNew mounts a handler under /files/ and opens a protected file
// with a signed URL.
func ExampleNew() {
	key := token.KeyFromString("2025-06", "a-secret-of-at-least-32-bytes-long")
	h, err := handler.New(handler.Config{
		Files: fstest.MapFS{
			"private/report.txt": {Data: []byte("quarterly numbers\n")},
			"public/hello.txt":   {Data: []byte("hello\n")},
		},
		Protections: []handler.Protection{
			{Name: "private", Path: "/private/", Keys: []token.Key{key}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/files/", http.StripPrefix("/files", h))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	signer, err := token.NewSigner(key)
	if err != nil {
		log.Fatal(err)
	}
	signed, err := signer.SignURL("/private/report.txt",
		token.ForPath("/private/report.txt", time.Now(), 5*time.Minute),
		token.URLOptions{BaseURL: srv.URL + "/files"})
	if err != nil {
		log.Fatal(err)
	}

	for _, u := range []string{
		signed,
		srv.URL + "/files/private/report.txt",
		srv.URL + "/files/public/hello.txt",
	} {
		res, err := http.Get(u)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Printf("%d %s: %q\n", res.StatusCode, res.Header.Get("X-Keyhole-Auth-Result"), body)
	}
	// Output:
	// 200 ok: "quarterly numbers\n"
	// 403 missing token: "missing token\n"
	// 200 public: "hello\n"
}

// ExampleDir serves a directory through os.Root: a symlink that leaves
// the directory is not found.
func ExampleDir() {
	base, err := os.MkdirTemp("", "keyhole-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(base)
	root := filepath.Join(base, "root")
	os.Mkdir(root, 0o755)
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("inside\n"), 0o644)
	os.WriteFile(filepath.Join(base, "secret.txt"), []byte("outside\n"), 0o644)
	os.Symlink("../secret.txt", filepath.Join(root, "escape.txt"))

	files, err := handler.Dir(root)
	if err != nil {
		log.Fatal(err)
	}
	h, err := handler.New(handler.Config{Files: files})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range []string{"/a.txt", "/escape.txt", "/../secret.txt"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "http://example.test"+p, nil))
		fmt.Printf("%s %d %q\n", p, rec.Code, rec.Body.String())
	}
	// Output:
	// /a.txt 200 "inside\n"
	// /escape.txt 404 "not found\n"
	// /../secret.txt 400 "bad path\n"
}

// ExampleHandler_SetProfiles swaps the named parameter sets at run time,
// as a configuration reload does.
func ExampleHandler_SetProfiles() {
	h, err := handler.New(handler.Config{
		Files:    fstest.MapFS{"a.jpg": {Data: []byte("\xff\xd8\xff")}},
		Profiles: map[string]map[string]string{"thumb": {"w": "100"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	err = h.SetProfiles(map[string]map[string]string{"thumb": {"w": "-5"}}, "")
	fmt.Println(err != nil)
	err = h.SetProfiles(map[string]map[string]string{"thumb": {"w": "200"}}, "")
	fmt.Println(err)
	// Output:
	// true
	// <nil>
}

// ExampleNewSigning mints a URL through the signing endpoint, as a back
// office would with Sirv's POST /v2/files/jwt.
func ExampleNewSigning() {
	h, err := handler.NewSigning(handler.SigningConfig{
		Keys:       []token.Key{token.KeyFromString("main", "a-secret-of-at-least-32-bytes-long")},
		AdminToken: "an-admin-token-of-at-least-32-bytes",
		BaseURL:    "https://img.example.com",
		Now:        func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		log.Fatal(err)
	}
	body := `{"filename": "/private/report.pdf", "key": "main", "expiresIn": 300, "insecureParams": {"dl": "report.pdf"}}`
	req := httptest.NewRequest("POST", "/v2/files/jwt", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer an-admin-token-of-at-least-32-bytes")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out struct{ URL, ExpiresAt string }
	json.NewDecoder(rec.Body).Decode(&out)
	fmt.Println(rec.Code, out.ExpiresAt)
	fmt.Println(out.URL[:strings.Index(out.URL, "jwt=")+4] + "…")
	// Output:
	// 200 2026-01-01T00:05:00Z
	// https://img.example.com/private/report.pdf?dl=report.pdf&jwt=…
}
