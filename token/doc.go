// Package token is Keyhole's pure-Go token layer: the claims a Keyhole
// token carries, the HS256 Signer that mints them, the audience rule, the
// path rule every signer shares with the server, and the closed set of
// Results a request can get.
//
// It has no cgo and does not import jwx, so it builds for GOOS=js and is
// what the WebAssembly signer links. Verification with jwx lives in the
// sub-package token/verify; package handler uses both.
//
// The rules it implements (token shape and claims, audience, results,
// paths) are written down in docs/behaviour.md in the repository.
//
// Signing a URL:
//
//	s, _ := token.NewSigner(token.KeyFromString("main", secret))
//	c := token.ForPath("/private/a.jpg", time.Now(), 5*time.Minute)
//	c.Args = map[string]any{"w": 300}
//	u, _ := s.SignURL("/private/a.jpg", c, token.URLOptions{BaseURL: "https://img.example.com"})
//
// Tokens are compact JWS strings of at most MaxTokenBytes, each segment in
// its one canonical base64url spelling; Signer never produces a longer one
// (ErrTooLong).
package token
