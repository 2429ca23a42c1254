package eventstore

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// Position is a place in the store's commit-safe global order: the writer's transaction id,
// then the event's sequence number within the store. Positions compare as (TxID, Seq).
type Position struct {
	TxID uint64
	Seq  int64
}

// Start is the position before every event.
var Start = Position{}

// Less reports whether p comes before q in the global order.
func (p Position) Less(q Position) bool {
	if p.TxID != q.TxID {
		return p.TxID < q.TxID
	}
	return p.Seq < q.Seq
}

// String renders p as "txid/seq", the form ParsePosition reads.
func (p Position) String() string {
	return strconv.FormatUint(p.TxID, 10) + "/" + strconv.FormatInt(p.Seq, 10)
}

// ParsePosition reads a position written by Position.String.
func ParsePosition(s string) (Position, error) {
	tx, seq, ok := strings.Cut(s, "/")
	if !ok {
		return Position{}, fmt.Errorf("position %q: want txid/seq", s)
	}
	t, err := strconv.ParseUint(tx, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("position %q: transaction id: %w", s, err)
	}
	n, err := strconv.ParseInt(seq, 10, 64)
	if err != nil || n < 0 {
		return Position{}, fmt.Errorf("position %q: bad sequence number", s)
	}
	return Position{TxID: t, Seq: n}, nil
}

// Metadata is what the store records about every event besides its data: who, from where, in
// answer to which request, and the two times (DESIGN.md, "Time").
type Metadata struct {
	Actor         string // user id of whoever caused the event
	Role          string // the role they acted in
	Unit          string // the unit they acted for
	RequestID     string // the HTTP request or job that carried the command
	CorrelationID string // the conversation the event belongs to
	CausationID   string // the event or command that caused this one
	// OccurredOn is the business date of the fact, a calendar day (only its date is kept).
	OccurredOn time.Time
	// RecordedAt is when the store accepted the event. Append sets it from the store's clock.
	RecordedAt time.Time
}

// Event is an event to append: an explicit, versioned type name and its JSON data.
type Event struct {
	Type     string
	Data     []byte
	Metadata Metadata
}

// Record is a stored event.
type Record struct {
	ID       ulid.ULID
	StreamID string
	Version  int64
	Type     string
	Data     []byte
	Metadata Metadata
	Position Position
}

// Result is the outcome of an append.
type Result struct {
	StreamID    string
	FromVersion int64 // version of the first event appended
	ToVersion   int64 // stream version after the append
	EventIDs    []ulid.ULID
	// Position is the global position of the last event appended (zero for a duplicate: a
	// caller that needs one then asks for LastCommitted, which is at or after it).
	Position Position
	// Duplicate is true when the command id had been seen: nothing was appended and the
	// fields above are those of the first append.
	Duplicate bool
	// RecordedAt is when the store recorded the events appended now, and Head the hash of the
	// stream's last event after them (the stream's new head, for ChainedOn): what a caller
	// needs to fold the events it just appended as a read would give them back. Both are zero
	// for a duplicate.
	RecordedAt time.Time
	Head       []byte
}

// Expected versions with a special meaning.
const (
	// NoStream: the stream must not exist yet.
	NoStream int64 = 0
	// AnyVersion: append whatever the stream's version.
	AnyVersion int64 = -1
)

// ErrConflict is matched (errors.Is) by every *ConflictError.
var ErrConflict = errors.New("version conflict")

// ConflictError says that the stream was not at the version the writer expected.
type ConflictError struct {
	Stream   string
	Expected int64
	Actual   int64
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("append to %s: expected version %d, stream is at %d: %v", e.Stream, e.Expected, e.Actual, ErrConflict)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// ErrCommandReused is returned when a command id comes back with another request or for
// another existing stream: a command id names one command.
var ErrCommandReused = errors.New("command id was used before with another request")

// ErrInvalid is matched by errors about a malformed append.
var ErrInvalid = errors.New("invalid append")
