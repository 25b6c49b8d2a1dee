package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// schedule is how long and how often each side is measured.
type schedule struct {
	Rounds int           // measured rounds per side
	Round  time.Duration // length of one round
	Warmup time.Duration // one unmeasured run per side first
}

// side is one server under load in an A/B comparison.
type side struct {
	Name string
	Srv  *child
	Load load
}

// round is one measured wrk run with the server's CPU time across it.
type round struct {
	wrkResult
	CPU time.Duration
}

// sideStats are the measurements of one side.
type sideStats struct {
	Name    string
	Rounds  []round
	PeakRSS int64 // VmHWM over the measured rounds, bytes
}

// compare runs the sides in alternation (A, B, A, B, ... or A, B, C, A, B,
// C, ...) so that drift in the machine (thermal, frequency, neighbours)
// touches every side alike. Each side first gets an unmeasured warm-up; its
// peak RSS is reset after the warm-up and read after the last round.
func compare(ctx context.Context, sides []side, s schedule, tmp string) ([]sideStats, error) {
	for _, sd := range sides {
		if _, err := runWrk(ctx, sd.Load, s.Warmup, tmp); err != nil {
			return nil, fmt.Errorf("%s warm-up%s: %w", sd.Name, sd.Srv.died(), err)
		}
		sd.Srv.ResetPeakRSS() // best effort: older kernels lack it
	}
	stats := make([]sideStats, len(sides))
	for i, sd := range sides {
		stats[i].Name = sd.Name
	}
	for r := 0; r < s.Rounds; r++ {
		for i, sd := range sides {
			c0, err := sd.Srv.CPU()
			if err != nil {
				return nil, err
			}
			res, err := runWrk(ctx, sd.Load, s.Round, tmp)
			if err != nil {
				return nil, fmt.Errorf("%s round %d%s: %w", sd.Name, r+1, sd.Srv.died(), err)
			}
			c1, err := sd.Srv.CPU()
			if err != nil {
				return nil, err
			}
			stats[i].Rounds = append(stats[i].Rounds, round{res, c1 - c0})
			logf("    %-22s round %d: %8.1f req/s  p50 %-9s p99 %-9s non-2xx %d", sd.Name, r+1, res.ReqPerSec, dur(res.P50), dur(res.P99), res.Non2xx)
		}
	}
	for i, sd := range sides {
		stats[i].PeakRSS, _ = sd.Srv.PeakRSS()
	}
	return stats, nil
}

// median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// each maps the rounds of st through f.
func (st sideStats) each(f func(round) float64) []float64 {
	out := make([]float64, len(st.Rounds))
	for i, r := range st.Rounds {
		out[i] = f(r)
	}
	return out
}

// RPS is the median requests per second over the rounds (every status).
func (st sideStats) RPS() float64 {
	return median(st.each(func(r round) float64 { return r.ReqPerSec }))
}

// Accepted is the median rate of 2xx/3xx responses per second.
func (st sideStats) Accepted() float64 {
	return median(st.each(func(r round) float64 { return r.wrkResult.Accepted() }))
}

// P50 and P99 are the medians of the rounds' latency percentiles.
func (st sideStats) P50() time.Duration {
	return time.Duration(median(st.each(func(r round) float64 { return float64(r.wrkResult.P50) })))
}

// P99 is the median of the rounds' 99th latency percentiles.
func (st sideStats) P99() time.Duration {
	return time.Duration(median(st.each(func(r round) float64 { return float64(r.wrkResult.P99) })))
}

// CPUPerReq is the median over the rounds of the server's CPU time divided
// by the requests completed.
func (st sideStats) CPUPerReq() time.Duration {
	return time.Duration(median(st.each(func(r round) float64 {
		if r.Requests == 0 {
			return 0
		}
		return float64(r.CPU) / float64(r.Requests)
	})))
}

// RejectRate is the share of non-2xx/3xx responses over all rounds.
func (st sideStats) RejectRate() float64 {
	var bad, all int64
	for _, r := range st.Rounds {
		bad += r.Non2xx
		all += r.Requests
	}
	if all == 0 {
		return 0
	}
	return float64(bad) / float64(all)
}

// Errors is the number of socket errors (connect, read, write, timeout)
// over all rounds.
func (st sideStats) Errors() int64 {
	var n int64
	for _, r := range st.Rounds {
		n += r.SocketErrs
	}
	return n
}
