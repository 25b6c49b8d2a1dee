package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// scenarioTokens runs the token packages' Go benchmarks (sign, verify cold
// and warm, a bare jwx jwt.Parse as the reference for cold) in alternating
// rounds of -count 1, so every benchmark sees the same drift, and
// summarises them with benchstat.
func scenarioTokens(e *env) (*scenario, error) {
	rounds, benchtime := 6, "1s"
	if e.quick {
		rounds, benchtime = 3, "200ms"
	}
	sc := &scenario{ID: "token", Title: "Token sign and verify (Go benchmarks)",
		What: fmt.Sprintf("`go test -run x -bench . -count 1 -benchtime %s ./token/...`, %d rounds (so the benchmarks alternate), summarised by benchstat. cold = signature and claims checked on every call (cache off), warm = verified-token cache hit, jwx-parse = a bare lestrrat-go/jwx v3 `jwt.Parse` of the same token, Sign = a reused Signer, SignOneShot = `token.Sign`.", benchtime, rounds)}
	var all strings.Builder
	for r := 0; r < rounds; r++ {
		ctx, cancel := context.WithTimeout(e.ctx, 5*time.Minute)
		cmd := exec.CommandContext(ctx, "go", "test", "-run", "x", "-bench", ".", "-benchmem", "-count", "1", "-benchtime", benchtime, "./token/...")
		cmd.Dir = e.repo
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("go test -bench: %v\n%s", err, out)
		}
		all.Write(out)
		logf("    round %d/%d done", r+1, rounds)
	}
	raw := filepath.Join(e.tmp, "token.bench")
	if err := os.WriteFile(raw, []byte(all.String()), 0o644); err != nil {
		return nil, err
	}
	ns := parseGoBench(all.String())
	sc.Body = goBenchTable(ns)
	if stat, err := benchstat(e.ctx, raw); err != nil {
		sc.Notes = append(sc.Notes, "benchstat: "+err.Error())
	} else {
		sc.Body += "\nbenchstat:\n\n```\n" + strings.TrimSpace(stat) + "\n```\n"
	}
	ratio := func(label, keyhole, ref string) {
		a, b := median(ns[keyhole]), median(ns[ref])
		if a > 0 && b > 0 {
			sc.Checks = append(sc.Checks, check{Label: label, Value: b / a, Unit: "x"})
		}
	}
	ratio("verify cold / jwx jwt.Parse (ops/s)", "Verify/cold", "Verify/jwx-parse")
	ratio("verify warm / verify cold (ops/s)", "Verify/warm", "Verify/cold")
	ratio("Sign (reused Signer) / token.Sign (ops/s)", "Sign", "SignOneShot")
	return sc, nil
}

// parseGoBench returns the ns/op of each benchmark in go test output, by
// name without the "Benchmark" prefix and the -GOMAXPROCS suffix.
func parseGoBench(out string) map[string][]float64 {
	res := map[string][]float64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || f[3] != "ns/op" {
			continue
		}
		v, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		res[name] = append(res[name], v)
	}
	return res
}

// goBenchTable is a markdown table of median ns/op and ops/s per benchmark.
func goBenchTable(ns map[string][]float64) string {
	var b strings.Builder
	b.WriteString("| benchmark | runs | median ns/op | median ops/s |\n|---|--:|--:|--:|\n")
	for _, name := range sortedKeys(ns) {
		m := median(ns[name])
		fmt.Fprintf(&b, "| %s | %d | %.0f | %s |\n", name, len(ns[name]), m, human(1e9/m))
	}
	return b.String()
}

// benchstat runs benchstat on file: from PATH, from GOBIN/GOPATH/bin, after
// `go install golang.org/x/perf/cmd/benchstat@latest`, or with go run.
func benchstat(ctx context.Context, file string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	find := func() string {
		if p, err := exec.LookPath("benchstat"); err == nil {
			return p
		}
		for _, v := range []string{"GOBIN", "GOPATH"} {
			out, _ := exec.Command("go", "env", v).Output()
			dir := strings.TrimSpace(string(out))
			if v == "GOPATH" {
				dir = filepath.Join(strings.Split(dir, string(os.PathListSeparator))[0], "bin")
			}
			if p := filepath.Join(dir, "benchstat"); dir != "" && fileExists(p) {
				return p
			}
		}
		return ""
	}
	bin := find()
	if bin == "" {
		logf("    installing benchstat: go install golang.org/x/perf/cmd/benchstat@latest")
		if out, err := exec.CommandContext(ctx, "go", "install", "golang.org/x/perf/cmd/benchstat@latest").CombinedOutput(); err != nil {
			logf("    go install failed: %v: %s", err, out)
		}
		bin = find()
	}
	var cmd *exec.Cmd
	if bin != "" {
		cmd = exec.CommandContext(ctx, bin, file)
	} else {
		cmd = exec.CommandContext(ctx, "go", "run", "golang.org/x/perf/cmd/benchstat@latest", file)
		cmd.Dir = os.TempDir() // outside the module: go.mod is not touched
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%v: %s", err, out)
	}
	return string(out), nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
