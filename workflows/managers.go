package workflows

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/dxledger/dxledger/eventstore/wmbridge"
	"github.com/prometheus/client_golang/prometheus"
)

// ManagersConfig configures the process managers.
type ManagersConfig struct {
	// Events is the store's bridge into watermill: the managers follow every event.
	Events message.Subscriber
	// Due is the read model that says which items may have a deadline due.
	Due DueFinder
	// TickEvery is how often deadlines are checked against the clock. Default 1 minute.
	TickEvery time.Duration
	// FlagsPerTick bounds the deadline flags the ticks append, FlagsPerTick a TickEvery
	// (deadline_flags_per_tick). Default DefaultFlagsPerTick.
	FlagsPerTick int
	Logger       *slog.Logger
	// Registerer receives dxledger_deadlines_due_items; nil registers nothing.
	Registerer prometheus.Registerer
}

// ClockTopic is the in-process topic (GoChannel) that carries clock ticks to the managers.
const ClockTopic = "clock.ticked"

// RunManagers runs the process managers on a watermill Router (with its retry and recoverer
// middleware) until ctx ends: the deadline manager follows the store's events through the
// bridge and is woken by clock ticks published on an in-process GoChannel.
func RunManagers(ctx context.Context, h *Handler, cfg ManagersConfig) error {
	if cfg.TickEvery <= 0 {
		cfg.TickEvery = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	logger := watermill.NewSlogLogger(cfg.Logger)
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, logger)
	if err != nil {
		return fmt.Errorf("process managers: %w", err)
	}
	router.AddMiddleware(
		middleware.Recoverer,
		middleware.Retry{MaxRetries: 5, InitialInterval: 100 * time.Millisecond, MaxInterval: 5 * time.Second,
			Multiplier: 2, Logger: logger}.Middleware,
	)
	clock := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1}, logger)
	defer clock.Close()

	d := NewDeadlines(h, cfg.Due)
	d.setPace(cfg.FlagsPerTick, cfg.TickEvery)
	if cfg.Registerer != nil {
		g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "dxledger_deadlines_due_items",
			Help: "Items the read model says have a deadline due that the deadline manager's ticks have still to look at (paced: deadline_flags_per_tick a tick), as of the last tick."},
			func() float64 { return float64(d.Pending()) })
		if err := cfg.Registerer.Register(g); err != nil {
			return fmt.Errorf("process managers: %w", err)
		}
		defer cfg.Registerer.Unregister(g)
	}
	router.AddConsumerHandler("deadlines_follow_events", wmbridge.AllTopics, cfg.Events, d.Handle)
	router.AddConsumerHandler("deadlines_on_tick", ClockTopic, clock, func(msg *message.Message) error {
		return d.Tick(msg.Context())
	})

	go func() {
		t := time.NewTicker(cfg.TickEvery)
		defer t.Stop()
		publish := func() {
			if err := clock.Publish(ClockTopic, message.NewMessage(watermill.NewULID(), nil)); err != nil {
				cfg.Logger.Warn("clock tick not published", "err", err)
			}
		}
		select { // a first look soon after start, then every TickEvery
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Second):
			publish()
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				publish()
			}
		}
	}()
	return router.Run(ctx)
}
