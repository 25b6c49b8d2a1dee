package handler

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// logLimiter writes the log lines of refusals and failures, at most
// perSecond lines per second of each kind (a refused token's result, an
// outcome), so a flood of bad requests cannot fill the disk. Lines over
// the limit are dropped and counted in keyhole_log_lines_suppressed_total;
// the next line written of the same kind carries "suppressed": the number
// dropped since the last one. The kinds are a closed set of fixed strings,
// so the limiter's memory is bounded.
type logLimiter struct {
	out        *slog.Logger
	now        func() time.Time
	perSecond  int // <= 0: no limit
	suppressed prometheus.Counter

	mu    sync.Mutex
	kinds map[string]*logWindow
}

// logWindow is one kind's current one-second window.
type logWindow struct {
	start      time.Time
	lines      int
	suppressed int
}

func newLogLimiter(log *slog.Logger, now func() time.Time, perSecond int, suppressed prometheus.Counter) *logLimiter {
	return &logLimiter{out: log, now: now, perSecond: perSecond, suppressed: suppressed, kinds: map[string]*logWindow{}}
}

// logAs writes msg with args at level, unless kind has used up this
// second's lines. kind must be one of a fixed set of strings.
func (l *logLimiter) logAs(ctx context.Context, kind string, level slog.Level, msg string, args ...any) {
	if !l.out.Enabled(ctx, level) {
		return
	}
	if l.perSecond > 0 {
		t := l.now()
		l.mu.Lock()
		w := l.kinds[kind]
		if w == nil {
			w = &logWindow{start: t}
			l.kinds[kind] = w
		}
		if d := t.Sub(w.start); d >= time.Second || d < 0 {
			w.start, w.lines = t, 0
		}
		if w.lines >= l.perSecond {
			w.suppressed++
			l.mu.Unlock()
			l.suppressed.Inc()
			return
		}
		w.lines++
		n := w.suppressed
		w.suppressed = 0
		l.mu.Unlock()
		if n > 0 {
			args = append(args, "suppressed", n)
		}
	}
	l.out.Log(ctx, level, msg, args...)
}

// log is logAs with msg as its kind.
func (l *logLimiter) log(ctx context.Context, level slog.Level, msg string, args ...any) {
	l.logAs(ctx, msg, level, msg, args...)
}
