package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/internal/pgtest"
)

var setupLine = regexp.MustCompile(`Open (http://\S+/setup/\S+) within 24 hours`)

// startFirstRun runs serve on an empty store and returns its base URL and the setup link it
// printed ("" when it printed none).
func startFirstRun(t *testing.T, environ []string) (base, link string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, environ, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() { cancel(); <-done })
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("serve exited before listening")
			}
			if m := listenLine.FindStringSubmatch(l); m != nil {
				base = m[1]
				// The setup line, if any, follows the listening line at once.
				select {
				case l := <-lines:
					if m := setupLine.FindStringSubmatch(l); m != nil {
						link = m[1]
					}
				case <-time.After(2 * time.Second):
				}
				go func() {
					for range lines {
					}
				}()
				return base, link
			}
		case <-timeout:
			t.Fatal("serve did not print its address within 60s")
		}
	}
}

// Issue 14 point 8 and the accounts pages: on an empty store serve prints a one-time setup link
// where the first administrator chooses a name and password and lands signed in; the link works
// once. The administrator then creates an officer, suspends and reactivates them and issues a
// token on the account's page, whose history shows each change; the officer changes their own
// password and makes their own token on their page. Pages are never cached.
func TestFirstRunAndAccountPages(t *testing.T) {
	db := pgtest.New(t)
	base, link := startFirstRun(t, []string{"DXLEDGER_DATABASE_URL=" + db.URL})
	if link == "" || !strings.HasPrefix(link, base+"/setup/") {
		t.Fatalf("serve on an empty store printed no setup link (base %s, link %q)", base, link)
	}
	b := newBrowser(t, base)
	b.open(strings.TrimPrefix(link, base))
	b.fill("#setup-name", "Nguyễn Quản Trị")
	b.fill("#setup-password", "mật-khẩu-quản-trị")
	b.fill("#setup-password2", "khác-hẳn-mật-khẩu")
	b.submit("#form-setup button")
	if !strings.Contains(b.text("#form-setup"), "không khớp") {
		t.Errorf("two different passwords were accepted")
	}
	b.fill("#setup-password", "mật-khẩu-quản-trị")
	b.fill("#setup-password2", "mật-khẩu-quản-trị")
	b.submit("#form-setup button")
	if p := b.path(); p != "/admin/users" || b.text("#who") != "Nguyễn Quản Trị" {
		t.Fatalf("after setup: at %s as %q, want /admin/users signed in", p, b.text("#who"))
	}
	if code, _ := get(t, link, ""); code != http.StatusNotFound {
		t.Errorf("the setup link a second time: %d, want 404", code)
	}
	resp, err := http.Get(base + "/login")
	if err != nil || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the sign-in page: Cache-Control %q (%v), want no-store", resp.Header.Get("Cache-Control"), err)
	}

	// An officer, created on the users page.
	b.fill("#user-name", "Lê Văn Cường")
	b.eval(`document.querySelector("#user-role").value = "finance_officer"`)
	b.fill("#user-password", "mật-khẩu-cán-bộ")
	b.submit("#form-user button")
	href, _ := b.eval(`[...document.querySelectorAll("#users a")].find(a => a.textContent === "Lê Văn Cường").getAttribute("href")`).(string)
	b.open(href)
	officerPage := b.path()
	b.fill("#suspend-reason", "Chuyển công tác")
	b.submit("#form-suspend button")
	if !strings.Contains(b.text("#account-state"), "tạm khóa") {
		t.Errorf("after suspending: %q", b.text("#account-state"))
	}
	b.submit("#form-reactivate button")
	b.fill("#token-name", "máy trạm")
	b.submit("#form-token button")
	if tok := b.text("#new-token code"); !strings.HasPrefix(tok, "dxl_") {
		t.Errorf("the new token shown: %q", tok)
	} else if code, _ := get(t, base+"/api/v1/me", tok); code != 200 {
		t.Errorf("the token made on the page: %d", code)
	}
	b.open(officerPage)
	hist := b.text("#history")
	for _, want := range []string{"account_created.v1", "account_suspended.v1", "token_revoked.v1", "account_reactivated.v1", "token_issued.v1"} {
		if !strings.Contains(hist, want) {
			t.Errorf("the account's history lacks %s:\n%s", want, hist)
		}
	}
	b.signOut()

	// The officer's own page: their password, their token.
	b.signIn("Lê Văn Cường", "mật-khẩu-cán-bộ")
	b.open("/account")
	b.fill("#own-password-current_password", "sai-mật-khẩu-rồi")
	b.fill("#own-password-password", "mật-khẩu-mới-của-tôi")
	b.submit("#form-own-password button")
	if !strings.Contains(b.text("#form-own-password"), "không đúng") {
		t.Errorf("a wrong current password was accepted")
	}
	b.fill("#own-password-current_password", "mật-khẩu-cán-bộ")
	b.fill("#own-password-password", "mật-khẩu-mới-của-tôi")
	b.submit("#form-own-password button")
	if p := b.path(); p != "/account" {
		t.Errorf("after changing the own password: at %s, want /account still signed in", p)
	}
	b.fill("#token-name", "của tôi")
	b.submit("#form-token button")
	if tok := b.text("#new-token code"); !strings.HasPrefix(tok, "dxl_") {
		t.Errorf("own token: %q", tok)
	}
	if !b.has(`#tokens button[id^="revoke-"]`) {
		t.Error("no revoke button beside the own token")
	}
	b.submit(`#tokens button[id^="revoke-"]`)
	if !strings.Contains(b.text("#tokens"), "đã thu hồi") {
		t.Errorf("after revoking: %s", b.text("#tokens"))
	}
}

// With an administrator in the store (here from DXLEDGER_BOOTSTRAP_TOKEN), serve prints no
// setup link.
func TestNoSetupLinkOnceAnAdministratorExists(t *testing.T) {
	db := pgtest.New(t)
	_, link := startFirstRun(t, []string{"DXLEDGER_DATABASE_URL=" + db.URL, "DXLEDGER_BOOTSTRAP_TOKEN=firstrun-bootstrap-token-01"})
	if link != "" {
		t.Errorf("a setup link beside a bootstrap administrator: %s", link)
	}
}
