package archtest_test

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/keyhole-dev/keyhole"

// pkg is the part of `go list -json` the rules read.
type pkg struct {
	ImportPath string
	Standard   bool
	CgoFiles   []string
}

// deps returns root and every package it depends on, for the given GOOS
// and GOARCH ("" keeps the host's) and build tags.
func deps(t *testing.T, root, goos, goarch, tags string) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json", "-tags="+tags, root)
	cmd.Env = os.Environ()
	if goos != "" {
		cmd.Env = append(cmd.Env, "GOOS="+goos, "GOARCH="+goarch)
	}
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list %s: %v\n%s", root, err, ee.Stderr)
		}
		t.Fatalf("go list %s: %v", root, err)
	}
	var list []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		list = append(list, p)
	}
	return list
}

// TestImportRules: token, transform and the internal rule packages are
// pure Go without jwx (the WebAssembly signer links them); the WebAssembly
// signer links no jwx and no server code, and, built as wasm/build.sh
// builds it (the keyhole_nofmt tag, which leaves token.Key's Format out),
// no fmt, so nothing in it can print a Key, and no os; handler and the
// verifier never link cgo; transform/vips is the module's only cgo
// package.
func TestImportRules(t *testing.T) {
	const jwx = "github.com/lestrrat-go/jwx"
	rules := []struct {
		root         string
		goos, goarch string
		tags         string
		noCgo, noJWX bool
		forbidden    []string // import path prefixes
	}{
		{root: module + "/token", noCgo: true, noJWX: true},
		{root: module + "/transform", noCgo: true, noJWX: true, forbidden: []string{module + "/token"}},
		{root: module + "/internal/pathrule", noCgo: true, noJWX: true, forbidden: []string{"fmt"}},
		{root: module + "/internal/signreq", noCgo: true, noJWX: true},
		{root: module + "/token/verify", noCgo: true},
		{root: module + "/handler", noCgo: true, forbidden: []string{module + "/transform/vips", "github.com/davidbyttow/govips"}},
		{root: module + "/wasm", goos: "js", goarch: "wasm", noJWX: true, forbidden: []string{"net/http", "crypto/x509", module + "/handler", module + "/token/verify"}},
		{root: module + "/wasm", goos: "js", goarch: "wasm", tags: "keyhole_nofmt", noJWX: true, forbidden: []string{"net/http", "crypto/x509", module + "/handler", module + "/token/verify", "fmt", "os"}},
	}
	for _, r := range rules {
		name := strings.TrimPrefix(r.root, module+"/")
		if r.tags != "" {
			name += "/tags=" + r.tags
		}
		t.Run(name, func(t *testing.T) {
			for _, p := range deps(t, r.root, r.goos, r.goarch, r.tags) {
				switch {
				case r.noCgo && !p.Standard && len(p.CgoFiles) > 0:
					t.Errorf("links cgo through %s", p.ImportPath)
				case r.noJWX && strings.HasPrefix(p.ImportPath, jwx):
					t.Errorf("links jwx (%s)", p.ImportPath)
				}
				for _, f := range r.forbidden {
					if p.ImportPath == f || strings.HasPrefix(p.ImportPath, f+"/") {
						t.Errorf("links %s", p.ImportPath)
					}
				}
			}
		})
	}

	// transform/vips is the only package of the module with cgo files.
	var cgo []string
	for _, p := range deps(t, module+"/cmd/keyhole", "", "", "") {
		if strings.HasPrefix(p.ImportPath, module) && len(p.CgoFiles) > 0 {
			cgo = append(cgo, p.ImportPath)
		}
	}
	if !slices.Equal(cgo, []string{module + "/transform/vips"}) {
		t.Errorf("packages of the module with cgo files: %v, want only transform/vips", cgo)
	}
}
