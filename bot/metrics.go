package bot

import (
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/day2bot/day2bot/internal/errs"
)

// metrics are the engine's counters. They live on the registry the caller
// passes in, never on a global one.
type metrics struct {
	commands  prometheus.Counter
	decisions *prometheus.CounterVec
	runs      *prometheus.CounterVec
	// errors counts what went wrong by where (a command or button press,
	// or a run) and by errs kind: a rise of "permission" in runs is an IAM
	// role that lost a grant, of "transient" an AWS that throttles.
	errors *prometheus.CounterVec
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
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "day2bot_errors_total", Help: "Refused commands and failed runs, by stage (command, run) and error kind.",
		}, []string{"stage", "kind"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.commands, m.decisions, m.runs, m.errors} {
		if err := reg.Register(c); err != nil {
			return metrics{}, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// countError counts an error of kind k at stage.
func (m metrics) countError(stage string, k errs.Kind) {
	m.errors.WithLabelValues(stage, kindLabel(k)).Inc()
}

// kindLabel is k as a label value: "not_found", "permission", "internal".
func kindLabel(k errs.Kind) string { return strings.ReplaceAll(k.String(), " ", "_") }
