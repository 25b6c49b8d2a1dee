package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/token/verify"
)

// TestMint: the URL carries the unsigned width and a token that the
// server's verifier accepts for the path, with the text locked.
func TestMint(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	const secret = "topsecret"
	u, err := mint(secret, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, "https://img.example.com/img/private/photo.jpg?w=300&jwt=") {
		t.Fatalf("URL %q", u)
	}
	parsed, _ := url.Parse(u)
	v, err := verify.New(verify.Config{
		Keys: []token.Key{token.KeyFromString("main", secret)},
		Now:  func() time.Time { return now.Add(time.Minute) },
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(parsed.Query().Get("jwt"), "/private/photo.jpg")
	if err != nil {
		t.Fatalf("the server would refuse the token: %v", err)
	}
	if c.Args["text"] != "Hello" || len(c.Args) != 1 {
		t.Errorf("locked args %v, want only text=Hello", c.Args)
	}
}
