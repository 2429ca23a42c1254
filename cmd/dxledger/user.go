package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/internal/textcheck"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// stdin is where `dxledger user create` reads the password; a variable so that tests can give
// it one. On a terminal the password is asked for twice and not echoed.
var stdin io.Reader = os.Stdin

// cmdUser is `dxledger user create --name N --role R [--unit U] [--token]`: for operators who
// script, an account made from the command line (by the system actor, recorded on the account's
// stream), its password asked for on the terminal without echo, or read as one line from a
// pipe. It runs beside a serving process on the same data directory.
func cmdUser(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprint(stderr, "usage: dxledger user create --name NAME --role ROLE [--unit CODE] [--token] [flags]\n")
		return errUsage
	}
	var name, roleName, unitCode string
	var withToken bool
	cfg, _, err := loadConfig("user create", args[1:], environ, stderr, func(fs *pflag.FlagSet) {
		fs.StringVar(&name, "name", "", "the person's sign-in name")
		fs.StringVar(&roleName, "role", "", "admin, focal_point, finance_officer or steering_committee")
		fs.StringVar(&unitCode, "unit", "", "a focal point's unit code")
		fs.BoolVar(&withToken, "token", false, "also print a bearer token (shown once)")
	})
	if err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if clean, err := textcheck.Clean("name", name); err != nil || name == "" || len([]rune(name)) > 200 {
		return errors.New("--name: give the person's name (one line, at most 200 characters)")
	} else {
		name = clean
	}
	rl, err := role.Parse(roleName)
	if err != nil {
		return errors.New("--role: one of admin, focal_point, finance_officer, steering_committee")
	}
	if (rl == role.FocalPoint) != (unitCode != "") {
		return errors.New("--unit: a focal point, and only a focal point, is bound to one unit")
	}
	password, err := readPassword(stderr)
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
	ids := identity.New(db.Pool, identity.Config{Events: store, TokenTTL: cfg.TokenTTL, IdleTimeout: cfg.SessionIdleTimeout})
	u, token, err := ids.Create(ctx, identity.Actor{UserID: identity.System.UserID, Role: identity.System.Role, RequestID: "cli"},
		identity.NewUser{Name: name, Role: string(rl), UnitCode: unitCode, Password: password, NoToken: !withToken, TokenName: "cli"})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %s created: %s (%s)\n", u.ID, u.Name, u.Role)
	if token != "" {
		fmt.Fprintf(stdout, "token (shown once): %s\n", token)
	}
	return nil
}

// readPassword asks for the password twice on a terminal, without echo; from a pipe it reads
// one line.
func readPassword(prompt io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(prompt, "Password (at least 12 characters): ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", err
		}
		fmt.Fprint(prompt, "Password again: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", errors.New("the two passwords differ")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password given: type it on the terminal, or pipe it as one line")
	}
	return line, nil
}
