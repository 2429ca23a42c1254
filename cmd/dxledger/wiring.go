package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/dxledger/dxledger/config"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgcluster"
	"github.com/dxledger/dxledger/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"
)

// databaseName is the database dxledger uses inside its embedded cluster.
const databaseName = "dxledger"

// loadConfig parses the command's flags (plus the shared ones of config) and loads the config.
func loadConfig(name string, args, environ []string, stderr io.Writer, extra func(*pflag.FlagSet)) (config.Config, *pflag.FlagSet, error) {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	config.RegisterFlags(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return config.Config{}, nil, errHelp // the flags' help is printed: exit 0
		}
		return config.Config{}, nil, err
	}
	cfg, err := config.Load(config.Sources{Environ: environ, Flags: fs})
	if err != nil {
		return config.Config{}, nil, fmt.Errorf("configuration:\n%w", err)
	}
	return cfg, fs, nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.SlogLevel()}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// database is an open connection to the store's database and, for the embedded default, the
// cluster behind it.
type database struct {
	Pool    *pgxpool.Pool
	Cluster *pgcluster.Cluster // nil when DXLEDGER_DATABASE_URL is set
	URL     string
}

// openDatabase connects to DXLEDGER_DATABASE_URL, or starts the embedded cluster in
// <data-dir>/pg and creates its database, then applies the migrations. With share, a command
// run beside a serving process on the same data directory uses that process's running
// cluster (API.md, "Operations"); serve owns its cluster and refuses a second owner.
//
// With tune (serve, bench reports: warmer.tune), the pool returned is made once the schema is
// in place, with those settings, and its first connection is made (and warmed) before
// openDatabase returns; the migrations ran on a plain pool, closed by then.
func openDatabase(ctx context.Context, cfg config.Config, log *slog.Logger, share bool, tune ...func(*pgxpool.Config)) (_ *database, err error) {
	db := &database{URL: cfg.DatabaseURL}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	if db.URL == "" {
		c, err := pgcluster.Start(ctx, pgcluster.Config{
			Dir: filepath.Join(cfg.DataDir, "pg"), BinDir: cfg.PGBinDir, Fsync: true, Logger: log, Share: share,
		})
		if err != nil {
			return nil, fmt.Errorf("embedded PostgreSQL: %w", err)
		}
		db.Cluster = c
		if err := createDatabase(ctx, c.URL("postgres"), databaseName); err != nil {
			return nil, err
		}
		db.URL = c.URL(databaseName)
	}
	pcfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	pcfg.MaxConns = int32(cfg.DBMaxConns)
	if db.Pool, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := db.Pool.Ping(ctx); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if db.Cluster != nil && db.Cluster.Shared() {
		// Another process owns this cluster and migrated it: a command beside it never
		// changes its schema, and refuses to run on one older than it expects.
		current, latest, err := migrations.Status(ctx, db.Pool)
		if err != nil {
			return nil, err
		}
		if err := migrations.CheckNotNewer(current, latest); err != nil {
			return nil, fmt.Errorf("the serving process's database: %w", err)
		}
		if current < latest {
			return nil, fmt.Errorf("the serving process's database is at migration %d, this binary needs %d: run this command with the same version as serve, or upgrade serve first", current, latest)
		}
		return db, db.retune(ctx, pcfg, tune)
	}
	n, err := migrations.Up(ctx, db.Pool)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		log.Info("migrations applied", "count", n)
	}
	return db, db.retune(ctx, pcfg, tune)
}

// retune replaces the pool by one made from pcfg with tune applied, when there is any tune,
// and makes its first connection.
func (db *database) retune(ctx context.Context, pcfg *pgxpool.Config, tune []func(*pgxpool.Config)) error {
	if len(tune) == 0 {
		return nil
	}
	tuned := pcfg.Copy()
	for _, t := range tune {
		t(tuned)
	}
	pool, err := pgxpool.NewWithConfig(ctx, tuned)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return fmt.Errorf("connect: %w", err)
	}
	db.Pool.Close()
	db.Pool = pool
	return nil
}

// openStore opens the database (see openDatabase) and the event store on it.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger, share bool, tune ...func(*pgxpool.Config)) (*database, *eventstore.Store, error) {
	db, err := openDatabase(ctx, cfg, log, share, tune...)
	if err != nil {
		return nil, nil, err
	}
	store, err := eventstore.New(db.Pool, eventstore.Config{Logger: log})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, store, nil
}

func createDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to embedded PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: a second start
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// Close closes the pool and stops the embedded cluster, if any.
func (db *database) Close() {
	if db.Pool != nil {
		db.Pool.Close()
	}
	if db.Cluster != nil {
		if err := db.Cluster.Stop(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "dxledger:", err)
		}
	}
}
