// Package transform is the pure-Go parameter half of Keyhole's image
// transformations: the parameter grammar (Sirv's names and value forms),
// validation against Limits, the precedence merge of the parameter layers,
// the canonical parameter string used for cache keys and ETags, output format
// sniffing and negotiation, and the Engine interface that the libvips engine
// in transform/vips implements.
//
// The package has no cgo and no dependencies outside the standard library, so
// it builds for GOOS=js GOARCH=wasm and the WebAssembly signer validates
// parameters with exactly the code the server runs.
//
// A request's parameters flow through the package like this:
//
//	secure, err := transform.FromArgs(claims.Args)        // token args
//	insecure := transform.FromQuery(r.URL.Query())        // query string
//	merged, ignored, err := transform.Merge(transform.Layers{...}, profiles)
//	params, err := transform.Parse(merged, limits)        // *transform.Errors → 400
//	key := transform.Canonical(merged)                    // ETag / variant cache key
//	out, vary := transform.Negotiate(params.Format, accept, transform.Sniff(src))
//
// Parameter names are case-sensitive and exactly Sirv's lower-case names; a
// name spelt differently (W, TEXT) is an unknown name and ignored. This is
// deliberate: the rule that keeps text and watermark options out of the
// query string compares names, so there must be only one spelling of each.
//
// Every supported parameter is described once, in the table that Parse,
// Canonical, Merge and Definitions all read; PARAMS.md and the README
// show it, rendered from Definitions by a test that fails when they drift.
package transform
