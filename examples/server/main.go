// Command server is a complete program that serves a directory behind
// expiring signed URLs with Keyhole: libvips start-up, the image engine,
// the handler under /img/, metrics on their own listener, access logs
// without tokens, and a graceful shutdown that waits for transforms before
// libvips shuts down. The README's "Mount it in a Go program" section
// shows its core, between the README:begin and README:end lines.
//
//	KEYHOLE_SECRET=$(keyhole keygen) go run ./examples/server -dir ./photos
//
// Then sign a URL for /private/… with the same secret (keyhole sign, the
// token package, or the WebAssembly signer) and open
// http://127.0.0.1:8080/img/private/….
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform/vips"
)

func main() {
	dir := flag.String("dir", ".", "directory to serve")
	addr := flag.String("addr", "127.0.0.1:8080", "listen address of the images")
	metricsAddr := flag.String("metrics-addr", "127.0.0.1:9090", "listen address of /metrics")
	flag.Parse()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, logger, *dir, *addr, *metricsAddr, os.Getenv("KEYHOLE_SECRET"), nil); err != nil {
		logger.Error("server failed", "error", err)
		os.Exit(1)
	}
}

// run serves until ctx ends. ready, when not nil, receives the two
// listeners' addresses once they accept connections.
func run(ctx context.Context, logger *slog.Logger, dir, addr, metricsAddr, secret string, ready func(images, metrics string)) error {
	// README:begin
	if len(secret) < 32 {
		return errors.New("KEYHOLE_SECRET must hold at least 32 bytes (keyhole keygen makes one)")
	}
	// libvips is process-wide: start it once, and shut it down only after
	// the handler has stopped its transforms (h.Close below).
	vips.Startup(vips.StartupConfig{Logger: logger})
	defer vips.Shutdown()
	engine, err := vips.New(vips.Config{Logger: logger})
	if err != nil {
		return err
	}
	files, err := handler.Dir(dir) // os.Root: symlinks cannot leave it
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	h, err := handler.New(handler.Config{
		Files:  files,
		Engine: engine,
		Protections: []handler.Protection{{
			Path: "/private/",
			Keys: []token.Key{token.KeyFromString("main", secret)},
		}},
		Registerer: reg, // nil = no metrics; the global registry is never used
		Logger:     logger,
	})
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	// StripPrefix: the handler sees /private/a.jpg, the path the token's
	// audience names.
	mux.Handle("/img/", http.StripPrefix("/img", h))
	srv := &http.Server{
		Handler:           accessLog(logger, mux),
		ReadHeaderTimeout: 10 * time.Second,
	}
	metrics := &http.Server{
		Handler:           promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	// README:end

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mln, err := net.Listen("tcp", metricsAddr)
	if err != nil {
		ln.Close()
		return err
	}
	go srv.Serve(ln)
	go metrics.Serve(mln)
	if ready != nil {
		ready(ln.Addr().String(), mln.Addr().String())
	}
	<-ctx.Done()
	return shutdown(srv, metrics, h)
}

// README:shutdown:begin

// shutdown stops accepting connections, lets requests in flight finish,
// then waits for transforms that outlived their request (a client that
// left, an http.TimeoutHandler that answered first) before run's deferred
// vips.Shutdown.
func shutdown(srv, metrics *http.Server, h *handler.Handler) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	metrics.Shutdown(ctx)
	if err := h.Close(ctx); err != nil {
		// Transforms still run in libvips: exit without vips.Shutdown,
		// which would crash under them.
		os.Exit(1)
	}
	return nil
}

// accessLog logs every request with the token replaced by its short hash:
// a logged ?jwt= URL would work for anyone who reads the log until the
// token expires.
func accessLog(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		logger.Info("request", "method", r.Method, "url", handler.RedactURL(r.URL, "jwt"),
			"duration", time.Since(start))
	})
}

// README:shutdown:end
