package token_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Fixed times: tests never read the wall clock.
var (
	t0     = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	future = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
)

// handToken builds a compact HS256-signed token from the exact header and
// payload JSON given, the way npm jsonwebtoken lays out its output.
func handToken(header, payload string, secret []byte) string {
	in := b64(header) + "." + b64(payload)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// segmentJSON decodes segment i (0 header, 1 payload) of tok into a map of
// raw members.
func segmentJSON(t *testing.T, tok string, i int) map[string]json.RawMessage {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("segment %d: %v", i, err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("segment %d %s: %v", i, raw, err)
	}
	return m
}
