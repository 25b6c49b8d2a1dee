//go:build js && wasm

// Command wasm is Keyhole's signer for JavaScript: token signing (package
// token) and parameter validation (package transform) compiled with
// GOOS=js GOARCH=wasm and wrapped by the @keyhole/signer package in this
// directory (index.js). It holds no logic of its own beyond decoding
// requests and encoding answers.
//
// # Calling convention
//
// The API is a handful of //go:wasmexport functions that JavaScript calls
// directly, without syscall/js: a call through js.FuncOf costs about 16 µs
// (the Go scheduler runs an event goroutine for it), a direct export call
// about 0.2 µs. Requests and answers travel through two byte buffers in the
// module's memory:
//
//  1. JavaScript encodes a request (see reader) and asks keyhole_alloc for
//     an input buffer of that size, copies the request into it, and calls
//     an operation such as keyhole_sign.
//  2. The operation returns n. n >= 0: success, the answer is the n bytes
//     at keyhole_out(). n < 0: failure, the -n bytes at keyhole_out() are
//     "code\nindex\nmessage\ndetail" (see apiError).
//
// Every operation recovers from panics and reports them as
// ERR_KEYHOLE_INTERNAL, so the Go program never exits while JavaScript
// holds it.
//
// Secrets never appear in answers or errors.
package main

import "unsafe"

// in is the request buffer filled by JavaScript; out is the answer buffer.
// Both are package-level so the garbage collector (which never moves
// objects) keeps them alive while JavaScript writes and reads them.
var in, out = make([]byte, 0, 64<<10), make([]byte, 0, 64<<10)

// keyhole_alloc makes the request buffer n bytes long and returns its
// address. The address stays valid until the next keyhole_alloc.
//
//go:wasmexport keyhole_alloc
func keyholeAlloc(n uint32) uint32 {
	if uint32(cap(in)) < n {
		in = make([]byte, n, n+n/4)
	}
	in = in[:n]
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(in[:cap(in)]))))
}

// keyhole_abi returns the boundary version (see abiStamp), which
// JavaScript checks once after start-up.
//
//go:wasmexport keyhole_abi
func keyholeABI() uint32 { return abiVersion() }

// keyhole_out returns the address of the last answer.
//
//go:wasmexport keyhole_out
func keyholeOut() uint32 {
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(out[:cap(out)]))))
}

// keyhole_signer_new creates a signer from a key request (see newSigner).
// The answer is the signer's handle in decimal.
//
//go:wasmexport keyhole_signer_new
func keyholeSignerNew() int32 { return call(newSigner) }

// keyhole_signer_free forgets a signer handle. Unknown handles are ignored.
//
//go:wasmexport keyhole_signer_free
func keyholeSignerFree(h uint32) { delete(signers, h) }

// keyhole_sign signs a batch of URLs with signer h (see signBatch). With
// inputs = 1 it answers the tokens' signing inputs instead, for JavaScript
// to sign with the runtime's HMAC (node:crypto, WebCrypto).
//
//go:wasmexport keyhole_sign
func keyholeSign(h, inputs uint32) int32 {
	return call(func(r *reader) error { return signBatch(h, inputs == 1, r) })
}

// keyhole_srcset_check checks the widths and args of a srcset request (see
// checkSrcset) before JavaScript signs one URL per width.
//
//go:wasmexport keyhole_srcset_check
func keyholeSrcsetCheck() int32 { return call(checkSrcset) }

// keyhole_validate checks query parameters like the server (see validate).
//
//go:wasmexport keyhole_validate
func keyholeValidate() int32 { return call(validate) }

// keyhole_decode decodes a token without verifying it (see decode).
//
//go:wasmexport keyhole_decode
func keyholeDecode() int32 { return call(decode) }

// call runs op on the current request and returns the length of its answer,
// or minus the length of the encoded error. A panic becomes
// ERR_KEYHOLE_INTERNAL.
func call(op func(*reader) error) (n int32) {
	out = out[:0]
	defer func() {
		if p := recover(); p != nil {
			n = fail(&apiError{code: codeInternal, index: -1, msg: "internal error: " + panicText(p)})
		}
	}()
	r := &reader{b: in}
	if err := op(r); err != nil {
		return fail(err)
	}
	return int32(len(out))
}

// panicText describes a recovered panic value.
func panicText(p any) string {
	switch p := p.(type) {
	case error:
		return p.Error()
	case string:
		return p
	}
	return "panic"
}

// main only keeps the Go program alive: the exports do the work.
func main() {
	select {}
}
