package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
)

// signInHTTP signs in through the sign-in form as a browser would, from the client address
// xff (sent as X-Forwarded-For, believed only from a trusted proxy), and returns the status:
// 303 signed in, 401 refused, 429 throttled.
func signInHTTP(t *testing.T, base, name, password, xff string) int {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", base+"/login", nil)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var csrf string
	for _, c := range resp.Cookies() {
		if c.Name == "dxl_login" {
			csrf = c.Value
		}
	}
	form := url.Values{"name": {name}, "password": {password}, "csrf": {csrf}, "next": {"/"}}
	req, _ = http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "dxl_login", Value: csrf})
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Issue 14 point 5, end to end behind a trusted proxy: 20 wrong passwords from one client do
// not stop the owner signing in from another; the guessing client is refused; the attacker's
// own successful sign-in resets nothing; a client's own X-Forwarded-For is not believed from
// an untrusted peer. The typed name is not in the log.
func TestGuessingDoesNotLockTheOwnerOut(t *testing.T) {
	db := pgtest.New(t)
	const token = "signin-bootstrap-token-00001"
	var logs lockedBuffer
	base, _ := startServeLog(t, []string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=" + token,
		"DXLEDGER_TRUSTED_PROXIES=127.0.0.1/32"}, &logs)
	admin := client{t, base, token}
	admin.do("POST", "/api/v1/users", map[string]any{"name": "Chủ tài khoản", "role": "steering_committee", "password": "mật-khẩu-thật-sự"}).must(t, 201, "owner")
	admin.do("POST", "/api/v1/users", map[string]any{"name": "Kẻ tấn công", "role": "steering_committee", "password": "mật-khẩu-kẻ-xấu"}).must(t, 201, "attacker")
	codes := map[int]int{}
	for i := range 20 {
		if i == 5 {
			// The attacker signs in to their own account from the same address.
			if code := signInHTTP(t, base, "Kẻ tấn công", "mật-khẩu-kẻ-xấu", "203.0.113.5"); code != http.StatusSeeOther {
				t.Fatalf("the attacker's own sign-in: %d", code)
			}
		}
		codes[signInHTTP(t, base, "Chủ tài khoản", "đoán-thử-"+string(rune('a'+i))+"-mật-khẩu", "203.0.113.5")]++
	}
	if codes[http.StatusUnauthorized] != 10 || codes[http.StatusTooManyRequests] != 10 {
		t.Errorf("20 guesses from one client: %v, want 10 refused as wrong and 10 throttled", codes)
	}
	start := time.Now()
	if code := signInHTTP(t, base, "Chủ tài khoản", "mật-khẩu-thật-sự", "198.51.100.7"); code != http.StatusSeeOther {
		t.Errorf("the owner from another client: %d, want 303 signed in", code)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the owner waited %v", d)
	}
	if code := signInHTTP(t, base, "Kẻ tấn công", "mật-khẩu-kẻ-xấu", "203.0.113.5"); code != http.StatusTooManyRequests {
		t.Errorf("the guessing client after the owner's success: %d, want still 429", code)
	}
	if strings.Contains(logs.String(), "đoán-thử") || strings.Contains(logs.String(), "Chủ tài khoản") {
		t.Errorf("typed sign-in names or passwords reached the log")
	}
}

// lockedBuffer is a log written by the server while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServeLog is startServe with the log written to w.
func startServeLog(t *testing.T, environ []string, w io.Writer) (string, func() error) {
	t.Helper()
	return startServeTo(t, []string{"serve", "--addr", "127.0.0.1:0"}, environ, w)
}

// `dxledger user create` for operators who script: the password is read from the terminal (here
// a pipe), the account is recorded by the system on its stream, and it signs in.
func TestUserCreateCommand(t *testing.T) {
	db := pgtest.New(t)
	env := []string{"DXLEDGER_DATABASE_URL=" + db.URL}
	stdin = strings.NewReader("mật-khẩu-từ-dòng-lệnh\n")
	defer func() { stdin = os.Stdin }()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"user", "create", "--name", "Quản trị viên", "--role", "admin", "--token"}, env, &out, io.Discard); err != nil {
		t.Fatalf("user create: %v\n%s", err, out.String())
	}
	tok := ""
	for _, l := range strings.Split(out.String(), "\n") {
		if s, ok := strings.CutPrefix(l, "token (shown once): "); ok {
			tok = s
		}
	}
	stdin = strings.NewReader("ngắn\n")
	if err := run(context.Background(), []string{"user", "create", "--name", "B", "--role", "admin"}, env, io.Discard, io.Discard); err == nil {
		t.Error("a short password was accepted")
	}
	if err := run(context.Background(), []string{"user", "create", "--name", "C", "--role", "focal_point"}, env, io.Discard, io.Discard); err == nil {
		t.Error("a focal point without a unit was accepted")
	}
	base, _ := startServe(t, []string{"serve", "--addr", "127.0.0.1:0"}, env)
	if code, _ := get(t, base+"/api/v1/me", tok); code != 200 {
		t.Errorf("the command's token: %d", code)
	}
	if code := signInHTTP(t, base, "Quản trị viên", "mật-khẩu-từ-dòng-lệnh", ""); code != http.StatusSeeOther {
		t.Errorf("signing in with the command's password: %d", code)
	}
	var actor string
	if err := db.Pool.QueryRow(context.Background(), `SELECT actor FROM events WHERE event_type = 'account_created.v1'`).Scan(&actor); err != nil || actor != "system" {
		t.Errorf("the account's creation recorded by %q (%v), want system", actor, err)
	}
}
