package verify_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/token/verify"
)

func ExampleVerifier_Verify() {
	key := token.KeyFromString("", "topsecret")
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	v, err := verify.New(verify.Config{
		Keys: []token.Key{key},
		Now:  func() time.Time { return now }, // a fixed clock for the example
	})
	if err != nil {
		panic(err)
	}
	tok, _ := token.Sign(key, &token.Claims{
		Audience:  []string{"/private/"},
		ExpiresAt: now.Add(5 * time.Minute),
		Args:      map[string]any{"w": "300"},
	})

	c, err := v.Verify(tok, "/private/a.jpg")
	fmt.Println(c.Args["w"], err)

	for _, try := range []struct{ tok, path string }{
		{tok, "/public/a.jpg"},
		{tok[:len(tok)-6] + "AAAA" + tok[len(tok)-2:], "/private/a.jpg"},
		{"not-a-token", "/private/a.jpg"},
	} {
		_, err := v.Verify(try.tok, try.path)
		var r token.Result
		if errors.As(err, &r) {
			fmt.Println(r, r.Status())
		}
	}

	now = now.Add(time.Hour) // the clock moves past exp + leeway
	_, err = v.Verify(tok, "/private/a.jpg")
	fmt.Println(err)
	// Output:
	// 300 <nil>
	// audience mismatch 403
	// signature mismatch 403
	// malformed token 403
	// expired key
}
