package wmbridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/oklog/ulid/v2"
)

// Metadata keys of a message that carries a domain event (MessageFromRecord). The message's
// UUID is the event id and its payload the event's JSON data.
const (
	MetadataType          = "type"           // the event type, e.g. "project.proposed.v1"
	MetadataStreamID      = "stream_id"      // the stream the event belongs to
	MetadataVersion       = "version"        // the event's version in its stream, decimal
	MetadataPosition      = "position"       // eventstore.Position.String(): "txid/seq"
	MetadataOccurredOn    = "occurred_on"    // the business date, YYYY-MM-DD
	MetadataRecordedAt    = "recorded_at"    // when the store accepted it, RFC 3339 in UTC
	MetadataActor         = "actor"          // eventstore.Metadata.Actor
	MetadataRole          = "role"           // eventstore.Metadata.Role
	MetadataUnit          = "unit"           // eventstore.Metadata.Unit
	MetadataRequestID     = "request_id"     // eventstore.Metadata.RequestID
	MetadataCorrelationID = "correlation_id" // eventstore.Metadata.CorrelationID; watermill's middleware uses the same key
	MetadataCausationID   = "causation_id"   // eventstore.Metadata.CausationID
)

// recordKeys lists every metadata key MessageFromRecord sets.
var recordKeys = [...]string{
	MetadataType, MetadataStreamID, MetadataVersion, MetadataPosition, MetadataOccurredOn,
	MetadataRecordedAt, MetadataActor, MetadataRole, MetadataUnit, MetadataRequestID,
	MetadataCorrelationID, MetadataCausationID,
}

// ErrBadRecord is matched (errors.Is) by every error of RecordFromMessage.
var ErrBadRecord = errors.New("message does not carry a valid event record")

const dateLayout = "2006-01-02"

// MessageFromRecord returns the message that carries r: UUID the event id, payload the JSON
// data, and every key of RecordKeys in the metadata (empty strings included). It maps any
// record as it is; the Subscriber additionally unwraps records of type MessageEventType back
// into the message that was published.
func MessageFromRecord(r eventstore.Record) *message.Message {
	msg := message.NewMessage(r.ID.String(), message.Payload(r.Data))
	m := r.Metadata
	md := msg.Metadata
	md[MetadataType] = r.Type
	md[MetadataStreamID] = r.StreamID
	md[MetadataVersion] = strconv.FormatInt(r.Version, 10)
	md[MetadataPosition] = r.Position.String()
	md[MetadataOccurredOn] = m.OccurredOn.Format(dateLayout)
	md[MetadataRecordedAt] = m.RecordedAt.UTC().Format(time.RFC3339Nano)
	md[MetadataActor] = m.Actor
	md[MetadataRole] = m.Role
	md[MetadataUnit] = m.Unit
	md[MetadataRequestID] = m.RequestID
	md[MetadataCorrelationID] = m.CorrelationID
	md[MetadataCausationID] = m.CausationID
	return msg
}

// RecordFromMessage decodes a message made by MessageFromRecord back into the record. It is
// strict: the UUID must be a ULID in canonical (upper-case) form, the payload JSON, type,
// stream_id, version, position, occurred_on and recorded_at present and written exactly as
// MessageFromRecord writes them (a decimal version above zero without sign or leading zeros,
// a position after eventstore.Start, a calendar date, a UTC timestamp), and every text valid
// UTF-8 without NUL, as the store keeps it. A missing actor, role, unit, request_id,
// correlation_id or causation_id is empty; keys it does not know are ignored. Every error
// matches ErrBadRecord.
func RecordFromMessage(msg *message.Message) (eventstore.Record, error) {
	if msg == nil {
		return eventstore.Record{}, fmt.Errorf("nil message: %w", ErrBadRecord)
	}
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	var r eventstore.Record
	md := msg.Metadata

	id, err := ulid.ParseStrict(msg.UUID)
	switch {
	case err != nil:
		bad("uuid %q is not a ULID: %v", msg.UUID, err)
	case id.String() != msg.UUID:
		bad("uuid %q is not a canonical ULID (want %s)", msg.UUID, id)
	}
	r.ID = id

	r.Type = md[MetadataType]
	if !isText(r.Type, eventstore.MaxTypeLength) {
		bad("%s %q: want 1..%d bytes of UTF-8 without NUL", MetadataType, r.Type, eventstore.MaxTypeLength)
	}
	r.StreamID = md[MetadataStreamID]
	if !isText(r.StreamID, eventstore.MaxStreamIDLength) {
		bad("%s %q: want 1..%d bytes of UTF-8 without NUL", MetadataStreamID, r.StreamID, eventstore.MaxStreamIDLength)
	}

	v := md[MetadataVersion]
	r.Version, err = strconv.ParseInt(v, 10, 64)
	if err != nil || r.Version <= 0 || strconv.FormatInt(r.Version, 10) != v {
		bad("%s %q: want a decimal number above 0", MetadataVersion, v)
	}

	p := md[MetadataPosition]
	r.Position, err = eventstore.ParsePosition(p)
	switch {
	case err != nil:
		bad("%s: %v", MetadataPosition, err)
	case r.Position.String() != p || r.Position.TxID == 0 || r.Position.Seq == 0:
		bad("%s %q: want txid/seq, both decimal numbers above 0", MetadataPosition, p)
	}

	d := md[MetadataOccurredOn]
	r.Metadata.OccurredOn, err = time.Parse(dateLayout, d)
	if err != nil || r.Metadata.OccurredOn.Year() < 1 || r.Metadata.OccurredOn.Format(dateLayout) != d {
		bad("%s %q: want a date YYYY-MM-DD", MetadataOccurredOn, d)
	}

	ts := md[MetadataRecordedAt]
	r.Metadata.RecordedAt, err = time.Parse(time.RFC3339Nano, ts)
	r.Metadata.RecordedAt = r.Metadata.RecordedAt.UTC()
	if err != nil || r.Metadata.RecordedAt.Format(time.RFC3339Nano) != ts {
		bad("%s %q: want an RFC 3339 time in UTC", MetadataRecordedAt, ts)
	}

	for _, f := range []struct {
		key string
		dst *string
	}{
		{MetadataActor, &r.Metadata.Actor},
		{MetadataRole, &r.Metadata.Role},
		{MetadataUnit, &r.Metadata.Unit},
		{MetadataRequestID, &r.Metadata.RequestID},
		{MetadataCorrelationID, &r.Metadata.CorrelationID},
		{MetadataCausationID, &r.Metadata.CausationID},
	} {
		*f.dst = md[f.key]
		if !utf8.ValidString(*f.dst) || strings.IndexByte(*f.dst, 0) >= 0 {
			bad("%s %q: want UTF-8 without NUL", f.key, *f.dst)
		}
	}

	if len(msg.Payload) == 0 || !json.Valid(msg.Payload) {
		bad("payload is not JSON")
	}
	r.Data = msg.Payload

	if len(problems) > 0 {
		return eventstore.Record{}, fmt.Errorf("message %q: %s: %w", msg.UUID, strings.Join(problems, "; "), ErrBadRecord)
	}
	return r, nil
}

// isText reports whether s is 1..max bytes of UTF-8 without NUL, as PostgreSQL's text keeps.
func isText(s string, max int) bool {
	return s != "" && len(s) <= max && utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}
