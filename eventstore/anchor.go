package eventstore

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/oklog/ulid/v2"
)

// Anchor fixes the whole log up to its head at one moment, to be kept outside the database
// (printed in the steering committee's minutes, mailed to the auditor): the number of events
// in the commit-safe global order, a digest of their hashes in that order, and a digest of
// the commands those events answered. CheckAnchor later proves that the log still begins with
// exactly those events in exactly that order.
//
// The digests cover the events' order, never their raw positions (transaction ids), so an
// anchor holds across a backup and restore. Each event's hash already covers its content,
// stream, version and id (chainHash); Verify proves the hashes match the content, the anchor
// proves the hashes are the ones there were. Together: a row changed by hand, a stream's
// suffix rewritten with its hashes recomputed, rows reordered, inserted or deleted before the
// anchor — the newest included — are all found.
type Anchor struct {
	TakenAt time.Time
	// Events is how many events the anchor covers: the first Events in the global order.
	Events int64
	// Last is the newest event covered (zero when the log was empty), and Head its position
	// when the anchor was taken (for the reader; the check does not rely on it).
	Last        ulid.ULID
	LastStream  string
	LastVersion int64
	Head        Position
	// EventsDigest is sha256 over the covered events' hashes in global order.
	EventsDigest [sha256.Size]byte
	// Commands is how many recorded commands the covered events answered, and
	// CommandsDigest a digest of those commands' rows in the order of their first events.
	Commands       int64
	CommandsDigest [sha256.Size]byte
}

// ErrAnchorBroken is matched by CheckAnchor's error when the log no longer extends an anchor.
var ErrAnchorBroken = errors.New("the log no longer extends the anchor: an event or command before it was changed, moved or deleted")

const anchorHeader = "dxledger log anchor, format 1"

// Anchor takes an anchor of the log as it is now: every event below the oldest transaction
// still running (the commit-safe order ReadAll uses), so an append that commits later can
// only come after the anchor. It waits (up to AnchorWait) for the transactions older than the
// newest committed event to finish, so that the anchor reaches the head; past that it anchors
// the commit-safe part, whose count it states. It reads in one snapshot and costs no append
// anything.
func (s *Store) Anchor(ctx context.Context) (Anchor, error) {
	target, err := s.LastCommitted(ctx)
	if err != nil {
		return Anchor{}, fmt.Errorf("anchor: %w", err)
	}
	deadline := time.Now().Add(AnchorWait)
	for {
		a, reached, err := s.anchorOnce(ctx, target, time.Now().After(deadline))
		if err != nil {
			return Anchor{}, fmt.Errorf("anchor: %w", err)
		}
		if reached {
			a.TakenAt = a.TakenAt.UTC().Truncate(time.Second)
			return a, nil
		}
		select {
		case <-ctx.Done():
			return Anchor{}, fmt.Errorf("anchor: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// AnchorWait is how long Anchor waits for older transactions to finish.
const AnchorWait = 30 * time.Second

func (s *Store) anchorOnce(ctx context.Context, target Position, anyway bool) (a Anchor, reached bool, err error) {
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT now(), pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8`, target.TxID).Scan(&a.TakenAt, &reached); err != nil {
			return err
		}
		if !reached && !anyway {
			return nil
		}
		reached = true
		d, err := digestEvents(ctx, tx, `SELECT tx_id, seq, event_id, stream_id, version, hash FROM events
			WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY tx_id, seq`)
		if err != nil {
			return err
		}
		a.Events, a.EventsDigest, a.Last, a.LastStream, a.LastVersion, a.Head = d.n, d.sum, d.last, d.lastStream, d.lastVersion, d.head
		a.Commands, a.CommandsDigest, err = digestCommands(ctx, tx, a.Head)
		return err
	})
	return a, reached, err
}

// CheckAnchor says whether the log still begins with what a covered: its first a.Events
// events in global order have the same hashes in the same order, and the commands they
// answered are the same rows. A log that does not is ErrAnchorBroken, with what differs. Run
// Verify beside it: CheckAnchor trusts each row's stored hash, Verify checks it.
func (s *Store) CheckAnchor(ctx context.Context, a Anchor) error {
	var problems []string
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		d, err := digestEvents(ctx, tx, `SELECT tx_id, seq, event_id, stream_id, version, hash FROM events
			ORDER BY tx_id, seq LIMIT $1`, a.Events)
		if err != nil {
			return err
		}
		if d.n < a.Events {
			problems = append(problems, fmt.Sprintf("the log holds %d events, the anchor covers %d: events were deleted", d.n, a.Events))
		}
		if d.last != a.Last && d.n > 0 {
			problems = append(problems, fmt.Sprintf("event %d in global order is %s (stream %s version %d), the anchor's last event is %s (stream %s version %d)",
				d.n, d.last, d.lastStream, d.lastVersion, a.Last, a.LastStream, a.LastVersion))
		}
		if d.sum != a.EventsDigest {
			problems = append(problems, fmt.Sprintf("the first %d events digest to %x, the anchor says %x: an event was changed, moved, inserted or deleted",
				d.n, d.sum[:8], a.EventsDigest[:8]))
		}
		n, sum, err := digestCommands(ctx, tx, d.head)
		if err != nil {
			return err
		}
		if n != a.Commands || sum != a.CommandsDigest {
			problems = append(problems, fmt.Sprintf("the commands before the anchor are %d digesting to %x, the anchor says %d digesting to %x: a command row was changed or deleted",
				n, sum[:8], a.Commands, a.CommandsDigest[:8]))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check anchor: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w:\n  %s", ErrAnchorBroken, strings.Join(problems, "\n  "))
	}
	return nil
}

type eventsDigest struct {
	n           int64
	sum         [sha256.Size]byte
	last        ulid.ULID
	lastStream  string
	lastVersion int64
	head        Position
}

func digestEvents(ctx context.Context, tx pgx.Tx, query string, args ...any) (eventsDigest, error) {
	var d eventsDigest
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return d, err
	}
	defer rows.Close()
	h := sha256.New()
	var (
		id [16]byte
		hv []byte
	)
	for rows.Next() {
		if err := rows.Scan(&d.head.TxID, &d.head.Seq, &id, &d.lastStream, &d.lastVersion, &hv); err != nil {
			return d, err
		}
		lengthPrefixed(h, hv)
		d.n++
	}
	if err := rows.Err(); err != nil {
		return d, err
	}
	d.last = ulid.ULID(id)
	copy(d.sum[:], h.Sum(nil))
	return d, nil
}

// digestCommands digests the commands whose first event is at or before head, in the order
// of those events. A command is found through its first event's (stream_id, version), the
// unique index, so the digest needs no index of its own.
func digestCommands(ctx context.Context, tx pgx.Tx, head Position) (int64, [sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	rows, err := tx.Query(ctx, `SELECT c.command_id, c.stream_id, coalesce(c.fingerprint, ''), c.first_version, c.last_version, c.event_ids
		FROM commands c JOIN events e ON e.stream_id = c.stream_id AND e.version = c.first_version
		WHERE (e.tx_id, e.seq) <= ($1::xid8, $2::bigint)
		ORDER BY e.tx_id, e.seq`, head.TxID, head.Seq)
	if err != nil {
		return 0, sum, err
	}
	defer rows.Close()
	h := sha256.New()
	var (
		n           int64
		id, stream  string
		fp          []byte
		first, last int64
		ids         [][16]byte
		buf         [8]byte
	)
	for rows.Next() {
		if err := rows.Scan(&id, &stream, &fp, &first, &last, &ids); err != nil {
			return 0, sum, err
		}
		lengthPrefixed(h, []byte(id))
		lengthPrefixed(h, []byte(stream))
		lengthPrefixed(h, fp)
		h.Write(binary.BigEndian.AppendUint64(buf[:0], uint64(first)))
		h.Write(binary.BigEndian.AppendUint64(buf[:0], uint64(last)))
		h.Write(binary.BigEndian.AppendUint64(buf[:0], uint64(len(ids))))
		for _, e := range ids {
			h.Write(e[:])
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, sum, err
	}
	copy(sum[:], h.Sum(nil))
	return n, sum, nil
}

func lengthPrefixed(h hash.Hash, b []byte) {
	var buf [binary.MaxVarintLen64]byte
	h.Write(buf[:binary.PutUvarint(buf[:], uint64(len(b)))])
	h.Write(b)
}

// WriteTo writes the anchor as a few lines of text, short enough to print in minutes and to
// read aloud, which ReadAnchor reads back.
func (a Anchor) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	fmt.Fprintln(&b, anchorHeader)
	fmt.Fprintf(&b, "taken_at: %s\n", a.TakenAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "events: %d\n", a.Events)
	fmt.Fprintf(&b, "last_event: %s %d %s\n", a.Last, a.LastVersion, a.LastStream)
	fmt.Fprintf(&b, "head_position: %s\n", a.Head)
	fmt.Fprintf(&b, "events_sha256: %x\n", a.EventsDigest)
	fmt.Fprintf(&b, "commands: %d\n", a.Commands)
	fmt.Fprintf(&b, "commands_sha256: %x\n", a.CommandsDigest)
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// ReadAnchor reads an anchor written by Anchor.WriteTo.
func ReadAnchor(r io.Reader) (Anchor, error) {
	var a Anchor
	fields := map[string]string{}
	sc := bufio.NewScanner(r)
	first := true
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if first {
			if line != anchorHeader {
				return a, fmt.Errorf("anchor: first line %q, want %q", line, anchorHeader)
			}
			first = false
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return a, fmt.Errorf("anchor: %w", err)
	}
	if first {
		return a, errors.New("anchor: empty file")
	}
	var errs []error
	need := func(k string) string {
		v, ok := fields[k]
		if !ok {
			errs = append(errs, fmt.Errorf("anchor: no %s line", k))
		}
		return v
	}
	var err error
	if a.TakenAt, err = time.Parse(time.RFC3339, need("taken_at")); err != nil {
		errs = append(errs, fmt.Errorf("anchor: taken_at: %w", err))
	}
	if a.Events, err = strconv.ParseInt(need("events"), 10, 64); err != nil || a.Events < 0 {
		errs = append(errs, fmt.Errorf("anchor: events: want a count"))
	}
	if f := strings.SplitN(need("last_event"), " ", 3); len(f) == 3 { // id, version, stream (which may hold spaces)
		a.Last, err = ulid.Parse(f[0])
		a.LastStream = f[2]
		v, verr := strconv.ParseInt(f[1], 10, 64)
		a.LastVersion = v
		if err = errors.Join(err, verr); err != nil {
			errs = append(errs, fmt.Errorf("anchor: last_event: %w", err))
		}
	} else {
		errs = append(errs, errors.New("anchor: last_event: want id, version and stream"))
	}
	if a.Head, err = ParsePosition(need("head_position")); err != nil {
		errs = append(errs, fmt.Errorf("anchor: %w", err))
	}
	if a.Commands, err = strconv.ParseInt(need("commands"), 10, 64); err != nil || a.Commands < 0 {
		errs = append(errs, fmt.Errorf("anchor: commands: want a count"))
	}
	for k, dst := range map[string]*[sha256.Size]byte{"events_sha256": &a.EventsDigest, "commands_sha256": &a.CommandsDigest} {
		b, err := hex.DecodeString(need(k))
		if err != nil || len(b) != sha256.Size {
			errs = append(errs, fmt.Errorf("anchor: %s: want %d hex digits", k, 2*sha256.Size))
			continue
		}
		copy(dst[:], b)
	}
	return a, errors.Join(errs...)
}
