package eventstore

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgcluster"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/oklog/ulid/v2"
)

// Invariant 1: an acknowledged append survives kill -9 of PostgreSQL. This test runs its own
// cluster with fsync and synchronous_commit on, unlike the other tests.
func TestAcknowledgedAppendsSurviveKill9(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, err := pgtest.TempDir()
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	c, err := pgcluster.Start(ctx, pgcluster.Config{Dir: dir, Fsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	admin, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE durable"); err != nil {
		t.Fatal(err)
	}
	admin.Close(ctx)
	pool, err := pgxpool.New(ctx, c.URL("durable"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.Up(ctx, pool); err != nil {
		t.Fatal(err)
	}
	s, err := New(pool, Config{})
	if err != nil {
		t.Fatal(err)
	}

	// Writers keep appending while the server is killed under them; every append that was
	// acknowledged before the kill must be there afterwards.
	var (
		mu    sync.Mutex
		acked []ulid.ULID
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				res, err := s.Append(ctx, fmt.Sprintf("durable-%d", w), int64(i), []Event{ev("x.v1", i)})
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked = append(acked, res.EventIDs...)
				mu.Unlock()
			}
		}()
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	pid := c.PostmasterPID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	s.Close()
	pool.Close()
	mu.Lock()
	want := append([]ulid.ULID(nil), acked...)
	mu.Unlock()

	if err := c.Restart(ctx); err != nil {
		t.Fatalf("restart after kill -9: %v", err)
	}
	pool, err = pgxpool.New(ctx, c.URL("durable"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ids := make([][16]byte, len(want))
	for i, id := range want {
		ids[i] = id
	}
	var found int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE event_id = ANY($1::uuid[])`, ids).Scan(&found); err != nil {
		t.Fatal(err)
	}
	if found != len(want) {
		t.Fatalf("after kill -9 and restart, %d of %d acknowledged events are stored", found, len(want))
	}
	t.Logf("%d acknowledged events, all present after kill -9 of postmaster %d", len(want), pid)
}
