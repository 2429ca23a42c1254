package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// BaseBackup takes a physical base backup of the running cluster into target (which must not
// exist yet) with pg_basebackup: a consistent copy of every database, taken over a
// replication connection while writes go on, with the WAL needed to make it consistent
// streamed beside it (-X stream) and a backup_manifest that pg_verifybackup checks. The copy
// holds every transaction committed before the backup ended.
func (c *Cluster) BaseBackup(ctx context.Context, target string, progress io.Writer) error {
	if _, err := os.Stat(target); err == nil {
		return fmt.Errorf("base backup: %s exists; give a new directory", target)
	}
	args := []string{"-h", c.socketDir, "-U", SuperUser, "-D", target, "-F", "plain", "-X", "stream",
		"-c", "fast", "--no-password", "--label", "dxledger backup"}
	if progress != nil {
		args = append(args, "--progress")
	}
	cmd := c.client(ctx, "pg_basebackup", args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if progress != nil {
		cmd.Stderr = io.MultiWriter(&out, progress)
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pg_basebackup: %w: %s", err, tail(out.String()))
	}
	return nil
}

// client runs one of PostgreSQL's client programs (pg_basebackup, pg_dump, pg_restore,
// pg_verifybackup) as this process's user: they write files for the caller, not for the
// server.
func (c *Cluster) client(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := c.command(ctx, name, args...)
	cmd.SysProcAttr = nil
	return cmd
}

// Client runs one of PostgreSQL's client programs from the binaries' directory.
func Client(ctx context.Context, binDir, name string, args ...string) *exec.Cmd {
	c := &Cluster{binDir: binDir}
	return c.client(ctx, name, args...)
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 1500 {
		s = "…" + s[len(s)-1500:]
	}
	return s
}

// RestoreBase puts a base backup (BaseBackup's target) in place as the data directory of the
// cluster cfg describes, which must not hold one yet. It checks the backup against its
// manifest with pg_verifybackup first, and copies it (the backup stays as it was); the next
// Start replays the WAL that came with it and opens the cluster as it was when the backup
// ended.
func RestoreBase(ctx context.Context, cfg Config, backup string) error {
	binDir, err := FindBinDir(cfg.BinDir)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return err
	}
	cfg.Dir = dir
	c := &Cluster{cfg: cfg, binDir: binDir, dataDir: filepath.Join(dir, "data")}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := c.acquireLock(); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer c.releaseLock()
	if fresh, err := c.checkDataDir(); err != nil || !fresh {
		if err == nil {
			err = errors.New("it holds a cluster already; restore into a new, empty data directory")
		}
		return fmt.Errorf("restore into %s: %w", c.dataDir, err)
	}
	if _, err := os.Stat(filepath.Join(backup, "PG_VERSION")); err != nil {
		return fmt.Errorf("restore: %s is not a base backup (no PG_VERSION): %w", backup, err)
	}
	if out, err := c.client(ctx, "pg_verifybackup", "--quiet", backup).CombinedOutput(); err != nil {
		return fmt.Errorf("restore: the backup in %s does not match its manifest; nothing was restored: %w: %s", backup, err, tail(string(out)))
	}
	if os.Geteuid() == 0 {
		if c.cred, err = postgresCredential(); err != nil {
			return err
		}
		if err := makeTraversable(dir); err != nil {
			return err
		}
	}
	if err := c.ownedDir(c.dataDir, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := copyTree(backup, c.dataDir, c.cred); err != nil {
		// What the copy made is ours: leave the directory empty, as it was.
		entries, _ := os.ReadDir(c.dataDir)
		for _, e := range entries {
			os.RemoveAll(filepath.Join(c.dataDir, e.Name()))
		}
		return fmt.Errorf("restore: copy %s: %w", backup, err)
	}
	return nil
}

// copyTree copies the files and directories under from into to (which exists), syncing each
// file, owned by cred when given.
func copyTree(from, to string, cred *syscall.Credential) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil || rel == "." {
			return err
		}
		dst := filepath.Join(to, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(dst, 0o700); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			if err := copyFile(path, dst); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: not a file or directory (a tablespace link?); copy it by hand", path)
		}
		if cred != nil {
			return os.Chown(dst, int(cred.Uid), int(cred.Gid))
		}
		return nil
	})
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// setEpoch sets the next transaction id's epoch of a stopped cluster (pg_resetwal -e), so
// that every 64-bit transaction id (xid8) it hands out is above epoch<<32. A logical restore
// needs it: the restored rows keep the positions (transaction ids) they had, and new appends
// must come after them.
func (c *Cluster) setEpoch(ctx context.Context, epoch uint32) error {
	out, err := c.command(ctx, "pg_resetwal", "-e", strconv.FormatUint(uint64(epoch), 10), "-D", c.dataDir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_resetwal -e %d: %w: %s", epoch, err, tail(string(out)))
	}
	return nil
}
