// Command soak runs mixed traffic against a real `keyhole serve` on
// loopback for a long time (make soak; 10 minutes by default) and fails if
// a response has a status its request should not get, a reload fails, the
// server does not drain cleanly, or memory, goroutines, threads or open
// file descriptors grow past a bound.
//
// The traffic, from -workers loops: protected originals (GET, HEAD and
// conditional GET), transforms from a small set of widths (variant cache
// hits) and new widths (misses, evicting from a small variant cache),
// refused tokens (missing, expired, tampered, revoked by a key's
// not_before, audience elsewhere), a missing file and a bad path. Every
// 30 s the config file is rewritten (a profile's width and an unused key
// change) and the server gets SIGHUP.
//
// The bounds, taken against a baseline sampled after the warm-up (the
// first tenth of the run, at least 10 s, when the caches have filled): at
// the end, after the clients' idle connections are closed, RSS at most
// 1.5 × baseline + 64 MiB, goroutines and OS threads at most baseline + 20,
// open file descriptors at most baseline + 20.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/keyhole-dev/keyhole/token"
)

const (
	secretMain    = "soak-main-secret-that-is-32-bytes!!"
	secretRevoked = "soak-revoked-secret-is-32-bytes-too!"
	images        = 6
)

func main() {
	bin := flag.String("bin", "bin/keyhole", "the keyhole `binary` to run")
	dur := flag.Duration("d", 10*time.Minute, "how long to send traffic")
	workers := flag.Int("workers", 4, "concurrent request loops")
	reload := flag.Duration("reload", 30*time.Second, "SIGHUP interval")
	sample := flag.Duration("sample", 10*time.Second, "resource sampling interval")
	flag.Parse()
	if err := run(*bin, *dur, *workers, *reload, *sample); err != nil {
		fmt.Fprintln(os.Stderr, "soak: FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("soak: PASS")
}

// kind is one sort of request and the status (and auth result) it must get.
type kind struct {
	name   string
	status int
	result string // X-Keyhole-Auth-Result; "" not checked
}

var kinds = []kind{
	{"original", 200, "ok"},
	{"original HEAD", 200, "ok"},
	{"original If-None-Match", 304, "ok"},
	{"transform (cached widths)", 200, "ok"},
	{"transform (new width)", 200, "ok"},
	{"missing token", 403, "missing token"},
	{"expired token", 403, "expired key"},
	{"tampered token", 403, "signature mismatch"},
	{"revoked token", 403, "revoked token"},
	{"audience elsewhere", 403, "audience mismatch"},
	{"missing file", 404, "ok"},
	{"bad path", 400, "bad path"},
}

type counts struct {
	mu         sync.Mutex
	byKind     map[string]map[int]int
	unexpected []string
}

func (c *counts) add(k kind, status int, result string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.byKind[k.name]
	if m == nil {
		m = map[int]int{}
		c.byKind[k.name] = m
	}
	m[status]++
	if status != k.status || (k.result != "" && result != k.result) {
		if len(c.unexpected) < 20 {
			c.unexpected = append(c.unexpected, fmt.Sprintf("%s: %d %q, want %d %q", k.name, status, result, k.status, k.result))
		}
	}
}

func run(bin string, dur time.Duration, workers int, reloadEvery, sampleEvery time.Duration) (err error) {
	dir, err := os.MkdirTemp("", "keyhole-soak-")
	if err != nil {
		return err
	}
	defer func() {
		// On failure the server's log stays for a post-mortem.
		if err == nil {
			os.RemoveAll(dir)
			return
		}
		log := filepath.Join(dir, "serve.log")
		if b, rerr := os.ReadFile(log); rerr == nil {
			lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
			fmt.Fprintf(os.Stderr, "soak: the last lines of %s:\n%s\n", log, strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
	}()
	if err := writeImages(filepath.Join(dir, "files", "private")); err != nil {
		return err
	}
	start := time.Now()
	cfgName := filepath.Join(dir, "keyhole.yaml")
	if err := os.WriteFile(cfgName, []byte(config(start, 0)), 0o644); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "serve", "-config", cfgName)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill()
	exited := make(chan error, 1)
	base, err := listening(out)
	go func() { exited <- cmd.Wait() }()
	if err != nil {
		return err
	}
	// died reports the server's end if it has exited, else the error.
	died := func(err error) error {
		select {
		case e := <-exited:
			return fmt.Errorf("keyhole serve exited during the soak (%v) after %v", e, time.Since(start).Round(time.Second))
		case <-time.After(time.Second):
			return err
		}
	}
	pid := cmd.Process.Pid
	fmt.Printf("soak: keyhole serve pid %d at %s, %v of traffic from %d workers, SIGHUP every %v\n", pid, base, dur, workers, reloadEvery)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: time.Minute}
	urls, err := signURLs(base, start)
	if err != nil {
		return err
	}
	first, err := measure(client, base, pid)
	if err != nil {
		return err
	}
	samples := []sampleRow{first}

	c := &counts{byKind: map[string]map[int]int{}}
	var total atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for ctx.Err() == nil {
				k, req := urls.next(rng)
				res, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						c.add(k, 0, err.Error())
					}
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				c.add(k, res.StatusCode, res.Header.Get("X-Keyhole-Auth-Result"))
				total.Add(1)
			}
		}()
	}

	warmUp := max(dur/10, 10*time.Second)
	var baseline *sampleRow
	reloads, failedReloads := 0, 0
	reloadTick := time.NewTicker(reloadEvery)
	sampleTick := time.NewTicker(sampleEvery)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case e := <-exited:
			cancel()
			wg.Wait()
			return fmt.Errorf("keyhole serve exited during the soak (%v) after %v", e, time.Since(start).Round(time.Second))
		case <-reloadTick.C:
			reloads++
			if err := os.WriteFile(cfgName, []byte(config(start, reloads)), 0o644); err != nil {
				return err
			}
			if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
				cancel()
				wg.Wait()
				return died(err)
			}
			if ok := waitReloads(client, base, reloads); !ok {
				failedReloads++
			}
		case <-sampleTick.C:
			s, err := measure(client, base, pid)
			if err != nil {
				cancel()
				wg.Wait()
				return died(err)
			}
			s.requests = total.Load()
			samples = append(samples, s)
			if baseline == nil && time.Since(start) >= warmUp {
				baseline = &samples[len(samples)-1]
			}
		}
	}
	wg.Wait()
	client.CloseIdleConnections()
	time.Sleep(2 * time.Second) // the server notices the closed connections
	last, err := measure(&http.Client{Timeout: 10 * time.Second}, base, pid)
	if err != nil {
		return died(err)
	}
	last.requests = total.Load()
	samples = append(samples, last)
	if baseline == nil {
		baseline = &samples[len(samples)-1]
	}

	// Drain: SIGTERM must end the process with status 0.
	cmd.Process.Signal(syscall.SIGTERM)
	exitErr := <-exited

	report(os.Stdout, samples, *baseline, c, total.Load(), time.Since(start), reloads)
	var problems []string
	problems = append(problems, c.unexpected...)
	if failedReloads > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d reloads not counted as ok within 20 s", failedReloads, reloads))
	}
	problems = append(problems, bounds(*baseline, last)...)
	if exitErr != nil {
		problems = append(problems, "keyhole serve after SIGTERM: "+exitErr.Error())
	}
	if total.Load() == 0 {
		problems = append(problems, "no request answered")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d problems:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	return nil
}

// bounds returns a line for each resource at the end past its bound
// against the baseline.
func bounds(base, end sampleRow) []string {
	var out []string
	if limit := base.rss*3/2 + 64<<20; end.rss > limit {
		out = append(out, fmt.Sprintf("RSS %d MiB at the end, bound %d MiB (1.5 × %d MiB + 64 MiB)", end.rss>>20, limit>>20, base.rss>>20))
	}
	for _, r := range []struct {
		name      string
		base, end int
	}{{"goroutines", base.goroutines, end.goroutines}, {"threads", base.threads, end.threads}, {"open fds", base.fds, end.fds}} {
		if r.end > r.base+20 {
			out = append(out, fmt.Sprintf("%s %d at the end, bound %d (baseline + 20)", r.name, r.end, r.base+20))
		}
	}
	return out
}

type sampleRow struct {
	at         time.Time
	rss        int64 // bytes, from /proc/PID/status VmRSS
	threads    int   // /proc/PID/status Threads
	fds        int   // entries of /proc/PID/fd
	goroutines int   // go_goroutines from /metrics
	heap       int64 // go_memstats_heap_inuse_bytes from /metrics: the Go part of RSS
	requests   int64
}

func measure(client *http.Client, base string, pid int) (sampleRow, error) {
	s := sampleRow{at: time.Now()}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			s.rss = kb << 10
		case "Threads:":
			s.threads, _ = strconv.Atoi(f[1])
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, err
	}
	s.fds = len(fds)
	v, err := metrics(client, base, "go_goroutines", "go_memstats_heap_inuse_bytes")
	if err != nil {
		return s, err
	}
	s.goroutines, s.heap = int(v[0]), int64(v[1])
	return s, nil
}

// metrics returns the values of the unlabelled series names from /metrics.
func metrics(client *http.Client, base string, names ...string) ([]float64, error) {
	res, err := client.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out := make([]float64, len(names))
	found := 0
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		for i, name := range names {
			if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
				if out[i], err = strconv.ParseFloat(v, 64); err != nil {
					return nil, err
				}
				found++
			}
		}
	}
	if found != len(names) {
		return nil, fmt.Errorf("/metrics lacks one of %v", names)
	}
	return out, nil
}

// waitReloads waits until the server counts n successful reloads.
func waitReloads(client *http.Client, base string, n int) bool {
	want := fmt.Sprintf(`keyhole_config_reloads_total{result="ok"} %d`, n)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		res, err := client.Get(base + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if strings.Contains(string(b), want+"\n") {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func report(w io.Writer, samples []sampleRow, base sampleRow, c *counts, total int64, took time.Duration, reloads int) {
	fmt.Fprintf(w, "\n%d requests in %v (%.0f/s), %d reloads\n\n", total, took.Round(time.Second), float64(total)/took.Seconds(), reloads)
	fmt.Fprintln(w, "| when | RSS MiB | Go heap in use MiB | goroutines | threads | open fds | requests |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	row := func(label string, s sampleRow) {
		fmt.Fprintf(w, "| %s | %.1f | %.1f | %d | %d | %d | %d |\n", label, float64(s.rss)/(1<<20), float64(s.heap)/(1<<20), s.goroutines, s.threads, s.fds, s.requests)
	}
	row("start", samples[0])
	row("baseline (after warm-up)", base)
	peak := samples[0]
	for _, s := range samples {
		if s.rss > peak.rss {
			peak = s
		}
	}
	row(fmt.Sprintf("peak RSS (+%v)", peak.at.Sub(samples[0].at).Round(time.Second)), peak)
	row("end (idle)", samples[len(samples)-1])

	// The trend, about one row a minute: growth that does not level off
	// shows here before it reaches the bound.
	fmt.Fprintln(w, "\n| minute | RSS MiB | Go heap in use MiB | goroutines | open fds |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	next := samples[0].at
	for _, s := range samples {
		if s.at.Before(next) {
			continue
		}
		next = next.Add(time.Minute)
		fmt.Fprintf(w, "| %.0f | %.1f | %.1f | %d | %d |\n", s.at.Sub(samples[0].at).Minutes(), float64(s.rss)/(1<<20), float64(s.heap)/(1<<20), s.goroutines, s.fds)
	}

	fmt.Fprintln(w, "\n| request | want | got |")
	fmt.Fprintln(w, "|---|---|---|")
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range kinds {
		m := c.byKind[k.name]
		var got []string
		codes := make([]int, 0, len(m))
		for code := range m {
			codes = append(codes, code)
		}
		sort.Ints(codes)
		for _, code := range codes {
			got = append(got, fmt.Sprintf("%d × %d", code, m[code]))
		}
		fmt.Fprintf(w, "| %s | %d | %s |\n", k.name, k.status, strings.Join(got, ", "))
	}
	fmt.Fprintln(w)
}

// listening returns the URL from "keyhole: listening on URL" on stdout.
func listening(out io.Reader) (string, error) {
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "keyhole: listening on "); ok {
			go io.Copy(io.Discard, out)
			return u, nil
		}
	}
	return "", fmt.Errorf("keyhole serve exited before listening (see its log)")
}

// config is the served config; gen changes a profile's width and adds or
// removes an unused key, so each reload swaps a real configuration.
func config(start time.Time, gen int) string {
	extra := ""
	if gen%2 == 1 {
		extra = "      - id: spare\n        secret: spare-secret-that-is-32-bytes-long!\n"
	}
	return fmt.Sprintf(`addr: 127.0.0.1:0
root: ./files
metrics_path: /metrics
log_level: warn
variant_cache_bytes: 4194304
limits:
  queue_timeout: 30s
profiles:
  thumb:
    w: %d
protections:
  - path: /private/
    keys:
      - id: main
        secret: %s
      - id: old
        secret: %s
        not_before: %s
%s`, 100+gen%5, secretMain, secretRevoked, start.UTC().Format(time.RFC3339), extra)
}

func writeImages(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := range images {
		img := image.NewRGBA(image.Rect(0, 0, 640, 480))
		for y := range 480 {
			for x := range 640 {
				img.Set(x, y, color.RGBA{uint8(x + i*40), uint8(y), uint8(x ^ y), 255})
			}
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("img%d.jpg", i)))
		if err != nil {
			return err
		}
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 85})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// urlSet holds the signed URLs the workers draw from.
type urlSet struct {
	base       string
	originals  []string // one per image, token for /private/
	etags      []string
	expired    string
	tampered   string
	revoked    string
	elsewhere  string
	transforms []string // cached widths
	mainKey    *token.Signer
	start      time.Time
}

func signURLs(base string, start time.Time) (*urlSet, error) {
	main, err := token.NewSigner(token.KeyFromString("main", secretMain))
	if err != nil {
		return nil, err
	}
	old, err := token.NewSigner(token.KeyFromString("old", secretRevoked))
	if err != nil {
		return nil, err
	}
	u := &urlSet{base: base, mainKey: main, start: start}
	sign := func(s *token.Signer, path, aud string, iat time.Time, ttl time.Duration, q string) (string, error) {
		c := token.ForPath(aud, iat, ttl)
		out, err := s.SignURL(path, c, token.URLOptions{BaseURL: base})
		if err != nil {
			return "", err
		}
		if q != "" {
			out += "&" + q
		}
		return out, nil
	}
	life := 24 * time.Hour
	for i := range images {
		p := fmt.Sprintf("/private/img%d.jpg", i)
		o, err := sign(main, p, "/private/", start, life, "")
		if err != nil {
			return nil, err
		}
		u.originals = append(u.originals, o)
		for _, w := range []int{80, 160, 320} {
			t, err := sign(main, p, "/private/", start, life, "w="+strconv.Itoa(w))
			if err != nil {
				return nil, err
			}
			u.transforms = append(u.transforms, t)
		}
	}
	// ETags for the conditional GETs.
	for _, o := range u.originals {
		res, err := http.Get(o)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("ETag") == "" {
			return nil, fmt.Errorf("priming %s: %d, ETag %q", o, res.StatusCode, res.Header.Get("ETag"))
		}
		u.etags = append(u.etags, res.Header.Get("ETag"))
	}
	if u.expired, err = sign(main, "/private/img0.jpg", "/private/", start.Add(-2*time.Hour), time.Hour, ""); err != nil {
		return nil, err
	}
	if u.revoked, err = sign(old, "/private/img0.jpg", "/private/", start.Add(-time.Hour), life, ""); err != nil {
		return nil, err
	}
	if u.elsewhere, err = sign(main, "/private/img0.jpg", "/private/other/", start, life, ""); err != nil {
		return nil, err
	}
	// The last signature character changed: a different HMAC.
	t := u.originals[0]
	last := t[len(t)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	u.tampered = t[:len(t)-2] + string(repl) + t[len(t)-1:]
	return u, nil
}

// next draws a request: 30 % originals, 30 % cached transforms, 10 % new
// widths, the rest refusals and errors.
func (u *urlSet) next(rng *rand.Rand) (kind, *http.Request) {
	n := rng.IntN(100)
	i := rng.IntN(images)
	get := func(k int, method, target string) (kind, *http.Request) {
		req, _ := http.NewRequest(method, target, nil)
		return kinds[k], req
	}
	switch {
	case n < 20:
		return get(0, "GET", u.originals[i])
	case n < 25:
		return get(1, "HEAD", u.originals[i])
	case n < 30:
		k, req := get(2, "GET", u.originals[i])
		req.Header.Set("If-None-Match", u.etags[i])
		return k, req
	case n < 60:
		return get(3, "GET", u.transforms[rng.IntN(len(u.transforms))])
	case n < 70:
		return get(4, "GET", u.originals[i]+"&w="+strconv.Itoa(40+rng.IntN(600)))
	case n < 75:
		return get(5, "GET", fmt.Sprintf("%s/private/img%d.jpg", u.base, i))
	case n < 80:
		return get(6, "GET", u.expired)
	case n < 85:
		return get(7, "GET", u.tampered)
	case n < 90:
		return get(8, "GET", u.revoked)
	case n < 93:
		return get(9, "GET", u.elsewhere)
	case n < 97:
		return get(10, "GET", strings.Replace(u.originals[i], ".jpg?", ".png?", 1))
	default:
		return get(11, "GET", u.base+"/private/a%00b.jpg")
	}
}
