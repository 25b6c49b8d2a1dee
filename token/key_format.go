//go:build !keyhole_nofmt

package token

import (
	"fmt"
	"io"
)

// The keyhole_nofmt build tag leaves this file out, and with it the only
// import of fmt in the WebAssembly signer: fmt links os, whose start-up
// (standard files, internal/poll, the syscall file layer) is about 17 KB
// of the gzipped module. The tag is safe only in a program that links no
// fmt, where no verb can print a Key; internal/archtest checks that the
// signer built with it does not.
var _ fmt.Formatter = Key{}

// Format writes String for every verb, so that verbs that bypass String
// (%d, %o, %b, …) do not print the secret's bytes.
func (k Key) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }
