// Command keyhole serves files behind expiring signed URLs and mints and
// inspects the tokens for them.
//
//	keyhole serve   [-config FILE] [-addr HOST:PORT]   serve files (no config: the embedded demo)
//	keyhole keygen                                      print a new random 256-bit secret
//	keyhole sign    -config FILE -key ID -path P [-expires 5m] [-args JSON] [-query Q] [-base URL]
//	keyhole inspect [-config FILE] [-path P] TOKEN|URL  decode a token and, given a config, verify it
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/keyhole-dev/keyhole/transform/vips"
)

const usage = `keyhole serves files behind expiring signed URLs.

Usage:
  keyhole serve   [-config FILE] [-addr HOST:PORT]
  keyhole keygen
  keyhole sign    -config FILE -key ID -path /private/a.jpg [-expires 5m] [-args JSON] [-query 'w=300'] [-base URL]
  keyhole inspect [-config FILE] [-path P] TOKEN|URL

Run "keyhole COMMAND -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	vips.Shutdown() // after every transform has returned; a no-op if serve never started it
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "keyhole:", err)
		}
		os.Exit(2)
	}
}

// run dispatches a command line; ctx ends when the process is asked to stop.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "keygen":
		return runKeygen(args[1:], stdout, stderr)
	case "sign":
		return runSign(args[1:], stdout, stderr)
	case "inspect":
		return runInspect(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("keyhole "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
