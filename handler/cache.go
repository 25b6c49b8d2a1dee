package handler

import (
	"sync"

	lru "github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/keyhole-dev/keyhole/transform"
)

// variantCache is an LRU of encoded variants bounded in bytes: adding a
// variant evicts the least recently used ones until the total fits. A
// variant larger than the whole budget is not cached.
type variantCache struct {
	mu    sync.Mutex
	lru   *lru.LRU[string, *transform.Output]
	bytes int64
	max   int64
}

func newVariantCache(maxBytes int64) *variantCache {
	c := &variantCache{max: maxBytes}
	// The entry count is bounded by bytes, not by the LRU's own limit.
	c.lru, _ = lru.NewLRU[string, *transform.Output](1<<30, func(_ string, v *transform.Output) {
		c.bytes -= int64(len(v.Data))
	})
	return c
}

func (c *variantCache) get(key string) (*transform.Output, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(key)
}

func (c *variantCache) add(key string, v *transform.Output) {
	size := int64(len(v.Data))
	if size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lru.Contains(key) {
		return
	}
	c.lru.Add(key, v)
	c.bytes += size
	for c.bytes > c.max {
		c.lru.RemoveOldest()
	}
}
