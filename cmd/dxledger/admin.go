package main

import (
	"context"
	"fmt"
	"io"

	"github.com/dxledger/dxledger/migrations"
)

func cmdMigrate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	cfg, _, err := loadConfig("migrate", args, environ, stderr, nil)
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, newLogger(cfg, stderr), false) // applies the migrations: owns the cluster
	if err != nil {
		return err
	}
	defer db.Close()
	current, latest, err := migrations.Status(ctx, db.Pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database at migration %d of %d\n", current, latest)
	return nil
}

func cmdVerify(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	cfg, _, err := loadConfig("verify", args, environ, stderr, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, store, err := openStore(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer db.Close()
	defer store.Close()
	rep, err := store.Verify(ctx, func(n int64) { log.Info("verifying", "events", n) })
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, "TAMPERED:", p)
	}
	fmt.Fprintf(stdout, "%d events in %d streams checked, %d problems\n", rep.Events, rep.Streams, len(rep.Problems))
	if len(rep.Problems) > 0 {
		return fmt.Errorf("verify found %d problems", len(rep.Problems))
	}
	return nil
}
