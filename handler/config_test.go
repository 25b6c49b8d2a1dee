package handler_test

import (
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

// TestNewErrors: New refuses bad configuration with an error that names
// the field and never holds a secret.
func TestNewErrors(t *testing.T) {
	const secret = "do-not-print-this-secret-anywhere!!"
	key := token.KeyFromString("k", secret)
	files := testFiles()
	bcryptHash := "$2a$04$abcdefghijklmnopqrstuu5Gz1OtwP5N0b0cRsGtC9Z3O6l1cE0W6"
	tests := []struct {
		name string
		cfg  handler.Config
		want string
	}{
		{"no files", handler.Config{}, "Files"},
		{"relative protection path", handler.Config{Files: files, Protections: []handler.Protection{{Path: "private/", Keys: []token.Key{key}}}}, "Protections[0]"},
		{"protection path with ..", handler.Config{Files: files, Protections: []handler.Protection{{Path: "/a/../b/", Keys: []token.Key{key}}}}, "Protections[0]: path has a . or .. segment"},
		{"protection path with //", handler.Config{Files: files, Protections: []handler.Protection{{Path: "/a//", Keys: []token.Key{key}}}}, "Protections[0]: path has an empty segment"},
		{"protection path with a colon", handler.Config{Files: files, Protections: []handler.Protection{{Path: "/a:b/", Keys: []token.Key{key}}}}, "Protections[0]: path contains a colon"},
		{"unknown audience", handler.Config{Files: files, Protections: []handler.Protection{{Path: "/p/", Keys: []token.Key{key}, Audience: "suffix"}}}, "audience"},
		{"exact audience on basic", handler.Config{Files: files, Protections: []handler.Protection{{Path: "/p/", Kind: handler.KindBasic, Audience: handler.AudienceExact, Logins: []handler.Login{{User: "a", PasswordHash: bcryptHash}}}}}, "audience"},
		{"reserved name", handler.Config{Files: files, Protections: []handler.Protection{{Name: "none", Path: "/p/", Keys: []token.Key{key}}}}, "reserved"},
		{"jwt without keys", handler.Config{Files: files, Protections: []handler.Protection{{Path: "/p/"}}}, "key"},
		{"empty secret", handler.Config{Files: files, Protections: []handler.Protection{{Path: "/p/", Keys: []token.Key{{ID: "k"}}}}}, "Protections[0]"},
		{"duplicate kid", handler.Config{Files: files, Protections: []handler.Protection{{Path: "/p/", Keys: []token.Key{key, key}}}}, "Protections[0]"},
		{"guarded twice", handler.Config{Files: files, Protections: []handler.Protection{{Path: "/p/", Keys: []token.Key{key}}, {Path: "/p/", Keys: []token.Key{key}}}}, "twice"},
		{"unknown kind", handler.Config{Files: files, Protections: []handler.Protection{{Path: "/p/", Kind: "oauth"}}}, "kind"},
		{"basic without logins", handler.Config{Files: files, Protections: []handler.Protection{{Path: "/p/", Kind: handler.KindBasic}}}, "logins"},
		{"basic with six logins", handler.Config{Files: files, Protections: []handler.Protection{{Path: "/p/", Kind: handler.KindBasic, Logins: []handler.Login{
			{User: "a", PasswordHash: bcryptHash}, {User: "b", PasswordHash: bcryptHash}, {User: "c", PasswordHash: bcryptHash},
			{User: "d", PasswordHash: bcryptHash}, {User: "e", PasswordHash: bcryptHash}, {User: "f", PasswordHash: bcryptHash},
		}}}}, "logins"},
		{"plain-text password", handler.Config{Files: files, Protections: []handler.Protection{{Path: "/p/", Kind: handler.KindBasic, Logins: []handler.Login{{User: "a", PasswordHash: secret}}}}}, "bcrypt"},
		{"user with colon", handler.Config{Files: files, Protections: []handler.Protection{{Path: "/p/", Kind: handler.KindBasic, Logins: []handler.Login{{User: "a:b", PasswordHash: bcryptHash}}}}}, "user"},
		{"strict without profile", handler.Config{Files: files, Protections: []handler.Protection{{Path: "/p/", Kind: handler.KindStrictProfile}}}, "profile"},
		{"strict with an undefined profile", handler.Config{Files: files, Protections: []handler.Protection{{Path: "/p/", Kind: handler.KindStrictProfile, Profile: "x"}}}, "profile"},
		{"referrer with scheme", handler.Config{Files: files, Protections: []handler.Protection{{Path: "/p/", Keys: []token.Key{key}, Referrers: &handler.Referrers{Hosts: []string{"https://a.test"}}}}}, "referrers"},
		{"negative MaxPathBytes", handler.Config{Files: files, MaxPathBytes: -1}, "MaxPathBytes"},
		{"negative PublicMaxAge", handler.Config{Files: files, PublicMaxAge: -time.Second}, "PublicMaxAge"},
		{"negative limit", handler.Config{Files: files, Limits: transform.Limits{MaxOutputWidth: -1}}, "MaxOutputWidth"},
		{"negative MaxConcurrent", handler.Config{Files: files, MaxConcurrent: -1}, "MaxConcurrent"},
		{"invalid profile", handler.Config{Files: files, Profiles: map[string]map[string]string{"p": {"w": "wide"}}}, "profile"},
		{"undefined default profile", handler.Config{Files: files, Engine: &fakeEngine{}, DefaultProfile: "x"}, "default profile"},
		{"default profile without engine", handler.Config{Files: files, DefaultProfile: "x", Profiles: map[string]map[string]string{"x": {"w": "10"}}}, "Engine"},
		{"strict profile without engine", handler.Config{Files: files, Profiles: map[string]map[string]string{"x": {"w": "10"}},
			Protections: []handler.Protection{{Path: "/s/", Kind: handler.KindStrictProfile, Profile: "x"}}}, "Engine"},
		{"token param is an image parameter", handler.Config{Files: files, TokenParam: "w"}, "TokenParam"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := handler.New(tc.cfg)
			if err == nil {
				t.Fatalf("no error (handler %v)", h)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q holds the secret", err)
			}
		})
	}
}

// TestNewDoesNotChangeCallerConfig: defaults are filled in the handler's
// copy; the caller's protections slice is left as written.
func TestNewDoesNotChangeCallerConfig(t *testing.T) {
	prots := []handler.Protection{{Path: "/private/", Keys: []token.Key{keyOne}, Referrers: &handler.Referrers{Hosts: []string{"Example.com"}}}}
	if _, err := handler.New(handler.Config{Files: testFiles(), Protections: prots}); err != nil {
		t.Fatal(err)
	}
	if prots[0].Name != "" || prots[0].Kind != "" || prots[0].Referrers.Hosts[0] != "Example.com" {
		t.Errorf("New changed the caller's protection: %+v %v", prots[0], prots[0].Referrers.Hosts)
	}
}

func TestWatermarkPaths(t *testing.T) {
	eng := &fakeEngine{}
	e := engineEnv(t, eng, func(c *handler.Config) {
		c.Profiles["wm"] = map[string]string{"watermark": "/public/other.jpg"}
		c.Profiles["wm-private"] = map[string]string{"watermark": "/private/a.jpg"}
		c.Profiles["wm-dot"] = map[string]string{"watermark": "/.env"}
		c.Profiles["wm-missing"] = map[string]string{"watermark": "/public/nope.png"}
		c.Profiles["wm-layer-missing"] = map[string]string{"watermark": "/public/other.jpg", "watermark.1.image": "/public/nope.png"}
		c.Profiles["wm-layer-dot"] = map[string]string{"watermark.2.image": "/.env"}
		c.Watermarks = []string{"/", "/public/"} // "/" holds every file
	})
	tok := func(profile string) string {
		return e.sign(t, keyOne, &token.Claims{Audience: []string{"/private/"}, ExpiresAt: now.Add(time.Hour), Args: map[string]any{"profile": profile}})
	}
	n := len(jpegBytes)
	for _, tc := range []struct {
		profile string
		status  int
		body    string
	}{
		{"wm", 200, "fake jpg Watermark=/public/other.jpg watermark-bytes=" + strconv.Itoa(n)},
		// The watermark is chosen by a trusted layer, so it may live in a
		// protected folder (a common setup: the logo is not public).
		{"wm-private", 200, "fake jpg Watermark=/private/a.jpg watermark-bytes=" + strconv.Itoa(n)},
		{"wm-dot", 400, "watermark not available\n"},
		{"wm-missing", 400, "watermark not available\n"},
		// Every watermark layer is checked like the first.
		{"wm-layer-missing", 400, "watermark not available\n"},
		{"wm-layer-dot", 400, "watermark not available\n"},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			res := e.get(t, "/private/a.jpg?jwt="+tok(tc.profile))
			if res.StatusCode != tc.status || res.body != tc.body {
				t.Errorf("%d %q, want %d %q", res.StatusCode, res.body, tc.status, tc.body)
			}
		})
	}
	// A query cannot name a watermark, even through a profile.
	res := e.get(t, "/public/img.jpg?profile=wm")
	if res.StatusCode != 200 || strings.Contains(res.body, "Watermark") || res.Header.Get("X-Keyhole-Ignored-Params") != "watermark" {
		t.Errorf("query profile with a watermark: %d %q %q", res.StatusCode, res.body, res.Header.Get("X-Keyhole-Ignored-Params"))
	}
}

// noSeekFS hides Seek, like some fs.FS implementations (blob buckets).
type noSeekFS struct{ fs.FS }

type noSeekFile struct{ f fs.File }

func (n noSeekFS) Open(name string) (fs.File, error) {
	f, err := n.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return noSeekFile{f}, nil
}
func (n noSeekFile) Stat() (fs.FileInfo, error) { return n.f.Stat() }
func (n noSeekFile) Read(b []byte) (int, error) { return n.f.Read(b) }
func (n noSeekFile) Close() error               { return n.f.Close() }

func TestNonSeekableFiles(t *testing.T) {
	e := newEnv(t, handler.Config{Files: noSeekFS{testFiles()}, Engine: &fakeEngine{}})
	res := e.get(t, "/public/a.txt", "Range", "bytes=0-5")
	if res.StatusCode != 206 || res.body != "public" {
		t.Errorf("range on a non-seekable file: %d %q", res.StatusCode, res.body)
	}
	if r := e.get(t, "/public/img.jpg?w=5"); r.StatusCode != 200 || r.body != "fake jpg Width=5" {
		t.Errorf("variant from a non-seekable file: %d %q", r.StatusCode, r.body)
	}
	small := newEnv(t, handler.Config{Files: noSeekFS{testFiles()}, Limits: transform.Limits{MaxSourceBytes: 4}})
	small.get(t, "/public/a.txt").expect(t, 413, "public")
}

func TestVariantCacheEviction(t *testing.T) {
	eng := &fakeEngine{}
	// Each variant is ~20 bytes: room for about two.
	e := engineEnv(t, eng, func(c *handler.Config) { c.VariantCacheBytes = 45 })
	get := func(w string) { e.get(t, "/public/img.jpg?w="+w) }
	get("10")
	get("20")
	get("10") // hit; 20 is now the least recently used
	get("30") // evicts 20
	calls := eng.calls.Load()
	get("10")
	get("30")
	if eng.calls.Load() != calls {
		t.Errorf("recent variants were evicted")
	}
	get("20")
	if eng.calls.Load() != calls+1 {
		t.Errorf("the least recently used variant was not evicted")
	}
	// A variant larger than the whole budget is served but not cached.
	big := engineEnv(t, eng, func(c *handler.Config) { c.VariantCacheBytes = 5 })
	before := eng.calls.Load()
	big.get(t, "/public/img.jpg?w=10")
	big.get(t, "/public/img.jpg?w=10")
	if eng.calls.Load() != before+2 {
		t.Errorf("an oversized variant was cached")
	}
}

// limitedEngine reports its own limits, as vips.Engine does.
type limitedEngine struct {
	fakeEngine
	limits transform.Limits
}

func (l *limitedEngine) Limits() transform.Limits { return l.limits }

// TestEngineOwnsLimits: with an engine that reports its limits, the
// handler parses with them (it never accepts what the engine refuses), and
// New refuses handler limits that differ.
func TestEngineOwnsLimits(t *testing.T) {
	engLimits := transform.Limits{MaxOutputWidth: 100}.WithDefaults()
	eng := &limitedEngine{limits: engLimits}
	e := newEnv(t, handler.Config{Engine: eng})
	if r := e.get(t, "/public/img.jpg?w=200"); r.StatusCode != 400 || !strings.Contains(r.body, "w=200") {
		t.Errorf("w over the engine's limit: %d %q", r.StatusCode, r.body)
	}
	if r := e.get(t, "/public/img.jpg?w=100"); r.StatusCode != 200 {
		t.Errorf("w within the engine's limit: %d %q", r.StatusCode, r.body)
	}
	if _, err := handler.New(handler.Config{Files: testFiles(), Engine: eng, Limits: engLimits}); err != nil {
		t.Errorf("equal limits refused: %v", err)
	}
	_, err := handler.New(handler.Config{Files: testFiles(), Engine: eng, Limits: transform.Limits{MaxOutputWidth: 8192}})
	if err == nil || !strings.Contains(err.Error(), "Config.Limits") {
		t.Errorf("differing limits: %v", err)
	}
}
