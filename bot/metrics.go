package bot

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the engine's counters. They live on the registry the caller
// passes in, never on a global one.
type metrics struct {
	commands  prometheus.Counter
	decisions *prometheus.CounterVec
	runs      *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (metrics, error) {
	m := metrics{
		commands: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "day2bot_commands_total", Help: "Commands received from chat.",
		}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "day2bot_decisions_total", Help: "Policy decisions on run requests, by effect.",
		}, []string{"effect"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "day2bot_runs_total", Help: "Finished runs, by outcome.",
		}, []string{"outcome"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.commands, m.decisions, m.runs} {
		if err := reg.Register(c); err != nil {
			return metrics{}, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}
