//go:build js

package transform

// The WebAssembly signer carries no documentation text (see paramtext.go).
var (
	paramText map[string]rowText
	sirvFacts map[string]string
)
