package slack

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the adapter's collectors, on the registry the caller passes
// in (never the global one).
type metrics struct {
	ack       *prometheus.HistogramVec
	apiErrors *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (metrics, error) {
	m := metrics{
		ack: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "day2bot_slack_ack_seconds",
			Help: "Time from receiving a Slack request to acknowledging it, by transport and kind.",
			// Slack gives up after 3s; the interesting range is well below.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 3},
		}, []string{"transport", "kind"}),
		apiErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "day2bot_slack_api_errors_total",
			Help: "Failed Slack Web API calls, by method and Slack error code.",
		}, []string{"method", "error"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.ack, m.apiErrors} {
		if err := reg.Register(c); err != nil {
			return metrics{}, fmt.Errorf("register slack metrics: %w", err)
		}
	}
	return m, nil
}

// acked times the ack of a request of kind that arrived at start.
func (m metrics) acked(transport, kind string, start time.Time) {
	m.ack.WithLabelValues(transport, kind).Observe(time.Since(start).Seconds())
}
