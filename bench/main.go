// Command bench is Keyhole's end-to-end benchmark suite. It compares
// Keyhole with a reference in alternating rounds (A, B, A, B, …) on the
// same machine in the same run, so drift cancels out of the ratios, and
// writes a markdown report and an SVG chart:
//
//	go run ./bench [-quick] [-out bench/results] [-imgproxy PATH] [-only original,token,transform,cache,overload,scale,wasm,s3]
//
// Every server runs in its own child process (this binary started again
// with -serve), so CPU time per request (/proc/<pid>/stat) and peak RSS
// (VmHWM) belong to one server. Load comes from wrk on 127.0.0.1 only,
// bounded by -d. See bench/README.md.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	govips "github.com/davidbyttow/govips/v2/vips"
)

// scenarios in run order. IDs are what -only takes.
var scenarios = []struct {
	ID    string
	Title string
	Run   func(*env) (*scenario, error)
}{
	{"original", "Protected original vs nginx secure_link, caddy and http.FileServer", scenarioOriginal},
	{"token", "Token sign and verify (Go benchmarks)", scenarioTokens},
	{"transform", "Transforms vs a naive govips handler (and imgproxy)", scenarioTransforms},
	{"cache", "Variant-cache hit vs http.FileServer", scenarioCache},
	{"overload", "Overload: 4× MaxConcurrent", scenarioOverload},
	{"scale", "How cost grows: connections and file sizes", scenarioScale},
	{"wasm", "WASM signer vs npm jsonwebtoken and jose", scenarioWasm},
	{"s3", "Object storage: originals and variant-store hits from S3 vs local disk and memory", scenarioS3},
}

func main() {
	var (
		quick    = flag.Bool("quick", false, "short run (under 2 minutes): 2 rounds of 2 s per side")
		out      = flag.String("out", "", "report directory (default <module>/bench/results)")
		imgproxy = flag.String("imgproxy", "", "imgproxy binary to compare with (default: imgproxy on PATH, if any)")
		only     = flag.String("only", "", "comma-separated scenarios to run (default all): original,token,transform,cache,overload,scale,wasm,s3")
		rounds   = flag.Int("rounds", 0, "measured rounds per side (default 5, quick 2)")
		roundDur = flag.Duration("d", 0, "length of one round, whole seconds (default 5s, quick 2s)")
		chart    = flag.String("chart", "", "draw the chart of an existing report (its .md) again into the .svg beside it, and exit")
		srv      serverOpts
	)
	flag.StringVar(&srv.Kind, "serve", "", "internal: run one server (keyhole, fileserver, naive) in this process")
	flag.StringVar(&srv.Root, "root", "", "internal: served directory")
	flag.StringVar(&srv.Secret, "secret", "", "internal: token secret")
	flag.Int64Var(&srv.CacheBytes, "cache", 0, "internal: VariantCacheBytes")
	flag.IntVar(&srv.MaxConcurrent, "maxconc", 0, "internal: MaxConcurrent")
	flag.IntVar(&srv.OpenFiles, "openfiles", 0, "internal: handler.Config.OpenFiles (-1: open-file cache off)")
	flag.StringVar(&srv.Store, "store", "", "internal: variant store bucket URL")
	flag.Int64Var(&srv.TierBytes, "tier", 0, "internal: memory tier bytes in front of a bucket root and store (0: none)")
	flag.Parse()
	if srv.Kind != "" {
		if err := runServer(srv); err != nil {
			fmt.Fprintln(os.Stderr, "bench server:", err)
			os.Exit(1)
		}
		return
	}
	if *chart != "" {
		if err := redrawChart(*chart); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	sched := schedule{Rounds: 5, Round: 5 * time.Second, Warmup: 2 * time.Second}
	if *quick {
		sched = schedule{Rounds: 2, Round: 2 * time.Second, Warmup: 1 * time.Second}
	}
	if *rounds > 0 {
		sched.Rounds = *rounds
	}
	if *roundDur > 0 {
		sched.Round = *roundDur
	}
	if err := run(*quick, *out, *imgproxy, *only, sched); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(quick bool, outDir, imgproxyFlag, only string, sched schedule) error {
	start := time.Now()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	repo, err := moduleRoot()
	if err != nil {
		return err
	}
	if outDir == "" {
		outDir = filepath.Join(repo, "bench", "results")
	}
	want := map[string]bool{}
	for id := range strings.SplitSeq(only, ",") {
		if id = strings.TrimSpace(id); id != "" {
			want[id] = true
		}
	}
	for id := range want {
		if !knownScenario(id) {
			return fmt.Errorf("-only: unknown scenario %q", id)
		}
	}
	if err := ensureWrk(); err != nil {
		return err
	}
	ip, err := findImgproxy(imgproxyFlag)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "keyhole-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	secret := make([]byte, 32)
	rand.Read(secret)
	e := &env{
		ctx: ctx, repo: repo, tmp: tmp, root: filepath.Join(tmp, "root"), secret: hex.EncodeToString(secret),
		sched: sched, quick: quick, threads: max(1, runtime.NumCPU()/2), conns: 16,
		maxConc: 2 * runtime.NumCPU(), imgproxy: ip, // maxConc: handler.Config.MaxConcurrent's default
		nginx: findBinary("nginx", "/usr/sbin/nginx"), caddy: findBinary("caddy", "/usr/bin/caddy"),
	}
	logf("generating inputs in %s", e.root)
	if e.big, e.small, e.shot, err = makeInputs(e.root); err != nil {
		return fmt.Errorf("inputs: %w", err)
	}

	mode := fmt.Sprintf("full: %d rounds × %s per side, %s warm-up", sched.Rounds, sched.Round, sched.Warmup)
	if quick {
		mode = fmt.Sprintf("quick: %d rounds × %s per side, %s warm-up", sched.Rounds, sched.Round, sched.Warmup)
	}
	host, _ := os.Hostname()
	date := time.Now().Format("2006-01-02")
	rep := &report{
		Title:   fmt.Sprintf("Keyhole benchmark — %s on %s", date, host),
		Machine: machine(mode, e),
		Inputs:  []input{e.big, e.small, e.shot},
	}
	for i, s := range scenarios {
		if len(want) > 0 && !want[s.ID] {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		la := loadAvg()
		logf("== %s (load average %s)", s.Title, la)
		t0 := time.Now()
		sc, err := s.Run(e)
		var skip errSkip
		switch {
		case errors.As(err, &skip):
			sc = &scenario{Skipped: skip.Error()}
		case err != nil:
			sc = &scenario{Skipped: "failed: " + err.Error()}
		}
		sc.Num, sc.ID, sc.Title = i+1, s.ID, s.Title
		if sc.Skipped == "" {
			sc.Notes = append(sc.Notes, fmt.Sprintf("Load average (1, 5, 15 min) when the scenario started: %s; at its end: %s.", la, loadAvg()))
		}
		if sc.Skipped != "" {
			logf("   %s", sc.Skipped)
		}
		logf("   (%s)", time.Since(t0).Round(time.Second))
		rep.Scenarios = append(rep.Scenarios, sc)
	}
	rep.Elapsed = time.Since(start)
	rep.Machine = append(rep.Machine, [2]string{"load average at end (1, 5, 15 min)", loadAvg()})

	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	base := filepath.Join(outDir, date+"-"+host)
	if quick {
		base += "-quick"
	}
	svg, err := os.Create(base + ".svg")
	if err != nil {
		return err
	}
	if err := writeSVG(svg, rep.Title, rep.checks()); err != nil {
		return err
	}
	if err := svg.Close(); err != nil {
		return err
	}
	for _, s := range rep.Scenarios {
		if s.Chart != "" {
			if err := os.WriteFile(base+"-"+s.ID+".svg", []byte(s.Chart), 0o644); err != nil {
				return err
			}
		}
	}
	md, err := os.Create(base + ".md")
	if err != nil {
		return err
	}
	if err := rep.writeMarkdown(md, filepath.Base(base)+".svg"); err != nil {
		return err
	}
	if err := md.Close(); err != nil {
		return err
	}
	fmt.Printf("\n%s\n\n%s\n", rep.Title, rep.summary())
	fmt.Printf("report: %s.md\nchart:  %s.svg\n", base, base)
	return nil
}

// redrawChart draws the ratio chart of the report md again, from its
// summary table, into the .svg of the same name.
func redrawChart(md string) error {
	b, err := os.ReadFile(md)
	if err != nil {
		return err
	}
	title, checks, err := checksFromMarkdown(string(b))
	if err != nil {
		return fmt.Errorf("%s: %w", md, err)
	}
	f, err := os.Create(strings.TrimSuffix(md, ".md") + ".svg")
	if err != nil {
		return err
	}
	if err := writeSVG(f, title, checks); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func knownScenario(id string) bool {
	for _, s := range scenarios {
		if s.ID == id {
			return true
		}
	}
	return false
}

// moduleRoot returns the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the suite inside the keyhole module")
	}
	return filepath.Dir(mod), nil
}

// ensureWrk installs Debian's wrk with apt-get (sudo unless root) when it
// is not on PATH.
func ensureWrk() error {
	if _, err := exec.LookPath("wrk"); err == nil {
		return nil
	}
	logf("wrk not found: installing it with apt-get")
	var pre []string
	if os.Geteuid() != 0 {
		pre = []string{"sudo"}
	}
	for _, args := range [][]string{{"apt-get", "update", "-qq"}, {"apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"}} {
		args = append(pre, args...)
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("installing wrk (%s): %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	_, err := exec.LookPath("wrk")
	return err
}

// machine describes the host for the report.
func machine(mode string, e *env) [][2]string {
	cpu := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	version := func(name string, args ...string) string {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil && len(out) == 0 { // wrk -v prints its version and exits 1
			return "not installed"
		}
		return firstLine(strings.TrimSpace(string(out)))
	}
	kernel := version("uname", "-sr")
	ip := "not installed (skipped)"
	if e.imgproxy != "" {
		ip = e.imgproxy + " " + version(e.imgproxy, "version")
	}
	return [][2]string{
		{"CPU", fmt.Sprintf("%s, %d logical cores", cpu, runtime.NumCPU())},
		{"OS", kernel},
		{"Go", runtime.Version()},
		{"libvips", govips.Version},
		{"Node.js", version("node", "--version")},
		{"wrk", strings.Fields(version("wrk", "-v") + " ?")[1]},
		{"imgproxy", ip},
		{"nginx", refVersion(e.nginx, "-v")},
		{"caddy", refVersion(e.caddy, "version")},
		{"mode", mode},
		{"load", fmt.Sprintf("wrk -t%d on 127.0.0.1; %d connections for file scenarios, %d (MaxConcurrent) for transforms", e.threads, e.conns, e.maxConc)},
		{"load average at start (1, 5, 15 min)", loadAvg()},
	}
}

// loadAvg returns the machine's load averages from /proc/loadavg: a
// shared machine's neighbours show up here, and in the per-round ranges.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}

// logf prints progress to stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}
