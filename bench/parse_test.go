package main

import (
	"encoding/xml"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// wrkOutput is what Debian's wrk 4.1.0 prints with --latency, with the
// optional error lines.
const wrkOutput = `Running 5s test @ http://127.0.0.1:40123/private/small-00.jpg?jwt=x
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.53ms    2.10ms  47.01ms   93.95%
    Req/Sec    11.52k     1.02k   13.01k    70.00%
  Latency Distribution
     50%  828.00us
     75%    1.40ms
     90%    2.88ms
     99%   27.46ms
  57331 requests in 5.00s, 16.72GB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 1200
Requests/sec:  11466.20
Transfer/sec:      3.34GB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkOutput)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{
		Requests: 57331, Non2xx: 1200, SocketErrs: 5, Duration: 5 * time.Second,
		ReqPerSec: 11466.20, P50: 828 * time.Microsecond, P99: 27460 * time.Microsecond,
	}
	if r != want {
		t.Errorf("parseWrk:\n got %+v\nwant %+v", r, want)
	}
	if got := r.Accepted(); got < 11226 || got > 11227 {
		t.Errorf("Accepted = %v, want (57331-1200)/5", got)
	}
}

func TestParseWrkErrors(t *testing.T) {
	for name, out := range map[string]string{
		"empty":        "",
		"no latency":   strings.ReplaceAll(wrkOutput, "Latency Distribution", ""),
		"no --latency": "  100 requests in 1.00s, 1MB read\nRequests/sec: 100.00\n",
		"bad duration": strings.Replace(wrkOutput, "828.00us", "828.00xs", 1),
	} {
		t.Run(name, func(t *testing.T) {
			if name == "no latency" {
				// The percentile lines alone are still enough.
				if _, err := parseWrk(out); err != nil {
					t.Fatal(err)
				}
				return
			}
			if _, err := parseWrk(out); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestParseWrkDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"512.00us": 512 * time.Microsecond,
		"1.50ms":   1500 * time.Microsecond,
		"2.00s":    2 * time.Second,
		"1.50m":    90 * time.Second,
		"5.00s,":   0, // not a duration
	} {
		got, err := parseWrkDuration(in)
		if (err != nil) != (want == 0) || got != want {
			t.Errorf("parseWrkDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	// Field 2 may hold spaces and parentheses.
	stat := "4242 (bench (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 37 0 0 20 0 8 0 100 0 0"
	got, err := parseStatCPU(stat)
	if err != nil || got != 287*clockTick {
		t.Errorf("parseStatCPU = %v, %v; want %v", got, err, 287*clockTick)
	}
	if _, err := parseStatCPU("4242 (x) S 1"); err == nil {
		t.Error("short line: no error")
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
BenchmarkSign-2            	  612345	      1950 ns/op	     896 B/op	      12 allocs/op
BenchmarkVerify/cold-2     	  190000	      6200 ns/op
BenchmarkVerify/cold-2     	  190000	      6400 ns/op
BenchmarkVerify/jwx-parse  	  100000	     11000 ns/op
PASS
`
	got := parseGoBench(out)
	if len(got) != 3 || got["Sign"][0] != 1950 || median(got["Verify/cold"]) != 6300 || got["Verify/jwx-parse"][0] != 11000 {
		t.Errorf("parseGoBench = %v", got)
	}
}

func TestWasmChecks(t *testing.T) {
	out := `Node v22.1.0, 2 s per measurement after an equal warm-up

| measurement | value | reference | ratio | goal |
|---|---|---|---|---|
| keyhole.wasm size, gzip -9 | 0.812 MB (raw 2.90 MB) | | | ≤ 0.9 MB |
| cold start: read file → first token | 41.5 ms | | | ≤ 50 ms |
| sign(), one call per URL | 1,200,000 /s | jsonwebtoken, string key: 60,000 /s | 20.00x | ≥ 10x |
| signMany(1000), per URL | 1,500,000 /s | jsonwebtoken, KeyObject: 100,000 /s | 15.00x | ≥ 1.5x |
| signMany(1000) with hmac: 'wasm' (pure Go) | 1,200,000 /s | jsonwebtoken, KeyObject: 100,000 /s | 12.00x | |
| signManyAsync(1000) (node:crypto) | 1,400,000 /s | jsonwebtoken, KeyObject: 100,000 /s | 14.00x | |
| signMany(1000), first second of a new signer | 900,000 /s | jsonwebtoken, KeyObject: 100,000 /s | 9.00x | |
| jose SignJWT (async), per URL | 50,000 /s | jsonwebtoken, KeyObject: 100,000 /s | 0.50x | |
`
	got := wasmChecks(out)
	want := []check{
		{Label: "WASM cold start (read file → first token)", Value: 41.5, Unit: "ms", Goal: 50, AtMost: true},
		{Label: "WASM sign() / jsonwebtoken, string key", Value: 20, Unit: "x", Goal: 10},
		{Label: "WASM signMany / jsonwebtoken, key object", Value: 15, Unit: "x", Goal: 1.5},
		{Label: "WASM signMany, pure-Go HMAC / jsonwebtoken, key object", Value: 12, Unit: "x"},
		{Label: "WASM signManyAsync / jsonwebtoken, key object", Value: 14, Unit: "x"},
		{Label: "WASM signMany / jose SignJWT", Value: 30, Unit: "x"},
	}
	if len(got) != len(want) {
		t.Fatalf("wasmChecks = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("check %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestCheckVerdict(t *testing.T) {
	for _, c := range []struct {
		c    check
		want string
	}{
		{check{Value: 0.95, Unit: "x", Goal: 0.9}, "pass"},
		{check{Value: 0.85, Unit: "x", Goal: 0.9}, "MISS"},
		{check{Value: 96, Unit: "MiB", Goal: 128, AtMost: true}, "pass"},
		{check{Value: 130, Unit: "MiB", Goal: 128, AtMost: true}, "MISS"},
		{check{Value: 3, Unit: "x"}, ""},
	} {
		if got := c.c.Verdict(); got != c.want {
			t.Errorf("%+v: Verdict = %q, want %q", c.c, got, c.want)
		}
	}
	if g := (check{Unit: "MiB", Goal: 128, AtMost: true}).goal(); g != "≤ 128 MiB" {
		t.Errorf("goal = %q", g)
	}
}

// svgDoc is the part of the chart the test reads back.
type svgDoc struct {
	XMLName xml.Name `xml:"svg"`
	Rects   []struct {
		Class string  `xml:"class,attr"`
		X     float64 `xml:"x,attr"`
		Width float64 `xml:"width,attr"`
		Fill  string  `xml:"fill,attr"`
	} `xml:"rect"`
	Lines []struct {
		Class string  `xml:"class,attr"`
		X1    float64 `xml:"x1,attr"`
	} `xml:"line"`
	Texts []string `xml:"text"`
}

func TestWriteSVG(t *testing.T) {
	checks := []check{
		{Scenario: "1. original", Label: "protected original / FileServer", Value: 0.95, Unit: "x", Goal: 0.9},
		{Scenario: "3. transform", Label: "12 MP <JPEG> & co", Value: 1.2, Unit: "x", Goal: 1.32},
		{Scenario: "2. token", Label: "verify warm / cold", Value: 3, Unit: "x"},
		{Scenario: "5. overload", Label: "peak RSS", Value: 96, Unit: "MiB", Goal: 128, AtMost: true}, // not a ratio: no bar
	}
	var b strings.Builder
	if err := writeSVG(&b, "Keyhole & bench", checks); err != nil {
		t.Fatal(err)
	}
	var doc svgDoc
	if err := xml.NewDecoder(strings.NewReader(b.String())).Decode(&doc); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, b.String())
	}
	var bars, xs []float64
	var fills []string
	for _, r := range doc.Rects {
		if r.Class == "bar" {
			bars = append(bars, r.Width)
			xs = append(xs, r.X)
			fills = append(fills, r.Fill)
		}
	}
	if len(bars) != 3 {
		t.Fatalf("%d bars, want 3 (ratios only)", len(bars))
	}
	// Bars share one log scale from 1.0x: lengths are proportional to
	// |log ratio|, bars under 1.0x end at the 1.0x line, bars over it start there.
	if r, want := bars[2]/bars[1], math.Log(3)/math.Log(1.2); math.Abs(r-want) > 0.01 {
		t.Errorf("bar lengths %v: ratio %v, want %v", bars, r, want)
	}
	if r, want := bars[0]/bars[1], -math.Log(0.95)/math.Log(1.2); math.Abs(r-want) > 0.01 {
		t.Errorf("bar lengths %v: ratio %v, want %v", bars, r, want)
	}
	if math.Abs(xs[0]+bars[0]-xs[1]) > 0.2 || xs[1] != xs[2] {
		t.Errorf("bars do not meet at 1.0x: x %v, widths %v", xs, bars)
	}
	if fills[0] != "#3a9a4a" || fills[1] != "#c8443a" || fills[2] != "#4a78c2" {
		t.Errorf("fills = %v, want pass, miss, no goal", fills)
	}
	goals, ones := 0, 0
	for _, l := range doc.Lines {
		switch l.Class {
		case "goal":
			goals++
		case "one":
			ones++
		}
	}
	if goals != 2 || ones != 1 {
		t.Errorf("%d goal lines and %d 1.0x lines, want 2 and 1", goals, ones)
	}
	all := strings.Join(doc.Texts, "\n")
	for _, want := range []string{"Keyhole & bench", "12 MP <JPEG> & co", "0.95x"} {
		if !strings.Contains(all, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
}

func TestWriteSVGEmpty(t *testing.T) {
	if err := writeSVG(io.Discard, "none", nil); err != nil {
		t.Fatal(err)
	}
}

// TestChecksFromMarkdown reads a summary table back (-chart): ratio rows
// with their range and goal; other units are left out.
func TestChecksFromMarkdown(t *testing.T) {
	rep := &report{Title: "T", Scenarios: []*scenario{{Num: 1, ID: "original", Checks: []check{
		{Label: "a / b", Value: 1.25, Unit: "x", Goal: 0.85, Lo: 0.5, Hi: 2.5},
		{Label: "cold / jwt", Value: 3.2, Unit: "x", Goal: 1, AtMost: true},
		{Label: "rss", Value: 90, Unit: "MiB", Goal: 128, AtMost: true},
	}}}}
	var b strings.Builder
	if err := rep.writeMarkdown(&b, "x.svg"); err != nil {
		t.Fatal(err)
	}
	title, got, err := checksFromMarkdown(b.String())
	if err != nil {
		t.Fatal(err)
	}
	want := []check{
		{Scenario: "1. original", Label: "a / b", Value: 1.25, Unit: "x", Goal: 0.85, Lo: 0.5, Hi: 2.5},
		{Scenario: "1. original", Label: "cold / jwt", Value: 3.2, Unit: "x", Goal: 1, AtMost: true},
	}
	if title != "T" || !reflect.DeepEqual(got, want) {
		t.Errorf("got %q %+v, want %+v", title, got, want)
	}
}

func TestParseFloor(t *testing.T) {
	rs, err := parseFloor("round 40 1200000000 3145\nround 50 1000000000 3146\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []floorRound{{Calls: 40, CPU: 1200 * time.Millisecond, Bytes: 3145}, {Calls: 50, CPU: time.Second, Bytes: 3146}}
	if !reflect.DeepEqual(rs, want) {
		t.Fatalf("parseFloor:\n got %+v\nwant %+v", rs, want)
	}
	if got := floorPerCall(rs); got != 25*time.Millisecond {
		t.Errorf("floorPerCall = %v, want 25ms (median of 30ms and 20ms)", got)
	}
	for name, out := range map[string]string{
		"empty":     "",
		"no calls":  "round 0 1000 10\n",
		"no CPU":    "round 4 0 10\n",
		"truncated": "round 40 1200000000\n",
		"other":     "floor: cannot read x\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseFloor(out); err == nil {
				t.Errorf("parseFloor(%q): no error", out)
			}
		})
	}
}

func TestFloorCheck(t *testing.T) {
	floor := []floorRound{{Calls: 10, CPU: 300 * time.Millisecond}, {Calls: 10, CPU: 300 * time.Millisecond}}
	kh := sideStats{Rounds: []round{
		{wrkResult: wrkResult{Requests: 100}, CPU: 4 * time.Second},  // 40 ms a request
		{wrkResult: wrkResult{Requests: 100}, CPU: 2 * time.Second}}} // 20 ms
	c := floorCheck("x", floor, kh)
	if math.Abs(c.Value-1) > 1e-9 || math.Abs(c.Lo-0.75) > 1e-9 || math.Abs(c.Hi-1.5) > 1e-9 {
		t.Errorf("floorCheck = %.3f (%.3f–%.3f), want 1.000 (0.750–1.500)", c.Value, c.Lo, c.Hi)
	}
	if c.Verdict() != "pass" {
		t.Errorf("verdict %q at 1.0x, want pass", c.Verdict())
	}
	kh.Rounds[1].CPU = 6 * time.Second // 40 ms and 60 ms: 0.6x
	if c := floorCheck("x", floor, kh); c.Verdict() != "MISS" {
		t.Errorf("verdict %q at %.2fx, want MISS", c.Verdict(), c.Value)
	}
}
