// Command vulngate reads `govulncheck -format json` from standard input
// and decides whether `make lint` passes. It fails on any vulnerability
// that the code reaches (a finding whose trace names a function) in a
// module the project requires. A reached vulnerability of the Go standard
// library fails too when -strict is given; otherwise it is printed as a
// warning that names the Go release that fixes it, because the fix is a
// toolchain upgrade, not a change to this repository.
//
// Usage:
//
//	go run golang.org/x/vuln/cmd/govulncheck@v1.9.0 -format json ./... | go run ./scripts/vulngate [-strict]
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
)

type message struct {
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

func main() {
	strict := flag.Bool("strict", false, "fail on reached vulnerabilities of the standard library too")
	flag.Parse()
	code, err := gate(os.Stdin, os.Stdout, *strict)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulngate:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

// gate returns 1 when a reached vulnerability fails the check, else 0.
func gate(in io.Reader, out io.Writer, strict bool) (int, error) {
	type key struct{ osv, module, version, fixed string }
	reached := map[key]bool{}
	seen := 0
	dec := json.NewDecoder(in)
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("reading govulncheck's JSON: %w", err)
		}
		seen++
		f := m.Finding
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" {
			continue // not reached from the code: informational
		}
		reached[key{f.OSV, f.Trace[0].Module, f.Trace[0].Version, f.FixedVersion}] = true
	}
	if seen == 0 {
		return 0, errors.New("no input: did govulncheck run?")
	}
	keys := make([]key, 0, len(reached))
	for k := range reached {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.module != b.module {
			return compare(a.module, b.module)
		}
		return compare(a.osv, b.osv)
	})
	code := 0
	for _, k := range keys {
		stdlib := k.module == "stdlib"
		level := "FAIL"
		if stdlib && !strict {
			level = "warning"
		} else {
			code = 1
		}
		what := k.module + "@" + k.version
		if stdlib {
			what = "the Go standard library of go" + k.version[1:]
		}
		fmt.Fprintf(out, "%s: %s in %s, fixed in %s (https://pkg.go.dev/vuln/%s)\n", level, k.osv, what, k.fixed, k.osv)
	}
	if len(keys) == 0 {
		fmt.Fprintln(out, "govulncheck: no reachable vulnerability")
	}
	return code, nil
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
