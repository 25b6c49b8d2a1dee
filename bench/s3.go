package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"gocloud.dev/blob"

	"github.com/keyhole-dev/keyhole/internal/seaweed"
)

// scenarioS3: Keyhole with its originals in object storage (a real
// SeaweedFS S3 server on loopback) against the same files on local disk,
// and a variant served from the shared variant store by a replica with no
// memory cache against the same variant from the variant cache in memory.
// It needs the weed binary that scripts/seaweedfs.sh builds once; without
// it the scenario is skipped, never built here (minutes on 2 cores).
func scenarioS3(e *env) (*scenario, error) {
	bin, err := seaweed.Built()
	if err != nil {
		return nil, errSkip("skipped: SeaweedFS not built (run scripts/seaweedfs.sh once; make test does)")
	}
	// Short by default: 3 s rounds and a 1 s warm-up at most.
	sched := schedule{Rounds: e.sched.Rounds, Round: min(e.sched.Round, 3*time.Second), Warmup: min(e.sched.Warmup, time.Second)}
	dir := filepath.Join(e.tmp, "seaweed")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logf("  starting SeaweedFS on loopback")
	srv, err := seaweed.Launch(bin, dir)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	// The children inherit these: any credentials, no metadata service.
	// (The server itself never sees AWS_* variables.)
	for _, kv := range seaweed.Env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	const bucket = "bench"
	if err := srv.MakeBucket(bucket); err != nil {
		return nil, fmt.Errorf("create bucket: %w", err)
	}
	// Every name of the 1 MP and 12 MP JPEGs, under the same keys as on
	// disk.
	if err := upload(e.ctx, srv.URL(bucket), e.root, append(e.small.paths(""), e.big.paths("")...)); err != nil {
		return nil, err
	}
	originalsURL, storeURL := srv.URL(bucket), srv.URL(bucket, "prefix=variants/")

	sc := &scenario{ID: "s3", Title: "Object storage: originals and variant-store hits from S3 vs local disk and memory",
		What: fmt.Sprintf("Keyhole with `root` a bucket of a real SeaweedFS S3 server on 127.0.0.1 (`source.Open`, default 1 s metadata cache, so a warm original costs one ranged GET), against Keyhole serving the same files from local disk; and a variant (the 1 MP JPEG at w=300, rotating over %d names) served from the shared variant store (`source.OpenStore`) by a replica with `VariantCacheBytes: -1`, whose variants another replica computed and stored, against that other replica's in-memory variant cache (both read originals from the bucket). The tier sides put a %s memory tier (`source.NewTier`, default freshness 5 s) in front of the bucket and the store; the last part loads a tiered replica with the 64 distinct 12 MP originals (about four times the tier) for its peak RSS. %d connections; rounds of %s after a %s warm-up. CPU per request is Keyhole's alone: SeaweedFS's own CPU (same machine) is not in it.", copies, mib(tierBytes), e.conns, sched.Round, sched.Warmup)}
	tok, err := e.sign(nil)
	if err != nil {
		return nil, err
	}
	// One failing part (a store that stalls, say) does not void the other.
	for _, part := range []struct {
		title string
		run   func() (*scenario, error)
	}{
		{"Protected original from S3 vs local disk", func() (*scenario, error) { return e.s3Originals(sched, originalsURL, tok) }},
		{"Variant-store hit vs in-memory variant-cache hit", func() (*scenario, error) { return e.s3Variants(sched, originalsURL, storeURL, tok) }},
		{"Peak RSS with a 64 MiB tier under distinct objects", func() (*scenario, error) { return e.s3TierRSS(sched, originalsURL, tok) }},
	} {
		logf("  %s", part.title)
		p, err := part.run()
		if err != nil {
			logf("   failed: %v", err)
			p = &scenario{Skipped: "failed: " + err.Error()}
		}
		p.Title = part.title
		sc.Parts = append(sc.Parts, p)
		sc.Checks = append(sc.Checks, p.Checks...)
	}
	if len(sc.Checks) == 0 {
		return nil, fmt.Errorf("both parts failed; first: %s", sc.Parts[0].Skipped)
	}
	return sc, nil
}

// s3Originals compares a protected original from the bucket at
// originalsURL with the same file from local disk.
func (e *env) s3Originals(sched schedule, originalsURL, tok string) (*scenario, error) {
	orig := &scenario{}
	cs, err := e.start(
		serverOpts{Kind: serveKeyhole, Root: originalsURL, TierBytes: tierBytes},
		serverOpts{Kind: serveKeyhole, Root: originalsURL},
		serverOpts{Kind: serveKeyhole},
	)
	if err != nil {
		return nil, err
	}
	target := e.small.path(0) + "?jwt=" + tok
	sides := []side{
		{"Keyhole, S3 original, warm tier", cs[0], load{cs[0].Base(), []string{target}, e.conns, e.threads}},
		{"Keyhole, S3 original, no tier (cold)", cs[1], load{cs[1].Base(), []string{target}, e.conns, e.threads}},
		{"Keyhole, local original", cs[2], load{cs[2].Base(), []string{target}, e.conns, e.threads}},
	}
	for _, sd := range sides {
		if _, err := probe(sd.Load.Base, target, "image/jpeg"); err != nil {
			stopAll(cs)
			return nil, fmt.Errorf("%s: %w", sd.Name, err)
		}
	}
	orig.Sides, err = compare(e.ctx, sides, sched, e.tmp)
	stopAll(cs)
	if err != nil {
		return nil, err
	}
	cold := orig.Sides[1].CPUPerReq()
	orig.Checks = []check{
		ratioCheck("original: S3 with a warm tier / local disk", orig.Sides[0], orig.Sides[2], 0.90),
		ratioCheck("original: S3 without a tier / local disk", orig.Sides[1], orig.Sides[2], 0),
		{Label: "cold S3 original (no tier), Keyhole's CPU per request", Value: float64(cold.Nanoseconds()) / 1e3, Unit: "µs", Goal: 300, AtMost: true},
	}
	return orig, nil
}

// s3Variants compares variant-store hits with in-memory variant-cache
// hits. Replica 1 (memory cache and store) computes every variant and
// writes it to the store; replica 2 (store only) serves them from there.
func (e *env) s3Variants(sched schedule, originalsURL, storeURL, tok string) (*scenario, error) {
	vars := &scenario{}
	cs, err := e.start(
		serverOpts{Kind: serveKeyhole, Root: originalsURL, Store: storeURL},
		serverOpts{Kind: serveKeyhole, Root: originalsURL, Store: storeURL, CacheBytes: -1},
		serverOpts{Kind: serveKeyhole, Root: originalsURL, Store: storeURL, CacheBytes: -1, TierBytes: tierBytes},
	)
	if err != nil {
		return nil, err
	}
	defer stopAll(cs)
	targets := e.small.paths("?w=300&jwt=" + tok)
	for _, t := range targets {
		if _, err := probe(cs[0].Base(), t, "image/jpeg"); err != nil {
			return nil, fmt.Errorf("replica 1: %w", err)
		}
	}
	if err := waitStored(e.ctx, storeURL, len(targets)); err != nil {
		return nil, err
	}
	before, err := scrape(cs[1].Base())
	if err != nil {
		return nil, err
	}
	tierBefore, err := scrape(cs[2].Base())
	if err != nil {
		return nil, err
	}
	sides := []side{
		{"Keyhole, store hit through a warm tier", cs[2], load{cs[2].Base(), targets, e.conns, e.threads}},
		{"Keyhole, store hit", cs[1], load{cs[1].Base(), targets, e.conns, e.threads}},
		{"Keyhole, memory hit", cs[0], load{cs[0].Base(), targets, e.conns, e.threads}},
	}
	vars.Sides, err = compare(e.ctx, sides, sched, e.tmp)
	if err != nil {
		return nil, err
	}
	after, err := scrape(cs[1].Base())
	if err != nil {
		return nil, err
	}
	tierAfter, err := scrape(cs[2].Base())
	if err != nil {
		return nil, err
	}
	// Replica 3 must have been served by its tier: store lookups hit, and
	// the tier answered nearly all of them (a miss per variant to warm it,
	// and a revalidation per fresh_for).
	tmiss := tierAfter[`keyhole_variant_store_lookups_total{result="miss"}`] - tierBefore[`keyhole_variant_store_lookups_total{result="miss"}`]
	thit := tierAfter[`keyhole_tier_lookups_total{result="hit",tier="memory"}`] - tierBefore[`keyhole_tier_lookups_total{result="hit",tier="memory"}`]
	if thit == 0 || tmiss != 0 {
		return nil, fmt.Errorf("replica 3 was not served by its tier: %v tier hits, %v store misses", thit, tmiss)
	}
	vars.Notes = append(vars.Notes, fmt.Sprintf("Replica 3 (no memory cache, a %s memory tier): %.0f tier hits over the warm-up and rounds, no store miss.", mib(tierBytes), thit))
	// Replica 2 must have served from the store: no lookup missed. A
	// lookup that failed or timed out (StoreConfig.Timeout, 2 s) under
	// this load is computed instead; the note counts them.
	hits := after[`keyhole_variant_store_lookups_total{result="hit"}`] - before[`keyhole_variant_store_lookups_total{result="hit"}`]
	miss := after[`keyhole_variant_store_lookups_total{result="miss"}`] - before[`keyhole_variant_store_lookups_total{result="miss"}`]
	fail := after[`keyhole_variant_store_errors_total{op="get"}`] - before[`keyhole_variant_store_errors_total{op="get"}`]
	if hits == 0 || miss != 0 || fail > hits/100 {
		return nil, fmt.Errorf("replica 2 was not served by the store: %v hits, %v misses, %v errors", hits, miss, fail)
	}
	vars.Notes = append(vars.Notes, fmt.Sprintf("Replica 2's metrics over the warm-up and rounds: %.0f store hits, %.0f misses, %.0f failed or timed-out lookups (those requests were transformed instead; the scenario fails above 1%%).", hits, miss, fail))
	vars.Checks = []check{
		ratioCheck("variant: store hit through a warm tier / memory hit", vars.Sides[0], vars.Sides[2], 0.90),
		ratioCheck("variant: store hit / memory hit", vars.Sides[1], vars.Sides[2], 0),
	}
	return vars, nil
}

// tierBytes is the memory tier of the tier sides: the default of
// TierConfig.MemoryBytes and tier.memory_bytes.
const tierBytes = 64 << 20

// s3TierRSS loads a replica with a 64 MiB memory tier with 16 connections
// spread over the 64 names of the 12 MP JPEG (about four times the tier):
// the tier evicts without pause, and the replica's peak RSS must stay
// within the tier plus 64 MiB.
func (e *env) s3TierRSS(sched schedule, originalsURL, tok string) (*scenario, error) {
	sc := &scenario{}
	cs, err := e.start(serverOpts{Kind: serveKeyhole, Root: originalsURL, TierBytes: tierBytes})
	if err != nil {
		return nil, err
	}
	defer stopAll(cs)
	targets := e.big.paths("?jwt=" + tok)
	if _, err := probe(cs[0].Base(), targets[0], "image/jpeg"); err != nil {
		return nil, err
	}
	sd := side{"Keyhole, 12 MP originals from S3, 64 MiB tier", cs[0], load{cs[0].Base(), targets, e.conns, e.threads}}
	// RSS counts the pages of the program and its shared libraries
	// (libvips and its codecs) that it has touched, already there at
	// idle; the anonymous part is the memory the load makes the process
	// take, sampled through the rounds. It includes the shared memory
	// pages (RssShmem) of the tier's memfd-backed copies, which RssAnon
	// leaves out.
	pid := cs[0].Pid()
	idleFile, _ := statusBytes(pid, "RssFile")
	idleAnon, _ := anonBytes(pid)
	var peakAnon atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			if n, err := anonBytes(pid); err == nil && n > peakAnon.Load() {
				peakAnon.Store(n)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	sc.Sides, err = compare(e.ctx, []side{sd}, sched, e.tmp)
	close(stop)
	<-sampled
	if err != nil {
		return nil, err
	}
	m, err := scrape(cs[0].Base())
	if err != nil {
		return nil, err
	}
	ev := m[`keyhole_tier_evictions_total{tier="memory"}`]
	if ev == 0 {
		return nil, fmt.Errorf("the tier evicted nothing: the load did not exceed it")
	}
	sc.Notes = append(sc.Notes, fmt.Sprintf("%d distinct objects of %s (%s in all) against a %s tier: %.0f evictions, the tier held %s at the end.",
		copies, mib(e.big.Bytes), mib(e.big.Bytes*copies), mib(tierBytes), ev, mib(int64(m[`keyhole_tier_bytes{tier="memory"}`]))))
	sc.Notes = append(sc.Notes, fmt.Sprintf("At idle, before the load: %s of the program's and shared libraries' file pages and %s anonymous. Peak anonymous memory under the load (sampled every 10 ms): %s, of which the tier's copies (`keyhole_tier_open_bytes`, memfd pages counted as RssShmem) are at most %s.",
		mib(idleFile), mib(idleAnon), mib(peakAnon.Load()), mib(tierBytes)))
	sc.Checks = []check{
		{Label: "peak RSS, 64 MiB tier, 16 connections of distinct objects", Value: float64(sc.Sides[0].PeakRSS) / (1 << 20), Unit: "MiB", Goal: (tierBytes + 64<<20) >> 20, AtMost: true},
		{Label: "peak anonymous and shared memory (RSS less file pages), same load", Value: float64(peakAnon.Load()) / (1 << 20), Unit: "MiB", Goal: (tierBytes + 64<<20) >> 20, AtMost: true},
	}
	return sc, nil
}

// upload copies the files at the request paths (relative to root) into the
// bucket, each under its path without the leading slash.
func upload(ctx context.Context, bucketURL, root string, paths []string) error {
	b, err := blob.OpenBucket(ctx, bucketURL+"&response_checksum_validation=when_required")
	if err != nil {
		return fmt.Errorf("open bucket: %w", err)
	}
	defer b.Close()
	for _, p := range paths {
		key := strings.TrimPrefix(p, "/")
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(key)))
		if err != nil {
			return err
		}
		if err := b.WriteAll(ctx, key, data, nil); err != nil {
			return fmt.Errorf("upload %s: %w", key, err)
		}
	}
	return nil
}

// waitStored waits (up to 30 s) until the store at storeURL holds n
// entries: replicas write variants in the background.
func waitStored(ctx context.Context, storeURL string, n int) error {
	b, err := blob.OpenBucket(ctx, storeURL+"&response_checksum_validation=when_required")
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer b.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := 0
		it := b.List(nil)
		for {
			_, err := it.Next(ctx)
			if err != nil {
				break
			}
			got++
		}
		if got >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the variant store holds %d of %d variants after 30 s", got, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// scrape reads a child's /metrics into a map from series (name and
// labels, as printed) to value.
func scrape(base string) (map[string]float64, error) {
	client := http.Client{Timeout: 10 * time.Second}
	res, err := client.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %d", res.StatusCode)
	}
	return parseMetrics(bufio.NewScanner(res.Body))
}

// parseMetrics parses Prometheus text exposition lines ("series value").
func parseMetrics(sc *bufio.Scanner) (map[string]float64, error) {
	m := map[string]float64{}
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: bad line %q", line)
		}
		m[line[:i]] = v
	}
	return m, sc.Err()
}
