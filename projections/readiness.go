package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// setAsideEvents counts the events the read models behind the reports have set aside.
func (r *Reports) setAsideEvents(ctx context.Context) (int64, error) {
	var n int64
	if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM projection_set_aside WHERE projection = ANY($1)`, followed).Scan(&n); err != nil {
		return 0, fmt.Errorf("set-aside events: %w", err)
	}
	return n, nil
}

// ProjectionState is where one read model stands against the store, read from the database
// (so it is right whichever process applies it).
type ProjectionState struct {
	Name string `json:"name"`
	// Position is the checkpoint: the last event applied (or set aside).
	Position string `json:"position"`
	// LagEvents is how many stored events come after it (counted up to 100,000).
	LagEvents int64 `json:"lag_events"`
	// LagSeconds is how long ago the oldest of those was recorded (0 when none).
	LagSeconds float64 `json:"lag_seconds"`
	// SetAsideEvents counts the events it could not apply.
	SetAsideEvents int64 `json:"set_aside_events"`
	// SetAside lists the first set-aside event of each stream (at most 20).
	SetAside []SetAsideEvent `json:"set_aside,omitempty"`
}

// SetAsideEvent is an event a read model could not apply, and why.
type SetAsideEvent struct {
	Position  string    `json:"position"`
	StreamID  string    `json:"stream_id"`
	EventType string    `json:"event_type"`
	Error     string    `json:"error"`
	At        time.Time `json:"set_aside_at"`
}

// The count of events behind a checkpoint stops at 100,000, so that a readiness check of a
// projection far behind (a rebuild, a long stop) stays cheap.
const stateSQL = `WITH c AS (SELECT n.name, coalesce(p.tx_id, '0'::xid8) AS tx_id, coalesce(p.seq, 0) AS seq
	FROM unnest($1::text[]) AS n(name) LEFT JOIN projection_checkpoints p ON p.name = n.name)
SELECT c.name, c.tx_id, c.seq,
	(SELECT count(*) FROM (SELECT 1 FROM events e WHERE (e.tx_id, e.seq) > (c.tx_id, c.seq) LIMIT 100000) x),
	coalesce((SELECT extract(epoch FROM now() - e.recorded_at) FROM events e
		WHERE (e.tx_id, e.seq) > (c.tx_id, c.seq) ORDER BY e.tx_id, e.seq LIMIT 1), 0)::float8,
	(SELECT count(*) FROM projection_set_aside s WHERE s.projection = c.name)
FROM c`

// States reads where every read model stands.
func (r *Reports) States(ctx context.Context) ([]ProjectionState, error) {
	rows, err := r.pool.Query(ctx, stateSQL, followed)
	if err != nil {
		return nil, fmt.Errorf("projection states: %w", err)
	}
	defer rows.Close()
	var out []ProjectionState
	for rows.Next() {
		var (
			s       ProjectionState
			tx, seq uint64
		)
		if err := rows.Scan(&s.Name, &tx, &seq, &s.LagEvents, &s.LagSeconds, &s.SetAsideEvents); err != nil {
			return nil, fmt.Errorf("projection states: %w", err)
		}
		s.Position = fmt.Sprintf("%d/%d", tx, seq)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("projection states: %w", err)
	}
	for i := range out {
		if out[i].SetAsideEvents == 0 {
			continue
		}
		rows, err := r.pool.Query(ctx, `SELECT DISTINCT ON (stream_id) tx_id, seq, stream_id, event_type, error, set_aside_at
			FROM projection_set_aside WHERE projection = $1 ORDER BY stream_id, tx_id, seq LIMIT 20`, out[i].Name)
		if err != nil {
			return nil, fmt.Errorf("set-aside events: %w", err)
		}
		for rows.Next() {
			var (
				e       SetAsideEvent
				tx, seq uint64
			)
			if err := rows.Scan(&tx, &seq, &e.StreamID, &e.EventType, &e.Error, &e.At); err != nil {
				rows.Close()
				return nil, fmt.Errorf("set-aside events: %w", err)
			}
			e.Position = fmt.Sprintf("%d/%d", tx, seq)
			out[i].SetAside = append(out[i].SetAside, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("set-aside events: %w", err)
		}
	}
	return out, nil
}

// StateCollector exports States as metrics at each scrape: each read model's position, its
// lag in events and seconds, and its set-aside events.
type StateCollector struct {
	r                             *Reports
	seq, lagEvents, lagSec, aside *prometheus.Desc
}

// NewStateCollector returns a collector of r's States.
func NewStateCollector(r *Reports) *StateCollector {
	label := []string{"projection"}
	return &StateCollector{r: r,
		seq:       prometheus.NewDesc("dxledger_projection_position", "The sequence number of the last event a projection applied.", label, nil),
		lagEvents: prometheus.NewDesc("dxledger_projection_lag_events", "Stored events a projection has not applied yet (counted up to 100,000).", label, nil),
		lagSec:    prometheus.NewDesc("dxledger_projection_lag_seconds", "How long ago the oldest event a projection has not applied was recorded.", label, nil),
		aside:     prometheus.NewDesc("dxledger_projection_set_aside_events", "Events a projection could not apply and set aside (DESIGN.md, invariant 10).", label, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *StateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.seq
	ch <- c.lagEvents
	ch <- c.lagSec
	ch <- c.aside
}

// Collect implements prometheus.Collector; a database that does not answer leaves the figures
// out of that scrape.
func (c *StateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	states, err := c.r.States(ctx)
	if err != nil {
		return
	}
	for _, s := range states {
		var tx, seq float64
		fmt.Sscanf(s.Position, "%f/%f", &tx, &seq)
		ch <- prometheus.MustNewConstMetric(c.seq, prometheus.GaugeValue, seq, s.Name)
		ch <- prometheus.MustNewConstMetric(c.lagEvents, prometheus.GaugeValue, float64(s.LagEvents), s.Name)
		ch <- prometheus.MustNewConstMetric(c.lagSec, prometheus.GaugeValue, s.LagSeconds, s.Name)
		ch <- prometheus.MustNewConstMetric(c.aside, prometheus.GaugeValue, float64(s.SetAsideEvents), s.Name)
	}
}
