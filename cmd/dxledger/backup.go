package main

// dxledger backup and restore (API.md, "Operations"; README, "Operations"). A backup is a
// directory: the database's copy (pgdata/, a physical base backup of the embedded cluster, or
// dump/, a logical pg_dump of the database), backup.txt (what it is, when it was taken) and
// anchor.txt (an anchor of the log taken right before the copy started, which the restore
// checks: every event acknowledged before the backup began is in it, in its order).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dxledger/dxledger/config"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgcluster"
	"github.com/jackc/pgx/v5"
	"github.com/spf13/pflag"
)

const (
	backupInfoFile   = "backup.txt"
	backupAnchorFile = "anchor.txt"
	backupPhysical   = "physical"
	backupLogical    = "logical"
	backupInfoHeader = "dxledger backup, format 1"
)

// backupInfo is backup.txt.
type backupInfo struct {
	Kind       string
	StartedAt  time.Time
	FinishedAt time.Time
	Source     string
	Server     string
	// XIDHorizon (logical backups) is a transaction id at or above every position in the
	// dump; a restore makes its server hand out ids above it.
	XIDHorizon uint64
	Events     int64 // events the anchor covers
}

func cmdBackup(ctx context.Context, args, environ []string, stdout, stderr io.Writer) (err error) {
	var logical bool
	cfg, fs, err := loadConfig("backup", args, environ, stderr, func(fs *pflag.FlagSet) {
		fs.BoolVar(&logical, "logical", false, "a logical dump (pg_dump) even of the embedded cluster, to move to a managed PostgreSQL; always so with DXLEDGER_DATABASE_URL")
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, "usage: dxledger backup DIR [--logical] [flags]\n")
		return errUsage
	}
	dir, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		return err
	}
	created, err := newEmptyDir(dir)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer func() {
		if err != nil { // leave nothing half-made behind: only what this command created goes
			if created {
				os.RemoveAll(dir)
			} else {
				entries, _ := os.ReadDir(dir)
				for _, e := range entries {
					os.RemoveAll(filepath.Join(dir, e.Name()))
				}
			}
		}
	}()
	log := newLogger(cfg, stderr)
	db, store, err := openStore(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer db.Close()
	defer store.Close()

	info := backupInfo{Kind: backupPhysical, StartedAt: time.Now().UTC(), Source: describeSource(cfg, db)}
	if db.Cluster == nil || logical {
		info.Kind = backupLogical
	}
	if err := db.Pool.QueryRow(ctx, `SHOW server_version`).Scan(&info.Server); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// The anchor first: everything acknowledged before this moment is covered by it, and the
	// copy, which starts after it, holds all of that.
	anchor, err := store.Anchor(ctx)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	anchorTook := time.Since(info.StartedAt)
	info.Events = anchor.Events
	var text strings.Builder
	anchor.WriteTo(&text)
	if err := writeFileAtomic(filepath.Join(dir, backupAnchorFile), []byte(text.String())); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	log.Info("backup started", "kind", info.Kind, "dir", dir, "events_before", anchor.Events)
	switch info.Kind {
	case backupPhysical:
		if err := db.Cluster.BaseBackup(ctx, filepath.Join(dir, "pgdata"), nil); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
	default:
		binDir, err := pgcluster.FindBinDir(cfg.PGBinDir)
		if err != nil {
			return err
		}
		// One snapshot for the whole dump: the database as it was at the dump's start.
		out, err := pgcluster.Client(ctx, binDir, "pg_dump", "--format=directory", "--file", filepath.Join(dir, "dump"),
			"--no-owner", "--no-privileges", "--dbname", db.URL).CombinedOutput()
		if err != nil {
			return fmt.Errorf("backup: pg_dump: %w: %s", err, strings.TrimSpace(string(out)))
		}
		// Read after the dump: at or above every transaction id in it.
		var horizon string
		if err := db.Pool.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&horizon); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if info.XIDHorizon, err = strconv.ParseUint(horizon, 10, 64); err != nil {
			return fmt.Errorf("backup: transaction id %q: %w", horizon, err)
		}
	}
	info.FinishedAt = time.Now().UTC()
	if err := writeFileAtomic(filepath.Join(dir, backupInfoFile), info.text()); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup (%s) of %s in %s, taken %s to %s (%.1f s, of which the anchor %.1f s); it holds every event acknowledged before %s (%d events, anchor in %s) and, for a physical backup, everything committed until it ended\n",
		info.Kind, info.Source, dir, info.StartedAt.Format(time.RFC3339), info.FinishedAt.Format(time.RFC3339),
		info.FinishedAt.Sub(info.StartedAt).Seconds(), anchorTook.Seconds(), anchor.TakenAt.Format(time.RFC3339), anchor.Events, backupAnchorFile)
	return nil
}

// newEmptyDir makes dir, or accepts it when it exists and is empty; created says which.
func newEmptyDir(dir string) (created bool, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return true, os.MkdirAll(dir, 0o755)
	case err != nil:
		return false, err
	case len(entries) > 0:
		return false, fmt.Errorf("%s is not empty: give a new directory", dir)
	}
	return false, nil
}

// describeSource names the store backed up, without a password.
func describeSource(cfg config.Config, db *database) string {
	if db.Cluster != nil {
		return "the embedded cluster in " + db.Cluster.DataDir()
	}
	u, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		return "DXLEDGER_DATABASE_URL"
	}
	return "DXLEDGER_DATABASE_URL " + u.Redacted()
}

func (b backupInfo) text() []byte {
	var s strings.Builder
	fmt.Fprintln(&s, backupInfoHeader)
	fmt.Fprintf(&s, "kind: %s\n", b.Kind)
	fmt.Fprintf(&s, "started_at: %s\n", b.StartedAt.Format(time.RFC3339Nano))
	fmt.Fprintf(&s, "finished_at: %s\n", b.FinishedAt.Format(time.RFC3339Nano))
	fmt.Fprintf(&s, "source: %s\n", b.Source)
	fmt.Fprintf(&s, "postgresql: %s\n", b.Server)
	fmt.Fprintf(&s, "events_before_start: %d\n", b.Events)
	if b.Kind == backupLogical {
		fmt.Fprintf(&s, "xid_horizon: %d\n", b.XIDHorizon)
	}
	return []byte(s.String())
}

func readBackupInfo(dir string) (backupInfo, error) {
	var b backupInfo
	f, err := os.Open(filepath.Join(dir, backupInfoFile))
	if err != nil {
		return b, fmt.Errorf("%s is not a complete dxledger backup: %w", dir, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() || sc.Text() != backupInfoHeader {
		return b, fmt.Errorf("%s: not a dxledger backup description", f.Name())
	}
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ": ")
		switch k {
		case "kind":
			b.Kind = v
		case "started_at":
			b.StartedAt, _ = time.Parse(time.RFC3339Nano, v)
		case "finished_at":
			b.FinishedAt, _ = time.Parse(time.RFC3339Nano, v)
		case "source":
			b.Source = v
		case "postgresql":
			b.Server = v
		case "events_before_start":
			b.Events, _ = strconv.ParseInt(v, 10, 64)
		case "xid_horizon":
			b.XIDHorizon, err = strconv.ParseUint(v, 10, 64)
			if err != nil {
				return b, fmt.Errorf("%s: xid_horizon: %w", f.Name(), err)
			}
		}
	}
	if b.Kind != backupPhysical && b.Kind != backupLogical {
		return b, fmt.Errorf("%s: kind %q, want physical or logical", f.Name(), b.Kind)
	}
	if b.Kind == backupLogical && b.XIDHorizon == 0 {
		return b, fmt.Errorf("%s: a logical backup without xid_horizon", f.Name())
	}
	return b, sc.Err()
}

func cmdRestore(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	cfg, fs, err := loadConfig("restore", args, environ, stderr, nil)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, "usage: dxledger restore DIR --data-dir NEW   (or, for a logical backup, with DXLEDGER_DATABASE_URL naming an empty database)\n")
		return errUsage
	}
	dir, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		return err
	}
	info, err := readBackupInfo(dir)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	f, err := os.Open(filepath.Join(dir, backupAnchorFile))
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	anchor, err := eventstore.ReadAnchor(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	log := newLogger(cfg, stderr)
	start := time.Now()
	pgDir := filepath.Join(cfg.DataDir, "pg")
	switch {
	case info.Kind == backupPhysical && cfg.DatabaseURL != "":
		return errors.New("restore: a physical backup comes back as an embedded data directory: unset DXLEDGER_DATABASE_URL and give --data-dir NEW (to move to a managed PostgreSQL, take a backup with --logical)")
	case info.Kind == backupPhysical:
		if err := pgcluster.RestoreBase(ctx, pgcluster.Config{Dir: pgDir, BinDir: cfg.PGBinDir}, filepath.Join(dir, "pgdata")); err != nil {
			return err
		}
	case cfg.DatabaseURL != "":
		if err := restoreDumpInto(ctx, cfg.DatabaseURL, cfg.PGBinDir, dir, info, log); err != nil {
			return err
		}
	default:
		if entries, err := os.ReadDir(filepath.Join(pgDir, "data")); err == nil && len(entries) > 0 {
			return fmt.Errorf("restore: %s holds a cluster already; restore into a new, empty data directory", filepath.Join(pgDir, "data"))
		}
		// The new cluster hands out transaction ids above every restored position.
		c, err := pgcluster.Start(ctx, pgcluster.Config{Dir: pgDir, BinDir: cfg.PGBinDir, Fsync: true, Logger: log,
			XIDEpoch: uint32(info.XIDHorizon>>32) + 1})
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		err = createDatabase(ctx, c.URL("postgres"), databaseName)
		if err == nil {
			err = restoreDumpInto(ctx, c.URL(databaseName), c.BinDir(), dir, info, log)
		}
		if serr := c.Stop(context.Background()); err == nil {
			err = serr
		}
		if err != nil {
			return err
		}
	}
	// Open it as serve will (migrations newer than the backup are applied) and check it.
	db, store, err := openStore(ctx, cfg, log, false)
	if err != nil {
		return fmt.Errorf("restore: the restored store does not open: %w", err)
	}
	defer db.Close()
	defer store.Close()
	restored := time.Since(start)
	rep, err := store.Verify(ctx, nil)
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, "TAMPERED:", p)
	}
	if len(rep.Problems) > 0 {
		return fmt.Errorf("restore: verify found %d problems in the restored store", len(rep.Problems))
	}
	if err := store.CheckAnchor(ctx, anchor); err != nil {
		return fmt.Errorf("restore: the restored log does not hold what was there when the backup began: %w", err)
	}
	fmt.Fprintf(stdout, "restored the %s backup of %s (taken %s) in %.1f s (%.1f s to put it in place and open it, the rest verify and the anchor check): %d events in %d streams, verify clean, and the log extends the backup's anchor (%d events)\n",
		info.Kind, info.Source, info.StartedAt.Format(time.RFC3339), time.Since(start).Seconds(), restored.Seconds(), rep.Events, rep.Streams, anchor.Events)
	return nil
}

// restoreDumpInto restores a logical backup into the empty database at dbURL, after making
// sure that database's server hands out transaction ids above every position in the dump.
func restoreDumpInto(ctx context.Context, dbURL, binHint, dir string, info backupInfo, log interface {
	Info(string, ...any)
}) error {
	if info.Kind != backupLogical {
		return errors.New("restore: not a logical backup")
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer conn.Close(context.Background())
	var empty bool
	if err := conn.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND c.relkind IN ('r', 'p'))`).Scan(&empty); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if !empty {
		return errors.New("restore: the target database holds tables already; restore into an empty database")
	}
	var currentText string
	if err := conn.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&currentText); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	current, err := strconv.ParseUint(currentText, 10, 64)
	if err != nil {
		return fmt.Errorf("restore: transaction id %q: %w", currentText, err)
	}
	if current <= info.XIDHorizon {
		gap := info.XIDHorizon - current + 1
		if gap > maxXIDAdvance {
			return fmt.Errorf("restore: this server's transaction counter (%d) is %d below the backup's positions (%d), more than the %d this command advances it by; "+
				"restore into an embedded data directory (--data-dir NEW) or a server whose counter is past %d", current, gap, info.XIDHorizon, maxXIDAdvance, info.XIDHorizon)
		}
		log.Info("advancing the server's transaction counter past the backup's positions", "from", current, "to", info.XIDHorizon+1)
		// Each loop turn is one committed transaction with an id; no round trip each.
		if _, err := conn.Exec(ctx, `SELECT set_config('synchronous_commit', 'off', false), set_config('dxledger.xid_horizon', $1, false)`,
			strconv.FormatUint(info.XIDHorizon, 10)); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if _, err := conn.Exec(ctx, `DO $$ BEGIN
			LOOP EXIT WHEN pg_current_xact_id() > current_setting('dxledger.xid_horizon')::xid8; COMMIT; END LOOP;
		END $$`); err != nil {
			return fmt.Errorf("restore: advance the transaction counter: %w", err)
		}
	}
	binDir, err := pgcluster.FindBinDir(binHint)
	if err != nil {
		return err
	}
	out, err := pgcluster.Client(ctx, binDir, "pg_restore", "--dbname", dbURL, "--no-owner", "--no-privileges",
		"--single-transaction", "--exit-on-error", filepath.Join(dir, "dump")).CombinedOutput()
	if err != nil {
		return fmt.Errorf("restore: pg_restore: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// maxXIDAdvance bounds how far a restore into a managed server advances its transaction
// counter (some tens of thousands per second).
const maxXIDAdvance = 50_000_000
