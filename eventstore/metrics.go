package eventstore

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	appended      prometheus.Counter
	appendErrors  prometheus.Counter
	duplicates    prometheus.Counter
	appendSeconds prometheus.Histogram
	readEvents    prometheus.Counter
	groupSize     prometheus.Histogram
	groupRetries  prometheus.Counter
}

func newMetrics() metrics {
	return metrics{
		appended: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dxledger_store_appended_events_total", Help: "Events appended by this process."}),
		appendErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dxledger_store_append_errors_total", Help: "Appends refused: conflicts, bad input, database errors."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dxledger_store_idempotent_replays_total", Help: "Appends answered from an earlier command with the same id."}),
		appendSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "dxledger_store_append_seconds", Help: "Latency of successful appends.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		readEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dxledger_store_subscription_events_total", Help: "Events delivered to subscriptions."}),
		groupSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "dxledger_store_append_group_size", Help: "Appends committed together in one transaction (group commit; 1: alone).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64}}),
		groupRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dxledger_store_append_group_retries_total", Help: "Groups of appends rolled back and sent again one by one."}),
	}
}

func (m metrics) register(r prometheus.Registerer) error {
	var errs []error
	for _, c := range []prometheus.Collector{m.appended, m.appendErrors, m.duplicates, m.appendSeconds, m.readEvents, m.groupSize, m.groupRetries} {
		errs = append(errs, r.Register(c))
	}
	return errors.Join(errs...)
}

// sizeCollector exports the store's size, read on each scrape (see Stats).
type sizeCollector struct{ store *Store }

var (
	eventsDesc  = prometheus.NewDesc("dxledger_store_events", "Events in the store (estimated above 100,000).", nil, nil)
	lastSeqDesc = prometheus.NewDesc("dxledger_store_last_sequence", "Last global sequence number handed out.", nil, nil)
)

func (c sizeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- eventsDesc; ch <- lastSeqDesc }

func (c sizeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.store.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(eventsDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(eventsDesc, prometheus.GaugeValue, float64(st.Events))
	ch <- prometheus.MustNewConstMetric(lastSeqDesc, prometheus.GaugeValue, float64(st.LastSeq)) // a position, not a count: a gauge
}
