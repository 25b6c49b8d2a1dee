package main

import (
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"time"

	demofiles "github.com/keyhole-dev/keyhole/cmd/keyhole/demo"
	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/token"
)

// demo is the embedded default of keyhole serve: demo files, a /protected/
// folder guarded by a key made at start-up, and a page of signed URLs that
// show each outcome.
type demo struct {
	signer *token.Signer
	now    func() time.Time
}

// demoCase is one URL of the demo page with what it must return.
type demoCase struct {
	Group, Title string
	URL          string // root-relative
	Status       int
	Result       string
	Image        bool
}

func newDemo(now func() time.Time) (*demo, error) {
	secret, err := token.GenerateSecret()
	if err != nil {
		return nil, err
	}
	s, err := token.NewSigner(token.KeyFromString("demo", secret))
	if err != nil {
		return nil, err
	}
	return &demo{signer: s, now: now}, nil
}

func (d *demo) config() handler.Config {
	return handler.Config{
		Files: demofiles.Files(),
		Protections: []handler.Protection{{
			Name: "protected", Path: "/protected/", Kind: handler.KindJWT, Keys: []token.Key{d.signer.Key()},
		}},
		Profiles: map[string]map[string]string{
			"thumb": {"w": "240", "h": "240", "scale.option": "fill", "q": "70"},
			"stamp": {"watermark": "/protected/logo.png", "watermark.position": "southeast", "watermark.scale.width": "25%", "watermark.opacity": "80"},
		},
		// The stamp's logo lives beside the photos; no other folder may
		// supply a watermark.
		Watermarks: []string{"/protected/"},
	}
}

// sign returns a root-relative URL for path with a token of the given
// audience and lifetime (negative: already expired).
func (d *demo) sign(path, aud string, ttl time.Duration, args map[string]any, query url.Values) string {
	now := d.now()
	c := &token.Claims{Audience: []string{aud}, IssuedAt: now, ExpiresAt: now.Add(ttl), Args: args}
	if ttl < 0 {
		c.IssuedAt = now.Add(2 * ttl)
	}
	u, err := d.signer.SignURL(path, c, token.URLOptions{Query: query})
	if err != nil {
		panic(err) // the demo's own claims are always valid
	}
	return u
}

// cases builds the demo URLs with fresh tokens, valid for an hour.
func (d *demo) cases() []demoCase {
	const photo = "/protected/photo.jpg"
	hour := time.Hour
	valid := d.sign(photo, photo, hour, nil, nil)
	tok := valid[len(photo)+len("?jwt="):]
	h, p, s, _ := token.Split(tok)
	// Change a character in the middle of the signature to another valid
	// base64url character (so the token is still well-formed).
	b := []byte(s)
	if b[len(b)/2] == 'A' {
		b[len(b)/2] = 'B'
	} else {
		b[len(b)/2] = 'A'
	}
	tampered := photo + "?jwt=" + h + "." + p + "." + string(b)

	overlay := map[string]any{"text": "Keyhole demo", "text.size": 5, "text.position": "south", "text.color": "ffffff", "text.background.color": "00000080"}
	sizes := func(w string) url.Values { return url.Values{"w": {w}} }
	return []demoCase{
		{"Authorisation", "A valid token", valid, 200, "ok", true},
		{"Authorisation", "An expired token", d.sign(photo, photo, -hour, nil, nil), 403, "expired key", false},
		{"Authorisation", "A tampered signature", tampered, 403, "signature mismatch", false},
		{"Authorisation", "A token for another file (wrong audience)", d.sign(photo, "/protected/logo.png", hour, nil, nil), 403, "audience mismatch", false},
		{"Authorisation", "No token", photo, 403, "missing token", false},
		{"Authorisation", "A whole-folder token opens a text file as-is", d.sign("/protected/notes.txt", "/protected/", hour, nil, nil), 200, "ok", false},
		{"Authorisation", "A public file needs no token", "/public/landscape.jpg", 200, "public", true},
		{"Transforms", "One token, width 100", d.sign(photo, photo, hour, nil, sizes("100")), 200, "ok", true},
		{"Transforms", "The same token, width 200", d.sign(photo, photo, hour, nil, sizes("200")), 200, "ok", true},
		{"Transforms", "The same token, width 400 as WebP", d.sign(photo, photo, hour, nil, url.Values{"w": {"400"}, "format": {"webp"}}), 200, "ok", true},
		{"Transforms", "Text locked by the token; text= in the URL is ignored", d.sign(photo, photo, hour, overlay, url.Values{"w": {"400"}, "text": {"removed"}}), 200, "ok", true},
		{"Transforms", "Profile thumb named in the token", d.sign(photo, photo, hour, map[string]any{"profile": "thumb"}, nil), 200, "ok", true},
		{"Transforms", "Profile stamp (watermark) named in the token", d.sign(photo, photo, hour, map[string]any{"profile": "stamp", "w": 400}, nil), 200, "ok", true},
		{"Locks", "Size locked by the token (s=200); w=1600 in the URL is ignored", d.sign(photo, photo, hour, map[string]any{"s": 200}, url.Values{"w": {"1600"}}), 200, "ok", true},
		{"Locks", "Watermark locked by the token; a canvas in the URL cannot move it off the photo", d.sign(photo, photo, hour, map[string]any{"profile": "stamp", "w": 400}, url.Values{"canvas.width": {"2000"}, "canvas.position": {"northwest"}}), 200, "ok", true},
		{"Sirv options", "colortone=texas and a mirror frame, locked by the token", d.sign(photo, photo, hour, map[string]any{"colortone": "texas", "frame.style": "mirror", "frame.width": 12}, sizes("400")), 200, "ok", true},
		{"Sirv options", "Vignette and exposure in the token; Sirv's scale.width in the URL", d.sign(photo, photo, hour, map[string]any{"vignette": 60, "exposure": 20}, url.Values{"scale.width": {"300"}}), 200, "ok", true},
		{"Sirv options", "Two numbered text layers (text.0, text.1), locked", d.sign(photo, photo, hour, map[string]any{"text.0.text": "Keyhole", "text.0.position.gravity": "north", "text.1.text": "demo", "text.1.position.gravity": "south", "text.1.color": "ffffff"}, sizes("400")), 200, "ok", true},
		{"Sirv options", "A Sirv option Keyhole does not render is refused, never ignored", d.sign(photo, photo, hour, nil, url.Values{"crop.type": {"face"}}), 400, "ok", false},
		{"Transforms", "A public image, resized by the query", "/public/landscape.jpg?w=200&format=png", 200, "public", true},
		{"Transforms", "An invalid parameter", d.sign(photo, photo, hour, nil, url.Values{"w": {"99999"}}), 400, "ok", false},
	}
}

// print writes the demo URLs and their expected outcomes to w.
func (d *demo) print(w io.Writer, base string) {
	fmt.Fprintf(w, "keyhole demo: open %s/ for the page; these URLs are valid for an hour:\n", base)
	for _, c := range d.cases() {
		fmt.Fprintf(w, "  %-55s want %d %q\n    %s%s\n", c.Title, c.Status, c.Result, base, c.URL)
	}
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Keyhole demo</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:2rem;max-width:70rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
code{word-break:break-all;font-size:12px}.pass{color:#070}.fail{color:#b00}img{max-width:420px}
</style></head><body>
<h1>Keyhole demo</h1>
<p>Files under <code>/protected/</code> open only with a token signed by the key made when this server started.
Each row shows what the URL must return and, checked live by this page, what it returned.</p>
<table><tr><th>Case</th><th>Want</th><th>Got</th><th>Preview</th></tr>
{{range .}}<tr><td>{{.Group}}: {{.Title}}<br><code><a href="{{.URL}}">{{.URL}}</a></code></td>
<td>{{.Status}} <q>{{.Result}}</q></td><td class="got" data-url="{{.URL}}" data-status="{{.Status}}" data-result="{{.Result}}">…</td>
<td>{{if .Image}}<img src="{{.URL}}" alt="{{.Title}}">{{end}}</td></tr>
{{end}}</table>
<script>
for (const td of document.querySelectorAll('td.got')) {
  fetch(td.dataset.url).then(r => {
    const res = r.headers.get('X-Keyhole-Auth-Result');
    const ok = String(r.status) === td.dataset.status && res === td.dataset.result;
    td.textContent = r.status + ' "' + res + '"' + (ok ? ' ✓' : ' ✗');
    td.className = ok ? 'pass' : 'fail';
  });
}
</script>
</body></html>
`))

// page serves the demo page; every visit mints fresh tokens.
func (d *demo) page(base string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := pageTemplate.Execute(w, d.cases()); err != nil {
			return
		}
	})
}
