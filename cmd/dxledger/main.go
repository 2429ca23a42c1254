// Command dxledger is the one binary of dxledger: the server, its database tools, the
// benchmarks (internal/bench) and a terminal client (on httpapi.Client). This package only
// parses flags and configuration, wires the packages together and dispatches; run is what
// main and the tests call.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	_ "time/tzdata" // the province's time zone must load on machines without zone data
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "dxledger:", err)
		}
		os.Exit(1)
	}
}

// errUsage is returned after usage has been printed.
var errUsage = errors.New("usage")

// errHelp is returned after the help a user asked for (--help, -h) has been printed: run
// answers nil for it, so the command exits 0.
var errHelp = errors.New("help")

// groups are the commands whose first argument is a subcommand, with their usage: "dxledger
// bench --help" prints it and exits 0.
var groups = map[string]string{
	"bench": benchUsage, "report": clientUsage, "model": clientUsage, "project": clientUsage, "funding": clientUsage,
	"projections": "usage: dxledger projections retry [units|items|indicators ...] [flags]\n",
	"indicator":   indicatorUsage, "dti": indicatorUsage,
	"user": "usage: dxledger user create --name NAME --role ROLE [--unit CODE] [--token] [flags]\n",
}

func isHelp(arg string) bool { return arg == "--help" || arg == "-h" || arg == "help" }

const usage = `dxledger — tracks a province's digital-transformation programme as events.

Usage:
  dxledger serve     [flags]   serve the API (starts a private PostgreSQL unless DXLEDGER_DATABASE_URL is set)
  dxledger demo      [flags]   serve with the Đồng Tháp 2022 scenario loaded; prints sample tokens
  dxledger migrate   [flags]   apply database migrations and exit
  dxledger verify    [flags]   check every stream's hash chain; names rows changed by hand;
                               --anchor-out FILE writes an anchor, --anchor FILE checks one
  dxledger backup DIR [flags]  a consistent backup of the store, taken while it serves
  dxledger restore DIR --data-dir NEW   bring a backup back into a new, empty data directory
  dxledger user create --name N --role R [--unit U] [--token]   create an account; the password is asked on the terminal
  dxledger projector [flags]   keep the report projections up to date (a worker beside serve)
  dxledger rebuild   [units|items|indicators ...] [flags]   rebuild projections from the first event
  dxledger projections retry [units|items|indicators ...] [flags]   apply set-aside events again, once their cause is fixed
  dxledger bench append|read|generate|lag|reports|http [flags]   benchmarks (see "dxledger bench")
  dxledger report | model | project | funding ...   the terminal client (see "dxledger report")
  dxledger indicator | dti ...   indicators and the DTI from the terminal (see "dxledger dti")
  dxledger help

Run "dxledger <command> --help" for the flags of a command.
`

func run(ctx context.Context, args []string, environ []string, stdout, stderr io.Writer) error {
	if len(args) >= 2 && groups[args[0]] != "" && isHelp(args[1]) {
		fmt.Fprint(stdout, groups[args[0]])
		return nil
	}
	err := dispatch(ctx, args, environ, stdout, stderr)
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], environ, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, args[1:], environ, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, args[1:], environ, stdout, stderr)
	case "verify":
		return cmdVerify(ctx, args[1:], environ, stdout, stderr)
	case "user":
		return cmdUser(ctx, args[1:], environ, stdout, stderr)
	case "backup":
		return cmdBackup(ctx, args[1:], environ, stdout, stderr)
	case "restore":
		return cmdRestore(ctx, args[1:], environ, stdout, stderr)
	case "projector":
		return cmdProjector(ctx, args[1:], environ, stdout, stderr)
	case "rebuild":
		return cmdRebuild(ctx, args[1:], environ, stdout, stderr)
	case "projections":
		if len(args) < 2 || args[1] != "retry" {
			fmt.Fprint(stderr, "usage: dxledger projections retry [units|items|indicators ...] [flags]\n")
			return errUsage
		}
		return cmdRetry(ctx, args[2:], environ, stdout, stderr)
	case "bench":
		return cmdBench(ctx, args[1:], environ, stdout, stderr)
	case "report":
		return cmdReport(ctx, args[1:], environ, stdout, stderr)
	case "model", "project":
		return cmdPropose(ctx, args[0], args[1:], environ, stdout, stderr)
	case "funding":
		return cmdFunding(ctx, args[1:], environ, stdout, stderr)
	case "indicator":
		return cmdIndicator(ctx, args[1:], environ, stdout, stderr)
	case "dti":
		return cmdDTI(ctx, args[1:], environ, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
		return errUsage
	}
}
