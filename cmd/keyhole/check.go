package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/transform/vips"
)

const checkHelp = `Usage: keyhole check [-config FILE]

Validates a config file as keyhole serve would load it — YAML, every
field's value, secrets from the environment and files, the root directory,
profiles, protections and the signing endpoint — without serving. Prints
"FILE: ok" and exits 0, or prints every problem with its YAML key and line
and exits 1 (like nginx -t). Warnings (weak keys) go to stderr.

Environment: KEYHOLE_CONFIG is the default of -config.

Example:
  keyhole check -config /etc/keyhole/keyhole.yaml && systemctl reload keyhole

Flags:
`

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stderr)
	name := fs.String("config", os.Getenv("KEYHOLE_CONFIG"), "YAML config `file` (default $KEYHOLE_CONFIG)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() == 1 && *name == "":
		*name = fs.Arg(0)
	case fs.NArg() > 0:
		fs.Usage()
		return usageError("check takes -config FILE")
	case *name == "":
		fs.Usage()
		return usageError("check needs -config FILE")
	}
	if err := checkConfig(*name, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))); err != nil {
		fmt.Fprintln(stderr, err)
		return silentError{}
	}
	fmt.Fprintf(stdout, "%s: ok\n", *name)
	return nil
}

// checkConfig runs every rule serve runs at start-up, including
// handler.New's, without listening.
func checkConfig(name string, logger *slog.Logger) error {
	cfg, err := loadConfig(name)
	if err != nil {
		return err
	}
	vips.Startup(vips.StartupConfig{Logger: logger}) // main shuts it down
	st, err := openStorage(context.Background(), cfg, nil, logger)
	if err != nil {
		return err
	}
	defer st.close()
	hc, err := buildHandlerConfig(cfg, st, logger)
	if err != nil {
		return err
	}
	_, err = handler.New(hc)
	if err != nil {
		return cfg.handlerError(err)
	}
	if _, _, err := cfg.signingHandler(logger); err != nil {
		return err
	}
	if _, err := newLogger(io.Discard, serveFlags{}, cfg); err != nil {
		return err
	}
	return nil
}
