package projector

import (
	"errors"
	"time"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the followers' own figures; how far each projection is behind the store is
// measured from the database (projections.Readiness), so that it is right whichever process
// leads.
type metrics struct {
	restartsTotal *prometheus.CounterVec
	lead          *prometheus.GaugeVec
	lastBatch     *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		restartsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dxledger_projection_restarts_total",
			Help: "Times a projection's follower in this process failed and started again."}, []string{"projection"}),
		lead: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dxledger_projection_leading",
			Help: "1 while this process leads (applies) the projection, 0 while it stands by."}, []string{"projection"}),
		lastBatch: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dxledger_projection_last_batch_timestamp_seconds",
			Help: "When this process last applied a batch to the projection (Unix time)."}, []string{"projection"}),
	}
	if reg != nil {
		if err := errors.Join(reg.Register(m.restartsTotal), reg.Register(m.lead), reg.Register(m.lastBatch)); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) restarts(names []string) {
	for _, n := range names {
		m.restartsTotal.WithLabelValues(n).Inc()
	}
}

func (m *metrics) leading(names []string, on bool) {
	v := 0.0
	if on {
		v = 1
	}
	for _, n := range names {
		m.lead.WithLabelValues(n).Set(v)
	}
}

func (m *metrics) applied(names []string, _ eventstore.Position) {
	now := float64(time.Now().UnixNano()) / 1e9
	for _, n := range names {
		m.lastBatch.WithLabelValues(n).Set(now)
	}
}
