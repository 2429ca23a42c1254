// Package migrations holds the database schema as numbered SQL files embedded in the binary and
// applies them with goose.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

//go:embed *.sql
var files embed.FS

// Up applies every migration not yet applied and returns how many it applied.
func Up(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	return up(ctx, db)
}

func up(ctx context.Context, db *sql.DB) (int, error) {
	p, err := goose.NewProvider(goose.DialectPostgres, db, files)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	if err := CheckNotNewer(current, latestOf(p)); err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrations: %w", err)
	}
	return len(res), nil
}

// Status reports the newest version available and the version the database is at.
func Status(ctx context.Context, pool *pgxpool.Pool) (current, latest int64, err error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, files)
	if err != nil {
		return 0, 0, fmt.Errorf("migrations: %w", err)
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrations: %w", err)
	}
	return current, latestOf(p), nil
}

// latestOf is the newest migration p knows.
func latestOf(p *goose.Provider) int64 {
	srcs := p.ListSources()
	if n := len(srcs); n > 0 {
		return srcs[n-1].Version
	}
	return 0
}

// ErrNewerDatabase is a database migrated further than this binary knows: a newer version of
// dxledger opened it. Goose's Up applies nothing to it and says nothing; but this binary's
// projections and reports would read and write tables whose meaning has changed (a table
// split in two, sums kept another way) and answer wrong figures without an error. So it
// refuses to run on it.
var ErrNewerDatabase = errors.New("the database is newer than this binary")

func newerError(current, latest int64) error {
	return fmt.Errorf("%w: it is at migration %d, this binary knows up to %d; run the version of dxledger that migrated it (or a newer one)",
		ErrNewerDatabase, current, latest)
}

// CheckNotNewer returns ErrNewerDatabase when the database is at a migration past latest.
func CheckNotNewer(current, latest int64) error {
	if current > latest {
		return newerError(current, latest)
	}
	return nil
}
