package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/migrations"
	"github.com/spf13/pflag"
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
	var anchorIn, anchorOut string
	cfg, _, err := loadConfig("verify", args, environ, stderr, func(fs *pflag.FlagSet) {
		fs.StringVar(&anchorIn, "anchor", "", "also prove the log still extends the anchor in this file (written by --anchor-out)")
		fs.StringVar(&anchorOut, "anchor-out", "", "after a clean check, write an anchor of the whole log to this file (and print it)")
	})
	if err != nil {
		return err
	}
	var kept eventstore.Anchor
	if anchorIn != "" { // a bad anchor file is said before the long walk
		f, err := os.Open(anchorIn)
		if err != nil {
			return fmt.Errorf("--anchor: %w", err)
		}
		kept, err = eventstore.ReadAnchor(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("--anchor %s: %w", anchorIn, err)
		}
	}
	log := newLogger(cfg, stderr)
	db, store, err := openStore(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer db.Close()
	defer store.Close()
	verifyStart := time.Now()
	rep, err := store.Verify(ctx, func(n int64) { log.Info("verifying", "events", n) })
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, "TAMPERED:", p)
	}
	fmt.Fprintf(stdout, "%d events in %d streams checked, %d problems\n", rep.Events, rep.Streams, len(rep.Problems))
	log.Info("verify done", "seconds", time.Since(verifyStart).Seconds())
	var errs []error
	if len(rep.Problems) > 0 {
		errs = append(errs, fmt.Errorf("verify found %d problems", len(rep.Problems)))
	}
	if anchorIn != "" {
		checkStart := time.Now()
		if err := store.CheckAnchor(ctx, kept); err != nil {
			fmt.Fprintln(stdout, "TAMPERED:", err)
			errs = append(errs, fmt.Errorf("anchor %s: %w", anchorIn, err))
		} else {
			fmt.Fprintf(stdout, "the log extends the anchor of %s: its first %d events and %d commands are unchanged (checked in %.1f s)\n",
				kept.TakenAt.Format(time.RFC3339), kept.Events, kept.Commands, time.Since(checkStart).Seconds())
		}
	}
	if len(errs) > 0 {
		if anchorOut != "" {
			errs = append(errs, errors.New("no anchor written: a log that fails its checks is not anchored"))
		}
		return errors.Join(errs...)
	}
	if anchorOut != "" {
		anchorStart := time.Now()
		a, err := store.Anchor(ctx)
		if err != nil {
			return err
		}
		took := time.Since(anchorStart)
		var text strings.Builder
		if _, err := a.WriteTo(&text); err != nil {
			return err
		}
		if err := writeFileAtomic(anchorOut, []byte(text.String())); err != nil {
			return fmt.Errorf("--anchor-out: %w", err)
		}
		fmt.Fprintf(stdout, "anchor taken in %.1f s and written to %s; keep it (or print it) outside the database:\n%s", took.Seconds(), anchorOut, text.String())
	}
	return nil
}

// writeFileAtomic writes data to a temporary file beside path, syncs it and renames it over
// path, so a crash leaves the old file or the new one, never half of one.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
