package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/keyhole-dev/keyhole/transform"
)

// VariantStore is a store of encoded variants shared by replicas;
// source.Store implements it over a bucket. The handler makes the keys:
// "ab/abcdef…", the hex SHA-256 of the source's identity (its name, size,
// modification time and, when its fs.FileInfo has an ETag method as
// source.Bucket's has, the store's ETag), the canonical parameters, the
// output format and the engine's version. A changed original therefore
// gets new keys; its old entries are never read again.
type VariantStore interface {
	// Get returns the variant stored under key, an error wrapping
	// fs.ErrNotExist when there is none, or another error when the store
	// failed. It must honour ctx and return within a bounded time.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put stores data under key without delaying the caller, and must not
	// modify data. Failures are the store's to count and log.
	Put(key string, data []byte)
}

// storeKey is the variant store's key for the variant whose cache key
// (and ETag) is key.
func storeKey(key string, src *file) string {
	h := sha256.New()
	h.Write([]byte("keyhole-variant-1\x00"))
	if e, ok := src.info.(interface{ ETag() string }); ok {
		h.Write([]byte(e.ETag()))
	}
	h.Write([]byte{0})
	h.Write([]byte(key))
	sum := hex.EncodeToString(h.Sum(nil))
	// A two-character folder spreads the keys over prefixes (S3 scales
	// its request rate per prefix).
	return sum[:2] + "/" + sum
}

// fromStore looks a variant up in the shared store; nil means compute it
// (no store, a miss, a failure or an entry that is not an image).
func (h *Handler) fromStore(ctx context.Context, key string, src *file) *transform.Output {
	if h.cfg.VariantStore == nil {
		return nil
	}
	data, err := h.cfg.VariantStore.Get(ctx, storeKey(key, src))
	if err != nil {
		return nil
	}
	f := transform.Sniff(data)
	if f == "" {
		return nil
	}
	return &transform.Output{Data: data, Format: f}
}

// toStore writes a computed variant to the shared store in the background.
func (h *Handler) toStore(key string, src *file, out *transform.Output) {
	if h.cfg.VariantStore != nil {
		h.cfg.VariantStore.Put(storeKey(key, src), out.Data)
	}
}
