package wmbridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ThreeDotsLabs/watermill/message"
)

// MessageEventType is the event type under which Publisher stores a watermill message. Its
// data is a JSON envelope {"uuid": …, "metadata": {…}, "payload": base64}; the Subscriber
// unwraps it back into a message with the same UUID, metadata and payload.
const MessageEventType = "watermill.message.v1"

// MaxUUIDLength is the longest message UUID Publisher accepts: the UUID becomes part of the
// append's command id.
const MaxUUIDLength = 200

// envelope is the stored form of a published message. The payload is kept as bytes (base64
// in JSON) because a watermill payload is arbitrary; the UUID and metadata are JSON strings.
type envelope struct {
	UUID     string            `json:"uuid"`
	Metadata map[string]string `json:"metadata,omitempty"`
	Payload  []byte            `json:"payload"`
}

// encodeEnvelope returns the JSON of msg's envelope. It refuses what would not come back
// unchanged: invalid UTF-8, which encoding/json replaces, and NUL, which the UUID cannot hold
// in the command id (PostgreSQL text) and jsonb, should the store move to it, would refuse.
func encodeEnvelope(msg *message.Message) ([]byte, error) {
	if len(msg.UUID) > MaxUUIDLength {
		return nil, fmt.Errorf("uuid is %d bytes, at most %d", len(msg.UUID), MaxUUIDLength)
	}
	if !storable(msg.UUID) {
		return nil, errors.New("uuid is not UTF-8 without NUL")
	}
	for k, v := range msg.Metadata {
		if !storable(k) || !storable(v) {
			return nil, fmt.Errorf("metadata %q: key and value must be UTF-8 without NUL", k)
		}
	}
	return json.Marshal(envelope{UUID: msg.UUID, Metadata: msg.Metadata, Payload: msg.Payload})
}

// decodeEnvelope turns an envelope's JSON back into a message.
func decodeEnvelope(data []byte) (*message.Message, error) {
	var e envelope
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("decode %s: %w", MessageEventType, err)
	}
	msg := message.NewMessage(e.UUID, e.Payload)
	for k, v := range e.Metadata {
		msg.Metadata[k] = v
	}
	return msg, nil
}

func storable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}
