package main

import (
	"context"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	// The bucket drivers linked into keyhole serve. S3 (and every
	// S3-compatible store) is the one most deployments need and the one
	// the tests run against a real server; file:// and mem:// cost
	// nothing beyond gocloud.dev/blob itself. gcsblob (+31 MB) and
	// azureblob (+4.6 MB) are left out: the first would more than double
	// the binary, and neither is tested here (README, "Object storage").
	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/memblob"
	_ "gocloud.dev/blob/s3blob"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/source"
)

// isBucketURL reports whether a root or variant_store value is a bucket
// URL ("s3://…", "file:///…", "mem://") rather than a directory.
func isBucketURL(s string) bool { return strings.Contains(s, "://") }

// storage is what serve opens once at start and keeps across reloads
// (root: and variant_store: need a restart): the bucket of originals
// when root is a URL, and the shared variant store when one is set.
type storage struct {
	files fs.FS         // nil: root is a directory, opened by buildHandlerConfig
	store *source.Store // nil: no variant_store
}

// openStorage opens the buckets named by the config. Their metrics go to
// reg.
func openStorage(ctx context.Context, cfg *fileConfig, reg prometheus.Registerer, logger *slog.Logger) (*storage, error) {
	st := &storage{}
	if isBucketURL(cfg.Root) {
		b, err := source.Open(ctx, cfg.Root, source.Config{Registerer: reg, Logger: logger})
		if err != nil {
			return nil, cfg.fieldError("root", err.Error())
		}
		st.files = b
	}
	if cfg.VariantStore != "" {
		s, err := source.OpenStore(ctx, cfg.VariantStore, source.StoreConfig{Registerer: reg, Logger: logger})
		if err != nil {
			st.close()
			return nil, cfg.fieldError("variant_store", err.Error())
		}
		st.store = s
	}
	return st, nil
}

// apply puts the opened storage into a handler config.
func (st *storage) apply(hc *handler.Config) {
	if st.files != nil {
		hc.Files = st.files
	}
	if st.store != nil {
		hc.VariantStore = st.store
	}
}

// close waits for the variant store's background writes and closes the
// buckets.
func (st *storage) close() {
	if b, ok := st.files.(*source.Bucket); ok {
		b.Close()
	}
	if st.store != nil {
		st.store.Close()
	}
}

// fieldError is a config error on one field, with its line.
func (c *fileConfig) fieldError(key, msg string) error {
	return &configErrors{name: c.name, list: []configError{{path: key, line: c.lines.line(key), msg: msg}}}
}
