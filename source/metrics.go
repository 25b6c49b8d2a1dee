package source

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type results struct{ ok, notFound, err prometheus.Counter }

type hitMiss struct{ hit, miss prometheus.Counter }

type sourceMetrics struct {
	stat, read, get results
	cache           hitMiss
	readBytes       prometheus.Counter
}

func newSourceMetrics(reg prometheus.Registerer) (*sourceMetrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyhole_source_requests_total",
		Help: "Requests to the source bucket, by operation (stat: metadata lookup, read: ranged read, get: whole read into the tier, or its conditional revalidation) and result (ok, not_found, error).",
	}, []string{"op", "result"})
	cache := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyhole_source_metadata_cache_total",
		Help: "Metadata lookups answered from the cache (hit) or sent to the bucket (miss).",
	}, []string{"result"})
	readBytes := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "keyhole_source_read_bytes_total",
		Help: "Bytes read from the source bucket.",
	})
	op := func(name string) results {
		return results{
			ok:       requests.WithLabelValues(name, "ok"),
			notFound: requests.WithLabelValues(name, "not_found"),
			err:      requests.WithLabelValues(name, "error"),
		}
	}
	m := &sourceMetrics{
		stat:      op("stat"),
		read:      op("read"),
		get:       op("get"),
		cache:     hitMiss{hit: cache.WithLabelValues("hit"), miss: cache.WithLabelValues("miss")},
		readBytes: readBytes,
	}
	return m, register(reg, requests, cache, readBytes)
}

func register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return errors.New("source: metrics are already registered on this Registerer; wrap it with prometheus.WrapRegistererWith")
		}
	}
	return nil
}
