package handler_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/token"
)

const adminToken = "an-admin-token-of-at-least-32-bytes!!"

func signingServer(t *testing.T) *httptest.Server {
	t.Helper()
	h, err := handler.NewSigning(handler.SigningConfig{
		Keys:       []token.Key{keyOne},
		AdminToken: adminToken,
		BaseURL:    "https://img.example.com/files",
		Now:        func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func postSign(t *testing.T, srv *httptest.Server, auth, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+"/v2/files/jwt", strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// TestSigningEndpoint: a URL minted by the endpoint opens the file through
// the handler with the locked args, and every kind of bad request gets its
// status and a body without secrets.
func TestSigningEndpoint(t *testing.T) {
	srv := signingServer(t)
	status, out := postSign(t, srv, adminToken, `{"filename":"/private/a.jpg","key":"`+keyOne.ID+`","expiresIn":300,"secureParams":{"w":300,"text":"Hi"},"insecureParams":{"q":70}}`)
	if status != 200 {
		t.Fatalf("status %d: %v", status, out)
	}
	u, _ := out["url"].(string)
	tok, _ := out["token"].(string)
	if !strings.HasPrefix(u, "https://img.example.com/files/private/a.jpg?q=70&jwt=") || !strings.HasSuffix(u, tok) {
		t.Errorf("url %q", u)
	}
	if out["expiresAt"] != now.Add(300*time.Second).UTC().Format(time.RFC3339) {
		t.Errorf("expiresAt %v", out["expiresAt"])
	}
	d, err := token.Decode(tok)
	if err != nil || d.Claims.Audience[0] != "/private/a.jpg" || d.Claims.Args["text"] != "Hi" || d.Header.KeyID != keyOne.ID {
		t.Fatalf("token %+v, %v", d, err)
	}
	// The token opens the file through a handler with the same key.
	eng := &fakeEngine{}
	e := newEnv(t, handler.Config{Engine: eng, Protections: jwtProtections()})
	res := e.get(t, "/private/a.jpg?jwt="+tok)
	res.expect(t, 200, "ok")
	if !strings.Contains(res.body, "Text=Hi") {
		t.Errorf("body %q does not show the locked text", res.body)
	}

	// A folder audience.
	if status, out := postSign(t, srv, adminToken, `{"filename":"/private/","key":"`+keyOne.ID+`","expiresIn":60}`); status != 200 {
		t.Errorf("folder: %d %v", status, out)
	}

	bad := []struct {
		name, auth, body string
		status           int
		want             string
	}{
		{"no admin token", "", `{}`, 401, "admin token required"},
		{"wrong admin token", strings.ToUpper(adminToken), `{}`, 401, "admin token required"},
		{"not JSON", adminToken, `nope`, 400, "body must be a JSON object"},
		{"unknown field", adminToken, `{"filename":"/a","kee":"x"}`, 400, "body must be a JSON object"},
		{"bad path", adminToken, `{"filename":"/a/../b","key":"` + keyOne.ID + `","expiresIn":60}`, 400, "filename must be"},
		{"relative path", adminToken, `{"filename":"a.jpg","key":"` + keyOne.ID + `","expiresIn":60}`, 400, "filename must be"},
		{"unknown key", adminToken, `{"filename":"/a","key":"nope","expiresIn":60}`, 400, "unknown key"},
		{"no expiry", adminToken, `{"filename":"/a","key":"` + keyOne.ID + `"}`, 400, "expiresIn"},
		{"expiry too long", adminToken, `{"filename":"/a","key":"` + keyOne.ID + `","expiresIn":99999999}`, 400, "expiresIn"},
		{"invalid params", adminToken, `{"filename":"/a","key":"` + keyOne.ID + `","expiresIn":60,"secureParams":{"w":99999},"insecureParams":{"q":0}}`, 400, "invalid parameters"},
		{"too large", adminToken, `{"filename":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "body over 64 KiB"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			status, out := postSign(t, srv, tc.auth, tc.body)
			msg, _ := out["error"].(string)
			if status != tc.status || !strings.Contains(msg, tc.want) {
				t.Errorf("%d %q, want %d %q", status, msg, tc.status, tc.want)
			}
			if b, _ := json.Marshal(out); bytes.Contains(b, keyOne.Secret) || bytes.Contains(b, []byte(adminToken)) {
				t.Errorf("body leaks a secret: %s", b)
			}
			if tc.name == "invalid params" {
				errs, _ := out["errors"].([]any)
				if len(errs) != 2 {
					t.Errorf("errors %v, want secureParams.w and insecureParams.q", errs)
				}
			}
		})
	}
	res2, err := srv.Client().Get(srv.URL + "/v2/files/jwt")
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != 405 || res2.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d Allow %q", res2.StatusCode, res2.Header.Get("Allow"))
	}
}

func TestNewSigningErrors(t *testing.T) {
	for name, cfg := range map[string]handler.SigningConfig{
		"short admin token": {Keys: []token.Key{keyOne}, AdminToken: "short"},
		"no keys":           {AdminToken: adminToken},
		"key without id":    {Keys: []token.Key{token.KeyFromString("", "s")}, AdminToken: adminToken},
		"watermark folder":  {Keys: []token.Key{keyOne}, AdminToken: adminToken, Watermarks: []string{"/wm"}},
		"watermark dots":    {Keys: []token.Key{keyOne}, AdminToken: adminToken, Watermarks: []string{"/a/../wm/"}},
	} {
		if _, err := handler.NewSigning(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestSigningRefusals: each request the server would refuse or silently
// change is a 400 naming the reason, and each refusal is logged.
func TestSigningRefusals(t *testing.T) {
	var log bytes.Buffer
	h, err := handler.NewSigning(handler.SigningConfig{
		Keys:       []token.Key{keyOne},
		AdminToken: adminToken,
		Watermarks: []string{"/wm/"},
		Logger:     slog.New(slog.NewTextHandler(&log, nil)),
		Now:        func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	body := func(rest string) string {
		return `{"filename":"/private/a.jpg","key":"` + keyOne.ID + `","expiresIn":60` + rest + `}`
	}
	tests := []struct {
		name, body string
		want       string // in "error"
		param      string // the name in "errors", if any
		reason     string // its reason
	}{
		{"expiresIn 1e10 overflows a Duration", `{"filename":"/a.jpg","key":"` + keyOne.ID + `","expiresIn":1e10}`, "expiresIn must be 1..2592000 seconds", "", ""},
		{"expiresIn NaN-like huge", `{"filename":"/a.jpg","key":"` + keyOne.ID + `","expiresIn":1e300}`, "expiresIn must be", "", ""},
		{"filename //", `{"filename":"//","key":"` + keyOne.ID + `","expiresIn":60}`, "filename must be", "", ""},
		{"filename with a colon", `{"filename":"/a:b.jpg","key":"` + keyOne.ID + `","expiresIn":60}`, "contains a colon", "", ""},
		{"unknown 9 KB secure parameter", body(`,"secureParams":{"x":"` + strings.Repeat("a", 9<<10) + `"}`), "longer than 8192 bytes", "", ""},
		{"text in insecureParams", body(`,"insecureParams":{"text":"hi"}`), "invalid parameters", "insecureParams.text", "token only"},
		{"text.size in insecureParams", body(`,"insecureParams":{"text":{"size":20}}`), "invalid parameters", "insecureParams.text.size", "token only"},
		{"watermark in insecureParams", body(`,"insecureParams":{"watermark":"/wm/a.png"}`), "invalid parameters", "insecureParams.watermark", "token only"},
		{"token param in insecureParams", body(`,"insecureParams":{"jwt":"x"}`), "invalid parameters", "insecureParams.jwt", "token's parameter"},
		{"watermark outside the folders", body(`,"secureParams":{"watermark":"/private/b.jpg"}`), "invalid parameters", "secureParams.watermark", "not in an allowed watermark folder"},
		{"watermark with a colon", body(`,"secureParams":{"watermark":"/wm/a:b.png"}`), "invalid parameters", "secureParams.watermark", "must be"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log.Reset()
			status, out := postSign(t, srv, adminToken, tc.body)
			msg, _ := out["error"].(string)
			if status != 400 || !strings.Contains(msg, tc.want) {
				t.Fatalf("%d %q, want 400 %q", status, msg, tc.want)
			}
			if tc.param != "" {
				errs, _ := out["errors"].([]any)
				var first map[string]any
				if len(errs) > 0 {
					first, _ = errs[0].(map[string]any)
				}
				reason, _ := first["reason"].(string)
				if first["name"] != tc.param || !strings.Contains(reason, tc.reason) {
					t.Errorf("errors %v, want %s: %s", errs, tc.param, tc.reason)
				}
			}
			if !strings.Contains(log.String(), "signing request refused") {
				t.Errorf("not logged: %q", log.String())
			}
		})
	}
	// A watermark inside the folder is signed.
	if status, out := postSign(t, srv, adminToken, body(`,"secureParams":{"watermark":"/wm/logo.png"}`)); status != 200 {
		t.Errorf("watermark in /wm/: %d %v", status, out)
	}

	// A key whose not_before is after now would sign tokens the server
	// refuses as revoked: refused here too; at not_before it signs again.
	revoking := keyOne
	revoking.NotBefore = now.Add(time.Hour)
	for _, at := range []time.Time{now, now.Add(time.Hour)} {
		h, err := handler.NewSigning(handler.SigningConfig{Keys: []token.Key{revoking}, AdminToken: adminToken, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		status, out := postSign(t, srv, adminToken, body(""))
		srv.Close()
		msg, _ := out["error"].(string)
		switch {
		case at.Before(revoking.NotBefore) && (status != 400 || !strings.Contains(msg, "revoked token")):
			t.Errorf("key with not_before in an hour: %d %q, want 400 naming the revocation", status, msg)
		case !at.Before(revoking.NotBefore) && status != 200:
			t.Errorf("at the key's not_before: %d %v, want 200", status, out)
		}
	}
}
