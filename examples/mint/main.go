// Command mint prints a signed URL for /private/photo.jpg, valid for five
// minutes, whose text overlay is locked by the signature while its width
// stays the page's choice. The README's "Mint a URL" section shows its
// core, between the README:begin and README:end lines.
//
//	KEYHOLE_SECRET=topsecret go run ./examples/mint
package main

import (
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/keyhole-dev/keyhole/token"
)

func main() {
	u, err := mint(os.Getenv("KEYHOLE_SECRET"), time.Now())
	if err != nil {
		fmt.Fprintln(os.Stderr, "mint:", err)
		os.Exit(1)
	}
	fmt.Println(u)
}

func mint(secret string, now time.Time) (string, error) {
	// README:begin
	s, err := token.NewSigner(token.KeyFromString("main", secret))
	if err != nil {
		return "", err
	}
	return s.SignURL("/private/photo.jpg",
		&token.Claims{
			Audience:  []string{"/private/photo.jpg"},
			ExpiresAt: now.Add(5 * time.Minute),
			Args:      map[string]any{"text": "Hello"}, // locked: no URL can remove it
		},
		token.URLOptions{
			BaseURL: "https://img.example.com/img",
			Query:   url.Values{"w": {"300"}}, // not signed: the page picks the size
		})
	// README:end
}
