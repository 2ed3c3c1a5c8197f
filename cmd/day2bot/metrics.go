package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/day2bot/day2bot/internal/bodybudget"
)

// newMetricsRegistry is serve's one Prometheus registry (never the global
// default): the engine registers commands, decisions by effect and runs
// by outcome on it, the Slack adapter its ack latency histogram and API
// errors, and the Go runtime and process collectors come along.
func newMetricsRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// Request bodies: at most bodyMax each (Slack's limit; Discord's adapter
// cuts at 64 KiB), bodyBudgetTotal across all requests at once.
const (
	bodyBudgetTotal = 8 << 20
	bodyMax         = 512 << 10
)

// newBodyBudget is serve's bound on request body bytes in flight, with a
// gauge of the bytes reserved and a counter of requests refused with 503.
func newBodyBudget(reg prometheus.Registerer) *bodybudget.Budget {
	b := bodybudget.New(bodyBudgetTotal, bodyMax)
	inFlight := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "day2bot_http_body_bytes_in_flight",
		Help: "Request body bytes reserved by requests being read or verified.",
	})
	refused := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "day2bot_http_body_budget_refused_total",
		Help: "Requests answered 503 because the body budget was spent.",
	})
	reg.MustRegister(inFlight, refused)
	b.OnChange = func(used int64) { inFlight.Set(float64(used)) }
	b.OnRefuse = refused.Inc
	return b
}

// metricsHandler serves GET /metrics in the Prometheus text format.
func metricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}
