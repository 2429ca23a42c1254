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

// Main starts the binary's cluster, creates the migrated template database, runs the tests
// and stops the cluster. A machine without PostgreSQL's server binaries fails the run with a
// message that says how to install them.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	dir, err := TempDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cluster, err = pgcluster.Start(ctx, pgcluster.Config{Dir: dir, Fsync: false})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest: start PostgreSQL:", err)
		return 1
	}
	defer func() {
		if err := cluster.Stop(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}()
	if err := prepare(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	defer admin.Close(context.Background())
	return m.Run()
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

// Cluster returns the binary's shared cluster (Main must be running).
func Cluster() *pgcluster.Cluster { return cluster }

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
	if cluster == nil {
		t.Fatal("pgtest: no cluster; call pgtest.Main(m) from TestMain")
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
