package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

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
	db, err := openDatabase(ctx, cfg, log)
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
	reg.MustRegister(storeCollector{store})

	defs, err := loadDefinitions(cfg.WorkflowFile)
	if err != nil {
		return err
	}
	handler, err := workflows.NewHandler(workflows.Config{Store: store, Definitions: defs, Location: cfg.Location, Logger: log})
	if err != nil {
		return err
	}
	// The process managers react to what is new; what is older is found by their clock ticks.
	now, err := store.LastCommitted(ctx)
	if err != nil {
		return err
	}
	runner, err := projector.NewRunner(projector.RunnerConfig{Pool: db.Pool, Store: store, Logger: log,
		Projections: readmodel.All()})
	if err != nil {
		return err
	}
	bridge, err := wmbridge.NewSubscriber(store, wmbridge.SubscriberConfig{Logger: log, From: now})
	if err != nil {
		return err
	}
	reports := projections.NewReports(db.Pool, nil, cfg.Location)
	// Background work — the process managers and the projections — stops before the database
	// closes, however runServer returns.
	bgCtx, stopBackground := context.WithCancel(ctx)
	managersDone, projectorDone := make(chan error, 1), make(chan error, 1)
	go func() {
		managersDone <- workflows.RunManagers(bgCtx, handler, workflows.ManagersConfig{Events: bridge, Due: reports, Logger: log})
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

	ids := identity.New(db.Pool, nil)
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
		sum, err := demo.Load(ctx, handler, ids)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		printDemo(stdout, cfg.HTTPAddr, sum)
	}
	// The API and the pages read reports through a cache that answers from memory while the
	// projections' checkpoints stand still.
	cached := projections.NewCached(reports)
	api, err := httpapi.New(httpapi.Deps{
		Handler:    handler,
		Users:      ids,
		Reports:    cached,
		Location:   cfg.Location,
		Health:     store.Ping,
		Metrics:    promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
		Registerer: reg,
		Auth:       ids,
		Logger:     log,
	})
	if err != nil {
		return err
	}
	web, err := webui.New(webui.Deps{Handler: handler, Users: ids, Reports: cached, Location: cfg.Location, Logger: log})
	if err != nil {
		return err
	}
	return serveHTTP(ctx, cfg.HTTPAddr, cfg.ShutdownTimeout, routes(api, web), stdout, log)
}

// routes serves the API under /api/ (with /healthz and /metrics) and the web pages beside it.
func routes(api, web http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle("/healthz", api)
	mux.Handle("/metrics", api)
	mux.Handle("/", web)
	return mux
}

func printDemo(w io.Writer, addr string, sum demo.Summary) {
	fmt.Fprintf(w, "Đồng Tháp demo loaded: %d units, %d model registrations, %d projects (2022), the 2025 reorganisation.\n",
		sum.Units, sum.Models, sum.Projects)
	fmt.Fprintln(w, "Sample tokens (Authorization: Bearer <token>):")
	for _, t := range sum.Tokens {
		fmt.Fprintf(w, "  %-40s %-19s %-10s %s\n", t.Who, t.Role, t.Unit, t.Token)
	}
	fmt.Fprintf(w, "Web pages: http://%s/ — sign in with a name above and the password %q.\n", addr, demo.Password)
	base := "http://" + addr + "/api/v1"
	fmt.Fprintln(w, "Try:")
	fmt.Fprintf(w, "  %s/reports/model-counts?group_by=unit_kind&as_of=2022-12-31\n", base)
	fmt.Fprintf(w, "  %s/reports/funding-gaps?group_by=unit\n", base)
	fmt.Fprintf(w, "  %s/reports/completion?group_by=unit&kind=project&as_of=2023-12-31\n", base)
}

// loadDefinitions returns the embedded workflow definition and, when configured, the
// administrator's file beside it: items keep the version they started under.
func loadDefinitions(file string) (*definition.Registry, error) {
	defs := []*definition.Definition{definition.Default()}
	if file != "" {
		d, err := definition.Load(file)
		if err != nil {
			return nil, err
		}
		defs = append(defs, d)
	}
	return definition.NewRegistry(defs...)
}

// serveHTTP listens on addr and serves until ctx ends, then lets in-flight requests finish
// within timeout.
func serveHTTP(ctx context.Context, addr string, timeout time.Duration, h http.Handler, stdout io.Writer, log interface {
	Info(string, ...any)
}) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	// The one line a person (or a test) looks for: where to connect.
	fmt.Fprintf(stdout, "dxledger listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", timeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// storeCollector exports the store's size on each scrape.
type storeCollector struct{ store *eventstore.Store }

var (
	eventsDesc  = prometheus.NewDesc("dxledger_store_events", "Events in the store (estimated above 100,000).", nil, nil)
	lastSeqDesc = prometheus.NewDesc("dxledger_store_last_sequence", "Last global sequence number handed out.", nil, nil)
)

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- eventsDesc; ch <- lastSeqDesc }

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.store.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(eventsDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(eventsDesc, prometheus.GaugeValue, float64(st.Events))
	ch <- prometheus.MustNewConstMetric(lastSeqDesc, prometheus.CounterValue, float64(st.LastSeq))
}
