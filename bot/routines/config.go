package routines

import (
	"fmt"
	"time"

	"github.com/day2bot/day2bot/tasks"
)

// Config is `routines:` in day2bot.yaml.
type Config struct {
	// CostTag is the cost-allocation tag whose value is the app name, e.g.
	// "app". Cost Explorer only knows tags activated as cost-allocation
	// tags in the Billing console; empty reports the whole account.
	CostTag string `yaml:"cost_tag,omitempty"`
	// AlertEvery is how often alarms are polled, e.g. "1m" (default).
	AlertEvery string `yaml:"alert_every,omitempty"`
	// AlertQueue is the URL of an SQS queue subscribed to the alarms' SNS
	// topic; notifications make alerts post before the next poll.
	AlertQueue string `yaml:"alert_queue,omitempty"`
	// DigestEvery is how often `/day2 digest APP` builds a fresh digest of
	// one app, e.g. "5m" (default); requests in between re-post the last.
	DigestEvery string `yaml:"digest_every,omitempty"`
}

// DigestInterval parses DigestEvery for the engine (bot.Options.DigestEvery):
// at least 10s, since a digest is about a dozen AWS calls. Zero means the
// engine's default.
func (c Config) DigestInterval() (time.Duration, error) {
	if c.DigestEvery == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(c.DigestEvery)
	if err != nil || d < 10*time.Second {
		return 0, fmt.Errorf("routines.digest_every: %s is not a duration of at least 10s, like 5m", tasks.QuoteInput(c.DigestEvery))
	}
	return d, nil
}

// AlertInterval parses AlertEvery: at least 10s, since every poll is one
// DescribeAlarms per app prefix. Zero means the watcher's default.
func (c Config) AlertInterval() (time.Duration, error) {
	if c.AlertEvery == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(c.AlertEvery)
	if err != nil || d < 10*time.Second {
		return 0, fmt.Errorf("routines.alert_every: %q is not a duration of at least 10s, like 1m", c.AlertEvery)
	}
	return d, nil
}
