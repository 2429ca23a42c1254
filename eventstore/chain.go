package eventstore

import "github.com/oklog/ulid/v2"

// ChainHash is the hash Append stores for an event (chainHash): prev is the hash of the
// stream's previous event (nil for the first), m.OccurredOn and m.RecordedAt as the store
// keeps them (the UTC day; the time truncated to microseconds). It is exported for bulk loaders
// that write rows without Append (internal/bench's generator for very large test stores), so
// that Verify accepts what they wrote; no other definition of the chain exists.
func ChainHash(prev []byte, id ulid.ULID, stream string, version int64, typ string, data []byte, m Metadata) []byte {
	return chainHash(prev, id, stream, version, typ, data, m)
}
