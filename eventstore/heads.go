package eventstore

import "sync"

// headCache remembers the newest (version, hash) of recently used streams so that an append
// after a load needs no extra round trip to chain its hash. It never decides anything: the
// append's statement checks, in the database, that the stream's row at the expected version
// carries the cached hash (guardSQL), and the unique index refuses a version taken meanwhile.
// An entry that turns out wrong (a database restored behind this process, a failover to a
// standby that lags) makes the append insert nothing, and the entry is dropped.
type headCache struct {
	mu    sync.Mutex
	max   int
	heads map[string]head
}

type head struct {
	version int64
	hash    []byte
}

func newHeadCache(max int) *headCache {
	return &headCache{max: max, heads: make(map[string]head, max)}
}

// get returns the cached hash of stream at version, if that is what the cache holds.
func (c *headCache) get(stream string, version int64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.heads[stream]
	if !ok || h.version != version {
		return nil, false
	}
	return h.hash, true
}

func (c *headCache) put(stream string, version int64, hash []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.heads[stream]; ok && h.version >= version {
		return
	}
	if len(c.heads) >= c.max {
		for k := range c.heads { // evict an arbitrary entry; map order is random enough
			delete(c.heads, k)
			break
		}
	}
	c.heads[stream] = head{version, hash}
}

// drop forgets stream's entry: the next append reads the head from the database.
func (c *headCache) drop(stream string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.heads, stream)
}
