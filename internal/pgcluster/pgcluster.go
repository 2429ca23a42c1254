// Package pgcluster runs a private PostgreSQL cluster from the machine's own server binaries
// (initdb, pg_ctl): the embedded default of `dxledger serve` and the throwaway database of the
// tests. The cluster listens on a unix socket only, runs as the `postgres` user when the
// process is root (initdb and postgres refuse root), and survives a crash of its owner: a later
// Start adopts a postmaster that is still running or clears a stale postmaster.pid.
package pgcluster

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoBinaries is returned when initdb and pg_ctl cannot be found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found in PATH or /usr/lib/postgresql/*/bin; " +
	"install them (Debian: apt-get install postgresql) or set DXLEDGER_DATABASE_URL to use an existing server")

// ErrInUse is returned when another process holds the data directory.
var ErrInUse = errors.New("data directory is in use by another dxledger process")

// SuperUser is the cluster's superuser name, used by every connection.
const SuperUser = "dxledger"

// Config says where the cluster lives and how it runs.
type Config struct {
	// Dir is the cluster's home: PGDATA is Dir/data, the socket Dir/run (or a short directory
	// under the system temp dir when that path would be too long for a unix socket), the server
	// log Dir/postgres.log.
	Dir string
	// BinDir holds initdb and pg_ctl; empty means search PATH, then /usr/lib/postgresql/*/bin.
	BinDir string
	// Fsync turns fsync and synchronous_commit on. Off only for throwaway test clusters.
	Fsync bool
	// Settings are extra postgresql.conf settings passed on the command line.
	Settings map[string]string
	// Logger receives start/stop messages; nil discards them.
	Logger *slog.Logger
	// Share lets a command that runs beside a serving process (projector, rebuild, backup,
	// verify) use that process's running cluster instead of failing on its lock. The shared
	// cluster is left running on Stop: it belongs to its owner.
	Share bool
	// XIDEpoch, when not zero, is the transaction-id epoch a new cluster starts at (set right
	// after initdb, before the first start): every xid8 it hands out is above XIDEpoch<<32. A
	// logical restore uses it so that new appends sort after the restored positions.
	XIDEpoch uint32
}

// Cluster is a running private PostgreSQL cluster.
type Cluster struct {
	cfg       Config
	binDir    string
	dataDir   string
	socketDir string
	lock      *os.File
	shared    bool // another process owns the cluster; this one only connects to it
	cred      *syscall.Credential
	log       *slog.Logger
}

// FindBinDir returns the directory that holds initdb and pg_ctl: hint when given, else the
// directory of initdb on PATH, else the newest /usr/lib/postgresql/*/bin.
func FindBinDir(hint string) (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
				return false
			}
		}
		return true
	}
	if hint != "" {
		if has(hint) {
			return hint, nil
		}
		return "", fmt.Errorf("pg_bin_dir %s: %w", hint, ErrNoBinaries)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
		if has(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start initialises the cluster on first use and starts it, or adopts a postmaster of this
// directory left running by a crashed owner. It holds a lock on Dir until Stop.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	binDir, err := FindBinDir(cfg.BinDir)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("cluster dir: %w", err)
	}
	cfg.Dir = dir
	c := &Cluster{cfg: cfg, binDir: binDir, dataDir: filepath.Join(dir, "data"), log: cfg.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cluster dir: %w", err)
	}
	if err := c.acquireLock(); err != nil {
		if cfg.Share && errors.Is(err, ErrInUse) {
			return c.attach(err)
		}
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			c.releaseLock()
		}
	}()
	if os.Geteuid() == 0 {
		if c.cred, err = postgresCredential(); err != nil {
			return nil, err
		}
		if err := makeTraversable(dir); err != nil {
			return nil, err
		}
	}
	c.socketDir = socketDirFor(dir)
	if err := c.ownedDir(c.socketDir, 0o700); err != nil {
		return nil, err
	}
	fresh, err := c.checkDataDir()
	if err != nil {
		return nil, err
	}
	if fresh {
		if err := c.initdb(ctx); err != nil {
			return nil, err
		}
		if cfg.XIDEpoch != 0 {
			if err := c.setEpoch(ctx, cfg.XIDEpoch); err != nil {
				return nil, err
			}
		}
	}
	if err := c.start(ctx); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

// attach uses the cluster another process owns, if its postmaster runs; otherwise the owner
// is still starting (or stopping) it and inUse is the answer.
func (c *Cluster) attach(inUse error) (*Cluster, error) {
	c.socketDir = socketDirFor(c.cfg.Dir)
	pid := c.PostmasterPID()
	if pid == 0 || !Running(pid) {
		return nil, inUse
	}
	if _, err := os.Stat(filepath.Join(c.socketDir, ".s.PGSQL.5432")); err != nil {
		return nil, inUse
	}
	c.shared = true
	c.log.Info("using the running embedded PostgreSQL of another dxledger process", "data_dir", c.dataDir, "pid", pid)
	return c, nil
}

// Shared reports whether the cluster belongs to another process (Config.Share).
func (c *Cluster) Shared() bool { return c.shared }

// socketDirFor keeps the socket path under the ~107-byte limit of unix sockets.
func socketDirFor(dir string) string {
	d := filepath.Join(dir, "run")
	if len(d)+len("/.s.PGSQL.5432") < 100 {
		return d
	}
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(os.TempDir(), "dxledger-"+hex.EncodeToString(sum[:6]))
}

func (c *Cluster) acquireLock() error {
	f, err := os.OpenFile(filepath.Join(c.cfg.Dir, "owner.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("lock cluster dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(f.Name())
		f.Close()
		return fmt.Errorf("%s (pid %s): %w", c.cfg.Dir, strings.TrimSpace(string(holder)), ErrInUse)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	c.lock = f
	return nil
}

func (c *Cluster) releaseLock() {
	if c.lock != nil {
		_ = syscall.Flock(int(c.lock.Fd()), syscall.LOCK_UN)
		c.lock.Close()
		c.lock = nil
	}
}

func postgresCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as the postgres user, which does not exist (Debian: apt-get install postgresql creates it): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// makeTraversable lets the postgres user reach dir: every parent needs the x bit for others.
func makeTraversable(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, fi.Mode().Perm()|0o011); err != nil {
				return fmt.Errorf("make %s traversable for the postgres user: %w", d, err)
			}
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// ownedDir creates dir (mode perm) owned by the user PostgreSQL runs as.
func (c *Cluster) ownedDir(dir string, perm os.FileMode) error {
	if err := os.MkdirAll(dir, perm); err != nil {
		return err
	}
	if err := os.Chmod(dir, perm); err != nil {
		return err
	}
	if c.cred != nil {
		if err := os.Chown(dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, name), args...)
	cmd.Env = []string{"LC_ALL=C.UTF-8", "LANG=C.UTF-8", "PATH=" + c.binDir + ":/usr/bin:/bin", "TZ=UTC"}
	cmd.Dir = "/"
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd
}

// ErrUnknownDataDir is returned when the data directory holds something this package did not
// make and cannot start: it is left exactly as it was.
var ErrUnknownDataDir = errors.New("the data directory is not a PostgreSQL cluster this server can start; nothing in it was changed")

// checkDataDir says whether the data directory is absent or empty (fresh: initdb may make a
// cluster there), or holds a cluster of the binaries' major version. Anything else — files
// without PG_VERSION (a half-copied restore, a lost file), another major version, a file in
// place of the directory — is refused with what was found and what to do: a start never
// writes into, let alone deletes, what it did not create.
func (c *Cluster) checkDataDir() (fresh bool, err error) {
	fi, err := os.Stat(c.dataDir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("data directory %s: %w", c.dataDir, err)
	case !fi.IsDir():
		return false, fmt.Errorf("%s is a file, not a directory: move it away or choose another --data-dir: %w", c.dataDir, ErrUnknownDataDir)
	}
	entries, err := os.ReadDir(c.dataDir)
	if err != nil {
		return false, fmt.Errorf("data directory %s: %w", c.dataDir, err)
	}
	if len(entries) == 0 {
		return true, nil
	}
	raw, err := os.ReadFile(filepath.Join(c.dataDir, "PG_VERSION"))
	if errors.Is(err, os.ErrNotExist) {
		names := make([]string, 0, 8)
		for i, e := range entries {
			if i == 8 {
				names = append(names, fmt.Sprintf("and %d more", len(entries)-i))
				break
			}
			names = append(names, e.Name())
		}
		return false, fmt.Errorf("%s holds %d entries (%s) but no PG_VERSION: a half-copied or damaged cluster, or not a cluster at all. "+
			"If it came from a backup, restore it again into an empty directory (dxledger restore DIR --data-dir NEW); "+
			"if it is a cluster that lost PG_VERSION, copy the directory somewhere safe before repairing it by hand; "+
			"otherwise move its files away or choose another --data-dir: %w",
			c.dataDir, len(entries), strings.Join(names, ", "), ErrUnknownDataDir)
	}
	if err != nil {
		return false, fmt.Errorf("data directory %s: %w", c.dataDir, err)
	}
	have, perr := strconv.Atoi(strings.TrimSpace(string(raw)))
	if perr != nil {
		return false, fmt.Errorf("%s/PG_VERSION reads %q, not a PostgreSQL major version: the cluster is damaged; copy it somewhere safe and restore from a backup: %w",
			c.dataDir, strings.TrimSpace(string(raw)), ErrUnknownDataDir)
	}
	if want := c.majorVersion(); want != 0 && have != want {
		return false, fmt.Errorf("%s holds a PostgreSQL %d cluster and the server binaries in %s are PostgreSQL %d: "+
			"point pg_bin_dir at PostgreSQL %d's binaries, or upgrade the cluster with pg_upgrade: %w",
			c.dataDir, have, c.binDir, want, have, ErrUnknownDataDir)
	}
	return false, nil
}

// majorVersion is the server binaries' major version (postgres --version), 0 if unknown.
func (c *Cluster) majorVersion() int {
	if v := versionOf(c.binDir); v != 0 {
		return v
	}
	out, err := c.command(context.Background(), "postgres", "--version").Output()
	if err != nil {
		return 0
	}
	f := strings.Fields(string(out)) // "postgres (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)"
	if len(f) < 3 {
		return 0
	}
	major, _, _ := strings.Cut(f[2], ".")
	v, _ := strconv.Atoi(major)
	return v
}

func (c *Cluster) initdb(ctx context.Context) error {
	c.log.Info("initialising embedded PostgreSQL", "data_dir", c.dataDir, "bin_dir", c.binDir)
	if err := c.ownedDir(c.dataDir, 0o700); err != nil {
		return err
	}
	out, err := c.command(ctx, "initdb", "-D", c.dataDir, "-U", SuperUser, "--auth=trust",
		"--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions").CombinedOutput()
	if err != nil {
		// A half-made cluster would block the next start: leave an empty dir instead. The
		// directory was empty before (checkDataDir), so everything in it is initdb's.
		entries, _ := os.ReadDir(c.dataDir)
		for _, e := range entries {
			os.RemoveAll(filepath.Join(c.dataDir, e.Name()))
		}
		return fmt.Errorf("initdb: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// PostmasterPID returns the pid recorded in postmaster.pid, or 0.
func (c *Cluster) PostmasterPID() int {
	f, err := os.Open(filepath.Join(c.dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	if !s.Scan() {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(s.Text()))
	return pid
}

// isOurPostmaster says whether pid is a live postgres process serving this data dir.
func (c *Cluster) isOurPostmaster(pid int) bool {
	if !Running(pid) {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(args) == 0 || filepath.Base(args[0]) != "postgres" {
		return false
	}
	for i, a := range args {
		if a == "-D" && i+1 < len(args) && filepath.Clean(args[i+1]) == c.dataDir {
			return true
		}
	}
	return false
}

func (c *Cluster) start(ctx context.Context) error {
	if pid := c.PostmasterPID(); pid != 0 {
		if c.isOurPostmaster(pid) {
			c.log.Warn("adopting a PostgreSQL left running by an earlier process", "pid", pid, "data_dir", c.dataDir)
			return c.waitReady(ctx)
		}
		// The postmaster is gone. If its pid now belongs to another process PostgreSQL would
		// refuse to start, so the stale file goes; a dead pid it would handle itself.
		c.log.Warn("removing stale postmaster.pid", "pid", pid, "data_dir", c.dataDir)
		if err := os.Remove(filepath.Join(c.dataDir, "postmaster.pid")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove stale postmaster.pid: %w", err)
		}
	}
	fsync := "off"
	if c.cfg.Fsync {
		fsync = "on"
	}
	opts := []string{
		"-c", "listen_addresses=",
		"-c", "unix_socket_directories=" + c.socketDir,
		"-c", "fsync=" + fsync,
		"-c", "synchronous_commit=" + fsync,
		"-c", "full_page_writes=" + fsync,
		"-c", "max_connections=200",
	}
	settings := map[string]string{}
	if c.cfg.Fsync {
		settings = storeSettings(physicalMemory())
	}
	for k, v := range c.cfg.Settings {
		settings[k] = v
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		opts = append(opts, "-c", k+"="+settings[k])
	}
	logFile := filepath.Join(c.cfg.Dir, "postgres.log")
	if f, err := os.OpenFile(logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
		f.Close()
		if c.cred != nil {
			_ = os.Chown(logFile, int(c.cred.Uid), int(c.cred.Gid))
		}
	}
	// After a kill -9 the old backends may still hold shared memory for a moment: retry.
	var lastErr error
	for attempt := 0; attempt < 20; attempt++ {
		args := []string{"start", "-w", "-t", "60", "-D", c.dataDir, "-l", logFile, "-o", shellJoin(opts)}
		out, err := c.command(ctx, "pg_ctl", args...).CombinedOutput()
		if err == nil {
			c.log.Info("embedded PostgreSQL started", "pid", c.PostmasterPID(), "socket_dir", c.socketDir)
			return nil
		}
		lastErr = fmt.Errorf("pg_ctl start: %w: %s%s", err, strings.TrimSpace(string(out)), c.logTail(logFile))
		select {
		case <-ctx.Done():
			return errors.Join(lastErr, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
	return lastErr
}

// storeSettings are the settings of a cluster that keeps a store (Config.Fsync): serve, the
// commands beside it and the benchmarks. A throwaway test cluster (no fsync) keeps
// PostgreSQL's defaults, so that the test suite's many clusters started in parallel stay
// small; Config.Settings overrides either.
//
// At 1,000 appends a second the projections write ~20 rows an event into tables whose hot
// pages outgrow PostgreSQL's default 128 MB of shared buffers: backends then write out the
// dirty buffers they evict themselves (thousands in a 20-second run) and read pages back
// from the OS inside the projection's transaction. And after every checkpoint the first
// change of each page writes a full-page image into the WAL that every append's commit
// flushes. So:
//   - shared_buffers: 512 MB, at most an eighth of the machine's memory (shared memory is
//     touched only as it is used: an idle or small store costs little of it);
//   - checkpoints every 15 minutes rather than 5 (max_wal_size 4 GB, so that ~5 MB of WAL a
//     second does not request one sooner): a third of the full-page images;
//   - wal_compression: the full-page images that remain are compressed (pglz, built into
//     every PostgreSQL), less WAL for the appends' flushes to wait on;
//   - the background writer cleans ahead of the backends more eagerly;
//   - huge_pages off: no attempt at a huge-page mapping the machine may not have.
//
// Durability is unchanged: fsync, synchronous_commit and full_page_writes stay on; a longer
// checkpoint interval only means a longer WAL replay after a crash (bounded by max_wal_size).
func storeSettings(memory int64) map[string]string {
	buffers := int64(512) << 20
	if memory > 0 {
		buffers = min(buffers, max(memory/8, 128<<20))
	}
	return map[string]string{
		"shared_buffers":        strconv.FormatInt(buffers>>20, 10) + "MB",
		"huge_pages":            "off",
		"checkpoint_timeout":    "15min",
		"max_wal_size":          "4GB",
		"wal_compression":       "on",
		"bgwriter_delay":        "50ms",
		"bgwriter_lru_maxpages": "400",
	}
}

// physicalMemory is the machine's memory in bytes (MemTotal of /proc/meminfo), 0 if unknown.
func physicalMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (c *Cluster) logTail(logFile string) string {
	b, err := os.ReadFile(logFile)
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 600 {
		b = b[len(b)-600:]
	}
	return "\nserver log: " + strings.TrimSpace(string(b))
}

func (c *Cluster) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(c.socketDir, ".s.PGSQL.5432")); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("adopted PostgreSQL did not open its socket in %s", c.socketDir)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// shellJoin quotes options for pg_ctl -o, which passes them through /bin/sh.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// URL returns a connection URL for database db over the cluster's unix socket.
func (c *Cluster) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User(SuperUser), Path: "/" + db}
	u.RawQuery = url.Values{"host": {c.socketDir}, "sslmode": {"disable"}}.Encode()
	return u.String()
}

// DataDir is the cluster's PGDATA.
func (c *Cluster) DataDir() string { return c.dataDir }

// SocketDir is the directory that holds the cluster's unix socket.
func (c *Cluster) SocketDir() string { return c.socketDir }

// BinDir is where the server binaries were found.
func (c *Cluster) BinDir() string { return c.binDir }

// Stop shuts the cluster down (fast mode: open sessions are ended, committed work is kept) and
// releases the directory lock.
func (c *Cluster) Stop(ctx context.Context) error {
	if c.shared {
		return nil
	}
	defer c.releaseLock()
	pid := c.PostmasterPID()
	if pid == 0 {
		return nil
	}
	out, err := c.command(ctx, "pg_ctl", "stop", "-w", "-t", "60", "-m", "fast", "-D", c.dataDir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, strings.TrimSpace(string(out)))
	}
	// pg_ctl returns once postmaster.pid is gone, a moment before the process itself.
	for deadline := time.Now().Add(10 * time.Second); Running(pid) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if Running(pid) {
		return fmt.Errorf("pg_ctl stop: postmaster %d still running", pid)
	}
	c.log.Info("embedded PostgreSQL stopped", "data_dir", c.dataDir)
	return nil
}

// Running reports whether process pid exists and is not a zombie.
func Running(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	return true
}

// Restart stops and starts the cluster again, keeping the lock.
func (c *Cluster) Restart(ctx context.Context) error {
	if c.PostmasterPID() != 0 && c.isOurPostmaster(c.PostmasterPID()) {
		out, err := c.command(ctx, "pg_ctl", "stop", "-w", "-m", "fast", "-D", c.dataDir).CombinedOutput()
		if err != nil {
			return fmt.Errorf("pg_ctl stop: %w: %s", err, strings.TrimSpace(string(out)))
		}
	}
	return c.start(ctx)
}
