package main

import (
	"crypto/rand"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// scaleConns are the connection counts of the scaling scenario.
var scaleConns = []int{1, 4, 16, 64}

// scaleSizes are the protected originals of the scaling scenario: random
// (incompressible) bytes from 10 KB to 10 MB.
var scaleSizes = []struct {
	Label string
	Bytes int
}{{"10 KB", 10_000}, {"100 KB", 100_000}, {"1 MB", 1_000_000}, {"10 MB", 10_000_000}}

// scalePoint is one measured configuration.
type scalePoint struct {
	Conns    int
	RPS      float64 // all responses
	Accepted float64 // 2xx/3xx per second
	P99      time.Duration
	RSS      int64 // peak RSS during the run
	Bytes    int   // body size (originals), for MB/s
}

// scaleSeries is one line of the chart: a file size, or the transform.
type scaleSeries struct {
	Label  string
	Points []scalePoint
}

// scenarioScale: how Keyhole's cost grows with connections and file size.
// Each configuration is one Keyhole-only wrk run after a warm-up, with the
// peak RSS reset in between, on one server per kind (originals; 1 MP
// transforms with the variant cache off).
func scenarioScale(e *env) (*scenario, error) {
	round := 3 * time.Second
	if e.quick {
		round = time.Second
	}
	sched := schedule{Rounds: 1, Round: round, Warmup: time.Second}
	sc := &scenario{ID: "scale", Title: "How cost grows: connections and file sizes",
		What: fmt.Sprintf("Keyhole alone, one configuration at a time: protected originals of random bytes (%s) and the 1 MP JPEG → w=300 transform (variant cache off, rotating names, MaxConcurrent = %d, so above %d connections requests queue and may get 503 after the 2 s queue timeout), at %v connections. Each point is one %s wrk run after a 1 s warm-up; peak RSS is reset after the warm-up. Absolute figures depend on the machine; read the shape: where req/s stops growing (saturation), how p99 grows with queueing, and that RSS stays flat.", sizeList(), e.maxConc, e.maxConc, scaleConns, round)}
	dir := filepath.Join(e.root, "private")
	for _, s := range scaleSizes {
		data := make([]byte, s.Bytes)
		rand.Read(data)
		if err := os.WriteFile(filepath.Join(dir, "scale-"+strings.ReplaceAll(s.Label, " ", "")+".bin"), data, 0o644); err != nil {
			return nil, err
		}
	}
	tok, err := e.sign(nil)
	if err != nil {
		return nil, err
	}
	var series []scaleSeries
	cs, err := e.start(serverOpts{Kind: serveKeyhole})
	if err != nil {
		return nil, err
	}
	for _, s := range scaleSizes {
		target := "/private/scale-" + strings.ReplaceAll(s.Label, " ", "") + ".bin?jwt=" + tok
		if _, err := probe(cs[0].Base(), target, ""); err != nil {
			stopAll(cs)
			return nil, err
		}
		ser := scaleSeries{Label: "original " + s.Label}
		for _, c := range scaleConns {
			p, err := scaleRun(e, cs[0], load{cs[0].Base(), []string{target}, c, min(e.threads, c)}, sched, ser.Label)
			if err != nil {
				stopAll(cs)
				return nil, err
			}
			p.Bytes = s.Bytes
			ser.Points = append(ser.Points, p)
		}
		series = append(series, ser)
	}
	stopAll(cs)

	cs, err = e.start(serverOpts{Kind: serveKeyhole, CacheBytes: -1})
	if err != nil {
		return nil, err
	}
	defer stopAll(cs)
	paths := e.small.paths("?w=300&jwt=" + tok)
	if _, err := probe(cs[0].Base(), paths[0], "image/jpeg"); err != nil {
		return nil, err
	}
	ser := scaleSeries{Label: "1 MP JPEG → w=300"}
	for _, c := range scaleConns {
		p, err := scaleRun(e, cs[0], load{cs[0].Base(), paths, c, min(e.threads, c)}, sched, ser.Label)
		if err != nil {
			return nil, err
		}
		ser.Points = append(ser.Points, p)
	}
	series = append(series, ser)

	sc.Body = scaleTable(series)
	sc.Chart = scaleSVG(series)
	var peak int64
	for _, s := range series {
		for _, p := range s.Points {
			peak = max(peak, p.RSS)
		}
	}
	sc.Checks = []check{{Label: "peak RSS over every scaling point", Value: float64(peak) / (1 << 20), Unit: "MiB"}}
	return sc, nil
}

func sizeList() string {
	var s []string
	for _, z := range scaleSizes {
		s = append(s, z.Label)
	}
	return strings.Join(s, ", ")
}

// scaleRun measures one configuration.
func scaleRun(e *env, c *child, l load, sched schedule, label string) (scalePoint, error) {
	st, err := compare(e.ctx, []side{{fmt.Sprintf("%s c=%d", label, l.Conns), c, l}}, sched, e.tmp)
	if err != nil {
		return scalePoint{}, err
	}
	s := st[0]
	return scalePoint{Conns: l.Conns, RPS: s.RPS(), Accepted: s.Accepted(), P99: s.P99(), RSS: s.PeakRSS}, nil
}

// scaleTable is the markdown table of every point.
func scaleTable(series []scaleSeries) string {
	var b strings.Builder
	b.WriteString("| what | connections | req/s | accepted (2xx) req/s | MB/s | p99 | peak RSS |\n|---|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range series {
		for _, p := range s.Points {
			mbs := ""
			if p.Bytes > 0 {
				mbs = fmt.Sprintf("%.0f", p.Accepted*float64(p.Bytes)/1e6)
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s |\n", s.Label, p.Conns, human(p.RPS), human(p.Accepted), mbs, dur(p.P99), mib(p.RSS))
		}
	}
	return b.String()
}

// scaleSVG draws three panels side by side, x = connections (1, 4, 16,
// 64, evenly spaced): accepted req/s (log scale), p99 latency (log scale)
// and peak RSS (linear, from 0), one line per series.
func scaleSVG(series []scaleSeries) string {
	const (
		w, h         = 960, 380
		panelW       = 270
		top, bottom  = 70, 60
		left0, gap   = 60, 55
		legendY      = h - 18
		plotH        = h - top - bottom
		tickFontSize = 11
	)
	colors := []string{"#4a78c2", "#3a9a4a", "#d08a2a", "#c8443a", "#7a4ac2", "#555555"}
	type panel struct {
		title string
		log   bool
		val   func(scalePoint) float64
		unit  func(float64) string
	}
	panels := []panel{
		{"accepted req/s (log)", true, func(p scalePoint) float64 { return p.Accepted }, func(v float64) string { return fmt.Sprintf("%g", v) }},
		{"p99 latency, ms (log)", true, func(p scalePoint) float64 { return float64(p.P99) / float64(time.Millisecond) }, func(v float64) string { return fmt.Sprintf("%g", v) }},
		{"peak RSS, MiB", false, func(p scalePoint) float64 { return float64(p.RSS) / (1 << 20) }, func(v float64) string { return fmt.Sprintf("%g", v) }},
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", w, h)
	b.WriteString(`<text x="10" y="22" font-size="15" font-weight="bold">Keyhole: how cost grows with connections and file size</text>` + "\n")
	b.WriteString(`<text x="10" y="42" fill="#555">x: concurrent connections (1, 4, 16, 64); one line per protected-original size and for the 1 MP transform</text>` + "\n")
	for pi, pn := range panels {
		x0 := float64(left0 + pi*(panelW+gap))
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, s := range series {
			for _, p := range s.Points {
				if v := pn.val(p); v > 0 {
					lo, hi = min(lo, v), max(hi, v)
				}
			}
		}
		if math.IsInf(lo, 0) {
			continue
		}
		if !pn.log {
			lo, hi = 0, hi*1.15
		} else {
			lo, hi = math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi)))
		}
		y := func(v float64) float64 {
			if pn.log {
				v = max(v, lo)
				return float64(top+plotH) - float64(plotH)*math.Log(v/lo)/math.Log(hi/lo)
			}
			return float64(top+plotH) - float64(plotH)*(v-lo)/(hi-lo)
		}
		x := func(i int) float64 { return x0 + float64(panelW)*(float64(i)+0.5)/float64(len(scaleConns)) }
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-weight="bold">%s</text>`+"\n", x0, top-12, html.EscapeString(pn.title))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%d" height="%d" fill="none" stroke="#ccc"/>`+"\n", x0, top, panelW, plotH)
		var ticks []float64
		if pn.log {
			for v := lo; v <= hi*1.001; v *= 10 {
				ticks = append(ticks, v)
			}
		} else {
			step := niceStep(hi / 4)
			for v := 0.0; v <= hi; v += step {
				ticks = append(ticks, v)
			}
		}
		for _, t := range ticks {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", x0, y(t), x0+panelW, y(t))
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" font-size="%d" fill="#555">%s</text>`+"\n", x0-4, y(t)+4, tickFontSize, pn.unit(t))
		}
		for i, c := range scaleConns {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="%d" fill="#555">%d</text>`+"\n", x(i), top+plotH+16, tickFontSize, c)
		}
		for si, s := range series {
			var pts []string
			for i, p := range s.Points {
				if v := pn.val(p); v > 0 || !pn.log {
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
				}
			}
			col := colors[si%len(colors)]
			fmt.Fprintf(&b, `<polyline class="series" fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", col, strings.Join(pts, " "))
			for _, pt := range pts {
				xy := strings.Split(pt, ",")
				fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`+"\n", xy[0], xy[1], col)
			}
		}
	}
	lx := 10.0
	for si, s := range series {
		col := colors[si%len(colors)]
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="14" height="4" fill="%s"/><text x="%.1f" y="%d">%s</text>`+"\n", lx, legendY-4, col, lx+18, legendY, html.EscapeString(s.Label))
		lx += 30 + 7.5*float64(len([]rune(s.Label)))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// niceStep rounds v up to 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
