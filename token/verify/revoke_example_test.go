package verify_test

import (
	"fmt"
	"time"

	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/token/verify"
)

// A URL leaked: setting NotBefore on its key refuses every token that key
// signed before the cut, while URLs signed after it keep working, and the
// key is not rotated.
func ExampleVerifier_SetKeys_revoke() {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	key := token.KeyFromString("main", "a-secret-of-at-least-32-bytes-long")
	v, err := verify.New(verify.Config{Keys: []token.Key{key}, Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	leaked, _ := token.Sign(key, token.ForPath("/private/a.jpg", now.Add(-time.Hour), 2*time.Hour))
	fresh, _ := token.Sign(key, token.ForPath("/private/a.jpg", now, time.Hour))

	key.NotBefore = now.Add(-time.Minute)
	if err := v.SetKeys([]token.Key{key}); err != nil {
		panic(err)
	}
	_, err = v.Verify(leaked, "/private/a.jpg")
	fmt.Println("leaked:", err)
	_, err = v.Verify(fresh, "/private/a.jpg")
	fmt.Println("fresh:", err)
	// Output:
	// leaked: revoked token
	// fresh: <nil>
}
