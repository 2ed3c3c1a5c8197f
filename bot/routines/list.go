package routines

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/bot/schedule"
	"github.com/day2bot/day2bot/internal/clock"
)

// Listed is one schedule with what it runs, for listings.
type Listed struct {
	schedule.Info
	// Runs is "digest" or "task NAME".
	Runs string
}

// List is every app's schedules by key, with the next run after clk's now
// and the last run recorded in state: `day2bot schedules list`, which runs
// nothing.
func List(ctx context.Context, apps map[string]*blueprints.ResolvedApp, state schedule.State, clk clock.Clock) ([]Listed, error) {
	sc, err := schedule.New(jobs(apps, nil), state, clk, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return nil, err
	}
	return listed(ctx, sc, apps)
}

// listed is the scheduler's listing with what each schedule runs.
func listed(ctx context.Context, sc *schedule.Scheduler, apps map[string]*blueprints.ResolvedApp) ([]Listed, error) {
	infos, err := sc.List(ctx)
	if err != nil {
		return nil, err
	}
	runs := map[string]string{}
	for _, ra := range apps {
		for _, s := range ra.Schedules {
			runs[s.Key] = "task " + s.Task
			if s.Digest {
				runs[s.Key] = "digest"
			}
		}
	}
	out := make([]Listed, len(infos))
	for i, in := range infos {
		out[i] = Listed{Info: in, Runs: runs[in.Key]}
	}
	return out, nil
}

// Schedules lists an app's schedules for `schedules APP`
// (bot.Options.Schedules): next run from the scheduler, last from the store.
func (r *Routines) Schedules(ctx context.Context, app string) (bot.Message, error) {
	ra, ok := r.apps[app]
	if !ok {
		return bot.Message{}, fmt.Errorf("list schedules: unknown app %q", app)
	}
	all, err := listed(ctx, r.sched, map[string]*blueprints.ResolvedApp{app: ra})
	if err != nil {
		return bot.Message{}, fmt.Errorf("list schedules of %s: %w", app, err)
	}
	t := &bot.Table{Columns: []string{"Schedule", "Runs", "Cron", "Next", "Last"}}
	for _, in := range all {
		if in.Runs == "" {
			continue // another app's
		}
		last := "never"
		if !in.Last.IsZero() {
			last = in.Last.UTC().Format("Jan 2 15:04 MST")
		}
		if in.Running {
			last += " (running)"
		}
		name := strings.TrimPrefix(in.Key, app+"/")
		if in.CatchUp {
			name += " (catch-up)"
		}
		t.Rows = append(t.Rows, []string{name, in.Runs, in.Spec, in.Next.UTC().Format("Jan 2 15:04 MST"), last})
	}
	m := bot.Message{Title: "Schedules of " + app}
	if len(t.Rows) == 0 {
		m.Text = "no schedules"
		return m, nil
	}
	m.Table = t
	m.Context = []string{"scheduled tasks run as " + bot.SchedulerPrincipal(app) + ", through the same policies as typed commands"}
	return m, nil
}
