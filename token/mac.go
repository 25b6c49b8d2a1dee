//go:build !js

package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"hash"
)

// newMAC returns the HMAC-SHA-256 state for key: crypto/hmac everywhere
// but GOOS=js (see mac_js.go).
func newMAC(key []byte) hash.Hash { return hmac.New(sha256.New, key) }

// randomBytes fills b from crypto/rand.
func randomBytes(b []byte) error {
	_, err := rand.Read(b)
	return err
}
