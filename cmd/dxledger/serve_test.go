package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/internal/pgcluster"
	"github.com/dxledger/dxledger/internal/pgtest"
	"golang.org/x/crypto/bcrypt"
)

// TestMain lowers bcrypt's cost for the passwords the tests make (the demo alone makes 34 each
// time it is loaded; under the race detector each takes seconds at the default cost).
// internal/identity's own tests keep the default and check it.
func TestMain(m *testing.M) {
	identity.SetPasswordCostForTests(bcrypt.MinCost)
	pgtest.Main(m, func() {
		if built.dir != "" {
			os.RemoveAll(built.dir)
		}
	})
}

// built is the real binary, built once for the tests that run it as a separate process.
var built struct {
	once      sync.Once
	dir, path string
	err       error
}

// dxledgerBinary returns the path of the real binary (go build of this package), built by the
// first test that asks: each test building its own paid a compile and a link of the whole
// program every time.
func dxledgerBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "dxlbin-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "dxledger")
		if out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

var listenLine = regexp.MustCompile(`dxledger listening on (http://\S+)`)

// startServe runs `dxledger <args>` in-process and returns its base URL and a function that
// stops it (as SIGTERM would) and returns run's error.
func startServe(t testing.TB, args, environ []string) (string, func() error) {
	t.Helper()
	return startServeTo(t, args, environ, io.Discard)
}

// startServeTo is startServe with the log written to logs.
func startServeTo(t testing.TB, args, environ []string, logs io.Writer) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, environ, pw, logs)
		pw.Close()
	}()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	select {
	case u := <-urls:
		stopped := false
		stop := func() error {
			if stopped {
				return nil
			}
			stopped = true
			cancel()
			return <-done
		}
		t.Cleanup(func() { stop() })
		return u, stop
	case err := <-done:
		cancel()
		t.Fatalf("serve exited before listening: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("serve did not print its address within 60s")
	}
	return "", nil
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeHealthMetricsAndBootstrap(t *testing.T) {
	db := pgtest.New(t)
	const token = "bootstrap-secret-0123456789"
	env := []string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token, "HOME=/root"}
	base, stop := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"}, env)

	if code, body := get(t, base+"/healthz", ""); code != 200 || !strings.Contains(body, "ok") {
		t.Errorf("/healthz = %d %s, want 200 ok", code, body)
	}
	code, body := get(t, base+"/api/v1/me", token)
	var me struct{ ID, Name, Role string }
	if code != 200 || json.Unmarshal([]byte(body), &me) != nil || me.Role != "admin" || me.ID == "" {
		t.Errorf("/api/v1/me with the bootstrap token = %d %s, want 200 and an admin", code, body)
	}
	if code, _ := get(t, base+"/api/v1/me", ""); code != 401 {
		t.Errorf("/api/v1/me without a token = %d, want 401", code)
	}
	if code, body := get(t, base+"/api/v1/me", "wrong-token"); code != 401 || !strings.Contains(body, `"status":401`) {
		t.Errorf("/api/v1/me with a wrong token = %d %s, want 401 problem", code, body)
	}
	if code, body := get(t, base+"/no/such/route", ""); code != 404 || !strings.Contains(body, `"status":404`) {
		t.Errorf("unknown route = %d %s, want 404 problem", code, body)
	}
	if resp, err := http.Post(base+"/healthz", "application/json", nil); err != nil || resp.StatusCode != 405 ||
		resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get("Allow") != "GET" {
		t.Errorf("POST /healthz = %v %v, want a 405 problem with Allow: GET", resp, err)
	}
	code, body = get(t, base+"/metrics", "")
	for _, want := range []string{
		`dxledger_http_requests_total{code="200",route="GET /healthz"} 1`,
		`dxledger_http_requests_total{code="401",route="GET /api/v1/me"} 2`,
		"dxledger_store_events 2", // the bootstrap administrator's account: created, token issued
		"dxledger_store_append_seconds_bucket",
		"go_goroutines",
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics (%d) lacks %q", code, want)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v on shutdown, want nil", err)
	}

	// The token is stored only as a hash.
	var n int
	if err := db.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM api_tokens WHERE position(convert_to($1, 'UTF8') in token_hash) > 0`, token).Scan(&n); err != nil || n != 0 {
		t.Errorf("the bootstrap token appears in api_tokens (%d rows, %v)", n, err)
	}
	// A second start with the same token creates no second administrator.
	_, stop = startServe(t, []string{"serve", "--addr", "127.0.0.1:0"}, env)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM users WHERE role = 'admin'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("administrators after two starts = %d (%v), want 1", n, err)
	}
}

func TestServeRefusesBadConfiguration(t *testing.T) {
	t.Parallel()
	var stderr strings.Builder
	err := run(context.Background(), []string{"serve", "--addr", "nonsense", "--log-level", "loud"},
		[]string{"DXLEDGER_HTTP_ADRR=x"}, io.Discard, &stderr)
	if err == nil {
		t.Fatal("serve with bad configuration returned nil")
	}
	for _, want := range []string{"http_addr", "log_level", "DXLEDGER_HTTP_ADRR"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

// The embedded default, as a newcomer runs it: the real binary, no configuration, SIGTERM.
func TestEmbeddedServeStopsCleanly(t *testing.T) {
	t.Parallel()
	bin := dxledgerBinary(t)
	work, err := pgtest.TempDir()
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(work)

	for round, how := range []string{"first start (initdb)", "second start (reuses the cluster)"} {
		cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
		cmd.Dir = work // data goes to ./dxledger-data, the default
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work}
		stdout, _ := cmd.StdoutPipe()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		base := waitListening(t, stdout, &stderr)
		if code, _ := get(t, base+"/healthz", ""); code != 200 {
			t.Fatalf("%s: /healthz = %d", how, code)
		}
		if round == 0 {
			// Commands beside a serving process that only read or follow use its running
			// cluster (API.md, "Operations"); a second serve is refused.
			for _, args := range [][]string{{"verify"}, {"projections", "retry"}} {
				beside := exec.Command(bin, args...)
				beside.Dir, beside.Env = work, cmd.Env
				if out, err := beside.CombinedOutput(); err != nil {
					t.Errorf("dxledger %s beside serve: %v\n%s", args[0], err, out)
				}
			}
			// What writes or changes the schema does not share a serving store.
			for _, args := range [][]string{{"migrate"}, {"bench", "generate", "--events", "10"}} {
				beside := exec.Command(bin, args...)
				beside.Dir, beside.Env = work, cmd.Env
				if out, err := beside.CombinedOutput(); err == nil || !strings.Contains(string(out), "in use") {
					t.Errorf("dxledger %s beside serve: %v\n%s; want refused as in use", args[0], err, out)
				}
			}
			second := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
			second.Dir, second.Env = work, cmd.Env
			if out, err := second.CombinedOutput(); err == nil || !strings.Contains(string(out), "in use") {
				t.Errorf("a second serve on the same data directory: %v\n%s; want refused as in use", err, out)
			}
			if code, _ := get(t, base+"/healthz", ""); code != 200 {
				t.Fatalf("after the commands beside it: /healthz = %d", code)
			}
		}
		pidFile := filepath.Join(work, "dxledger-data", "pg", "data", "postmaster.pid")
		pid := readPID(t, pidFile)
		if !pgcluster.Running(pid) {
			t.Fatalf("%s: postmaster %d not running", how, pid)
		}
		start := time.Now()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		waitErr := make(chan error, 1)
		go func() { waitErr <- cmd.Wait() }()
		select {
		case err := <-waitErr:
			if err != nil {
				t.Fatalf("%s: exit after SIGTERM: %v\n%s", how, err, stderr.String())
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%s: still running 20s after SIGTERM", how)
		}
		t.Logf("round %d: exited %v after SIGTERM", round+1, time.Since(start).Round(time.Millisecond))
		if pgcluster.Running(pid) {
			t.Errorf("%s: postmaster %d left running after exit", how, pid)
		}
		if round == 1 && strings.Contains(stderr.String(), "initialising embedded PostgreSQL") {
			t.Errorf("second start ran initdb again")
		}
	}
}

func waitListening(t *testing.T, stdout io.Reader, stderr *strings.Builder) string {
	t.Helper()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	select {
	case u := <-urls:
		return u
	case <-time.After(90 * time.Second):
		t.Fatalf("no listening line within 90s; stderr:\n%s", stderr.String())
	}
	return ""
}

func readPID(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// serve that cannot listen returns its error promptly, with its background work stopped.
func TestServeFailsFastWhenTheAddressIsTaken(t *testing.T) {
	db := pgtest.New(t)
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"}, []string{"DXLEDGER_DATABASE_URL=" + db.URL})
	addr := strings.TrimPrefix(base, "http://")
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"serve", "--addr", addr}, []string{"DXLEDGER_DATABASE_URL=" + db.URL}, io.Discard, io.Discard)
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "listen") {
			t.Errorf("second serve on %s: %v, want a listen error", addr, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve on a taken address did not return")
	}
}
