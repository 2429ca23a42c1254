// Package pgtest gives tests a real PostgreSQL: one throwaway cluster per test binary, started
// from the machine's own server binaries, and a fresh migrated database per test.
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		db := pgtest.New(t)
//		... db.Pool ...
//	}
package pgtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgcluster"
	"github.com/dxledger/dxledger/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const template = "migrated"

var (
	cluster *pgcluster.Cluster
	admin   *pgx.Conn
	adminMu sync.Mutex
	dbSeq   atomic.Int64
)

// Main runs the tests and stops the binary's cluster afterwards. The cluster starts on the
// first New, so a run that needs no database (a fuzz target, an Example) starts none. A
// machine without PostgreSQL's server binaries fails the test that needs one, with a message
// that says how to install them.
// The cleanups run after the tests, before the cluster stops.
func Main(m *testing.M, cleanups ...func()) {
	code := m.Run()
	for _, c := range cleanups {
		c()
	}
	if cluster != nil {
		admin.Close(context.Background())
		if err := cluster.Stop(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
		os.RemoveAll(clusterDir)
	}
	os.Exit(code)
}

var (
	startOnce  sync.Once
	startErr   error
	clusterDir string
)

func start() error {
	startOnce.Do(func() {
		ctx := context.Background()
		reapOrphans()
		clusterDir, startErr = TempDir()
		if startErr != nil {
			return
		}
		cluster, startErr = pgcluster.Start(ctx, pgcluster.Config{Dir: clusterDir, Fsync: false})
		if startErr != nil {
			startErr = fmt.Errorf("start PostgreSQL: %w", startErr)
			os.RemoveAll(clusterDir)
			return
		}
		if startErr = prepare(ctx); startErr != nil {
			cluster.Stop(ctx)
			cluster = nil
			os.RemoveAll(clusterDir)
		}
	})
	return startErr
}

// reapOrphans stops the clusters of test binaries that were killed before they could stop
// their own (a fuzz worker or a timed-out run): their directory lock is no longer held.
func reapOrphans() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "dxlpg-*"))
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil || time.Since(fi.ModTime()) < 2*time.Minute {
			continue // too young: its owner may still be starting
		}
		c, err := pgcluster.Start(context.Background(), pgcluster.Config{Dir: d})
		if err != nil {
			continue // in use by a live test binary, or not a cluster
		}
		c.Stop(context.Background())
		os.RemoveAll(d)
	}
}

// TempDir makes a fresh directory directly under the system temp dir (short enough for a unix
// socket path) that the postgres user can traverse.
func TempDir() (string, error) {
	dir, err := os.MkdirTemp("", "dxlpg-")
	if err != nil {
		return "", err
	}
	return dir, os.Chmod(dir, 0o755)
}

func prepare(ctx context.Context) error {
	var err error
	admin, err = pgx.Connect(ctx, cluster.URL("postgres"))
	if err != nil {
		return err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+template); err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, cluster.URL(template))
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := migrations.Up(ctx, pool); err != nil {
		return err
	}
	return nil
}

// Shared returns the binary's cluster, starting it if need be (for Examples, which have no
// testing.TB).
func Shared() (*pgcluster.Cluster, error) {
	if err := start(); err != nil {
		return nil, err
	}
	return cluster, nil
}

// DB is one test's database.
type DB struct {
	Name string
	URL  string
	Pool *pgxpool.Pool
}

// New creates a fresh database from the migrated template, with a pool that is closed and a
// database that is dropped when the test ends.
func New(t testing.TB) *DB {
	t.Helper()
	if err := start(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	ctx := context.Background()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	adminMu.Lock()
	_, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+template)
	adminMu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	url := cluster.URL(name)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 40
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		adminMu.Lock()
		defer adminMu.Unlock()
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	return &DB{Name: name, URL: url, Pool: pool}
}
