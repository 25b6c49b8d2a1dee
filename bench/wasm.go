package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// errSkip marks a scenario that cannot run here; its text is the reason.
type errSkip string

func (e errSkip) Error() string { return string(e) }

// scenarioWasm runs the WebAssembly signer's own benchmark, wasm/bench/
// bench.mjs (WASM signer against npm jsonwebtoken with a string key and a
// key object, and jose, in one Node.js process), after wasm/build.sh and,
// when its packages are missing, npm ci. It also measures the gzip size of
// wasm/dist/keyhole.wasm, adds the size report (wasm/bench/size.mjs: the
// module's bytes by section and Go package) and the cold start broken
// into its steps (wasm/bench/cold.mjs), and times the cold start against
// jsonwebtoken in fresh processes.
func scenarioWasm(e *env) (*scenario, error) {
	dir := filepath.Join(e.repo, "wasm")
	script := filepath.Join(dir, "bench", "bench.mjs")
	switch {
	case !fileExists(script):
		return nil, errSkip("skipped: wasm bench not built (wasm/bench/bench.mjs does not exist)")
	case !fileExists(filepath.Join(dir, "build.sh")):
		return nil, errSkip("skipped: wasm bench not built (wasm/build.sh does not exist)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nil, errSkip("skipped: wasm bench not built (node is not on PATH)")
	}
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Minute)
	defer cancel()
	run := func(name string, args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = e.repo
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
		}
		return out, nil
	}
	if _, err := run("bash", "wasm/build.sh"); err != nil {
		return nil, errSkip("skipped: wasm bench not built (wasm/build.sh failed: " + firstLine(err.Error()) + ")")
	}
	// npm ci replaces node_modules wholesale; only run it when the
	// reference packages are missing.
	if !fileExists(filepath.Join(dir, "node_modules", "jsonwebtoken", "package.json")) || !fileExists(filepath.Join(dir, "node_modules", "jose", "package.json")) {
		if _, err := run("npm", "ci", "--prefix", "wasm", "--no-audit", "--no-fund"); err != nil {
			return nil, errSkip("skipped: wasm bench not built (npm ci failed: " + firstLine(err.Error()) + ")")
		}
	}
	sc := &scenario{ID: "wasm", Title: "WASM signer vs npm jsonwebtoken and jose",
		What: "`node wasm/bench/bench.mjs 2` (1 in quick mode: seconds per measurement, after an equal warm-up; one Node.js process), plus the gzip -9 size of `wasm/dist/keyhole.wasm` measured here (Go's compress/gzip), `node wasm/bench/size.mjs` and `node wasm/bench/cold.mjs 20` (6 in quick mode). 0.85 MB = 850 000 bytes."}
	gz, err := gzipSize(filepath.Join(dir, "dist", "keyhole.wasm"))
	if err != nil {
		return nil, err
	}
	sc.Checks = append(sc.Checks, check{Label: "WASM gzip size", Value: float64(gz) / 1e6, Unit: "MB", Goal: 0.85, AtMost: true})
	secs := "2"
	if e.quick {
		secs = "1"
	}
	out, err := run("node", "wasm/bench/bench.mjs", secs)
	if err != nil {
		return nil, err
	}
	sc.Body = strings.TrimSpace(string(out)) + "\n"
	sc.Checks = append(sc.Checks, wasmChecks(string(out))...)
	n := 20
	if e.quick {
		n = 6
	}
	if out, err := run("node", "wasm/bench/size.mjs"); err != nil {
		sc.Notes = append(sc.Notes, "size report: failed: "+firstLine(err.Error()))
	} else {
		sc.Body += "\nSize (`node wasm/bench/size.mjs`):\n\n" + strings.TrimSpace(string(out)) + "\n"
	}
	if out, err := run("node", "wasm/bench/cold.mjs", strconv.Itoa(n)); err != nil {
		sc.Notes = append(sc.Notes, "cold start breakdown: failed: "+firstLine(err.Error()))
	} else {
		sc.Body += "\n" + strings.TrimSpace(string(out)) + "\n"
	}
	wasmMs, jwtMs, err := coldStarts(ctx, dir, n)
	if err != nil {
		sc.Notes = append(sc.Notes, "cold start against jsonwebtoken: failed: "+firstLine(err.Error()))
		return sc, nil
	}
	wm, jm := median(wasmMs), median(jwtMs)
	sc.Body += fmt.Sprintf("\nCold start in fresh processes, %d each, alternating (`node --input-type=module -e`, timed inside the process from before the first import to the first token): WASM signer (import the package, read and instantiate keyhole.wasm, create a signer, sign) median %.1f ms (%.1f–%.1f); jsonwebtoken (require, sign with a string key) median %.1f ms (%.1f–%.1f).\n",
		n, wm, slices.Min(wasmMs), slices.Max(wasmMs), jm, slices.Min(jwtMs), slices.Max(jwtMs))
	c := check{Label: "WASM cold start / jsonwebtoken require + first sign (medians)", Value: wm / jm, Unit: "x", Goal: 1.0, AtMost: true}
	for i := range min(len(wasmMs), len(jwtMs)) {
		r := wasmMs[i] / jwtMs[i]
		if i == 0 || r < c.Lo {
			c.Lo = r
		}
		c.Hi = max(c.Hi, r)
	}
	sc.Checks = append(sc.Checks, c)
	return sc, nil
}

// coldWasm and coldJWT are the two cold-start scripts: each prints the
// milliseconds from before its first import to its first token. argv[1]
// is the wasm package directory.
const (
	coldWasm = `const t0 = performance.now();
const dir = process.argv[1];
const { load } = await import(dir + '/index.js');
const { readFile } = await import('node:fs/promises');
const m = await load({ wasm: await readFile(dir + '/dist/keyhole.wasm') });
const tok = m.createSigner({ key: 'topsecret', onWarning() {} }).sign({ path: '/private/a.jpg', expiresIn: 300, args: { text: 'Hello' } });
if (!tok) throw new Error('no token');
console.log(performance.now() - t0);`
	coldJWT = `const t0 = performance.now();
const dir = process.argv[1];
const { createRequire } = await import('node:module');
const jwt = createRequire(dir + '/')('jsonwebtoken');
const tok = jwt.sign({ args: { text: 'Hello' } }, 'topsecret', { algorithm: 'HS256', expiresIn: 300, audience: '/private/a.jpg' });
if (!tok) throw new Error('no token');
console.log(performance.now() - t0);`
)

// coldStarts runs each cold-start script n times in fresh Node.js
// processes, alternating, and returns the times in milliseconds.
func coldStarts(ctx context.Context, dir string, n int) (wasmMs, jwtMs []float64, err error) {
	one := func(script string) (float64, error) {
		cmd := exec.CommandContext(ctx, "node", "--input-type=module", "-e", script, dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr // a warning there must not spoil the number on stdout
		out, err := cmd.Output()
		if err != nil {
			return 0, fmt.Errorf("node: %v: %s", err, stderr.Bytes())
		}
		return strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	}
	for range n {
		w, err := one(coldWasm)
		if err != nil {
			return nil, nil, err
		}
		j, err := one(coldJWT)
		if err != nil {
			return nil, nil, err
		}
		wasmMs, jwtMs = append(wasmMs, w), append(jwtMs, j)
	}
	return wasmMs, jwtMs, nil
}

// gzipSize returns the size of file compressed with gzip -9.
func gzipSize(file string) (int64, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return int64(buf.Len()), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// wasmChecks extracts the goal figures from the markdown table that
// bench.mjs prints (rows are matched by the start of their first cell):
// cold start, sign() against jsonwebtoken with a string key, signMany
// against jsonwebtoken with a key object, and signMany against jose.
func wasmChecks(out string) []check {
	rows := map[string][]string{}
	for line := range strings.SplitSeq(out, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		for _, key := range []string{"cold start", "sign()", "signMany(1000), per URL", "signMany(1000) with hmac: 'wasm'", "signManyAsync(1000)", "jose"} {
			if strings.HasPrefix(cells[0], key) && len(cells) >= 4 {
				rows[key] = cells
			}
		}
	}
	var cs []check
	if r, ok := rows["cold start"]; ok {
		if v, ok := leadingNumber(r[1]); ok {
			cs = append(cs, check{Label: "WASM cold start (read file → first token)", Value: v, Unit: "ms", Goal: 50, AtMost: true})
		}
	}
	if r, ok := rows["sign()"]; ok {
		if v, ok := leadingNumber(r[3]); ok {
			cs = append(cs, check{Label: "WASM sign() / jsonwebtoken, string key", Value: v, Unit: "x", Goal: 10})
		}
	}
	if r, ok := rows["signMany(1000), per URL"]; ok {
		if v, ok := leadingNumber(r[3]); ok {
			cs = append(cs, check{Label: "WASM signMany / jsonwebtoken, key object", Value: v, Unit: "x", Goal: 1.5})
		}
		for _, o := range []struct{ row, label string }{
			{"signMany(1000) with hmac: 'wasm'", "WASM signMany, pure-Go HMAC / jsonwebtoken, key object"},
			{"signManyAsync(1000)", "WASM signManyAsync / jsonwebtoken, key object"},
		} {
			if r, ok := rows[o.row]; ok {
				if v, ok := leadingNumber(r[3]); ok {
					cs = append(cs, check{Label: o.label, Value: v, Unit: "x"})
				}
			}
		}
		many, ok1 := leadingNumber(r[1])
		if j, ok := rows["jose"]; ok && ok1 {
			if jose, ok := leadingNumber(j[1]); ok && jose > 0 {
				cs = append(cs, check{Label: "WASM signMany / jose SignJWT", Value: many / jose, Unit: "x"})
			}
		}
	}
	return cs
}

// leadingNumber parses the number at the start of s, ignoring thousands
// separators: "1,234 /s" is 1234, "12.5 ms" is 12.5, "3.10x" is 3.1.
func leadingNumber(s string) (float64, bool) {
	s = strings.ReplaceAll(s, ",", "")
	end := 0
	for end < len(s) && (s[end] == '.' || s[end] >= '0' && s[end] <= '9') {
		end++
	}
	v, err := strconv.ParseFloat(s[:end], 64)
	return v, err == nil
}
