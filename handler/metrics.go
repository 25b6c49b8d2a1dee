package handler

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyhole-dev/keyhole/token"
)

// metrics are always recorded; they are exported only when the host passes
// a Registerer.
type metrics struct {
	auth       *prometheus.CounterVec
	requests   *prometheus.CounterVec
	seconds    *prometheus.HistogramVec
	hits       prometheus.Counter
	misses     prometheus.Counter
	joins      prometheus.Counter
	suppressed prometheus.Counter
	inFlight   prometheus.Gauge
	rejected   *prometheus.CounterVec
	codeCounts map[int]prometheus.Counter
}

var preCreatedCodes = []int{200, 206, 304, 400, 401, 403, 404, 405, 413, 416, 500, 503}

func newMetrics(reg prometheus.Registerer, protections []string) (*metrics, error) {
	m := &metrics{
		auth: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keyhole_auth_results_total",
			Help: "Requests by protection and auth result.",
		}, []string{"protection", "result"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keyhole_requests_total",
			Help: "Responses by HTTP status code; 499 counts requests whose client left before the answer (never sent).",
		}, []string{"code"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "keyhole_transform_seconds",
			Help:    "Time spent transforming an image, by output format.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"format"}),
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keyhole_variant_cache_hits_total",
			Help: "Transformed variants served from the in-memory cache.",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keyhole_variant_cache_misses_total",
			Help: "Transformed variants that had to be computed (once per transform started, after the flight lookup).",
		}),
		joins: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keyhole_variant_flight_joins_total",
			Help: "Requests that waited for a transform another identical request had started (neither hits nor misses).",
		}),
		suppressed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keyhole_log_lines_suppressed_total",
			Help: "Log lines of refusals and failures dropped by the per-second limit (Config.LogLinesPerSecond).",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "keyhole_transforms_in_flight",
			Help: "Transforms running now.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keyhole_transform_rejected_total",
			Help: "Transforms refused, by reason.",
		}, []string{"reason"}),
		codeCounts: map[int]prometheus.Counter{},
	}
	for _, p := range append(protections, NoProtection) {
		for _, r := range token.Results() {
			m.auth.WithLabelValues(p, r.String())
		}
	}
	for _, c := range preCreatedCodes {
		m.codeCounts[c] = m.requests.WithLabelValues(strconv.Itoa(c))
	}
	for _, r := range rejectReasons {
		m.rejected.WithLabelValues(r)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.auth, m.requests, m.seconds, m.hits, m.misses, m.joins, m.inFlight, m.rejected, m.suppressed} {
			if err := reg.Register(c); err != nil {
				return nil, errors.New("handler: metrics are already registered on this Registerer; wrap it with prometheus.WrapRegistererWith to mount several handlers")
			}
		}
	}
	return m, nil
}

func (m *metrics) code(c int) {
	if ctr, ok := m.codeCounts[c]; ok {
		ctr.Inc()
		return
	}
	m.requests.WithLabelValues(strconv.Itoa(c)).Inc()
}
