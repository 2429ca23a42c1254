package wmbridge_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/eventstore/wmbridge"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A process manager on watermill's router: it consumes the "project" topic — the events of
// every project-… stream, in the store's global order — and publishes a reminder, which the
// store keeps as a message of its own.
func Example() {
	ctx := context.Background()
	store, done, err := exampleStore(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

	// A command handler appended a domain event.
	_, err = store.Append(ctx, "project-01HX3J7Q8V2M4N6P8R0T2W4Y6B", eventstore.NoStream, []eventstore.Event{{
		Type: "project.proposed.v1",
		Data: []byte(`{"name": "Nông nghiệp số", "estimate": 18000000000}`),
		Metadata: eventstore.Metadata{Actor: "u-17", Role: "focal_point", Unit: "SO-NN",
			OccurredOn: time.Date(2022, 4, 15, 0, 0, 0, 0, time.UTC)},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}

	sub, err := wmbridge.NewSubscriber(store, wmbridge.SubscriberConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sub.Close()
	pub, err := wmbridge.NewPublisher(store, wmbridge.PublisherConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}

	logger := watermill.NewSlogLogger(slog.New(slog.DiscardHandler))
	router, err := message.NewRouter(message.RouterConfig{}, logger)
	if err != nil {
		fmt.Println(err)
		return
	}
	router.AddHandler("endorsement", "project", sub, "reminders", pub,
		func(msg *message.Message) ([]*message.Message, error) {
			rec, err := wmbridge.RecordFromMessage(msg)
			if err != nil {
				return nil, err
			}
			fmt.Println(rec.Type, rec.StreamID, "version", rec.Version, "on", rec.Metadata.OccurredOn.Format("02/01/2006"), "by", rec.Metadata.Actor)
			// The UUID makes the reminder idempotent: if this handler runs again for the
			// same event, the store keeps one reminder.
			reminder := message.NewMessage("endorse-"+rec.StreamID, []byte(`{"to": "steering_committee"}`))
			reminder.Metadata.Set(wmbridge.MetadataCausationID, rec.ID.String())
			return []*message.Message{reminder}, nil
		})

	reminders, err := sub.Subscribe(ctx, "reminders")
	if err != nil {
		fmt.Println(err)
		return
	}
	go func() { _ = router.Run(ctx) }()
	defer router.Close()

	msg := <-reminders
	fmt.Println("reminder", msg.UUID, string(msg.Payload))
	msg.Ack()
	// Output:
	// project.proposed.v1 project-01HX3J7Q8V2M4N6P8R0T2W4Y6B version 1 on 15/04/2022 by u-17
	// reminder endorse-project-01HX3J7Q8V2M4N6P8R0T2W4Y6B {"to": "steering_committee"}
}

// exampleStore gives an example a store on a fresh migrated database in the test binary's
// cluster: pgtest.New needs a testing.TB, which an example does not have.
func exampleStore(ctx context.Context) (*eventstore.Store, func(), error) {
	cluster, err := pgtest.Shared()
	if err != nil {
		return nil, nil, err
	}
	admin, err := pgx.Connect(ctx, cluster.URL("postgres"))
	if err != nil {
		return nil, nil, err
	}
	name := fmt.Sprintf("example_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		return nil, nil, err
	}
	drop := func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		_ = admin.Close(context.Background())
	}
	pool, err := pgxpool.New(ctx, cluster.URL(name))
	if err != nil {
		drop()
		return nil, nil, err
	}
	store, err := eventstore.New(pool, eventstore.Config{PollInterval: 50 * time.Millisecond})
	if err == nil {
		_, err = migrations.Up(ctx, pool)
	}
	if err != nil {
		pool.Close()
		drop()
		return nil, nil, err
	}
	return store, func() { store.Close(); pool.Close(); drop() }, nil
}
