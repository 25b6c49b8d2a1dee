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

const checkHelp = `Usage: keyhole check [-config FILE] [-probe]

Validates a config file as keyhole serve would load it — YAML, every
field's value, secrets from the environment and files, the root directory,
profiles, protections and the signing endpoint — without serving. Prints
"FILE: ok" and exits 0, or prints every problem with its YAML key and line
and exits 1 (like nginx -t). Warnings (weak keys) go to stderr.

With -probe it also asks the bucket of a bucket root (one request) and
fails when it does not answer, so a deploy with a wrong endpoint or
credentials fails before it serves.

Environment: KEYHOLE_CONFIG is the default of -config.

Example:
  keyhole check -config /etc/keyhole/keyhole.yaml && systemctl reload keyhole

Flags:
`

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stderr)
	name := fs.String("config", os.Getenv("KEYHOLE_CONFIG"), "YAML config `file` (default $KEYHOLE_CONFIG)")
	probe := fs.Bool("probe", false, "also check that the bucket of a bucket root answers")
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
	if err := checkConfig(*name, *probe, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))); err != nil {
		fmt.Fprintln(stderr, err)
		return silentError{}
	}
	fmt.Fprintf(stdout, "%s: ok\n", *name)
	return nil
}

// checkConfig runs every rule serve runs at start-up, including
// handler.New's, without listening.
func checkConfig(name string, probe bool, logger *slog.Logger) error {
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
	if probe && st.check(context.Background()) != nil {
		return cfg.fieldError("root", "the bucket does not answer (endpoint, credentials or bucket name?)")
	}
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
