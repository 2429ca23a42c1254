package wmbridge_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/eventstore/wmbridge"
	"github.com/dxledger/dxledger/internal/pgtest"
)

func groupConfig(db *pgtest.DB, group string) wmbridge.SubscriberConfig {
	return wmbridge.SubscriberConfig{ConsumerGroup: group, Pool: db.Pool, RetryInterval: 20 * time.Millisecond}
}

func publishN(t *testing.T, pub *wmbridge.Publisher, topic string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := pub.Publish(topic, message.NewMessage(fmt.Sprintf("m%d", i), fmt.Appendf(nil, "%d", i))); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConsumerGroupResumes: a group continues after its last Ack when it subscribes again; a
// new group starts at the beginning; a message received but not acknowledged comes again.
func TestConsumerGroupResumes(t *testing.T) {
	t.Parallel()
	store, db := newStore(t)
	publishN(t, newPublisher(t, store), "pm", 0, 4)

	first := newSubscriber(t, store, groupConfig(db, "funding"))
	msgs, err := first.Subscribe(context.Background(), "pm")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"m0", "m1"} {
		msg := receive(t, msgs)
		if msg.UUID != want {
			t.Fatalf("got %s, want %s", msg.UUID, want)
		}
		msg.Ack()
	}
	if msg := receive(t, msgs); msg.UUID != "m2" { // received, never acknowledged
		t.Fatalf("got %s, want m2", msg.UUID)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	again := newSubscriber(t, store, groupConfig(db, "funding"))
	msgs, err = again.Subscribe(context.Background(), "pm")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"m2", "m3"} {
		msg := receive(t, msgs)
		if msg.UUID != want {
			t.Fatalf("after restart got %s, want %s", msg.UUID, want)
		}
		msg.Ack()
	}

	other := newSubscriber(t, store, groupConfig(db, "reports"))
	msgs, err = other.Subscribe(context.Background(), "pm")
	if err != nil {
		t.Fatal(err)
	}
	if msg := receive(t, msgs); msg.UUID != "m0" {
		t.Errorf("new group starts with %s, want m0", msg.UUID)
	}
}

// TestConsumerGroupMembersDoNotShare: two members of one group never both receive a message;
// when the active one stops, the other carries on after the last acknowledged message.
func TestConsumerGroupMembersDoNotShare(t *testing.T) {
	t.Parallel()
	store, db := newStore(t)
	pub := newPublisher(t, store)
	a := newSubscriber(t, store, groupConfig(db, "pm"))
	b := newSubscriber(t, store, groupConfig(db, "pm"))
	ma, err := a.Subscribe(context.Background(), "jobs")
	if err != nil {
		t.Fatal(err)
	}
	mb, err := b.Subscribe(context.Background(), "jobs")
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, pub, "jobs", 0, 5)

	seen := map[string]int{}
	var active *wmbridge.Subscriber
	var standby <-chan *message.Message
	for len(seen) < 5 {
		select {
		case msg := <-ma:
			active, standby = a, mb
			seen[msg.UUID]++
			msg.Ack()
		case msg := <-mb:
			active, standby = b, ma
			seen[msg.UUID]++
			msg.Ack()
		case <-time.After(10 * time.Second):
			t.Fatalf("received %v, want m0..m4", seen)
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times, want once", id, n)
		}
	}
	nothing(t, standby, 200*time.Millisecond)

	if err := active.Close(); err != nil {
		t.Fatal(err)
	}
	publishN(t, pub, "jobs", 5, 7)
	for _, want := range []string{"m5", "m6"} {
		msg := receive(t, standby)
		if msg.UUID != want {
			t.Fatalf("after failover got %s, want %s", msg.UUID, want)
		}
		msg.Ack()
	}
}

// TestConsumerGroupDoesNotHoldBackReaders: a group message in flight must not stop other
// readers of the global order (a lock held in an open transaction would).
func TestConsumerGroupDoesNotHoldBackReaders(t *testing.T) {
	t.Parallel()
	store, db := newStore(t)
	pub := newPublisher(t, store)
	publishN(t, pub, "jobs", 0, 1)
	sub := newSubscriber(t, store, groupConfig(db, "pm"))
	msgs, err := sub.Subscribe(context.Background(), "jobs")
	if err != nil {
		t.Fatal(err)
	}
	inFlight := receive(t, msgs)
	defer inFlight.Ack()
	publishN(t, pub, "jobs", 1, 2)
	// ReadAll may lag for a moment behind any transaction of the cluster (other tests run in
	// it too); held back by this subscriber it would lag for as long as the message is open.
	deadline := time.Now().Add(5 * time.Second)
	for {
		recs, err := store.ReadAll(context.Background(), eventstore.Start, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ReadAll while a group message is in flight: %d records after 5s, want 2", len(recs))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
