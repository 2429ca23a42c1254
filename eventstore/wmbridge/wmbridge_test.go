package wmbridge_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/eventstore/wmbridge"
	"github.com/dxledger/dxledger/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newStore returns a store on a fresh database, and the database.
func newStore(t *testing.T) (*eventstore.Store, *pgtest.DB) {
	t.Helper()
	db := pgtest.New(t)
	store, err := eventstore.New(db.Pool, eventstore.Config{PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	return store, db
}

func newSubscriber(t *testing.T, store *eventstore.Store, cfg wmbridge.SubscriberConfig) *wmbridge.Subscriber {
	t.Helper()
	sub, err := wmbridge.NewSubscriber(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

func newPublisher(t *testing.T, store *eventstore.Store) *wmbridge.Publisher {
	t.Helper()
	pub, err := wmbridge.NewPublisher(store, wmbridge.PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// receive returns the next message, failing the test after a few seconds.
func receive(t *testing.T, msgs <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case msg, ok := <-msgs:
		if !ok {
			t.Fatal("channel closed, want a message")
		}
		return msg
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10s")
	}
	return nil
}

// nothing checks that no message comes within d.
func nothing(t *testing.T, msgs <-chan *message.Message, d time.Duration) {
	t.Helper()
	select {
	case msg, ok := <-msgs:
		if ok {
			t.Fatalf("got message %s (%s), want none", msg.UUID, msg.Payload)
		}
	case <-time.After(d):
	}
}

// TestPubSub runs watermill's conformance suite. Every constructor call makes a new Publisher
// and Subscriber on one shared database and store: the store is the broker, and a new
// instance must see what earlier ones published (Persistent). The suite runs in its short
// mode (ForceShort: about 10s with -race on two cores) unless DXLEDGER_WMBRIDGE_FULL_SUITE is
// set (then up to 10,000 messages a test: about 2 minutes). TestReconnect is skipped for want
// of a RestartServiceCommand.
func TestPubSub(t *testing.T) {
	store, db := newStore(t)
	features := tests.Features{
		ConsumerGroups:                   true,
		ExactlyOnceDelivery:              false,
		GuaranteedOrder:                  true,
		Persistent:                       true,
		NewSubscriberReceivesOldMessages: true,
		ForceShort:                       os.Getenv("DXLEDGER_WMBRIDGE_FULL_SUITE") == "",
	}
	construct := func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
		pub, err := wmbridge.NewPublisher(store, wmbridge.PublisherConfig{})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := wmbridge.NewSubscriber(store, wmbridge.SubscriberConfig{
			ConsumerGroup:   group,
			Pool:            db.Pool,
			NackResendSleep: 10 * time.Millisecond,
			RetryInterval:   50 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		return pub, sub
	}
	tests.TestPubSub(t, features,
		func(t *testing.T) (message.Publisher, message.Subscriber) { return construct(t, "") },
		construct)
}

var _ message.SubscribeInitializer = (*wmbridge.Subscriber)(nil)

// TestDomainEventMessage: an event appended by the store arrives on its stream's topic with
// every metadata field, and RecordFromMessage gives back the stored record.
func TestDomainEventMessage(t *testing.T) {
	t.Parallel()
	store, _ := newStore(t)
	ctx := context.Background()
	day := time.Date(2022, 4, 15, 0, 0, 0, 0, time.UTC)
	ev := eventstore.Event{
		Type: "project.proposed.v1",
		Data: []byte(`{"name":"Nông nghiệp số","estimate":12000000000}`),
		Metadata: eventstore.Metadata{
			Actor: "u-17", Role: "focal_point", Unit: "SO-NN", RequestID: "req-9",
			CorrelationID: "corr-1", CausationID: "cmd-3", OccurredOn: day,
		},
	}
	// Topic "project" takes stream "project" and "project-…", not "projector-…".
	for _, stream := range []string{"projector-1", "project-01HX", "project"} {
		if _, err := store.Append(ctx, stream, eventstore.NoStream, []eventstore.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	want, err := store.ReadStream(ctx, "project-01HX", 0)
	if err != nil || len(want) != 1 {
		t.Fatalf("read project-01HX: %d records, %v; want 1", len(want), err)
	}
	r := want[0]

	sub := newSubscriber(t, store, wmbridge.SubscriberConfig{})
	msgs, err := sub.Subscribe(ctx, "project")
	if err != nil {
		t.Fatal(err)
	}
	msg := receive(t, msgs)
	if msg.UUID != r.ID.String() || string(msg.Payload) != string(r.Data) {
		t.Errorf("message %s payload %s, want %s payload %s", msg.UUID, msg.Payload, r.ID, r.Data)
	}
	wantMD := map[string]string{
		"type": "project.proposed.v1", "stream_id": "project-01HX", "version": "1",
		"position": r.Position.String(), "occurred_on": "2022-04-15",
		"recorded_at": r.Metadata.RecordedAt.UTC().Format(time.RFC3339Nano),
		"actor":       "u-17", "role": "focal_point", "unit": "SO-NN", "request_id": "req-9",
		"correlation_id": "corr-1", "causation_id": "cmd-3",
	}
	if len(msg.Metadata) != len(wantMD) {
		t.Errorf("metadata %v, want %v", msg.Metadata, wantMD)
	}
	for k, v := range wantMD {
		if got := msg.Metadata.Get(k); got != v {
			t.Errorf("metadata %s = %q, want %q", k, got, v)
		}
	}
	got, err := wmbridge.RecordFromMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !sameRecord(got, r) {
		t.Errorf("RecordFromMessage = %+v, want %+v", got, r)
	}
	msg.Ack()

	msg = receive(t, msgs)
	if s := msg.Metadata.Get(wmbridge.MetadataStreamID); s != "project" {
		t.Errorf("second message from stream %q, want project", s)
	}
	msg.Ack()
	nothing(t, msgs, 200*time.Millisecond)
}

func sameRecord(a, b eventstore.Record) bool {
	am, bm := a.Metadata, b.Metadata
	return a.ID == b.ID && a.StreamID == b.StreamID && a.Version == b.Version && a.Type == b.Type &&
		string(a.Data) == string(b.Data) && a.Position == b.Position &&
		am.OccurredOn.Equal(bm.OccurredOn) && am.RecordedAt.Equal(bm.RecordedAt) &&
		am.Actor == bm.Actor && am.Role == bm.Role && am.Unit == bm.Unit && am.RequestID == bm.RequestID &&
		am.CorrelationID == bm.CorrelationID && am.CausationID == bm.CausationID
}

// TestNackRedelivers: a nacked message comes again, the same, before the next one, and its
// context ends at the Nack.
func TestNackRedelivers(t *testing.T) {
	t.Parallel()
	store, _ := newStore(t)
	pub := newPublisher(t, store)
	first := message.NewMessage(watermill.NewUUID(), []byte{0, 1, 2, 0xff})
	first.Metadata.Set("k", "v")
	second := message.NewMessage(watermill.NewUUID(), []byte("second"))
	if err := pub.Publish("jobs", first, second); err != nil {
		t.Fatal(err)
	}
	sub := newSubscriber(t, store, wmbridge.SubscriberConfig{NackResendSleep: time.Millisecond})
	msgs, err := sub.Subscribe(context.Background(), "jobs")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		msg := receive(t, msgs)
		if !msg.Equals(first) {
			t.Fatalf("delivery %d: %s %v %q, want %s %v %q", i, msg.UUID, msg.Metadata, msg.Payload, first.UUID, first.Metadata, first.Payload)
		}
		msg.Nack()
		select {
		case <-msg.Context().Done():
		case <-time.After(5 * time.Second):
			t.Fatal("message context not cancelled after Nack")
		}
	}
	receive(t, msgs).Ack()
	if msg := receive(t, msgs); !msg.Equals(second) {
		t.Errorf("after Ack got %s, want %s", msg.UUID, second.UUID)
	}
}

// TestPublishIdempotent: the same message published twice to a topic is stored once; the
// same UUID with another payload is refused; another topic is another command.
func TestPublishIdempotent(t *testing.T) {
	t.Parallel()
	store, _ := newStore(t)
	pub := newPublisher(t, store)
	ctx := context.Background()
	msg := message.NewMessage(watermill.NewUUID(), []byte("x"))
	msg.Metadata.Set(wmbridge.MetadataActor, "u-1")
	for range 2 {
		if err := pub.Publish("reminders", msg); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := store.Version(ctx, "reminders"); err != nil || v != 1 {
		t.Errorf("reminders at version %d (%v), want 1", v, err)
	}
	recs, err := store.ReadStream(ctx, "reminders", 0)
	if err != nil || len(recs) != 1 {
		t.Fatalf("read reminders: %d records, %v", len(recs), err)
	}
	if recs[0].Type != wmbridge.MessageEventType || recs[0].Metadata.Actor != "u-1" {
		t.Errorf("stored type %q actor %q, want %q and u-1", recs[0].Type, recs[0].Metadata.Actor, wmbridge.MessageEventType)
	}
	changed := message.NewMessage(msg.UUID, []byte("y"))
	if err := pub.Publish("reminders", changed); !errors.Is(err, eventstore.ErrCommandReused) {
		t.Errorf("republish with another payload: %v, want ErrCommandReused", err)
	}
	if err := pub.Publish("other", msg); err != nil {
		t.Errorf("same message to another topic: %v", err)
	}
}

// TestPublishRefuses: what could not come back unchanged, or cannot be appended, is refused
// before anything is written.
func TestPublishRefuses(t *testing.T) {
	t.Parallel()
	store, _ := newStore(t)
	pub := newPublisher(t, store)
	badMD := message.NewMessage("m1", nil)
	badMD.Metadata.Set("k", "\xff")
	nul := message.NewMessage("m\x002", nil)
	for name, c := range map[string]struct {
		topic string
		msg   *message.Message
	}{
		"invalid UTF-8 metadata": {"t", badMD},
		"NUL in uuid":            {"t", nul},
		"wildcard topic":         {wmbridge.AllTopics, message.NewMessage("m3", nil)},
		"empty topic":            {"", message.NewMessage("m4", nil)},
	} {
		if err := pub.Publish(c.topic, c.msg); !errors.Is(err, eventstore.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if h, err := store.LastCommitted(context.Background()); err != nil || h != eventstore.Start {
		t.Errorf("head %s (%v), want nothing stored", h, err)
	}
	_ = pub.Close()
	if err := pub.Publish("t", message.NewMessage("m5", nil)); !errors.Is(err, wmbridge.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

func TestSubscriberConfigValidate(t *testing.T) {
	t.Parallel()
	store, _ := newStore(t)
	for name, cfg := range map[string]wmbridge.SubscriberConfig{
		"group without pool": {ConsumerGroup: "pm"},
		"negative sleep":     {NackResendSleep: -time.Second},
		"bad group":          {ConsumerGroup: "a\x00b"},
	} {
		if _, err := wmbridge.NewSubscriber(store, cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	sub := newSubscriber(t, store, wmbridge.SubscriberConfig{})
	if _, err := sub.Subscribe(context.Background(), ""); !errors.Is(err, eventstore.ErrInvalid) {
		t.Errorf("empty topic: %v, want ErrInvalid", err)
	}
	_ = sub.Close()
	if _, err := sub.Subscribe(context.Background(), "t"); !errors.Is(err, wmbridge.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
	if err := sub.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
