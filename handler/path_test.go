package handler_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode/utf8"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/token"
)

// TestPathCorpus sends hostile and odd paths through a real server. Each
// row documents what Keyhole answers. Paths are sent as written (the Go
// client does not remove dot segments or re-escape).
func TestPathCorpus(t *testing.T) {
	e := newEnv(t, handler.Config{Protections: jwtProtections()})
	long := "/public/" + strings.Repeat("a", 1100)
	tests := []struct {
		name   string
		target string
		status int
		result string
	}{
		{"plain", "/public/a.txt", 200, "public"},
		{"dot-dot", "/public/../private/doc.txt", 400, "bad path"},
		{"dot-dot at the start", "/../etc/passwd", 400, "bad path"},
		{"encoded dot-dot", "/public/%2e%2e/private/doc.txt", 400, "bad path"},
		{"encoded dot-dot upper case", "/public/%2E%2E/private/doc.txt", 400, "bad path"},
		{"double-encoded dot-dot is a name", "/public/%252e%252e/private/doc.txt", 404, "public"},
		{"double-encoded dot-dot names a real folder", "/public/%252e%252e/a.txt", 200, "public"},
		{"dot segment", "/public/./a.txt", 400, "bad path"},
		{"encoded dot segment", "/public/%2e/a.txt", 400, "bad path"},
		{"backslash", "/public%5ca.txt", 400, "bad path"},
		{"backslash dot-dot", "/public/..%5c..%5cprivate/doc.txt", 400, "bad path"},
		{"NUL", "/public/a.txt%00.jpg", 400, "bad path"},
		{"control character", "/public/a%0a.txt", 400, "bad path"},
		{"DEL", "/public/a%7f.txt", 400, "bad path"},
		{"empty segment", "/public//a.txt", 400, "bad path"},
		{"empty segment encoded", "/public/%2fa.txt", 400, "bad path"},
		{"encoded slash is a slash", "/public%2fa.txt", 200, "public"},
		{"trailing slash", "/public/", 400, "bad path"},
		{"folder without slash", "/public", 404, "public"},
		{"root", "/", 404, "public"},
		{"mount point itself", "", 404, "public"},
		{"over-long path", long, 400, "bad path"},
		{"colon", "/public/a:b.txt", 400, "bad path"},
		{"drive letter", "/C:/public/a.txt", 400, "bad path"},
		{"invalid UTF-8", "/public/%ff.txt", 400, "bad path"},
		{"overlong UTF-8 slash", "/public/%c0%af..%c0%afprivate", 400, "bad path"},
		{"valid UTF-8", "/public/%C3%BC.txt", 200, "public"},
		{"dot-file", "/.env", 404, "public"},
		{"dot-folder", "/a/.git/config", 404, "public"},
		{"three dots is a name", "/public/.../a.txt", 404, "public"},
		{"missing", "/public/nope.txt", 404, "public"},
		{"bad path under a protection", "/private/../private/doc.txt", 400, "bad path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prot := handler.NoProtection
			var res *response
			e.counted(t, prot, tc.result, func() { res = e.get(t, tc.target) })
			res.expect(t, tc.status, tc.result)
			switch tc.status {
			case 400:
				if res.body != "bad path\n" {
					t.Errorf("body %q", res.body)
				}
			case 404:
				if res.body != "not found\n" {
					t.Errorf("body %q", res.body)
				}
			}
		})
	}
}

// TestMountPrefixSibling documents what http.StripPrefix does: a request
// for "/files-x/a.txt" does not start with "/files/" but does start with
// "/files", so it reaches the handler as "-x/a.txt", which CleanPath roots
// as "/-x/a.txt". Mount under "/files/" through a ServeMux (as the
// examples do) to avoid it.
func TestMountPrefixSibling(t *testing.T) {
	files := testFiles()
	files["-x/a.txt"] = &fstest.MapFile{Data: []byte("x")}
	e := newEnv(t, handler.Config{Files: files})
	e.get(t, "-x/a.txt").expect(t, 200, "public")
}

func TestDotFiles(t *testing.T) {
	e := newEnv(t, handler.Config{AllowDotFiles: true})
	res := e.get(t, "/.env")
	res.expect(t, 200, "public")
	if res.body != "DB_PASSWORD=hunter2\n" {
		t.Errorf("body %q", res.body)
	}
	e.get(t, "/a/.git/config").expect(t, 200, "public")

	// Hidden by default even when a token allows the folder.
	p := newEnv(t, handler.Config{Protections: []handler.Protection{{Name: "all", Path: "/", Keys: jwtProtections()[0].Keys}}})
	tok := p.sign(t, keyOne, claims("/", time.Hour))
	p.get(t, "/.env?jwt="+tok).expect(t, 404, "ok")
	p.get(t, "/a/.git/config?jwt="+tok).expect(t, 404, "ok")
	// Without a token the auth result comes first: 403, not 404.
	p.get(t, "/.env").expect(t, 403, "missing token")
}

// TestNotFoundOnlyAfterCheck: nobody learns whether a protected file exists
// without passing the protection.
func TestNotFoundOnlyAfterCheck(t *testing.T) {
	e := newEnv(t, handler.Config{Protections: jwtProtections()})
	tok := e.sign(t, keyOne, claims("/private/", time.Hour))
	for _, tc := range []struct {
		name, target string
		status       int
		result       string
	}{
		{"missing without token", "/private/nope.jpg", 403, "missing token"},
		{"existing without token", "/private/doc.txt", 403, "missing token"},
		{"missing with a bad token", "/private/nope.jpg?jwt=x", 403, "malformed token"},
		{"missing with a token for another file", "/private/nope.jpg?jwt=" + e.sign(t, keyOne, claims("/private/doc.txt", time.Hour)), 403, "audience mismatch"},
		{"missing with a valid token", "/private/nope.jpg?jwt=" + tok, 404, "ok"},
		{"folder with a valid token", "/private/dir?jwt=" + tok, 404, "ok"},
		{"folder slash with a valid token", "/private/dir/?jwt=" + tok, 400, "bad path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.get(t, tc.target)
			res.expect(t, tc.status, tc.result)
			if tc.status == 404 && res.body != "not found\n" {
				t.Errorf("body %q", res.body)
			}
		})
	}
}

// TestSymlinks serves a real directory through handler.Dir (os.Root).
// Decision: a symlink that stays inside the root is followed like a hard
// name (os.Root semantics); one that leaves the root is 404 and its
// target is never read.
func TestSymlinks(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{root, outside, filepath.Join(root, "sub")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "inside.txt"), "inside content\n")
	const secret = "OUTSIDE-SECRET-CONTENT"
	write(filepath.Join(outside, "secret.txt"), secret)
	links := map[string]string{
		"link-in":          "inside.txt",
		"sub/link-up":      "../inside.txt",
		"link-out-abs":     filepath.Join(outside, "secret.txt"),
		"link-out-rel":     "../outside/secret.txt",
		"sub/link-out-rel": "../../outside/secret.txt",
		"dir-out":          outside,
		"dangling":         "missing.txt",
		"loop":             "loop",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Skipf("symlinks unavailable: %v", err)
		}
	}
	fsys, err := handler.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, handler.Config{Files: fsys})
	e.forbid(base, secret)
	for _, tc := range []struct {
		target string
		status int
		body   string
	}{
		{"/inside.txt", 200, "inside content\n"},
		{"/link-in", 200, "inside content\n"},
		{"/sub/link-up", 200, "inside content\n"},
		{"/link-out-abs", 404, "not found\n"},
		{"/link-out-rel", 404, "not found\n"},
		{"/sub/link-out-rel", 404, "not found\n"},
		{"/dir-out/secret.txt", 404, "not found\n"},
		{"/dangling", 404, "not found\n"},
		{"/loop", 404, "not found\n"},
		{"/sub", 404, "not found\n"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			res := e.get(t, tc.target)
			res.expect(t, tc.status, "public")
			if res.body != tc.body {
				t.Errorf("body %q, want %q", res.body, tc.body)
			}
			if strings.Contains(res.body, secret) {
				t.Error("served a file outside the root")
			}
		})
	}
	if _, err := handler.Dir(filepath.Join(base, "nope")); err == nil {
		t.Error("Dir of a missing directory: no error")
	} else if strings.Contains(err.Error(), base) {
		t.Errorf("Dir error %q contains the path", err)
	}
}

func TestCleanPath(t *testing.T) {
	tests := []struct {
		in, want string // want "" means ErrBadPath
	}{
		{"", "/"},
		{"/", "/"},
		{"a.jpg", "/a.jpg"},
		{"/a.jpg", "/a.jpg"},
		{"/a/b/c.jpg", "/a/b/c.jpg"},
		{"/a b/ü.jpg", "/a b/ü.jpg"},
		{"/...", "/..."},
		{"/.env", "/.env"}, // dot-files are valid paths; the handler hides them
		{"/a/%2e%2e/b", "/a/%2e%2e/b"},
		{"/a/../b", ""},
		{"/..", ""},
		{"..", ""},
		{"/a/./b", ""},
		{"/.", ""},
		{"/a//b", ""},
		{"//a", ""},
		{"/a/", ""},
		{"/a\\b", ""},
		{"\\a", ""},
		{"/a\x00b", ""},
		{"/a\nb", ""},
		{"/a\x7fb", ""},
		{"/a:b", ""},
		{"C:/a", ""},
		{"/a\xffb", ""},
		{"/\xc0\xaf", ""},
		{"/" + strings.Repeat("x", 15), "/" + strings.Repeat("x", 15)},
		{"/" + strings.Repeat("x", 16), ""},
		{strings.Repeat("x", 15), "/" + strings.Repeat("x", 15)},
		{strings.Repeat("x", 16), ""}, // 17 bytes once rooted
	}
	for _, tc := range tests {
		got, err := token.CleanPath(tc.in, 16)
		if tc.want == "" {
			if !errors.Is(err, token.ErrBadPath) {
				t.Errorf("CleanPath(%q) = %q, %v; want ErrBadPath", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// FuzzCleanPath checks CleanPath's contract on arbitrary input: it never
// panics, and whatever it accepts is rooted, valid UTF-8, within the
// limit, free of "..", ".", empty segments, backslashes and NUL, and
// accepted unchanged when cleaned again.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/a.jpg", "/a/../b", "/a/%2e%2e/b", "/a\\b", "/a\x00b", "/a//b", "/a/", "/a:b", "/\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, max := range []int{16, 1024} {
			out, err := token.CleanPath(in, max)
			if err != nil {
				if !errors.Is(err, token.ErrBadPath) || out != "" {
					t.Fatalf("CleanPath(%q) = %q, %v", in, out, err)
				}
				continue
			}
			switch {
			case !strings.HasPrefix(out, "/"):
				t.Fatalf("CleanPath(%q) = %q: not rooted", in, out)
			case !utf8.ValidString(out):
				t.Fatalf("CleanPath(%q) = %q: invalid UTF-8", in, out)
			case len(out) > max:
				t.Fatalf("CleanPath(%q, %d) = %q: longer than the limit", in, max, out)
			case strings.ContainsAny(out, "\\\x00"):
				t.Fatalf("CleanPath(%q) = %q: backslash or NUL", in, out)
			}
			if out != "/" {
				for _, seg := range strings.Split(out[1:], "/") {
					if seg == "" || seg == "." || seg == ".." {
						t.Fatalf("CleanPath(%q) = %q: segment %q", in, out, seg)
					}
				}
			}
			again, err := token.CleanPath(out, max)
			if err != nil || again != out {
				t.Fatalf("CleanPath not idempotent: %q -> %q -> %q, %v", in, out, again, err)
			}
		}
	})
}

// TestWatermarkFolders: a watermark is read only from Config.Watermarks.
// One outside them, one that is missing and one that is not an image get
// the same answer, so a token cannot tell which files exist, and the
// holder of one folder's key cannot render another protection's files.
func TestWatermarkFolders(t *testing.T) {
	profiles := func(c *handler.Config) {
		c.Profiles["in"] = map[string]string{"watermark": "/private/dir/b.txt"} // inside, not an image
		c.Profiles["missing"] = map[string]string{"watermark": "/private/dir/nope.png"}
		c.Profiles["outside"] = map[string]string{"watermark": "/private/a.jpg"}
		c.Profiles["public"] = map[string]string{"watermark": "/public/other.jpg"}
	}
	tests := []struct {
		name       string
		watermarks []string
		profile    string
		ok         bool
	}{
		{"in a folder", []string{"/public/"}, "public", true},
		{"in the root folder", []string{"/"}, "outside", true},
		{"outside the folders", []string{"/public/", "/private/dir/"}, "outside", false},
		{"no folders", nil, "public", false},
		{"missing", []string{"/private/dir/"}, "missing", false},
		{"not an image", []string{"/private/dir/"}, "in", false},
	}
	var refused []string
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := engineEnv(t, &fakeEngine{}, profiles, func(c *handler.Config) { c.Watermarks = tc.watermarks })
			tok := e.sign(t, keyOne, &token.Claims{Audience: []string{"/private/"}, ExpiresAt: now.Add(time.Hour), Args: map[string]any{"profile": tc.profile}})
			res := e.get(t, "/private/a.jpg?jwt="+tok)
			switch {
			case tc.ok && (res.StatusCode != 200 || !strings.Contains(res.body, "watermark-bytes=")):
				t.Errorf("%d %q, want 200 with the watermark", res.StatusCode, res.body)
			case !tc.ok && res.StatusCode != 400:
				t.Errorf("%d %q, want 400", res.StatusCode, res.body)
			case !tc.ok:
				refused = append(refused, res.body)
			}
		})
	}
	if len(refused) != 4 {
		t.Errorf("%d refusals compared, want 4", len(refused))
	}
	for _, body := range refused {
		if body != refused[0] {
			t.Errorf("refusals differ: %q and %q", refused[0], body)
		}
	}
}

func TestConfigWatermarks(t *testing.T) {
	for _, folders := range [][]string{{"/wm"}, {"wm/"}, {"/a/../wm/"}, {"//"}, {"/wm//"}, {"/a:b/"}} {
		_, err := handler.New(handler.Config{Files: testFiles(), Watermarks: folders})
		if err == nil || !strings.Contains(err.Error(), "Config.Watermarks[0]") {
			t.Errorf("Watermarks %q: error %v, want one naming Config.Watermarks[0]", folders, err)
		}
	}
	if _, err := handler.New(handler.Config{Files: testFiles(), Watermarks: []string{"/", "/wm/", "/a/b/"}}); err != nil {
		t.Errorf("clean folders: %v", err)
	}
}
