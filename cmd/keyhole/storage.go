package main

import (
	"context"
	"io/fs"
	"log/slog"
	"net/url"
	"path/filepath"
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

// isRemoteURL reports whether a root or variant_store value is a bucket
// URL read through gocloud.dev/blob: any but file://, which serve opens
// as a directory.
func isRemoteURL(s string) bool { return isBucketURL(s) && !strings.HasPrefix(s, "file://") }

// fileURLDir returns the directory of a file:// URL (file:///srv/img),
// or the empty string when s is not one. gocloud's fileblob opens paths
// with os.Open, which follows symbolic links out of the directory; serve
// reads a file:// root through os.Root instead, as a directory root.
func fileURLDir(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "file" {
		return ""
	}
	return filepath.FromSlash(u.Path)
}

// rootDir is the directory a root names (a path or a file:// URL), or
// the empty string for a remote bucket.
func rootDir(root string) string {
	if !isBucketURL(root) {
		return root
	}
	return fileURLDir(root)
}

// storeOverlap says why a variant store may not share the served tree:
// a variant stored there would be served as a file of the root, without
// the token its original needs and past that token's expiry. It returns
// the empty string when they do not overlap.
func storeOverlap(root, store string) string {
	if root == "" || store == "" {
		return ""
	}
	const msg = "overlaps root: stored variants of protected files would be served as public files; use another bucket, or a folder outside root"
	if rd, sd := rootDir(root), rootDir(store); rd != "" || sd != "" {
		if rd == "" || sd == "" {
			return ""
		}
		rd, sd = filepath.Clean(rd), filepath.Clean(sd)
		sep := string(filepath.Separator)
		if sd == rd || strings.HasPrefix(sd, rd+sep) || strings.HasPrefix(rd, sd+sep) {
			return msg
		}
		return ""
	}
	ru, err1 := url.Parse(root)
	su, err2 := url.Parse(store)
	if err1 != nil || err2 != nil || ru.Scheme != su.Scheme || ru.Host != su.Host {
		return ""
	}
	rp, sp := ru.Query().Get("prefix"), su.Query().Get("prefix")
	if strings.HasPrefix(sp, rp) || strings.HasPrefix(rp, sp) {
		return msg
	}
	return ""
}

// attrsHidden is a file:// root's directory read through os.Root, with
// fileblob's attribute files (*.attrs) hidden: they are not objects, so
// they are not found, as in the bucket.
type attrsHidden struct{ fs.FS }

func (a attrsHidden) Open(name string) (fs.File, error) {
	if strings.HasSuffix(name, ".attrs") {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return a.FS.Open(name)
}

func (a attrsHidden) Stat(name string) (fs.FileInfo, error) {
	if strings.HasSuffix(name, ".attrs") {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return fs.Stat(a.FS, name)
}

// storage is what serve opens once at start and keeps across reloads
// (root: and variant_store: need a restart): the bucket of originals
// when root is a URL, and the shared variant store when one is set.
type storage struct {
	files fs.FS         // nil: root is a directory, opened by buildHandlerConfig
	store *source.Store // nil: no variant_store
	tier  *source.Tier  // nil: neither is a remote bucket
}

// openStorage opens the buckets named by the config. Their metrics go to
// reg.
func openStorage(ctx context.Context, cfg *fileConfig, reg prometheus.Registerer, logger *slog.Logger) (*storage, error) {
	st := &storage{}
	if cfg.usesTier() {
		t := cfg.Tier
		tier, err := source.NewTier(source.TierConfig{
			MemoryBytes: t.MemoryBytes, Dir: t.Dir, DiskBytes: t.DiskBytes, MaxObjectBytes: t.MaxObjectBytes,
			FreshFor: t.FreshFor, StaleIfError: t.StaleIfError, Registerer: reg, Logger: logger,
		})
		if err != nil {
			return nil, cfg.fieldError("tier", strings.TrimPrefix(err.Error(), "source: "))
		}
		st.tier = tier
	}
	if isRemoteURL(cfg.Root) {
		b, err := source.Open(ctx, cfg.Root, source.Config{Registerer: reg, Logger: logger, Tier: st.tier})
		if err != nil {
			return nil, cfg.fieldError("root", err.Error())
		}
		st.files = b
	}
	if cfg.VariantStore != "" {
		s, err := source.OpenStore(ctx, cfg.VariantStore, source.StoreConfig{Registerer: reg, Logger: logger, Tier: st.tier})
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
	if st.tier != nil {
		st.tier.Close()
	}
}

// check reports whether the bucket of originals answers (nil for a
// directory root).
func (st *storage) check(ctx context.Context) error {
	if b, ok := st.files.(*source.Bucket); ok {
		return b.Check(ctx)
	}
	return nil
}

// fieldError is a config error on one field, with its line.
func (c *fileConfig) fieldError(key, msg string) error {
	return &configErrors{name: c.name, list: []configError{{path: key, line: c.lines.line(key), msg: msg}}}
}
