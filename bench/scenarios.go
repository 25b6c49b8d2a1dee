package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/keyhole-dev/keyhole/token"
)

// env is what every scenario shares.
type env struct {
	ctx      context.Context
	repo     string // module root
	tmp      string // scratch: wrk scripts, benchmark output
	root     string // the served tree (inputs under private/)
	secret   string
	sched    schedule
	quick    bool
	threads  int // wrk threads
	conns    int // connections for the file-serving scenarios
	maxConc  int // Keyhole's MaxConcurrent (the default)
	imgproxy string
	nginx    string // nginx binary, "" when not installed
	caddy    string // caddy binary, "" when not installed
	big      input
	small    input
	shot     input
}

// sign returns a token for /private/ valid for two hours, with args.
func (e *env) sign(args map[string]any) (string, error) {
	return token.Sign(token.KeyFromString("bench", e.secret), &token.Claims{
		Audience:  []string{"/private/"},
		ExpiresAt: time.Now().Add(2 * time.Hour),
		Args:      args,
	})
}

// start starts the servers of a scenario; stop them with stopAll.
func (e *env) start(opts ...serverOpts) ([]*child, error) {
	var cs []*child
	for _, o := range opts {
		if o.Root == "" {
			o.Root = e.root
		}
		o.Secret = e.secret
		c, err := startServer(o.Kind, o)
		if err != nil {
			stopAll(cs)
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, nil
}

func stopAll(cs []*child) {
	for _, c := range cs {
		c.stop()
	}
}

// probe GETs base+target once and checks for 200 and a body of the given
// content type prefix; it returns the body.
func probe(base, target, ctype string) ([]byte, error) {
	client := http.Client{Timeout: 30 * time.Second}
	res, err := client.Get(base + target)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), ctype) {
		return nil, fmt.Errorf("GET %s: %d %s: %.200s", shorten(target), res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	return body, nil
}

// shorten cuts a token out of a target for messages.
func shorten(target string) string {
	if i := strings.Index(target, "jwt="); i >= 0 {
		return target[:i] + "jwt=…"
	}
	return target
}

// scenarioOriginal: a protected original through Keyhole against what a
// team would deploy instead: nginx with secure_link, caddy's file_server
// and http.FileServer, all serving the same file, in alternating rounds.
func scenarioOriginal(e *env) (*scenario, error) {
	sc := &scenario{ID: "original", Title: "Protected original vs nginx secure_link, caddy and http.FileServer",
		What: fmt.Sprintf("GET of the %s (%s) through Keyhole on a jwt-protected path, the same token every time (warm verified-token cache), against nginx with `secure_link $arg_md5,$arg_expires; secure_link_md5 \"$secure_link_expires$uri <secret>\"` (%d workers = cores, `sendfile on`, `access_log off`, `keepalive_requests` raised so connections stay open), caddy's `file_server` (no auth; admin, logs and HTTPS off) and `http.FileServer(http.Dir(root))` (no auth), all serving the same file. A second Keyhole with `OpenFiles: -1` (open-file cache off, every request opens the file) shows what the cache buys. nginx's CPU and RSS add up its master and workers. %d connections.", e.small.Desc, kib(e.small.Bytes), runtime.NumCPU(), e.conns)}
	tok, err := e.sign(nil)
	if err != nil {
		return nil, err
	}
	cs, err := e.start(serverOpts{Kind: serveKeyhole}, serverOpts{Kind: serveFileServer}, serverOpts{Kind: serveKeyhole, OpenFiles: -1})
	if err != nil {
		return nil, err
	}
	defer stopAll(cs)
	path := e.small.path(0)
	sides := []side{
		{"Keyhole", cs[0], load{cs[0].Base(), []string{path + "?jwt=" + tok}, e.conns, e.threads}},
		{"Keyhole, open-file cache off", cs[2], load{cs[2].Base(), []string{path + "?jwt=" + tok}, e.conns, e.threads}},
	}
	type ref struct {
		label string
		goal  float64
		side  *side
		skip  string
	}
	refs := []*ref{{label: "nginx secure_link", goal: 0.85}, {label: "caddy file_server", goal: 1.20}, {label: "http.FileServer", goal: 1.05}}
	if e.nginx == "" {
		refs[0].skip = "skipped: nginx not installed (make bench installs nginx-light)"
	} else if c, err := startNginx(e.nginx, e.root, e.tmp, e.secret); err != nil {
		refs[0].skip = "failed: " + err.Error()
	} else {
		defer c.stop()
		refs[0].side = &side{"nginx secure_link", c, load{c.Base(), []string{nginxTarget(path, e.secret, time.Now())}, e.conns, e.threads}}
		// The reference must refuse what Keyhole refuses: a wrong md5 is 403.
		if code := status(c.Base() + path + "?md5=AAAAAAAAAAAAAAAAAAAAAA&expires=9999999999"); code != http.StatusForbidden {
			return nil, fmt.Errorf("nginx: a bad secure link got %d, want 403", code)
		}
	}
	if e.caddy == "" {
		refs[1].skip = "skipped: caddy not installed (make bench installs caddy)"
	} else if c, err := startCaddy(e.caddy, e.root, e.tmp); err != nil {
		refs[1].skip = "failed: " + err.Error()
	} else {
		defer c.stop()
		refs[1].side = &side{"caddy file_server", c, load{c.Base(), []string{path}, e.conns, e.threads}}
	}
	refs[2].side = &side{"http.FileServer", cs[1], load{cs[1].Base(), []string{path}, e.conns, e.threads}}
	for _, r := range refs {
		if r.side != nil {
			sides = append(sides, *r.side)
		}
	}
	if code := status(cs[0].Base() + path + "?jwt=x"); code < 400 || code > 499 {
		return nil, fmt.Errorf("keyhole: a bad token got %d, want a 4xx", code)
	}
	for _, sd := range sides {
		if _, err := probe(sd.Load.Base, sd.Load.Paths[0], "image/jpeg"); err != nil {
			return nil, fmt.Errorf("%s: %w", sd.Name, err)
		}
	}
	sc.Sides, err = compare(e.ctx, sides, e.sched, e.tmp)
	if err != nil {
		return nil, err
	}
	sc.Checks = append(sc.Checks, ratioCheck("open-file cache on / off (same Keyhole)", sc.Sides[0], sc.Sides[1], 0))
	for _, r := range refs {
		label := "protected original / " + r.label
		if r.side == nil {
			sc.Checks = append(sc.Checks, check{Label: label, Unit: "x", Goal: r.goal, Skip: r.skip})
			sc.Notes = append(sc.Notes, r.label+": "+r.skip)
			continue
		}
		st := sc.Sides[slices.IndexFunc(sc.Sides, func(s sideStats) bool { return s.Name == r.side.Name })]
		c := ratioCheck(label, sc.Sides[0], st, r.goal)
		sc.Checks = append(sc.Checks, c)
		if r.label == "http.FileServer" {
			sc.Checks = append(sc.Checks, check{Label: "protected original / http.FileServer, lowest round", Value: c.Lo, Unit: "x", Goal: 0.95})
		}
	}
	return sc, nil
}

// status GETs url once and returns the status code (0 on error).
func status(url string) int {
	client := http.Client{Timeout: 10 * time.Second}
	res, err := client.Get(url)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// transformCase is one transform of scenario 3.
type transformCase struct {
	Label    string
	Src      input
	Query    string         // Keyhole's query (before jwt)
	Args     map[string]any // Keyhole's token args
	Naive    string         // the naive handler's query
	Imgproxy string         // imgproxy processing options and extension; "" = not supported
	CType    string
	Goal     float64 // against the naive handler
	IPGoal   float64 // against imgproxy
	Floor    string  // the floor's output format ("jpeg", "webp"); "" = no floor
	Width    int     // the output width, for the floor
}

// transformCases are the four transforms: 12 MP and 1 MP JPEG to w=300,
// PNG to WebP, and a text overlay from the token's args.
func (e *env) transformCases() []transformCase {
	return []transformCase{
		{Label: "12 MP JPEG → w=300", Src: e.big, Query: "?w=300", Naive: "?w=300", Imgproxy: "w:300/q:80/plain/local://%s@jpg", CType: "image/jpeg", Goal: 1.32, IPGoal: 1.40, Floor: "jpeg", Width: 300},
		{Label: "1 MP JPEG → w=300", Src: e.small, Query: "?w=300", Naive: "?w=300", Imgproxy: "w:300/q:80/plain/local://%s@jpg", CType: "image/jpeg", Goal: 2.0, IPGoal: 1.40, Floor: "jpeg", Width: 300},
		{Label: "1 MP PNG → WebP w=600", Src: e.shot, Query: "?w=600&format=webp", Naive: "?w=600&format=webp", Imgproxy: "w:600/q:80/plain/local://%s@webp", CType: "image/webp", IPGoal: 1.25, Floor: "webp", Width: 600},
		{Label: "1 MP JPEG → w=600 + text (token args)", Src: e.small, Query: "?w=600", Args: map[string]any{"text": "Keyhole bench"}, Naive: "?w=600&text=Keyhole+bench", CType: "image/jpeg"},
	}
}

// scenarioTransforms runs every transform case through Keyhole (vips
// engine, variant cache disabled), the naive govips handler and imgproxy
// when present, measures libvips alone on the same sources (the floor),
// and compares Keyhole's peak RSS with imgproxy's under 16 connections of
// the 12 MP case.
func scenarioTransforms(e *env) (*scenario, error) {
	sc := &scenario{ID: "transform", Title: "Transforms vs a naive govips handler (and imgproxy)",
		What: fmt.Sprintf("Each request transforms: Keyhole runs with the vips engine and `VariantCacheBytes: -1`, and requests rotate over %d hard-linked names of the source so singleflight never merges them. The reference is a naive handler in this suite (read file, `NewThumbnailFromBuffer`, optional `Label`, export q80 with govips defaults). %d connections (= MaxConcurrent, so Keyhole never queues). "+
			"The floor is libvips alone (`bench/floor/floor.c`, compiled with `cc` at run time): the source read once into memory, then `vips_thumbnail_buffer` to the case's width and `vips_jpegsave_buffer` (Q 80, `optimize_coding`, `strip`, baseline: Keyhole's JPEG settings) or `vips_webpsave_buffer` (Q 80, effort 4, default preset, lossy, `alpha_q` 100, `strip`: the libwebp settings of Keyhole's own libwebp call, which replaces libvips' webpsave; libvips 8.14's webpsave also writes an EXIF chunk), in a loop with one libvips thread and the operation cache off, and libvips' default Orc paths (Keyhole switches Orc off before libvips 8.15); `vips_thumbnail` picks its own shrink-on-load factor. Its CPU per call (`CLOCK_PROCESS_CPUTIME_ID`, every thread) over the same warm-up and rounds as the HTTP sides, divided by Keyhole's CPU per request, is the floor figure: ≥ 0.85x means Keyhole needs at most about 18 %% more CPU than libvips alone.", copies, e.maxConc)}
	if e.imgproxy == "" {
		sc.Notes = append(sc.Notes, "imgproxy: skipped: imgproxy not on PATH (give -imgproxy PATH)")
	}
	floor, floorSkip := buildFloor(e.tmp)
	if floorSkip != "" {
		sc.Notes = append(sc.Notes, "libvips alone (the floor): "+floorSkip)
	}
	cases := e.transformCases()
	for _, tc := range cases {
		logf("  %s", tc.Label)
		part, err := e.transformCase(tc, floor, floorSkip)
		if err != nil {
			// One failing case (a crashed reference, say) does not void the others.
			logf("   failed: %v", err)
			part = &scenario{Title: tc.Label, Skipped: "failed: " + err.Error()}
		}
		sc.Parts = append(sc.Parts, part)
		sc.Checks = append(sc.Checks, part.Checks...)
	}
	if len(sc.Checks) == 0 {
		return nil, fmt.Errorf("every case failed; first: %s", sc.Parts[0].Skipped)
	}
	logf("  peak RSS, %d concurrent %s", rssConns, cases[0].Label)
	part, err := e.transformRSS(cases[0])
	if err != nil {
		logf("   failed: %v", err)
		part = &scenario{Title: fmt.Sprintf("Peak RSS, %d concurrent %s", rssConns, cases[0].Label), Skipped: "failed: " + err.Error()}
	}
	sc.Parts = append(sc.Parts, part)
	sc.Checks = append(sc.Checks, part.Checks...)
	return sc, nil
}

// imgproxyPaths returns imgproxy's request paths for tc, one per copy of
// the source.
func imgproxyPaths(tc transformCase) []string {
	paths := make([]string, copies)
	for i := range paths {
		paths[i] = "/insecure/" + fmt.Sprintf(tc.Imgproxy, tc.Src.path(i))
	}
	return paths
}

// transformCase measures tc through Keyhole, the naive handler and
// imgproxy when present, compares output sizes with imgproxy's, and runs
// the floor binary (or records floorSkip) when tc has a floor.
func (e *env) transformCase(tc transformCase, floor, floorSkip string) (*scenario, error) {
	part := &scenario{Title: tc.Label}
	tok, err := e.sign(tc.Args)
	if err != nil {
		return nil, err
	}
	cs, err := e.start(serverOpts{Kind: serveKeyhole, CacheBytes: -1}, serverOpts{Kind: serveNaive})
	if err != nil {
		return nil, err
	}
	defer stopAll(cs)
	sides := []side{
		{"Keyhole", cs[0], load{cs[0].Base(), tc.Src.paths(tc.Query + "&jwt=" + tok), e.maxConc, e.threads}},
		{"naive govips", cs[1], load{cs[1].Base(), tc.Src.paths(tc.Naive), e.maxConc, e.threads}},
	}
	if e.imgproxy != "" && tc.Imgproxy != "" {
		ip, err := startImgproxy(e.imgproxy, e.root, e.maxConc)
		if err != nil {
			return nil, err
		}
		defer ip.stop()
		sides = append(sides, side{"imgproxy", ip, load{ip.Base(), imgproxyPaths(tc), e.maxConc, e.threads}})
	} else if e.imgproxy != "" {
		part.Notes = append(part.Notes, "imgproxy: skipped: open-source imgproxy has no text overlay")
	}
	// One response per side, of the same source (copy 0): the output sizes.
	out := make([][]byte, len(sides))
	for i, sd := range sides {
		if out[i], err = probe(sd.Load.Base, sd.Load.Paths[0], tc.CType); err != nil {
			return nil, fmt.Errorf("%s: %w", sd.Name, err)
		}
	}
	part.Sides, err = compare(e.ctx, sides, e.sched, e.tmp)
	if err != nil {
		return nil, err
	}
	part.Checks = []check{ratioCheck(tc.Label+" / naive govips", part.Sides[0], part.Sides[1], tc.Goal)}
	if len(part.Sides) > 2 {
		part.Checks = append(part.Checks,
			ratioCheck(tc.Label+" / imgproxy", part.Sides[0], part.Sides[2], tc.IPGoal),
			check{Label: tc.Label + " output bytes / imgproxy's", Value: float64(len(out[0])) / float64(len(out[2])), Unit: "x", Goal: 1.02, AtMost: true})
		part.Notes = append(part.Notes, fmt.Sprintf("Output of one response for `%s`: Keyhole %d B, imgproxy %d B (naive govips %d B).", tc.Src.path(0), len(out[0]), len(out[2]), len(out[1])))
	}
	if tc.Floor != "" {
		label := tc.Label + " / libvips alone (CPU)"
		if floorSkip != "" {
			part.Checks = append(part.Checks, check{Label: label, Unit: "x", Goal: floorGoal, Skip: floorSkip})
			return part, nil
		}
		logf("    libvips alone (the floor)")
		rs, err := runFloor(floor, filepath.Join(e.root, tc.Src.path(0)), tc.Floor, tc.Width, e.sched)
		if err != nil {
			part.Checks = append(part.Checks, check{Label: label, Unit: "x", Goal: floorGoal, Skip: "failed: " + err.Error()})
			return part, nil
		}
		part.Checks = append(part.Checks, floorCheck(label, rs, part.Sides[0]))
		var calls int64
		for _, r := range rs {
			calls += r.Calls
		}
		part.Notes = append(part.Notes, fmt.Sprintf("libvips alone (the floor): %s CPU per call (median over %d round(s), %d calls), %d B output; Keyhole %s CPU per request.", dur(floorPerCall(rs)), len(rs), calls, rs[len(rs)-1].Bytes, dur(part.Sides[0].CPUPerReq())))
	}
	return part, nil
}

// rssConns is the load of issue 20's peak-RSS figure: concurrent 12 MP
// transforms.
const rssConns = 16

// transformRSS loads a fresh Keyhole and a fresh imgproxy with rssConns
// connections of tc, each configured to transform e.maxConc at once as in
// the cases, and compares their peak RSS. Without imgproxy the check is
// skipped.
func (e *env) transformRSS(tc transformCase) (*scenario, error) {
	part := &scenario{Title: fmt.Sprintf("Peak RSS, %d concurrent %s", rssConns, tc.Label)}
	label := fmt.Sprintf("peak RSS, %d concurrent %s / imgproxy", rssConns, tc.Label)
	if e.imgproxy == "" {
		part.Notes = append(part.Notes, "imgproxy: skipped: imgproxy not on PATH (give -imgproxy PATH)")
		part.Checks = []check{{Label: label, Unit: "x", Goal: 0.75, AtMost: true, Skip: "skipped: imgproxy not on PATH"}}
		return part, nil
	}
	tok, err := e.sign(tc.Args)
	if err != nil {
		return nil, err
	}
	cs, err := e.start(serverOpts{Kind: serveKeyhole, CacheBytes: -1})
	if err != nil {
		return nil, err
	}
	defer stopAll(cs)
	ip, err := startImgproxy(e.imgproxy, e.root, e.maxConc)
	if err != nil {
		return nil, err
	}
	defer ip.stop()
	sides := []side{
		{"Keyhole", cs[0], load{cs[0].Base(), tc.Src.paths(tc.Query + "&jwt=" + tok), rssConns, e.threads}},
		{"imgproxy", ip, load{ip.Base(), imgproxyPaths(tc), rssConns, e.threads}},
	}
	for _, sd := range sides {
		if _, err := probe(sd.Load.Base, sd.Load.Paths[0], tc.CType); err != nil {
			return nil, fmt.Errorf("%s: %w", sd.Name, err)
		}
	}
	one := schedule{Rounds: 1, Round: e.sched.Round, Warmup: e.sched.Warmup}
	if part.Sides, err = compare(e.ctx, sides, one, e.tmp); err != nil {
		return nil, err
	}
	kh, ref := part.Sides[0], part.Sides[1]
	if kh.PeakRSS == 0 || ref.PeakRSS == 0 {
		return nil, errors.New("peak RSS not measured (no VmHWM)")
	}
	part.Checks = []check{{Label: label, Value: float64(kh.PeakRSS) / float64(ref.PeakRSS), Unit: "x", Goal: 0.75, AtMost: true}}
	part.Notes = append(part.Notes, fmt.Sprintf("Peak RSS (VmHWM, reset after a %s warm-up, read after one round of %s): Keyhole %s, imgproxy %s. Both transform at most %d requests at once, as in the cases: Keyhole with `MaxConcurrent: %d` (its default, 2 per CPU; the other requests wait for a slot up to its default 2 s queue timeout, then get 503), imgproxy with `IMGPROXY_WORKERS=%d` (the others wait in its queue, unbounded by default: `IMGPROXY_REQUESTS_QUEUE_SIZE` 0); both run one libvips thread per operation with the operation cache off.",
		e.sched.Warmup, e.sched.Round, mib(kh.PeakRSS), mib(ref.PeakRSS), e.maxConc, e.maxConc, e.maxConc))
	return part, nil
}

// scenarioCache: a variant served from the variant cache against
// http.FileServer serving a file of the variant's size.
func scenarioCache(e *env) (*scenario, error) {
	tok, err := e.sign(nil)
	if err != nil {
		return nil, err
	}
	cs, err := e.start(serverOpts{Kind: serveKeyhole}, serverOpts{Kind: serveFileServer})
	if err != nil {
		return nil, err
	}
	defer stopAll(cs)
	target := e.small.path(0) + "?w=300&jwt=" + tok
	variant, err := probe(cs[0].Base(), target, "image/jpeg")
	if err != nil {
		return nil, err
	}
	// FileServer gets a file with the variant's bytes.
	const name = "/private/variant.jpg"
	if err := os.WriteFile(filepath.Join(e.root, name), variant, 0o644); err != nil {
		return nil, err
	}
	sc := &scenario{ID: "cache", Title: "Variant-cache hit vs http.FileServer",
		What: fmt.Sprintf("The 1 MP JPEG at w=300 (%s) served from Keyhole's variant cache (default 64 MiB; the first request filled it), token verified from the warm cache, against `http.FileServer` serving a file with the variant's bytes. %d connections.", kib(int64(len(variant))), e.conns)}
	kh, fs := load{cs[0].Base(), []string{target}, e.conns, e.threads}, load{cs[1].Base(), []string{name}, e.conns, e.threads}
	if _, err := probe(fs.Base, name, "image/jpeg"); err != nil {
		return nil, err
	}
	sc.Sides, err = compare(e.ctx, []side{{"Keyhole (cache hit)", cs[0], kh}, {"http.FileServer", cs[1], fs}}, e.sched, e.tmp)
	if err != nil {
		return nil, err
	}
	sc.Checks = []check{ratioCheck("variant-cache hit / FileServer", sc.Sides[0], sc.Sides[1], 1.00)}
	return sc, nil
}

// scenarioOverload: four times more concurrent 12 MP transforms than
// MaxConcurrent, Keyhole against the naive handler (which has no
// limit), and Keyhole's peak RSS with 16 concurrent 12 MP requests.
func scenarioOverload(e *env) (*scenario, error) {
	conns := 4 * e.maxConc
	sc := &scenario{ID: "overload", Title: "Overload: 4× MaxConcurrent",
		What: fmt.Sprintf("%d connections of 12 MP JPEG → w=300 (variant cache disabled, rotating names) against MaxConcurrent = %d and the default 2 s queue timeout; excess requests wait for a slot, then get 503. The naive handler has no limit. Accepted = 2xx per second.", conns, e.maxConc)}
	tok, err := e.sign(nil)
	if err != nil {
		return nil, err
	}
	khPaths, naivePaths := e.big.paths("?w=300&jwt="+tok), e.big.paths("?w=300")
	cs, err := e.start(serverOpts{Kind: serveKeyhole, CacheBytes: -1}, serverOpts{Kind: serveNaive})
	if err != nil {
		return nil, err
	}
	sides := []side{
		{"Keyhole", cs[0], load{cs[0].Base(), khPaths, conns, e.threads}},
		{"naive govips", cs[1], load{cs[1].Base(), naivePaths, conns, e.threads}},
	}
	sc.Sides, err = compare(e.ctx, sides, e.sched, e.tmp)
	stopAll(cs)
	if err != nil {
		return nil, err
	}
	kh := sc.Sides[0]
	sc.Checks = []check{
		{Label: "accepted req/s / naive govips", Value: kh.Accepted() / sc.Sides[1].Accepted(), Unit: "x"},
		{Label: "503 rate", Value: 100 * kh.RejectRate(), Unit: "%"},
	}
	rss := kh.PeakRSS
	if conns != 16 {
		// The RSS goal is for 16 concurrent 12 MP requests: measure it on
		// a fresh server with exactly that load.
		cs, err := e.start(serverOpts{Kind: serveKeyhole, CacheBytes: -1})
		if err != nil {
			return nil, err
		}
		defer stopAll(cs)
		st, err := compare(e.ctx, []side{{"Keyhole c=16", cs[0], load{cs[0].Base(), khPaths, 16, e.threads}}}, schedule{Rounds: 1, Round: e.sched.Round, Warmup: e.sched.Warmup}, e.tmp)
		if err != nil {
			return nil, err
		}
		rss = st[0].PeakRSS
		sc.Notes = append(sc.Notes, fmt.Sprintf("Peak RSS at 16 connections measured on a separate Keyhole process: %s.", mib(rss)))
	}
	sc.Checks = append(sc.Checks, check{Label: "peak RSS, 16 concurrent 12 MP requests", Value: float64(rss) / (1 << 20), Unit: "MiB", Goal: 128, AtMost: true})
	return sc, nil
}

// ratioCheck is the req/s ratio a/b (Keyhole / reference) of the medians,
// with the range of the per-round ratios (round i of a over round i of b)
// as a measure of how much to trust it.
func ratioCheck(label string, a, b sideStats, goal float64) check {
	c := check{Label: label, Value: a.RPS() / b.RPS(), Unit: "x", Goal: goal}
	for i := range min(len(a.Rounds), len(b.Rounds)) {
		r := a.Rounds[i].ReqPerSec / b.Rounds[i].ReqPerSec
		if i == 0 || r < c.Lo {
			c.Lo = r
		}
		c.Hi = max(c.Hi, r)
	}
	return c
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
func kib(n int64) string { return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10)) }
