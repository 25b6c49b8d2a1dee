package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	govips "github.com/davidbyttow/govips/v2/vips"
)

const versionHelp = `Usage: keyhole version

Prints keyhole's module version, the VCS revision and time it was built
from (when the build recorded them), and the Go and libvips versions.

Example:
  keyhole version
`

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageError("version takes no arguments")
	}
	version, revision, when, modified := "(unknown)", "", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	fmt.Fprintf(stdout, "keyhole %s\n", version)
	if revision != "" {
		if modified {
			revision += " (modified)"
		}
		fmt.Fprintf(stdout, "revision %s %s\n", revision, when)
	}
	fmt.Fprintf(stdout, "go       %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(stdout, "libvips  %s\n", govips.Version)
	return nil
}
