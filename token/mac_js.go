//go:build js

package token

import (
	"errors"
	"hash"
	"syscall/js"

	"github.com/keyhole-dev/keyhole/internal/hs256"
)

// newMAC returns the HMAC-SHA-256 state for key. For GOOS=js (the
// WebAssembly signer) it is internal/hs256, which does not link Go's FIPS
// 140 module: about 50 KB less gzipped, at the same speed (crypto/sha256
// has no assembly for wasm). The tokens are the same bytes; the tests of
// internal/hs256 compare it with crypto/hmac.
func newMAC(key []byte) hash.Hash { return hs256.New(key) }

// randomBytes fills b from the JavaScript runtime's
// crypto.getRandomValues, the source crypto/rand uses on GOOS=js too
// (without the FIPS 140 DRBG that would link).
func randomBytes(b []byte) error {
	c := js.Global().Get("crypto")
	if c.Type() != js.TypeObject {
		return errors.New("token: globalThis.crypto is missing")
	}
	a := js.Global().Get("Uint8Array").New(len(b))
	c.Call("getRandomValues", a)
	if js.CopyBytesToGo(b, a) != len(b) {
		return errors.New("token: crypto.getRandomValues failed")
	}
	return nil
}
