package workflows

import (
	"container/list"
	"sync"
	"sync/atomic"

	"github.com/oklog/ulid/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// stateCache keeps the folded state of recently used item streams, so that a command reads
// only the events recorded after the state it remembers instead of the item's whole history
// (issue 16, point 2). It never answers alone: every load still asks the database for the
// stream from the remembered version on, the remembered last event included, and uses the
// entry only when the database still holds that very event (same version, same event id) at
// that place. So another process's writes are folded in on the next load, and a database that
// went behind this process (a restore, a failover) or rewrote the stream is read again from
// the start. The append's expected version stays the final guard; a conflict drops the entry.
//
// A write goes further (items.go, run): a state remembered right after this process's own
// append carries the stream's head hash (eventstore.Result.Head), and the next command on the
// item decides on it without reading, appending with eventstore.ChainedOn(that hash). The
// database then checks in the append itself that the stream is still at that version with
// that very head (the hash covers every earlier event); if not, nothing is appended, the entry
// is dropped and the command is decided again on what the database holds. A refusal, or a
// command with nothing to do, is never answered from such a state: it is decided again on a
// read. The deadline manager, woken by an event this process appended, checks the state
// remembered at (or after) that event without reading either.
//
// States are shared between goroutines as they are: item.Evolve copies what it changes
// (copy-on-write slices and maps; a new funding request goes into its list's next slot only
// for the one state that claims it, item.State.addRequest), and nothing in the handlers
// writes into a loaded state.
type stateCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]*list.Element // of *cached
	lru     list.List                // front: most recently used

	hits, misses, stale, unread atomic.Uint64
}

// cached is an item's state folded up to version, whose last event has id last; head is the
// hash of that event when this process appended it (nil when the state was read).
type cached struct {
	stream  string
	item    Item
	last    ulid.ULID
	version int64
	head    []byte
}

// defaultStateCacheSize bounds the cache: an item's state is a few hundred bytes to a few
// kilobytes (its funding requests and payments). Measured on the 10-million-event store, where
// the deadline manager loads every due item on its first tick: 20,000 entries took serve's
// heap in use to 85-108 MB and its RSS to ~145 MB, at the edge of issue 16's 150 MB; 5,000
// keep the items being worked on warm for ~20 MB.
const defaultStateCacheSize = 5000

func newStateCache(max int) *stateCache {
	if max <= 0 {
		return nil
	}
	return &stateCache{max: max, entries: make(map[string]*list.Element)}
}

// get returns the entry of stream, if any.
func (c *stateCache) get(stream string) (cached, bool) {
	if c == nil {
		return cached{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[stream]
	if !ok {
		return cached{}, false
	}
	c.lru.MoveToFront(el)
	return *el.Value.(*cached), true
}

// put remembers e unless a newer state of the stream is already remembered.
func (c *stateCache) put(e cached) {
	if c == nil || e.version <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.stream]; ok {
		old := el.Value.(*cached)
		if old.version > e.version {
			return
		}
		if old.version == e.version && old.last == e.last && e.head == nil {
			e.head = old.head // the same event, read back: its hash is still known
		}
		*el.Value.(*cached) = e
		c.lru.MoveToFront(el)
		return
	}
	for len(c.entries) >= c.max {
		oldest := c.lru.Back()
		delete(c.entries, oldest.Value.(*cached).stream)
		c.lru.Remove(oldest)
	}
	c.entries[e.stream] = c.lru.PushFront(&e)
}

// drop forgets stream: its next load reads the whole stream.
func (c *stateCache) drop(stream string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[stream]; ok {
		delete(c.entries, stream)
		c.lru.Remove(el)
	}
}

// CacheStats are the state cache's counts since the handler started.
type CacheStats struct {
	Hits   uint64 // loads that read only the events after a remembered state
	Misses uint64 // loads that read the whole stream
	Stale  uint64 // remembered states the database no longer held at their place (dropped; counted in Misses too)
	// Unread counts the commands decided on a state remembered after this process's own
	// append, without reading the stream (the append itself checked the head), and the
	// deadline checks made on such a state.
	Unread  uint64
	Entries int
}

// CacheStats returns the state cache's counts (zero when the cache is off).
func (h *Handler) CacheStats() CacheStats {
	c := h.states
	if c == nil {
		return CacheStats{}
	}
	c.mu.Lock()
	n := len(c.entries)
	c.mu.Unlock()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Stale: c.stale.Load(), Unread: c.unread.Load(), Entries: n}
}

// cacheCollector exports the counts to Prometheus, read on each scrape (no work per command).
type cacheCollector struct {
	h                                  *Handler
	hits, misses, stale, unread, count *prometheus.Desc
}

func newCacheCollector(h *Handler) *cacheCollector {
	return &cacheCollector{h: h,
		hits:   prometheus.NewDesc("dxledger_workflows_state_cache_hits_total", "Item loads that read only the events after a remembered state.", nil, nil),
		misses: prometheus.NewDesc("dxledger_workflows_state_cache_misses_total", "Item loads that read the whole stream.", nil, nil),
		stale:  prometheus.NewDesc("dxledger_workflows_state_cache_stale_total", "Remembered states the database no longer held (dropped).", nil, nil),
		unread: prometheus.NewDesc("dxledger_workflows_state_cache_unread_total", "Commands and deadline checks decided on a state remembered after this process's own append, without reading the stream.", nil, nil),
		count:  prometheus.NewDesc("dxledger_workflows_state_cache_entries", "Item states remembered.", nil, nil),
	}
}

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.hits
	ch <- c.misses
	ch <- c.stale
	ch <- c.unread
	ch <- c.count
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.h.CacheStats()
	ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(s.Hits))
	ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(s.Misses))
	ch <- prometheus.MustNewConstMetric(c.stale, prometheus.CounterValue, float64(s.Stale))
	ch <- prometheus.MustNewConstMetric(c.unread, prometheus.CounterValue, float64(s.Unread))
	ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(s.Entries))
}
