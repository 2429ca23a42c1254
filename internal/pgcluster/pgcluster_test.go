package pgcluster

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dxlc-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func query(t *testing.T, c *Cluster, sql string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func exec1(t *testing.T, c *Cluster, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func alive(pid int) bool { return Running(pid) }

// One cluster, taken through its life: first start, a second owner refused, stop and a
// second start that reuses the data, a stale postmaster.pid whose pid belongs to another
// process, and an orphaned postmaster adopted by a new owner.
func TestClusterLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := tempDir(t)
	c, err := Start(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(context.Background()) })
	if got := query(t, c, "SHOW listen_addresses"); got != "" {
		t.Errorf("listen_addresses = %q, want empty (unix socket only)", got)
	}
	exec1(t, c, "CREATE TABLE kept (x int)")
	if os.Geteuid() == 0 {
		fi, err := os.Stat(c.DataDir())
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid == 0 {
			t.Errorf("data dir owned by root; want the postgres user")
		}
	}

	if _, err := Start(ctx, Config{Dir: dir}); !errors.Is(err, ErrInUse) {
		t.Fatalf("second owner: err = %v, want ErrInUse", err)
	}

	pid := c.PostmasterPID()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Fatalf("postmaster %d still alive after Stop", pid)
	}
	c, err = Start(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	if got := query(t, c, "SELECT count(*)::text FROM pg_tables WHERE tablename = 'kept'"); got != "1" {
		t.Errorf("table from the first start: count %s, want 1", got)
	}

	// Stale postmaster.pid whose pid is now a live process that is not PostgreSQL.
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleeper.Process.Kill()
	pidFile := filepath.Join(c.DataDir(), "postmaster.pid")
	stale := strconv.Itoa(sleeper.Process.Pid) + "\n" + c.DataDir() + "\n1700000000\n5432\n" + c.SocketDir() + "\n\n  5432001    123\nready   \n"
	if err := os.WriteFile(pidFile, []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Start(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatalf("start over a stale postmaster.pid: %v", err)
	}
	if c.PostmasterPID() == sleeper.Process.Pid {
		t.Fatal("postmaster.pid still names the sleeper")
	}

	// The owner dies without stopping PostgreSQL: the next owner adopts the running server.
	pid = c.PostmasterPID()
	c.releaseLock() // what the kernel does when the owner process dies
	c2, err := Start(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatalf("adopt: %v", err)
	}
	if c2.PostmasterPID() != pid {
		t.Errorf("adopted pid %d, want the running %d", c2.PostmasterPID(), pid)
	}
	query(t, c2, "SELECT 'still answers'")
	if err := c2.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if alive(pid) {
		t.Errorf("postmaster %d alive after the adopter stopped it", pid)
	}
}

func TestFindBinDir(t *testing.T) {
	dir, err := FindBinDir("")
	if err != nil {
		t.Fatalf("this machine's PostgreSQL: %v", err)
	}
	for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			t.Errorf("%s missing from %s", b, dir)
		}
	}
	_, err = FindBinDir(t.TempDir())
	if !errors.Is(err, ErrNoBinaries) || !strings.Contains(err.Error(), "apt-get install postgresql") || !strings.Contains(err.Error(), "DXLEDGER_DATABASE_URL") {
		t.Errorf("empty bin dir: err = %v; want ErrNoBinaries saying how to install or to set the URL", err)
	}
}

func TestSocketDirStaysShort(t *testing.T) {
	long := "/" + strings.Repeat("very-long-directory-name/", 8)
	if got := socketDirFor(long); len(got)+len("/.s.PGSQL.5432") >= 100 {
		t.Errorf("socket dir %q too long for a unix socket", got)
	}
	if got := socketDirFor("/tmp/x"); got != "/tmp/x/run" {
		t.Errorf("socketDirFor(/tmp/x) = %q, want /tmp/x/run", got)
	}
}

// A command run beside a serving process (Config.Share) uses its running cluster instead of
// failing on the lock, and leaves it running when it stops; without Share the lock refuses it.
func TestShareUsesTheOwnersCluster(t *testing.T) {
	dir := tempDir(t)
	ctx := context.Background()
	owner, err := Start(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Stop(ctx)
	exec1(t, owner, `CREATE TABLE shared_probe (n int); INSERT INTO shared_probe VALUES (7)`)
	if _, err := Start(ctx, Config{Dir: dir}); !errors.Is(err, ErrInUse) {
		t.Fatalf("second owner: %v, want ErrInUse", err)
	}
	guest, err := Start(ctx, Config{Dir: dir, Share: true})
	if err != nil {
		t.Fatalf("share: %v", err)
	}
	if !guest.Shared() || owner.Shared() {
		t.Errorf("Shared: guest %v, owner %v; want true, false", guest.Shared(), owner.Shared())
	}
	if got := query(t, guest, `SELECT n::text FROM shared_probe`); got != "7" {
		t.Errorf("the guest reads %q, want the owner's 7", got)
	}
	if err := guest.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := query(t, owner, `SELECT n::text FROM shared_probe`); got != "7" {
		t.Errorf("after the guest stopped, the owner reads %q, want 7 (still running)", got)
	}
}

// Issue 13 point 2: a data directory in an unknown state (here, a cluster that lost
// PG_VERSION, as a half-copied restore would be) is refused with what was found and what to
// do, and not one of its files is deleted or changed.
func TestUnknownDataDirIsLeftAlone(t *testing.T) {
	dir := tempDir(t)
	data := filepath.Join(dir, "data")
	files := map[string]string{"base/1/1259": "table pages", "global/pg_control": "control", "postgresql.conf": "port = 5432\n"}
	for name, body := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(data, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Start(context.Background(), Config{Dir: dir})
	if err == nil {
		c.Stop(context.Background())
		t.Fatal("Start on a data directory without PG_VERSION succeeded")
	}
	if !errors.Is(err, ErrUnknownDataDir) || !strings.Contains(err.Error(), "no PG_VERSION") ||
		!strings.Contains(err.Error(), "postgresql.conf") || !strings.Contains(err.Error(), "dxledger restore") {
		t.Errorf("err = %v; want ErrUnknownDataDir naming what was found (no PG_VERSION, postgresql.conf) and what to do", err)
	}
	for name, body := range files {
		got, err := os.ReadFile(filepath.Join(data, name))
		if err != nil || string(got) != body {
			t.Errorf("%s after the refused start: %q, %v; want it untouched", name, got, err)
		}
	}
	// A PG_VERSION of another major version is refused too, naming both.
	if err := os.WriteFile(filepath.Join(data, "PG_VERSION"), []byte("9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(context.Background(), Config{Dir: dir}); !errors.Is(err, ErrUnknownDataDir) || !strings.Contains(err.Error(), "PostgreSQL 9 cluster") {
		t.Errorf("err = %v; want ErrUnknownDataDir naming PostgreSQL 9", err)
	}
	if got, _ := os.ReadFile(filepath.Join(data, "base/1/1259")); string(got) != "table pages" {
		t.Error("a file was changed")
	}
}

// A cluster that keeps a store (fsync on) runs with the store's settings (storeSettings: more
// shared buffers, rarer checkpoints, compressed full-page images), durability untouched; a
// throwaway test cluster keeps PostgreSQL's defaults; Config.Settings overrides either.
func TestStoreSettings(t *testing.T) {
	if got := storeSettings(24 << 30)["shared_buffers"]; got != "512MB" {
		t.Errorf("shared_buffers on 24 GB = %s, want 512MB", got)
	}
	if got := storeSettings(2 << 30)["shared_buffers"]; got != "256MB" {
		t.Errorf("shared_buffers on 2 GB = %s, want 256MB (an eighth)", got)
	}
	if got := storeSettings(512 << 20)["shared_buffers"]; got != "128MB" {
		t.Errorf("shared_buffers on 512 MB = %s, want PostgreSQL's default 128MB", got)
	}
	ctx := context.Background()
	durable, err := Start(ctx, Config{Dir: tempDir(t), Fsync: true, Settings: map[string]string{"max_wal_size": "1GB"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { durable.Stop(context.Background()) })
	want := storeSettings(physicalMemory())["shared_buffers"]
	for setting, v := range map[string]string{"shared_buffers": want, "wal_compression": "pglz", "checkpoint_timeout": "15min",
		"max_wal_size": "1GB", "fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"} {
		if got := query(t, durable, "SHOW "+setting); got != v && !(setting == "wal_compression" && got == "on") {
			t.Errorf("durable cluster: %s = %s, want %s", setting, got, v)
		}
	}
	throwaway, err := Start(ctx, Config{Dir: tempDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { throwaway.Stop(context.Background()) })
	for setting, v := range map[string]string{"shared_buffers": "128MB", "checkpoint_timeout": "5min", "fsync": "off"} {
		if got := query(t, throwaway, "SHOW "+setting); got != v {
			t.Errorf("test cluster: %s = %s, want %s", setting, got, v)
		}
	}
}
