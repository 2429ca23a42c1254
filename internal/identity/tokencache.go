package identity

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// TokenCacheMaxAge is the longest a server uses what it found a token to belong to without
// reading api_tokens and users again, even if it were told of no change (the backstop for a
// LISTEN connection that died without saying so).
const TokenCacheMaxAge = 2 * time.Second

// identityChannel is what migration 00057's triggers notify on every change to api_tokens or
// users.
const identityChannel = "dxledger_identity"

// tokenCache keeps, by token hash, the account a bearer token was found to belong to, so that
// a server under commands does not read api_tokens and users on every request (a round trip
// and 5-7% of serve's CPU a command, BENCHMARKS.md stop 22). Revocation is honoured:
//   - a change this Store makes (revoke, suspend, grant, …) empties the cache before its
//     caller is answered;
//   - a change any process commits empties it when its notification arrives (migration 00057:
//     triggers on api_tokens and users); while the LISTEN connection is not up, the cache is
//     not used at all;
//   - an answer read before a change and stored after it is dropped (gen), and no entry is
//     used after TokenCacheMaxAge or past its token's end.
//
// Only found tokens are kept: an unknown, revoked or expired token reads every time.
type tokenCache struct {
	mu      sync.Mutex
	live    bool   // the LISTEN connection is up: entries may be used and stored
	gen     uint64 // changed by every forgetting: an answer read under an older gen is not kept
	entries map[[32]byte]tokenEntry
}

type tokenEntry struct {
	user    User
	expires *time.Time // the token's end (nil: none)
	read    time.Time  // when it was read (the server's clock, for TokenCacheMaxAge)
}

func (c *tokenCache) get(key [32]byte, now, clock time.Time) (User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !c.live {
		return User{}, false
	}
	if clock.Sub(e.read) >= TokenCacheMaxAge || clock.Before(e.read) || (e.expires != nil && !e.expires.After(now)) {
		delete(c.entries, key)
		return User{}, false
	}
	return e.user, true
}

// begin is the generation an answer about to be read belongs to, and whether it may be kept.
func (c *tokenCache) begin() (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, c.live
}

func (c *tokenCache) put(key [32]byte, gen uint64, e tokenEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || c.gen != gen {
		return
	}
	if len(c.entries) >= 10_000 {
		clear(c.entries)
	}
	c.entries[key] = e
}

// forget drops every entry and every answer being read.
func (c *tokenCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}

// reset forgets, and says whether entries may be used from now on (the LISTEN connection up).
func (c *tokenCache) reset(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
	c.live = live
}

// CacheTokens has Authenticate keep what it found for TokenCacheMaxAge at most, forgetting it
// at every change to tokens or accounts (tokenCache): it holds one connection in LISTEN until
// ctx ends (its own, outside the pool), and uses no cache while that connection is down.
// serve calls it; a Store without it reads on every request.
func (s *Store) CacheTokens(ctx context.Context) {
	s.cache.mu.Lock()
	if s.cache.entries == nil {
		s.cache.entries = map[[32]byte]tokenEntry{}
	}
	s.cache.mu.Unlock()
	go func() {
		backoff := 100 * time.Millisecond
		for ctx.Err() == nil {
			err := s.listenChanges(ctx)
			s.cache.reset(false)
			if ctx.Err() != nil {
				return
			}
			_ = err // tokens are read on every request until the connection is back
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}()
}

func (s *Store) listenChanges(ctx context.Context) error {
	// A connection of its own, not one of the pool's: a small pool (db_max_conns) keeps all of
	// its connections for the requests.
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+identityChannel); err != nil {
		return err
	}
	// Listening from here on: anything committed before was read by no entry yet (empty).
	s.cache.reset(true)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.cache.forget()
	}
}
