package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/transform/vips"
)

const defaultAddr = "127.0.0.1:8080"

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	cfgPath := fs.String("config", "", "YAML config `file`; without it the embedded demo runs")
	addr := fs.String("addr", "", "listen `address` (default: the config's addr, else "+defaultAddr+")")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("serve takes no arguments")
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	var (
		hc          handler.Config
		metricsPath = "/metrics"
		listen      = defaultAddr
		cfg         *fileConfig
		dm          *demo
		err         error
	)
	if *cfgPath != "" {
		if cfg, err = loadConfig(*cfgPath); err != nil {
			return err
		}
		if hc, err = cfg.handlerConfig(); err != nil {
			return fmt.Errorf("config %s: %w", *cfgPath, err)
		}
		if hc.Files, err = handler.Dir(cfg.Root); err != nil {
			return fmt.Errorf("config %s: root: cannot open the directory", *cfgPath)
		}
		metricsPath = cfg.metricsPath()
		if cfg.Addr != "" {
			listen = cfg.Addr
		}
	} else {
		if dm, err = newDemo(time.Now); err != nil {
			return err
		}
		hc = dm.config()
	}
	if *addr != "" {
		listen = *addr
	}

	// libvips lives as long as the process: main shuts it down after run
	// returns (it cannot be restarted, so serve must not).
	vips.Startup(vips.StartupConfig{Logger: logger})
	if hc.Engine, err = vips.New(vips.Config{Limits: hc.Limits, Logger: logger}); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	hc.Registerer = reg
	hc.Logger = logger
	h, err := handler.New(hc)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s", listen)
	}
	base := "http://" + ln.Addr().String()
	routes := &router{files: h, metricsPath: metricsPath, metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
	if cfg != nil {
		if routes.signing, routes.signingPath, err = cfg.signingHandler(logger); err != nil {
			return fmt.Errorf("config %s: %w", *cfgPath, err)
		}
	}
	if dm != nil {
		routes.index = dm.page(base)
		dm.print(stdout, base)
	}
	srv := &http.Server{
		Handler:           routes,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if cfg != nil {
		stopReload := reloadOnHUP(*cfgPath, h, logger)
		defer stopReload()
	}

	fmt.Fprintf(stdout, "keyhole: listening on %s\n", base)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return errors.New("shutdown did not finish in time")
	}
	return nil
}

// router sends the metrics path, the signing endpoint (when configured)
// and, in the demo, "/" to their handlers, and everything else to the file
// handler. It does not clean paths: the file
// handler refuses ambiguous paths itself (http.ServeMux would redirect them).
type router struct {
	files, metrics, index, signing http.Handler
	metricsPath, signingPath       string
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case rt.metricsPath != "" && r.URL.Path == rt.metricsPath:
		rt.metrics.ServeHTTP(w, r)
	case rt.signing != nil && r.URL.Path == rt.signingPath:
		rt.signing.ServeHTTP(w, r)
	case rt.index != nil && r.URL.Path == "/":
		rt.index.ServeHTTP(w, r)
	default:
		rt.files.ServeHTTP(w, r)
	}
}

// reloadOnHUP re-reads the profiles of the config file on SIGHUP. Requests
// in flight keep the profiles they started with; a bad file changes nothing.
func reloadOnHUP(path string, h *handler.Handler, logger *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-hup:
				cfg, err := loadConfig(path)
				if err == nil {
					err = h.SetProfiles(cfg.Profiles, cfg.DefaultProfile)
				}
				if err != nil {
					// The reason names the field and line at fault; the
					// config's file path is left out of the log.
					logger.Error("reload failed; keeping the current profiles", "reason", strings.ReplaceAll(err.Error(), path, "<config>"))
					continue
				}
				logger.Info("profiles reloaded", "profiles", len(cfg.Profiles))
			}
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}
