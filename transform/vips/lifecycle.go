package vips

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	govips "github.com/davidbyttow/govips/v2/vips"
)

// StartupConfig configures the process-wide libvips runtime. The zero value
// is the recommended production setting.
type StartupConfig struct {
	// Logger receives libvips messages of level warning and above (critical
	// and error are logged at slog.LevelError). Default nil: messages are
	// dropped, as a library must not write to stderr on its own.
	Logger *slog.Logger
	// Concurrency is the number of worker threads libvips may use for one
	// operation. Default 1: Keyhole gets its parallelism from running several
	// requests at once (handler.Config.MaxConcurrent), so one thread per operation
	// keeps the CPU and memory used by one request predictable.
	Concurrency int
}

var (
	startOnce    sync.Once
	shutdownOnce sync.Once
	// state is 0 before Startup, 1 while running, 2 after Shutdown.
	state atomic.Int32
	// orcOn: libvips runs its Orc programs (set by Startup, before any
	// engine exists).
	orcOn bool
)

// Startup initialises libvips for the whole process. The host application
// (cmd/keyhole, or a test's TestMain) calls it once before New, and calls
// Shutdown once when it exits; libraries never call it on their own.
//
// libvips runs with one thread per operation (see StartupConfig), with its
// operation cache switched off (the cache would hold decoded pixels of
// private images across requests and make memory use depend on history),
// with its log filtered to warnings and above. Before libvips 8.15, its
// Orc code paths (SIMD programs compiled at run time) stay on only with
// their compiles and frees serialised by this package: liborc frees
// compiled programs without a lock, and concurrent transforms would
// otherwise crash the process (SIGSEGV in orc_code_free). Where that
// cannot be ensured, Orc is switched off; the plain C paths round
// differently, so output bytes differ slightly (Revision counts this).
//
// Startup is safe to call more than once: calls after the first do nothing.
// libvips cannot be restarted, so Startup after Shutdown does nothing either
// and engines keep refusing work.
func Startup(cfg StartupConfig) {
	startOnce.Do(func() {
		if state.Load() != 0 {
			return
		}
		govips.LoggingSettings(logHandler(cfg.Logger), govips.LogLevelWarning)
		conc := cfg.Concurrency
		if conc <= 0 {
			conc = 1
		}
		govips.Startup(&govips.Config{
			ConcurrencyLevel: conc,
			MaxCacheFiles:    0,
			MaxCacheMem:      0,
			MaxCacheSize:     0,
		})
		orcOn = guardOrc()
		state.Store(1)
	})
}

// Shutdown releases libvips. Call it once, after every Process call has
// returned; engines refuse work afterwards. Calls after the first, or
// without a prior Startup, do nothing.
func Shutdown() {
	shutdownOnce.Do(func() {
		if state.Swap(2) == 1 {
			govips.Shutdown()
		}
	})
}

// running reports whether Startup has been called and Shutdown has not.
func running() bool { return state.Load() == 1 }

// logHandler adapts libvips/glib log messages to logger. A nil logger drops
// every message.
func logHandler(logger *slog.Logger) govips.LoggingHandlerFunction {
	return func(domain string, level govips.LogLevel, msg string) {
		if logger == nil || level > govips.LogLevelWarning {
			return
		}
		lvl := slog.LevelWarn
		if level <= govips.LogLevelCritical {
			lvl = slog.LevelError
		}
		logger.Log(context.Background(), lvl, "libvips", "domain", domain, "message", msg)
	}
}
