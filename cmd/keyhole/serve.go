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
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/transform/vips"
)

const defaultAddr = "127.0.0.1:8080"

// Bounds of a graceful stop: requests get drainRequests to finish, then
// running transforms get drainTransforms.
const (
	drainRequests   = 15 * time.Second
	drainTransforms = 15 * time.Second
)

// errVipsBusy: transforms were still running when serve gave up waiting;
// main must not shut libvips down under them.
var errVipsBusy = errors.New("transforms still running after the drain timeout; exiting without shutting libvips down")

const serveHelp = `Usage: keyhole serve [-config FILE] [-addr HOST:PORT] [-log-format text|json] [-log-level LEVEL]

Serves the files of a config file behind expiring signed URLs; without a
config, an embedded demo with signed example URLs.

SIGHUP reloads the config file (keys, protections, profiles, limits,
signing); SIGINT and SIGTERM drain: /readyz turns 503, new connections are
refused, requests in flight get 15 s, running transforms 15 s more, then
libvips shuts down. Once ready, prints "keyhole: listening on URL" on
stdout; logs go to stderr.

Environment: KEYHOLE_CONFIG and KEYHOLE_ADDR are the defaults of -config
and -addr.

Example:
  keyhole serve -config /etc/keyhole/keyhole.yaml -log-format json

Flags:
`

// serveFlags are the flags of serve; empty means "not given".
type serveFlags struct {
	config, addr, logFormat, logLevel string
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	var fl serveFlags
	fs.StringVar(&fl.config, "config", os.Getenv("KEYHOLE_CONFIG"), "YAML config `file` (default $KEYHOLE_CONFIG); without it the embedded demo runs")
	fs.StringVar(&fl.addr, "addr", os.Getenv("KEYHOLE_ADDR"), "listen `address` (default $KEYHOLE_ADDR, else the config's addr, else "+defaultAddr+")")
	fs.StringVar(&fl.logFormat, "log-format", "", "log `format`: text or json (default: the config's log_format, else text)")
	fs.StringVar(&fl.logLevel, "log-level", "", "lowest `level` logged: debug, info, warn, error (default: the config's log_level, else info)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageError("serve takes no arguments")
	}

	var (
		cfg *fileConfig
		dm  *demo
		err error
	)
	if fl.config != "" {
		if cfg, err = loadConfig(fl.config); err != nil {
			return err
		}
	}
	logger, err := newLogger(stderr, fl, cfg)
	if err != nil {
		return err
	}

	// libvips lives as long as the process: main shuts it down after run
	// returns (it cannot be restarted, so serve must not).
	vips.Startup(vips.StartupConfig{Logger: logger})
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reloads := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyhole_config_reloads_total",
		Help: "Config reloads on SIGHUP, by result (ok, failed).",
	}, []string{"result"})
	reloads.WithLabelValues("ok")
	reloads.WithLabelValues("failed")
	reg.MustRegister(reloads)

	var hc handler.Config
	st := &serveState{logger: logger, flags: fl, reloads: reloads}
	if cfg != nil {
		// Buckets are opened once; a reload keeps them.
		if st.storage, err = openStorage(ctx, cfg, reg, logger); err != nil {
			return err
		}
		defer st.storage.close()
		if hc, err = buildHandlerConfig(cfg, st.storage, logger); err != nil {
			return err
		}
	} else {
		if dm, err = newDemo(time.Now); err != nil {
			return err
		}
		hc = dm.config()
		if hc.Engine, err = vips.New(vips.Config{Limits: hc.Limits, Logger: logger}); err != nil {
			return err
		}
	}
	hc.Registerer = reg
	hc.Logger = logger
	h, err := handler.New(hc)
	if err != nil {
		if cfg != nil {
			return cfg.handlerError(err)
		}
		return err
	}
	st.files = h

	listen, metricsAddr := defaultAddr, ""
	routes := &router{files: h, state: st, healthPath: "/healthz", readyPath: "/readyz"}
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	if cfg != nil {
		st.cfg.Store(cfg)
		if cfg.Addr != "" {
			listen = cfg.Addr
		}
		metricsAddr = cfg.MetricsAddr
		routes.healthPath, routes.readyPath = cfg.healthPath(), cfg.readyPath()
		switch {
		case metricsAddr != "":
			// Metrics on their own listener only.
		case cfg.DenyUnprotected && cfg.metricsPath() != "":
			logger.Warn("metrics are not served on the file listener when deny_unprotected is set; set metrics_addr to serve them", "field", "metrics_addr")
		default:
			routes.metricsPath, routes.metrics = cfg.metricsPath(), metrics
		}
		signing, path, err := cfg.signingHandler(logger)
		if err != nil {
			return err
		}
		routes.signingPath = path
		st.signing.Store(&signing)
		st.accessLog.Store(cfg.AccessLog)
	} else {
		routes.metricsPath, routes.metrics = "/metrics", metrics
	}
	if fl.addr != "" {
		listen = fl.addr
	}

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", listen, listenCause(err))
	}
	base := "http://" + ln.Addr().String()
	if dm != nil {
		routes.index = dm.page(base)
		dm.print(stdout, base)
	}
	servers := []*http.Server{newServer(routes, logger)}
	listeners := []net.Listener{ln}
	attrs := []any{"url", base}
	if metricsAddr != "" {
		mln, err := net.Listen("tcp", metricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("metrics_addr: cannot listen on %s: %w", metricsAddr, listenCause(err))
		}
		admin := &router{state: st, metricsPath: cfg.metricsPath(), metrics: metrics, healthPath: routes.healthPath, readyPath: routes.readyPath, files: http.NotFoundHandler()}
		servers = append(servers, newServer(admin, logger))
		listeners = append(listeners, mln)
		attrs = append(attrs, "metrics_url", "http://"+mln.Addr().String())
	}
	if cfg != nil {
		stop := st.reloadOnHUP(fl.config)
		defer stop()
	}

	st.ready.Store(true)
	logger.Info("listening", attrs...)
	fmt.Fprintf(stdout, "keyhole: listening on %s\n", base)
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	select {
	case err := <-errc:
		for _, srv := range servers {
			srv.Close()
		}
		h.Close(context.Background())
		return err
	case <-ctx.Done():
	}
	return st.drain(servers)
}

// drain stops serving in the order that keeps libvips safe: /readyz turns
// 503, the listeners close and requests in flight finish (bounded), then
// the handler waits for its transforms (bounded) before main shuts libvips
// down.
func (st *serveState) drain(servers []*http.Server) error {
	st.ready.Store(false)
	st.logger.Info("draining: no new connections; waiting for requests in flight", "timeout", drainRequests.String())
	ctx, cancel := context.WithTimeout(context.Background(), drainRequests)
	defer cancel()
	var slow bool
	for _, srv := range servers {
		if err := srv.Shutdown(ctx); err != nil {
			slow = true
		}
	}
	if slow {
		st.logger.Warn("requests still in flight after the drain timeout; closing their connections", "timeout", drainRequests.String())
		for _, srv := range servers {
			srv.Close()
		}
	}
	tctx, tcancel := context.WithTimeout(context.Background(), drainTransforms)
	defer tcancel()
	if err := st.files.Close(tctx); err != nil {
		st.logger.Error("transforms still running after the drain timeout", "timeout", drainTransforms.String())
		return errVipsBusy
	}
	st.logger.Info("stopped")
	return nil
}

func newServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// listenCause keeps the reason of a failed listen ("address already in
// use", "permission denied") without repeating the address.
func listenCause(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		var se *os.SyscallError
		if errors.As(oe.Err, &se) {
			return se.Err
		}
		return oe.Err
	}
	return err
}

// buildHandlerConfig opens the config's root directory (a bucket root and
// the variant store come from st, opened once) and makes an engine with
// its limits: everything handler.New needs but the registry and logger.
func buildHandlerConfig(cfg *fileConfig, st *storage, logger *slog.Logger) (handler.Config, error) {
	hc, err := cfg.handlerConfig()
	if err != nil {
		return hc, err
	}
	if dir := rootDir(cfg.Root); dir != "" {
		// A directory, or a file:// URL: through os.Root, which refuses
		// symbolic links and names that leave it.
		root, err := os.OpenRoot(dir)
		if err != nil {
			e := configError{path: "root", line: cfg.lines.line("root"), msg: fmt.Sprintf("cannot open the directory %s: %v", dir, causeOf(err))}
			return hc, &configErrors{name: cfg.name, list: []configError{e}}
		}
		hc.Files = root.FS()
		if isBucketURL(cfg.Root) {
			hc.Files = attrsHidden{hc.Files}
		}
	}
	st.apply(&hc)
	if hc.Engine, err = vips.New(vips.Config{Limits: hc.Limits, Logger: logger}); err != nil {
		return hc, cfg.handlerError(err)
	}
	hc.Logger = logger
	return hc, nil
}

// serveState is what SIGHUP changes and the routers read.
type serveState struct {
	logger    *slog.Logger
	flags     serveFlags
	files     *handler.Handler
	storage   *storage // the buckets of root and variant_store
	cfg       atomic.Pointer[fileConfig]
	signing   atomic.Pointer[http.Handler]
	accessLog atomic.Bool
	ready     atomic.Bool
	reloads   *prometheus.CounterVec
}

// restartFields are the settings a reload cannot change, with a reader
// each; a reload that changes one keeps the running value and says so.
var restartFields = []struct {
	key  string
	get  func(*fileConfig) string
	flag func(serveFlags) string // non-empty: a flag overrides the field
}{
	{"addr", func(c *fileConfig) string { return c.Addr }, func(f serveFlags) string { return f.addr }},
	{"metrics_addr", func(c *fileConfig) string { return c.MetricsAddr }, nil},
	{"root", func(c *fileConfig) string {
		if isRemoteURL(c.Root) {
			return c.Root
		}
		return "" // a directory is opened again on reload
	}, nil},
	{"variant_store", func(c *fileConfig) string { return c.VariantStore }, nil},
	{"tier", func(c *fileConfig) string { return fmt.Sprint(c.Tier) }, nil},
	{"metrics_path", (*fileConfig).metricsPath, nil},
	{"health_path", (*fileConfig).healthPath, nil},
	{"ready_path", (*fileConfig).readyPath, nil},
	{"log_format", func(c *fileConfig) string { return c.LogFormat }, func(f serveFlags) string { return f.logFormat }},
	{"log_level", func(c *fileConfig) string { return c.LogLevel }, func(f serveFlags) string { return f.logLevel }},
	{"deny_unprotected", func(c *fileConfig) string { return fmt.Sprint(c.DenyUnprotected) }, nil},
	{"variant_cache_bytes", func(c *fileConfig) string { return fmt.Sprint(c.VariantCacheBytes) }, nil},
	{"limits.max_concurrent", func(c *fileConfig) string { return fmt.Sprint(c.Limits.MaxConcurrent) }, nil},
	{"signing.path", func(c *fileConfig) string {
		if c.Signing == nil {
			return ""
		}
		return c.Signing.Path
	}, nil},
	{"signing", func(c *fileConfig) string { return fmt.Sprint(c.Signing != nil) }, nil},
}

// reload re-reads the config file and swaps in everything that can change
// without a restart. An invalid file changes nothing.
func (st *serveState) reload(path string) error {
	cur := st.cfg.Load()
	next, err := loadConfig(path)
	if err != nil {
		return err
	}
	hc, err := buildHandlerConfig(next, st.storage, st.logger)
	if err != nil {
		return err
	}
	// What needs a restart keeps its running value, and is named.
	var kept []string
	for _, f := range restartFields {
		if f.flag != nil && f.flag(st.flags) != "" {
			continue
		}
		if f.get(cur) != f.get(next) {
			kept = append(kept, f.key)
		}
	}
	hc.VariantCacheBytes = cur.VariantCacheBytes
	hc.MaxConcurrent = cur.Limits.MaxConcurrent
	hc.DenyUnprotected = cur.DenyUnprotected
	var signing http.Handler
	if next.Signing != nil && cur.Signing != nil {
		next.Signing.Path = cur.Signing.Path
		if signing, _, err = next.signingHandler(st.logger); err != nil {
			return err
		}
	} else if cur.Signing != nil {
		signing = *st.signing.Load()
	}
	if err := st.files.Reload(hc); err != nil {
		return next.handlerError(err)
	}
	st.signing.Store(&signing)
	st.accessLog.Store(next.AccessLog)
	st.cfg.Store(next)
	for _, k := range kept {
		st.logger.Warn("reload: this setting needs a restart; keeping the running value", "config", filepath.Base(path), "field", k)
	}
	return nil
}

// reloadOnHUP reloads the config file on SIGHUP. Requests in flight keep
// the configuration they started with.
func (st *serveState) reloadOnHUP(path string) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-hup:
				if err := st.reload(path); err != nil {
					st.reloads.WithLabelValues("failed").Inc()
					st.logger.Error("reload failed; keeping the running configuration", "config", filepath.Base(path), "reason", err.Error())
					continue
				}
				st.reloads.WithLabelValues("ok").Inc()
				st.logger.Info("config reloaded", "config", filepath.Base(path))
			}
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}

// router sends the metrics, health and readiness paths, the signing
// endpoint (when configured) and, in the demo, "/" to their handlers, and
// everything else to the file handler. It does not clean paths: the file
// handler refuses ambiguous paths itself (http.ServeMux would redirect them).
type router struct {
	files, metrics, index    http.Handler
	state                    *serveState
	metricsPath, signingPath string
	healthPath, readyPath    string
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rt.state.accessLog.Load() {
		start := time.Now()
		sw := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			rt.state.logger.Info("access", "method", r.Method, "url", handler.RedactURL(r.URL, rt.tokenParam()),
				"status", sw.status, "bytes", sw.bytes, "duration", time.Since(start).String(), "remote", r.RemoteAddr)
		}()
		w = sw
	}
	p := r.URL.Path
	switch {
	case rt.healthPath != "" && p == rt.healthPath:
		health(w, true, "ok")
	case rt.readyPath != "" && p == rt.readyPath:
		ready := rt.state.ready.Load()
		body := map[bool]string{true: "ready", false: "draining"}[ready]
		if ready && rt.state.storage != nil && rt.state.storage.check(r.Context()) != nil {
			// Not ready while the bucket of originals does not answer, so a
			// deploy or a load balancer sends no traffic to it.
			ready, body = false, "source unavailable"
		}
		health(w, ready, body)
	case rt.metrics != nil && p == rt.metricsPath:
		rt.metrics.ServeHTTP(w, r)
	case rt.signingPath != "" && p == rt.signingPath && rt.signing() != nil:
		rt.signing().ServeHTTP(w, r)
	case rt.index != nil && p == "/":
		rt.index.ServeHTTP(w, r)
	default:
		rt.files.ServeHTTP(w, r)
	}
}

func (rt *router) signing() http.Handler {
	if s := rt.state.signing.Load(); s != nil {
		return *s
	}
	return nil
}

func (rt *router) tokenParam() string {
	if c := rt.state.cfg.Load(); c != nil && c.TokenParam != "" {
		return c.TokenParam
	}
	return "jwt"
}

// health answers a health or readiness probe: 200 or 503, plain text,
// never cached.
func health(w http.ResponseWriter, ok bool, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if ok {
		w.WriteHeader(http.StatusOK)
	} else {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	io.WriteString(w, body+"\n")
}

// statusRecorder remembers a response's status and size for the access
// log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// newLogger builds the slog logger on stderr from the flags, else the
// config, else text at info.
func newLogger(w io.Writer, fl serveFlags, cfg *fileConfig) (*slog.Logger, error) {
	format, level := fl.logFormat, fl.logLevel
	if cfg != nil {
		if format == "" {
			format = cfg.LogFormat
		}
		if level == "" {
			level = cfg.LogLevel
		}
	}
	lvl, err := parseLevel(level)
	if err != nil {
		return nil, usageError("-log-level: " + err.Error())
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError(fmt.Sprintf("-log-format: unknown format %q (text, json)", format))
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown level %q (debug, info, warn, error)", s)
}
