package eventstore

import (
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/oklog/ulid/v2"
)

// chainHash is the hash of one event: sha256 over the previous event's hash in its stream and
// the event's canonical bytes. Append computes it and Verify recomputes it; this function is
// the only definition. Every variable-length field is length-prefixed, so no two different
// events share canonical bytes; times enter as the calendar day and as Unix microseconds (the
// precision PostgreSQL keeps), so no time zone or formatting can change them.
func chainHash(prev []byte, id ulid.ULID, stream string, version int64, typ string, data []byte, m Metadata) []byte {
	h := sha256.New()
	var buf [binary.MaxVarintLen64]byte
	field := func(b []byte) {
		h.Write(buf[:binary.PutUvarint(buf[:], uint64(len(b)))])
		h.Write(b)
	}
	field(prev)
	h.Write(id[:])
	field([]byte(stream))
	h.Write(binary.BigEndian.AppendUint64(buf[:0], uint64(version)))
	field([]byte(typ))
	h.Write([]byte(m.OccurredOn.Format(time.DateOnly)))
	h.Write(binary.BigEndian.AppendUint64(buf[:0], uint64(m.RecordedAt.UnixMicro())))
	for _, s := range []string{m.Actor, m.Role, m.Unit, m.RequestID, m.CorrelationID, m.CausationID} {
		field([]byte(s))
	}
	field(data)
	return h.Sum(nil)
}
