package migrations_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/migrations"
)

// A database that a newer dxledger migrated (its goose version past this binary's last
// migration) is refused, not silently used: goose's Up alone applies nothing and says nothing.
func TestUpRefusesANewerDatabase(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t) // migrated to this binary's last migration
	ctx := context.Background()
	_, latest, err := migrations.Status(ctx, db.Pool)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := migrations.Up(ctx, db.Pool); err != nil || n != 0 {
		t.Fatalf("Up on a database at this binary's last migration: %d applied, %v; want 0 and no error", n, err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)`, latest+1); err != nil {
		t.Fatal(err)
	}
	n, err := migrations.Up(ctx, db.Pool)
	if !errors.Is(err, migrations.ErrNewerDatabase) || n != 0 {
		t.Fatalf("Up on a database one migration ahead: %d applied, %v; want ErrNewerDatabase", n, err)
	}
	for _, want := range []string{"migration", "knows up to"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
