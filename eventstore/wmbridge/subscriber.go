// Package wmbridge feeds the event store's commit-safe global order into watermill, so that
// process managers and projections can consume it with watermill's router and middleware.
//
// A Subscriber is a message.Subscriber over the store: topic T receives, in global order, the
// events of stream T and of every stream whose id starts with "T-" (domain streams are named
// like "project-01H…"), and topic "*" every event. A domain event arrives as the message
// MessageFromRecord describes; RecordFromMessage turns it back into the record. A Publisher
// appends watermill messages to the store (event type MessageEventType), and the Subscriber
// gives them back unchanged, so the store is also a persistent watermill Pub/Sub. Both pass
// watermill's pubsub conformance suite; delivery is at least once, in order, one message in
// flight per subscription.
package wmbridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AllTopics is the subscription topic that receives every event of the store.
const AllTopics = "*"

// MaxConsumerGroupLength is the longest consumer group name.
const MaxConsumerGroupLength = 200

// SubscriberConfig configures a Subscriber.
type SubscriberConfig struct {
	// ConsumerGroup, when set, makes the subscriber a member of that group: the group's
	// position on each topic is kept in the table wmbridge_offsets and advanced on every Ack,
	// so a member that starts again continues after the last acknowledged message (a new
	// group starts at the beginning). One member of a group per topic is active at a time —
	// the others wait and take over when it stops — so members never receive the same
	// message, except that a message in flight when its member fails comes again. Empty: no
	// group; every subscription starts at the beginning of the store.
	ConsumerGroup string
	// Pool is the database of the store. Required with ConsumerGroup: a group subscription
	// keeps one of its connections while it is active (its advisory lock lives there).
	Pool *pgxpool.Pool
	// NackResendSleep is the pause before a nacked message is delivered again. Default 100ms.
	NackResendSleep time.Duration
	// RetryInterval is how often a waiting group member tries to become active, and the pause
	// after a failed database call. Default 1s.
	RetryInterval time.Duration
	// BatchSize is how many events one read of the store returns. Default 100.
	BatchSize int
	// Logger receives warnings about failures the subscriber retries. Default discards.
	Logger *slog.Logger
	// From, without a consumer group, starts every subscription after this position instead
	// of at the beginning of the store (for a consumer that only reacts to what is new).
	From eventstore.Position
}

func (c *SubscriberConfig) setDefaults() {
	if c.NackResendSleep == 0 {
		c.NackResendSleep = 100 * time.Millisecond
	}
	if c.RetryInterval == 0 {
		c.RetryInterval = time.Second
	}
	if c.BatchSize == 0 {
		c.BatchSize = 100
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports everything that is wrong with c, joined.
func (c SubscriberConfig) Validate() error {
	var errs []error
	if c.ConsumerGroup != "" {
		if !isText(c.ConsumerGroup, MaxConsumerGroupLength) {
			errs = append(errs, fmt.Errorf("consumer group %q: want at most %d bytes of UTF-8 without NUL", c.ConsumerGroup, MaxConsumerGroupLength))
		}
		if c.Pool == nil {
			errs = append(errs, errors.New("consumer group needs Pool"))
		}
	}
	if c.NackResendSleep < 0 {
		errs = append(errs, fmt.Errorf("NackResendSleep %s is negative", c.NackResendSleep))
	}
	if c.RetryInterval < 0 {
		errs = append(errs, fmt.Errorf("RetryInterval %s is negative", c.RetryInterval))
	}
	if c.BatchSize < 0 {
		errs = append(errs, fmt.Errorf("BatchSize %d is negative", c.BatchSize))
	}
	return errors.Join(errs...)
}

// Subscriber is a watermill message.Subscriber over the store's global order. It is safe for
// concurrent use.
type Subscriber struct {
	store *eventstore.Store
	cfg   SubscriberConfig
	log   *slog.Logger

	ctx    context.Context // cancelled by Close, which ends every subscription (context.AfterFunc)
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// NewSubscriber returns a subscriber on store. It does not own the store: Close leaves it
// open.
func NewSubscriber(store *eventstore.Store, cfg SubscriberConfig) (*Subscriber, error) {
	if store == nil {
		return nil, errors.New("wmbridge: nil store")
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("wmbridge subscriber: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	log := cfg.Logger
	if cfg.ConsumerGroup != "" {
		log = log.With("consumer_group", cfg.ConsumerGroup)
	}
	return &Subscriber{store: store, cfg: cfg, log: log, ctx: ctx, cancel: cancel}, nil
}

// Subscribe returns the messages of topic (see the package documentation) in the store's
// global order. The next message comes after the previous one is acknowledged; a nacked one
// comes again after NackResendSleep. The channel is closed when ctx ends or on Close. Each
// message's context derives from ctx and is cancelled once the message is acked or nacked.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if topic != AllTopics && !isText(topic, eventstore.MaxStreamIDLength) {
		return nil, fmt.Errorf("subscribe to %q: topic must be %q or 1..%d bytes of UTF-8 without NUL: %w",
			topic, AllTopics, eventstore.MaxStreamIDLength, eventstore.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("subscribe to %s: %w", topic, ErrClosed)
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	out := make(chan *message.Message)
	sub := &subscription{Subscriber: s, topic: topic, out: out, log: s.log.With("topic", topic)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(out)
		defer stop()
		defer cancel()
		if s.cfg.ConsumerGroup == "" {
			sub.run(ctx)
		} else {
			sub.runGroup(ctx)
		}
	}()
	return out, nil
}

// SubscribeInitialize does nothing: topics need no set-up. It is there for watermill
// components that look for message.SubscribeInitializer.
func (s *Subscriber) SubscribeInitialize(topic string) error { return nil }

// Close ends every subscription, closes their channels and waits until they have stopped. An
// acknowledged position is saved before Close returns. Close is idempotent; it leaves the
// store open.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// subscription is one Subscribe call's goroutine.
type subscription struct {
	*Subscriber
	topic string
	out   chan<- *message.Message
	log   *slog.Logger
}

// matches reports whether the subscription's topic receives events of stream.
func (sub *subscription) matches(stream string) bool {
	t := sub.topic
	return t == AllTopics || stream == t ||
		(len(stream) > len(t) && stream[len(t)] == '-' && strings.HasPrefix(stream, t))
}

// run delivers everything after cfg.From (the beginning of the store by default) until ctx
// ends.
func (sub *subscription) run(ctx context.Context) {
	err := sub.store.Subscribe(ctx, sub.cfg.From, eventstore.SubscribeConfig{BatchSize: sub.cfg.BatchSize},
		func(ctx context.Context, batch []eventstore.Record) error {
			for _, r := range batch {
				if !sub.matches(r.StreamID) {
					continue
				}
				if err := sub.deliver(ctx, r); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil && ctx.Err() == nil { // cannot happen: only deliver fails, and only when ctx ends
		sub.log.Error("subscription stopped", "err", err)
	}
}

// deliver sends r's message and waits for its Ack, sending it again after each Nack. It
// returns ctx's error if ctx ends first.
func (sub *subscription) deliver(ctx context.Context, r eventstore.Record) error {
	for {
		msg := sub.message(r)
		msgCtx, cancel := context.WithCancel(ctx)
		msg.SetContext(msgCtx)
		select {
		case sub.out <- msg:
		case <-ctx.Done():
			cancel()
			return ctx.Err()
		}
		select {
		case <-msg.Acked():
			cancel()
			return nil
		case <-msg.Nacked():
			cancel()
		case <-ctx.Done():
			cancel()
			return ctx.Err()
		}
		if err := sleep(ctx, sub.cfg.NackResendSleep); err != nil {
			return err
		}
	}
}

// message is what the subscription delivers for r: the published message for a record of
// MessageEventType, the MessageFromRecord mapping for every other. An envelope that does not
// decode (written by hand, not by Publisher) is delivered as its record rather than stopping
// the subscription.
func (sub *subscription) message(r eventstore.Record) *message.Message {
	if r.Type == MessageEventType {
		msg, err := decodeEnvelope(r.Data)
		if err == nil {
			return msg
		}
		sub.log.Warn("delivering an undecodable message envelope as its record",
			"stream_id", r.StreamID, "position", r.Position.String(), "err", err)
	}
	return MessageFromRecord(r)
}

// sleep waits for d or until ctx ends, and then returns ctx's error.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
