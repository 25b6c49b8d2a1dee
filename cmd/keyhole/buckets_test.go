package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/internal/seaweed"
	"github.com/keyhole-dev/keyhole/token"
)

// TestFileURLRootLinks: a file:// root is read through os.Root, so a
// symbolic link never leads out of it (a link to a file outside, an
// absolute link into a protected folder, a link to a folder are all
// 404), fileblob's *.attrs files are not found, and the tree is served
// as a plain directory root would serve it.
func TestFileURLRootLinks(t *testing.T) {
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	for _, d := range []string{"public", "private"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	outside := filepath.Join(dir, "outside.txt")
	files := map[string]string{
		outside: "outside the root\n",
		filepath.Join(tree, "public", "notes.txt"):       "public notes\n",
		filepath.Join(tree, "private", "photo.txt"):      "protected bytes\n",
		filepath.Join(tree, "public", "notes.txt.attrs"): `{"user.content_type":"text/plain"}`,
	}
	for name, body := range files {
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"public/passwd.txt": outside,                                     // out of the root
		"public/photo.txt":  filepath.Join(tree, "private", "photo.txt"), // absolute, into a protected folder
		"public/rel.txt":    "../private/photo.txt",                      // relative, into a protected folder
		"public/folder":     filepath.Join(tree, "private"),              // a folder
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(tree, name)); err != nil {
			t.Fatal(err)
		}
	}
	const secret = "a-secret-of-at-least-32-bytes-long!!"
	cfg := "addr: 127.0.0.1:0\nroot: file://" + tree + "\nprotections:\n  - path: /private/\n    keys: [{id: k1, secret: \"" + secret + "\"}]\n"
	name := filepath.Join(dir, "keyhole.yaml")
	if err := os.WriteFile(name, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	base, done := startServeArgs(t, ctx, &logs, "serve", "-config", name)
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	tok, err := token.Sign(token.KeyFromString("k1", secret), token.ForPath("/private/photo.txt", time.Now(), time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/public/notes.txt", 200, "public notes\n"},
		{"/private/photo.txt", 403, "missing token\n"},
		{"/private/photo.txt?jwt=" + tok, 200, "protected bytes\n"},
		{"/public/passwd.txt", 404, "not found\n"},
		{"/public/photo.txt", 404, "not found\n"},
		{"/public/folder/photo.txt", 404, "not found\n"},
		{"/public/notes.txt.attrs", 404, "not found\n"},
	} {
		res, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || string(body) != tc.body {
			t.Errorf("GET %s = %d %q, want %d %q", tc.path, res.StatusCode, body, tc.status, tc.body)
		}
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("an error was logged:\n%s", logs.String())
	}
}

// TestStoreOverlap: a variant store inside the served tree would publish
// protected variants; check refuses it, naming variant_store, for
// directories, file:// roots and buckets (without asking the bucket).
func TestStoreOverlap(t *testing.T) {
	dir := t.TempDir()
	files := filepath.Join(dir, "files")
	if err := os.MkdirAll(files, 0o755); err != nil {
		t.Fatal(err)
	}
	const s3 = "s3://site?endpoint=http://127.0.0.1:1&region=us-east-1&use_path_style=true"
	for _, tc := range []struct {
		root, store string
		refused     bool
	}{
		{"./files", "file://" + files + "/variants", true},
		{"./files", "file://" + dir + "/variants", false},
		{"file://" + files, "file://" + files + "/variants", true},
		{"file://" + files + "/public", "file://" + files, true},
		{s3, s3 + "&prefix=variants/", true},
		{s3 + "&prefix=public/", s3 + "&prefix=variants/", false},
		{s3, strings.Replace(s3, "//site", "//site-variants", 1), false},
	} {
		name := filepath.Join(dir, "keyhole.yaml")
		if err := os.WriteFile(name, []byte("root: "+tc.root+"\nvariant_store: "+tc.store+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		err := run(context.Background(), []string{"check", "-config", name}, io.Discard, &stderr)
		refused := strings.Contains(stderr.String(), "variant_store at line 2: overlaps root")
		if refused != tc.refused || (tc.refused && err == nil) {
			t.Errorf("root %s, store %s: refused %v (err %v), want %v\n%s", tc.root, tc.store, refused, err, tc.refused, stderr.String())
		}
	}
}

// TestBucketProbeAndReady: keyhole check -probe fails, naming root, on a
// bucket that does not answer (plain check does not ask it); /readyz of a
// running server says "source unavailable" while its bucket is down and
// "ready" again once it is back, without a restart.
func TestBucketProbeAndReady(t *testing.T) {
	for _, kv := range seaweed.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	// A loopback port with nothing listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "s3://site?endpoint=http://" + ln.Addr().String() + "&region=" + seaweed.Region + "&use_path_style=true"
	ln.Close()
	dir := t.TempDir()
	name := filepath.Join(dir, "keyhole.yaml")
	if err := os.WriteFile(name, []byte("addr: 127.0.0.1:0\nroot: "+dead+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"check", "-config", name}, io.Discard, &stderr); err != nil {
		t.Errorf("check without -probe asked the bucket: %v\n%s", err, stderr.String())
	}
	stderr.Reset()
	err = run(context.Background(), []string{"check", "-probe", "-config", name}, io.Discard, &stderr)
	if exitCode(err, io.Discard) != 1 || !strings.Contains(stderr.String(), "root at line 2: the bucket does not answer") {
		t.Errorf("check -probe of a dead bucket: %v\n%s", err, stderr.String())
	}

	srv := seaweed.Start(t)
	srv.CreateBucket(t, "site")
	if err := os.WriteFile(name, []byte("addr: 127.0.0.1:0\nroot: "+srv.URL("site")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if err := run(context.Background(), []string{"check", "-probe", "-config", name}, io.Discard, &stderr); err != nil {
		t.Errorf("check -probe of a live bucket: %v\n%s", err, stderr.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	base, done := startServeArgs(t, ctx, io.Discard, "serve", "-config", name)
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	ready := func(want int, body string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			res, err := http.Get(base + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == want && strings.TrimSpace(string(got)) == body {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz = %d %q, want %d %q", res.StatusCode, got, want, body)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	ready(200, "ready")
	srv.Stop()
	ready(503, "source unavailable")
	srv.Restart(t)
	ready(200, "ready")
}
