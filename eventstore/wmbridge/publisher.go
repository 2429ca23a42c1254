package wmbridge

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/dxledger/dxledger/eventstore"
)

// ErrClosed is returned by Publish and Subscribe after Close.
var ErrClosed = errors.New("wmbridge: closed")

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	// Metadata gives the store metadata (who, for which unit, in answer to what) of the event
	// that keeps msg. Default StoreMetadata. Whatever it returns, the message's own metadata
	// is kept whole in the envelope.
	Metadata func(msg *message.Message) eventstore.Metadata
}

func (c *PublisherConfig) setDefaults() {
	if c.Metadata == nil {
		c.Metadata = StoreMetadata
	}
}

// Validate reports what is wrong with c; the zero PublisherConfig is valid.
func (c PublisherConfig) Validate() error { return nil }

// StoreMetadata takes the event's metadata from the message's actor, role, unit, request_id,
// correlation_id and causation_id keys. The business date is left to the store (the day of
// recording).
func StoreMetadata(msg *message.Message) eventstore.Metadata {
	md := msg.Metadata
	return eventstore.Metadata{
		Actor:         md.Get(MetadataActor),
		Role:          md.Get(MetadataRole),
		Unit:          md.Get(MetadataUnit),
		RequestID:     md.Get(MetadataRequestID),
		CorrelationID: md.Get(MetadataCorrelationID),
		CausationID:   md.Get(MetadataCausationID),
	}
}

// Publisher is a watermill message.Publisher that appends every message to the event store:
// to the stream named by the topic, as an event of type MessageEventType. It is safe for
// concurrent use.
type Publisher struct {
	store  *eventstore.Store
	cfg    PublisherConfig
	closed atomic.Bool
	// topics serialises this publisher's appends to one topic (striped by a hash of the
	// topic): concurrent AnyVersion appends to one stream race for the next version number,
	// and the store gives up with ErrConflict after a few lost races.
	topics [64]sync.Mutex
}

// conflictRetries is how often publish tries again, after a short random pause, when the
// store answers an AnyVersion append with ErrConflict (other processes appending to the same
// stream won the race for the next version more often than the store retries).
const conflictRetries = 20

// NewPublisher returns a publisher that appends to store. It does not own the store: Close
// leaves it open.
func NewPublisher(store *eventstore.Store, cfg PublisherConfig) (*Publisher, error) {
	if store == nil {
		return nil, errors.New("wmbridge: nil store")
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("wmbridge publisher: %w", err)
	}
	return &Publisher{store: store, cfg: cfg}, nil
}

// Publish appends each message, in order and each in its own transaction, to the stream
// topic (eventstore.AnyVersion), under the message's context. A message's UUID is the
// append's command id (scoped to the topic), so publishing the same message to the same
// topic again appends nothing; the same UUID with other metadata or payload is refused with
// eventstore.ErrCommandReused. A message without UUID is appended without that protection.
// On the first failure Publish stops; the messages before it stay published.
func (p *Publisher) Publish(topic string, msgs ...*message.Message) error {
	if p.closed.Load() {
		return fmt.Errorf("publish to %s: %w", topic, ErrClosed)
	}
	if topic == AllTopics {
		return fmt.Errorf("publish to %s: %q is only a subscription topic: %w", topic, AllTopics, eventstore.ErrInvalid)
	}
	for _, msg := range msgs {
		if err := p.publish(topic, msg); err != nil {
			return fmt.Errorf("publish to %s: %w", topic, err)
		}
	}
	return nil
}

func (p *Publisher) publish(topic string, msg *message.Message) error {
	if msg == nil {
		return fmt.Errorf("nil message: %w", eventstore.ErrInvalid)
	}
	data, err := encodeEnvelope(msg)
	if err != nil {
		return fmt.Errorf("message %q: %s: %w", msg.UUID, err, eventstore.ErrInvalid)
	}
	var opts []eventstore.AppendOption
	if msg.UUID != "" {
		sum := sha256.Sum256(data)
		opts = append(opts, eventstore.WithCommandID(commandID(topic, msg.UUID), sum[:]))
	}
	ev := eventstore.Event{Type: MessageEventType, Data: data, Metadata: p.cfg.Metadata(msg)}
	mu := &p.topics[fnv32a(topic)%uint32(len(p.topics))]
	mu.Lock()
	defer mu.Unlock()
	ctx := msg.Context()
	for attempt := 1; ; attempt++ {
		_, err := p.store.Append(ctx, topic, eventstore.AnyVersion, []eventstore.Event{ev}, opts...)
		if err == nil {
			return nil
		}
		if !errors.Is(err, eventstore.ErrConflict) || attempt > conflictRetries {
			return fmt.Errorf("message %q: %w", msg.UUID, err)
		}
		if err := sleep(ctx, time.Duration(1+rand.IntN(attempt*2))*time.Millisecond); err != nil {
			return fmt.Errorf("message %q: %w", msg.UUID, err)
		}
	}
}

func fnv32a(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}

// commandID scopes a message UUID to its topic: the suite (and real callers) may publish one
// message to several topics. The topic's length makes the pair unambiguous.
func commandID(topic, uuid string) string {
	return "wmbridge/" + strconv.Itoa(len(topic)) + "/" + topic + "/" + uuid
}

// Close makes further Publish calls fail. It is idempotent and leaves the store open.
func (p *Publisher) Close() error {
	p.closed.Store(true)
	return nil
}
