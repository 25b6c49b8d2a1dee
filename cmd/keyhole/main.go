// Command keyhole serves files behind expiring signed URLs and mints and
// inspects the tokens for them.
//
//	keyhole serve   [-config FILE] [-addr HOST:PORT]   serve files (no config: the embedded demo)
//	keyhole check   -config FILE                        validate a config file without serving
//	keyhole keygen                                      print a new random 256-bit secret
//	keyhole sign    -config FILE -key ID -path P [-expires 5m] [-args JSON] [-query Q] [-base URL]
//	keyhole inspect [-config FILE] [-path P] TOKEN|URL  decode a token and, given a config, verify it
//	keyhole version                                     print the versions of keyhole, Go and libvips
//
// Exit status: 0 on success (and for -h), 1 when the command failed (or,
// for check and inspect, when the config is invalid or the server would
// refuse the token), 2 for a command line that does not parse.
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
  keyhole serve   [-config FILE] [-addr HOST:PORT] [-log-format text|json] [-log-level LEVEL]
  keyhole check   -config FILE
  keyhole keygen
  keyhole sign    -config FILE -key ID -path /private/a.jpg [-expires 5m] [-args JSON] [-query 'w=300'] [-base URL]
  keyhole inspect [-config FILE] [-path P] TOKEN|URL
  keyhole version

Run "keyhole COMMAND -h" for what a command does, its flags and an example.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if !errors.Is(err, errVipsBusy) {
		vips.Shutdown() // after every transform has returned; a no-op if libvips never started
	}
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode prints err (once) and returns the process status for it.
func exitCode(err error, stderr io.Writer) int {
	var (
		ue usageError
		se silentError
	)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &se):
		return 1
	case errors.As(err, new(flagError)):
		return 2 // the flag package printed it, with the usage
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "keyhole:", err)
		return 2
	}
	fmt.Fprintln(stderr, "keyhole:", err)
	return 1
}

// usageError is a command line that does not parse: exit status 2.
type usageError string

func (e usageError) Error() string { return string(e) }

// silentError ends a command with status 1 after it has printed its own
// report (inspect's refusal, check's errors).
type silentError struct{}

func (silentError) Error() string { return "failed" }

// run dispatches a command line; ctx ends when the process is asked to stop.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError("no command given")
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "check":
		return runCheck(args[1:], stdout, stderr)
	case "keygen":
		return runKeygen(args[1:], stdout, stderr)
	case "sign":
		return runSign(args[1:], stdout, stderr)
	case "inspect":
		return runInspect(args[1:], stdout, stderr)
	case "version":
		return runVersion(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && helps[args[1]] != "" {
			return run(ctx, []string{args[1], "-h"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError(fmt.Sprintf("unknown command %q", args[0]))
}

// helps are the -h texts of the commands: what the command does, its
// arguments and an example; the flags follow.
var helps = map[string]string{
	"serve":   serveHelp,
	"check":   checkHelp,
	"inspect": inspectHelp,
	"version": versionHelp,
	"keygen": `Usage: keyhole keygen

Prints a new random 256-bit secret, base64url without padding, for a
key's secret_base64 (or for the signing endpoint's admin token).

Example:
  keyhole keygen > /etc/keyhole/main.key   # then secret_file: /etc/keyhole/main.key
`,
	"sign": `Usage: keyhole sign -config FILE -key ID -path PATH [flags]
       keyhole sign -secret-env NAME [-key ID] -path PATH -base URL [flags]

Prints a signed URL for PATH (absolute: /private/photo.jpg) made with the
key ID of the config file, checked by the config's rules (limits,
watermark folders, signing.max_expires_in) as the server will check it.
With -secret-env (or -secret-base64-env) the key comes from the
environment and no config is read: the default limits apply, no watermark
can be signed, and -expires is capped at 720h. -key then only sets the
token's kid. The token always carries iat, so a key's not_before can
revoke it.

Example:
  keyhole sign -config keyhole.yaml -key main -path /private/photo.jpg -expires 10m \
    -args '{"text":"Hello"}' -query 'w=300' -base https://img.example.com
  KEYHOLE_SECRET=... keyhole sign -secret-env KEYHOLE_SECRET -key main \
    -path /private/photo.jpg -base https://img.example.com

Flags:
`,
}

// newFlags returns the flag set of a command. Its -h prints the command's
// help text and flags, and the command then exits 0.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("keyhole "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	help := helps[name]
	fs.Usage = func() {
		if help == "" {
			fmt.Fprintf(fs.Output(), "Usage: keyhole %s [flags]\n\nFlags:\n", name)
		} else {
			fmt.Fprint(fs.Output(), help)
		}
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses a command line; a flag that does not parse is a
// usageError (status 2).
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return flagError{usageError(err.Error())}
	}
	return err
}

// flagError is a flag that does not parse. The flag package has already
// printed it with the usage, so it ends the command with status 2 and is
// not printed again.
type flagError struct{ error }
