package signreq_test

import (
	"errors"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/internal/signreq"
	"github.com/keyhole-dev/keyhole/transform"
)

var (
	t0  = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	exp = t0.Add(time.Hour)
)

func TestPrepare(t *testing.T) {
	rules := &signreq.Rules{Watermarks: []string{"/wm/"}, MaxLifetime: 24 * time.Hour}
	small := &signreq.Rules{Limits: transform.Limits{MaxOutputWidth: 100}}
	tests := []struct {
		name   string
		rules  *signreq.Rules
		req    signreq.Request
		field  signreq.Field
		reason string // substring of the error's text; "" for success
		param  string // the refused parameter's name, if any
	}{
		{name: "ok", req: signreq.Request{Path: "/a.jpg", ExpiresAt: exp}},
		{name: "folder", req: signreq.Request{Path: "/private/", Folder: true, ExpiresAt: exp}},
		{name: "folder not allowed", req: signreq.Request{Path: "/private/", ExpiresAt: exp}, field: signreq.FieldPath, reason: "empty segment"},
		{name: "folder //", req: signreq.Request{Path: "//", Folder: true, ExpiresAt: exp}, field: signreq.FieldPath, reason: "empty segment"},
		{name: "root", req: signreq.Request{Path: "/", ExpiresAt: exp}},
		{name: "double slash", req: signreq.Request{Path: "//", ExpiresAt: exp}, field: signreq.FieldPath, reason: "empty segment"},
		{name: "dot segment", req: signreq.Request{Path: "/a/../b", ExpiresAt: exp}, field: signreq.FieldPath, reason: ". or .."},
		{name: "colon", req: signreq.Request{Path: "/a:b.jpg", ExpiresAt: exp}, field: signreq.FieldPath, reason: "colon"},
		{name: "relative", req: signreq.Request{Path: "a.jpg", ExpiresAt: exp}, field: signreq.FieldPath, reason: "start with /"},
		{name: "audience covers", req: signreq.Request{Path: "/p/a.jpg", Audience: []string{"/p/"}, ExpiresAt: exp}},
		{name: "audience elsewhere", req: signreq.Request{Path: "/q/a.jpg", Audience: []string{"/p/"}, ExpiresAt: exp}, field: signreq.FieldAudience, reason: "does not open"},
		{name: "audience relative", req: signreq.Request{Path: "/a.jpg", Audience: []string{"a"}, ExpiresAt: exp}, field: signreq.FieldAudience, reason: "start with /"},
		{name: "no expiry", req: signreq.Request{Path: "/a.jpg"}, field: signreq.FieldExpiry, reason: "required"},
		{name: "expiry before 1970", req: signreq.Request{Path: "/a.jpg", ExpiresAt: time.Unix(-5, 0)}, field: signreq.FieldExpiry, reason: "1970"},
		{name: "expiry past range", req: signreq.Request{Path: "/a.jpg", ExpiresAt: time.Unix(signreq.MaxUnixSeconds+1, 0)}, field: signreq.FieldExpiry, reason: "36812"},
		{name: "already expired", req: signreq.Request{Path: "/a.jpg", IssuedAt: t0, ExpiresAt: t0.Add(-time.Hour)}},
		{name: "lifetime over the cap", rules: rules, req: signreq.Request{Path: "/a.jpg", IssuedAt: t0, ExpiresAt: t0.Add(25 * time.Hour)}, field: signreq.FieldExpiry, reason: "86400 seconds"},
		{name: "args ok", req: signreq.Request{Path: "/a.jpg", ExpiresAt: exp, Args: map[string]any{"w": 300.0}}},
		{name: "args invalid", req: signreq.Request{Path: "/a.jpg", ExpiresAt: exp, Args: map[string]any{"w": "big"}}, field: signreq.FieldArgs, reason: "invalid parameters", param: "w"},
		{name: "args over the caller's limit", rules: small, req: signreq.Request{Path: "/a.jpg", ExpiresAt: exp, Args: map[string]any{"w": 300.0}}, field: signreq.FieldArgs, param: "w"},
		{name: "args checked by the caller", rules: small, req: signreq.Request{Path: "/a.jpg", ExpiresAt: exp, Args: map[string]any{"w": 300.0}, ArgsChecked: true}},
		{name: "watermark in folder", rules: rules, req: signreq.Request{Path: "/a.jpg", ExpiresAt: exp, Args: map[string]any{"watermark": "/wm/logo.png"}}},
		{name: "watermark outside", rules: rules, req: signreq.Request{Path: "/a.jpg", ExpiresAt: exp, Args: map[string]any{"watermark": "/private/b.jpg"}}, field: signreq.FieldArgs, reason: signreq.ReasonWatermarkFolder, param: "watermark"},
		{name: "watermark without folders", req: signreq.Request{Path: "/a.jpg", ExpiresAt: exp, Args: map[string]any{"watermark": "/wm/logo.png"}}, field: signreq.FieldArgs, reason: signreq.ReasonWatermarkFolder, param: "watermark"},
		{name: "watermark colon", rules: rules, req: signreq.Request{Path: "/a.jpg", ExpiresAt: exp, Args: map[string]any{"watermark": "/wm/a:b.png"}}, field: signreq.FieldArgs, param: "watermark"},
		{name: "query ok", req: signreq.Request{Path: "/a.jpg", ExpiresAt: exp, Query: url.Values{"w": {"300"}, "unknown": {"x"}}}},
		{name: "query invalid", req: signreq.Request{Path: "/a.jpg", ExpiresAt: exp, Query: url.Values{"q": {"101"}}}, field: signreq.FieldQuery, param: "q"},
		{name: "query text", req: signreq.Request{Path: "/a.jpg", ExpiresAt: exp, Query: url.Values{"text": {"hi"}}}, field: signreq.FieldQuery, reason: signreq.ReasonSecureOnly, param: "text"},
		{name: "query watermark", req: signreq.Request{Path: "/a.jpg", ExpiresAt: exp, Query: url.Values{"watermark.opacity": {"10"}}}, field: signreq.FieldQuery, reason: signreq.ReasonSecureOnly, param: "watermark.opacity"},
		{name: "args and query invalid", req: signreq.Request{Path: "/a.jpg", ExpiresAt: exp, Args: map[string]any{"w": "big"}, Query: url.Values{"q": {"101"}}}, field: signreq.FieldArgs, reason: "q=101", param: "w"},
		{name: "query token param", req: signreq.Request{Path: "/a.jpg", ExpiresAt: exp, Query: url.Values{"jwt": {"x"}}}, field: signreq.FieldQuery, reason: signreq.ReasonTokenParam, param: "jwt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.rules
			if r == nil {
				r = &signreq.Rules{}
			}
			c, q, err := signreq.Prepare(&tc.req, r)
			if tc.field == 0 {
				if err != nil {
					t.Fatalf("Prepare: %v", err)
				}
				if len(c.Audience) == 0 || !c.ExpiresAt.Equal(tc.req.ExpiresAt) || len(q) != len(tc.req.Query) {
					t.Errorf("claims %+v, query %v", c, q)
				}
				return
			}
			var e *signreq.Error
			if !errors.As(err, &e) {
				t.Fatalf("Prepare error %v, want a *signreq.Error", err)
			}
			if e.Field != tc.field || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error field %d %q, want field %d containing %q", e.Field, err, tc.field, tc.reason)
			}
			list := e.Args
			if e.Field == signreq.FieldQuery {
				list = e.Query
			}
			if tc.param != "" && (len(list) == 0 || list[0].Name != tc.param) {
				t.Errorf("params %+v, want %q first", list, tc.param)
			}
		})
	}
}

func TestExpiryAfter(t *testing.T) {
	tests := []struct {
		seconds float64
		max     time.Duration
		ok      bool
	}{
		{300, 0, true},
		{300, time.Hour, true},
		{3600, time.Hour, true},
		{3601, time.Hour, false},
		{1e10, 30 * 24 * time.Hour, false}, // would overflow time.Duration
		{1e10, 0, false},
		{8e9, 0, true},
		{1e300, 0, false},
		{0.5, 0, false},
		{-1, 0, false},
		{math.NaN(), 0, false},
		{math.Inf(1), 0, false},
	}
	for _, tc := range tests {
		got, ok := signreq.ExpiryAfter(t0, tc.seconds, tc.max)
		if ok != tc.ok {
			t.Errorf("ExpiryAfter(%g, %v) ok = %v, want %v", tc.seconds, tc.max, ok, tc.ok)
			continue
		}
		if ok && (!got.After(t0) || got.Sub(t0) != time.Duration(tc.seconds*float64(time.Second))) {
			t.Errorf("ExpiryAfter(%g) = %v", tc.seconds, got)
		}
	}
}

// TestShownValues: a refused value is repeated cut to 64 characters and
// without control characters or invalid UTF-8.
func TestShownValues(t *testing.T) {
	rules := &signreq.Rules{Watermarks: []string{"/wm/"}}
	long := "/x/" + strings.Repeat("é", 100) + ".png"
	err := signreq.CheckQuery(url.Values{"text": {"a\x00b\xff" + strings.Repeat("z", 100)}}, rules)
	if err == nil || len(err.Query) != 1 {
		t.Fatalf("CheckQuery: %v", err)
	}
	if v := err.Query[0].Value; v != "a\uFFFDb\uFFFD"+strings.Repeat("z", 60)+"…" {
		t.Errorf("shown query value %q", v)
	}
	aerr := signreq.CheckArgs(map[string]any{"watermark": long}, rules)
	if aerr == nil || len(aerr.Args) != 1 || aerr.Args[0].Value != long[:3]+strings.Repeat("é", 61)+"…" {
		t.Errorf("shown watermark: %+v", aerr)
	}
}

// TestSirvRefusals checks that the signers refuse what the server
// refuses: a Sirv option Keyhole does not implement, in the secure or the
// insecure parameters, a fifth text layer and a bad value in a second
// one; names that are no option still pass.
func TestSirvRefusals(t *testing.T) {
	rules := &signreq.Rules{}
	if err := signreq.CheckArgs(map[string]any{"crop": map[string]any{"type": "face"}}, rules); err == nil ||
		len(err.Args) != 1 || err.Args[0].Name != "crop.type" || !strings.Contains(err.Args[0].Reason, "not supported") {
		t.Errorf("CheckArgs(crop.type=face) = %v", err)
	}
	if err := signreq.CheckArgs(map[string]any{"text.4": map[string]any{"text": "five"}}, rules); err == nil || err.Args[0].Name != "text.4.text" {
		t.Errorf("CheckArgs(text.4.text) = %v", err)
	}
	if err := signreq.CheckArgs(map[string]any{"text": map[string]any{"1": map[string]any{"text": "two", "size": 101}}}, rules); err == nil || err.Args[0].Name != "text.1.size" {
		t.Errorf("CheckArgs(text.1.size=101) = %v", err)
	}
	wm := &signreq.Rules{Watermarks: []string{"/wm/"}}
	if err := signreq.CheckArgs(map[string]any{"watermark": "/wm/a.png", "watermark.1.image": "/wm/b.png"}, wm); err != nil {
		t.Errorf("CheckArgs(two watermarks in the folder) = %v", err)
	}
	if err := signreq.CheckArgs(map[string]any{"watermark": "/wm/a.png", "watermark.2": map[string]any{"image": "/private/x.png"}}, wm); err == nil ||
		len(err.Args) != 1 || err.Args[0].Name != "watermark.2.image" || err.Args[0].Reason != signreq.ReasonWatermarkFolder {
		t.Errorf("CheckArgs(watermark.2.image outside the folder) = %v", err)
	}
	if err := signreq.CheckQuery(url.Values{"histogram": {"rgb"}}, rules); err == nil ||
		len(err.Query) != 1 || err.Query[0].Name != "histogram" || !strings.Contains(err.Query[0].Reason, "not supported") {
		t.Errorf("CheckQuery(histogram) = %v", err)
	}
	if err := signreq.CheckQuery(url.Values{"text.0.text": {"x"}}, rules); err == nil || err.Query[0].Reason != signreq.ReasonSecureOnly {
		t.Errorf("CheckQuery(text.0.text) = %v", err)
	}
	if err := signreq.CheckQuery(url.Values{"utm_source": {"x"}, "scale.width": {"300"}}, rules); err != nil {
		t.Errorf("CheckQuery(utm_source, scale.width) = %v", err)
	}
}
