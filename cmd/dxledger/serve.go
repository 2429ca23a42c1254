package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"strings"
	"time"

	"github.com/dxledger/dxledger/config"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/eventstore/wmbridge"
	"github.com/dxledger/dxledger/httpapi"
	"github.com/dxledger/dxledger/internal/demo"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/projections"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/dxledger/dxledger/projections/readmodel"
	"github.com/dxledger/dxledger/webui"
	"github.com/dxledger/dxledger/workflows"
	"github.com/dxledger/dxledger/workflows/definition"
	"github.com/dxledger/dxledger/workflows/dtiframe"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func cmdServe(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	return runServer(ctx, "serve", args, environ, stdout, stderr)
}

// cmdDemo serves as serve does, with the Đồng Tháp 2022 scenario loaded (once: loading it
// again records nothing new) and sample tokens printed.
func cmdDemo(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	return runServer(ctx, "demo", args, environ, stdout, stderr)
}

func runServer(ctx context.Context, name string, args, environ []string, stdout, stderr io.Writer) error {
	cfg, _, err := loadConfig(name, args, environ, stderr, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, err := openDatabase(ctx, cfg, log, false, reportsWarmer(cfg, log).tune)
	if err != nil {
		return err
	}
	defer db.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	store, err := eventstore.New(db.Pool, eventstore.Config{Logger: log, Registerer: reg})
	if err != nil {
		return err
	}
	defer store.Close()

	defs, err := loadDefinitions(cfg.WorkflowFile)
	if err != nil {
		return err
	}
	frameworks, err := dtiframe.Load(cfg.DTIFrameworksDir)
	if err != nil {
		return err
	}
	// Accounts are events of the store too; who may take part in a two-person rule is read
	// from them (DESIGN.md invariant 15).
	ids := identity.New(db.Pool, identity.Config{Events: store, TokenTTL: cfg.TokenTTL, IdleTimeout: cfg.SessionIdleTimeout})
	if n, err := ids.Backfill(ctx); err != nil {
		return err
	} else if n > 0 {
		log.Info("accounts given their first event", "count", n)
	}
	ids.CacheTokens(ctx) // a token's account kept ≤ 2 s, forgotten at every change (identity/tokencache.go)
	proxies, err := config.ParseProxies(cfg.TrustedProxies)
	if err != nil {
		return err
	}
	handler, err := workflows.NewHandler(workflows.Config{Store: store, Definitions: defs, Frameworks: frameworks, Location: cfg.Location, Logger: log, Duties: ids,
		Registerer: reg, UnitsLock: workflows.AdvisoryLock(db.Pool, "unit commands"),
		SameAsLock: workflows.AdvisoryLock(db.Pool, "same-as markings")})
	if err != nil {
		return err
	}
	// The process managers react to what is new; what is older is found by their clock ticks.
	now, err := store.LastCommitted(ctx)
	if err != nil {
		return err
	}
	runner, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: store, Logger: log,
		Projections: readmodel.All(), Registerer: reg})
	if err != nil {
		return err
	}
	bridge, err := wmbridge.NewSubscriber(store, wmbridge.SubscriberConfig{Logger: log, From: now})
	if err != nil {
		return err
	}
	reports := projections.NewReports(db.Pool, nil, cfg.Location)
	if err := reg.Register(projections.NewStateCollector(reports)); err != nil {
		return err
	}
	// Background work — the process managers and the projections — stops before the database
	// closes, however runServer returns.
	bgCtx, stopBackground := context.WithCancel(ctx)
	managersDone, projectorDone := make(chan error, 1), make(chan error, 1)
	go func() {
		managersDone <- workflows.RunManagers(bgCtx, handler, workflows.ManagersConfig{Events: bridge, Due: reports, Logger: log,
			FlagsPerTick: cfg.DeadlineFlagsPerTick, Registerer: reg})
	}()
	go func() { projectorDone <- runner.FollowAll(bgCtx) }()
	defer func() {
		stopBackground()
		if err := <-managersDone; err != nil {
			log.Error("process managers", "err", err)
		}
		if err := <-projectorDone; err != nil {
			log.Error("projections", "err", err)
		}
		bridge.Close()
	}()

	if cfg.BootstrapToken != "" {
		created, err := ids.Bootstrap(ctx, cfg.BootstrapToken)
		if err != nil {
			return err
		}
		if created {
			log.Info("administrator created from DXLEDGER_BOOTSTRAP_TOKEN")
		}
	}
	if name == "demo" {
		// The demo records its history as it would have been entered, through a recorder of
		// its own (internal/demo); the server's store keeps the real clock.
		rec, err := demo.NewRecorder(db.Pool, cfg.Location, log)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		sum, err := demo.Load(ctx, rec, ids)
		rec.Close()
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		sum.Print(stdout, cfg.HTTPAddr)
		// A visitor's first look at the demo is its reports: the server listens once the
		// projections have applied the history just loaded (bounded), so that the first page
		// does not show half of it (a report read at once counted 4 of the 15 indicators).
		if head, err := store.LastCommitted(ctx); err != nil {
			return fmt.Errorf("demo: %w", err)
		} else if head != eventstore.Start {
			if err := reports.WaitFor(ctx, head.String(), 2*time.Minute); err != nil {
				log.Warn("demo: the projections had not applied the loaded history after 2 minutes; serving anyway", "err", err)
			}
		}
	}
	// The API and the pages read reports through a cache that answers from memory while the
	// projections' checkpoints stand still.
	cached := projections.NewCached(reports)
	metrics := http.Handler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	var metricsLn net.Listener
	if cfg.MetricsAddr != "" {
		// /metrics on its own address only: the main one does not serve it.
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return fmt.Errorf("listen for metrics: %w", err)
		}
		srv := &http.Server{Handler: metrics, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			go func() { <-ctx.Done(); _ = srv.Close() }()
			_ = srv.Serve(metricsLn)
		}()
		metrics = nil
	} else {
		metrics = guardMetrics(metrics, cfg.MetricsToken)
	}
	api, err := httpapi.New(httpapi.Deps{
		Handler:    handler,
		Users:      ids,
		Reports:    cached,
		Location:   cfg.Location,
		Health:     store.Ping,
		Metrics:    metrics,
		Registerer: reg,
		Auth:       ids,
		Logger:     log,
		States:     reports,
		Followers:  func() []httpapi.Follower { return followersOf(runner) },
		MaxLag:     cfg.ReadinessMaxLag,
	})
	if err != nil {
		return err
	}
	web, err := webui.New(webui.Deps{Handler: handler, Users: ids, Reports: cached, Location: cfg.Location, Logger: log,
		SessionTTL: cfg.SessionTTL, TrustedProxies: proxies})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// The one line a person (or a test) looks for: where to connect.
	fmt.Fprintf(stdout, "dxledger listening on http://%s\n", ln.Addr())
	if metricsLn != nil {
		fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", metricsLn.Addr())
	}
	if err := printSetupLink(ctx, ids, stdout, ln.Addr().String()); err != nil && ctx.Err() == nil {
		return err
	}
	return httpapi.Serve(ctx, ln, routes(api, web, guardMetrics(profiles(), cfg.MetricsToken)), cfg.ShutdownTimeout, log)
}

// printSetupLink prints, on a store with no administrator, the one-time link where the first
// administrator chooses a name and password (valid until used or for 24 hours).
func printSetupLink(ctx context.Context, ids *identity.Store, w io.Writer, addr string) error {
	secret, err := ids.NewSetupLink(ctx)
	if err != nil || secret == "" {
		return err
	}
	fmt.Fprintf(w, "First run: no administrator yet. Open http://%s/setup/%s within 24 hours to choose the first administrator's name and password (the link works once).\n", addr, secret)
	return nil
}

// guardMetrics serves /metrics to a bearer of token when one is configured, else to loopback
// clients only: the figures tell an outsider too much about the server.
func guardMetrics(h http.Handler, token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || !identity.SameToken(strings.TrimSpace(got), token) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="dxledger-metrics"`)
				http.Error(w, "metrics: send Authorization: Bearer <metrics_token>", http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
			return
		}
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip, perr := netip.ParseAddr(host); err != nil || perr != nil || !ip.Unmap().IsLoopback() || r.Header.Get("X-Forwarded-For") != "" {
			http.Error(w, "metrics: served to this machine only; set metrics_token or metrics_addr (README, Configuration)", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// followersOf is the runner's status as the readiness answer shows it.
func followersOf(r *projector.Runner) []httpapi.Follower {
	var out []httpapi.Follower
	for _, s := range r.Status() {
		out = append(out, httpapi.Follower{Name: s.Name, State: s.State, Since: s.Since, Restarts: s.Restarts, LastError: s.LastError})
	}
	return out
}

// profiles serves Go's runtime profiles (net/http/pprof: heap, goroutines, CPU), to whoever
// may read the metrics: what holds a server's memory is found with
// `go tool pprof http://…/debug/pprof/heap`.
func profiles() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// routes serves the API under /api/ (with /healthz and /metrics), the runtime profiles under
// /debug/pprof/ (guarded as /metrics is) and the web pages beside it.
func routes(api, web, profiles http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/debug/pprof/", profiles)
	mux.Handle("/api/", api)
	mux.Handle("/healthz", api)
	mux.Handle("/readyz", api)
	mux.Handle("/metrics", api)
	mux.Handle("/", web)
	return mux
}

// loadDefinitions returns the embedded workflow definitions (versions 1 and 2) and, when
// configured, the administrator's file beside them (numbered 3 or more): items keep the
// version they started under.
func loadDefinitions(file string) (*definition.Registry, error) {
	defs := definition.Builtin()
	if file != "" {
		d, err := definition.Load(file)
		if err != nil {
			return nil, err
		}
		defs = append(defs, d)
	}
	return definition.NewRegistry(defs...)
}
