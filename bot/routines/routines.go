// Package routines is the work day2bot does on its own: the apps'
// schedules (tasks run as scheduler:<app> through the engine, health
// digests posted to the apps' channels), the digest and cost builder
// behind `digest APP`, `cost APP` and `report APP`, and the alarm watcher
// with its optional SQS feed.
//
// Routines are built before the engine (which answers `digest APP` with
// them) and started after it (scheduled tasks go through it). serve starts
// them, under the singletons' lease when replicas share a database; shell
// and sandbox only answer with them.
package routines

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/bot/alerts"
	"github.com/day2bot/day2bot/bot/digest"
	"github.com/day2bot/day2bot/bot/schedule"
	"github.com/day2bot/day2bot/internal/clock"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
)

// Engine runs a scheduled task through the policies (*bot.Engine).
type Engine interface {
	RunScheduled(ctx context.Context, schedule, app, task string, params map[string]string) error
}

var _ Engine = (*bot.Engine)(nil)

// Options are what New wires together. Store, Apps and AWS are required.
type Options struct {
	// Store keeps the schedules' last runs, the alarms' state and the
	// journal digests read failures from.
	Store *store.Store
	// Apps are the configured apps, resolved against the blueprints.
	Apps map[string]*blueprints.ResolvedApp
	// AWS hands out each app's config, as scheduler:<app>.
	AWS bot.AWSProvider
	// Platforms digests and alerts are posted through, by Name().
	Platforms []bot.Platform
	// Logger; default discards.
	Logger *slog.Logger
	// Clock drives schedules and alert polling; default clock.Real.
	Clock clock.Clock
	// CostTag is the cost-allocation tag carrying the app name ("" for
	// the whole account's cost); Config.CostTag overrides it.
	CostTag string
	// Config is `routines:` in day2bot.yaml.
	Config Config
}

// Routines are the schedules, digests and alerts of a set of apps.
type Routines struct {
	apps      map[string]*blueprints.ResolvedApp
	platforms map[string]bot.Platform
	log       *slog.Logger
	digests   *digest.Builder
	alerts    *alerts.Watcher
	sched     *schedule.Scheduler
	engine    Engine // set by Start
	aws       bot.AWSProvider
	queue     string // SQS queue of alarm notifications, optional
	feedDone  chan struct{}
}

// New builds the routines and checks every schedule's spec, so a bad one
// is a config error at start-up.
func New(o Options) (*Routines, error) {
	if o.Store == nil || o.AWS == nil {
		return nil, errors.New("new routines: Store and AWS are required")
	}
	log := cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	clk := o.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	every, err := o.Config.AlertInterval()
	if err != nil {
		return nil, err
	}
	r := &Routines{apps: o.Apps, platforms: map[string]bot.Platform{}, log: log, aws: o.AWS, queue: o.Config.AlertQueue}
	for _, p := range o.Platforms {
		r.platforms[p.Name()] = p
	}
	awsFor := func(ctx context.Context, app *blueprints.ResolvedApp) (digest.Clients, error) {
		cfg, err := o.AWS.Config(ctx, app.Account.RoleARN, app.Region, bot.SchedulerPrincipal(app.Name))
		if err != nil {
			return digest.Clients{}, fmt.Errorf("aws config for %s: %w", app.Name, err)
		}
		c := digest.SDKClients(cfg)
		c.Count = func(ctx context.Context, sel tasks.Selector) ([]tasks.Member, bool, error) {
			return awsactions.Count(ctx, cfg, sel)
		}
		c.Members = func(ctx context.Context, sel tasks.Selector) ([]string, bool, error) {
			return awsactions.Members(ctx, cfg, sel)
		}
		return c, nil
	}
	r.digests, err = digest.New(digest.Options{Clients: awsFor, Journal: o.Store, Clock: clk.Now, CostTag: cmp.Or(o.Config.CostTag, o.CostTag), Logger: log})
	if err != nil {
		return nil, err
	}
	r.alerts, err = alerts.New(alerts.Options{
		Apps: slices.Collect(maps.Values(o.Apps)),
		Clients: func(ctx context.Context, app *blueprints.ResolvedApp) (alerts.CloudWatchAPI, error) {
			c, err := awsFor(ctx, app)
			return c.CloudWatch, err
		},
		State: o.Store, Platforms: r.platforms, Clock: clk, Every: every, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	if r.sched, err = schedule.New(jobs(o.Apps, r), o.Store, clk, log, r.notify); err != nil {
		return nil, err
	}
	return r, nil
}

// Digest builds an app's digest for `digest APP` (bot.Options.Digest).
func (r *Routines) Digest(ctx context.Context, app string) (bot.Message, error) {
	ra, ok := r.apps[app]
	if !ok {
		return bot.Message{}, fmt.Errorf("digest: unknown app %q", app)
	}
	return r.digests.Message(ctx, ra)
}

// Cost is `cost APP` (bot.Options.Cost).
func (r *Routines) Cost(ctx context.Context, app string) (bot.Message, error) {
	ra, ok := r.apps[app]
	if !ok {
		return bot.Message{}, fmt.Errorf("cost: unknown app %q", app)
	}
	return r.digests.CostMessage(ctx, ra)
}

// CostRows are for `report APP` (bot.Options.CostRows).
func (r *Routines) CostRows(ctx context.Context, app string, from, to time.Time) ([]bot.CostRow, error) {
	ra, ok := r.apps[app]
	if !ok {
		return nil, fmt.Errorf("cost: unknown app %q", app)
	}
	return r.digests.CostRows(ctx, ra, from, to)
}

// jobs turns every app's schedules into jobs, in key order; with r nil
// they only describe (listings), with r they run.
func jobs(apps map[string]*blueprints.ResolvedApp, r *Routines) []schedule.Job {
	var jobs []schedule.Job
	for _, name := range slices.Sorted(maps.Keys(apps)) {
		for _, s := range apps[name].Schedules {
			j := schedule.Job{Key: s.Key, Spec: s.Cron, CatchUp: s.CatchUp}
			switch {
			case r == nil:
			case s.Digest:
				j.Run = func(ctx context.Context, _ time.Time) error { return r.postDigest(ctx, name) }
			default:
				j.Run = func(ctx context.Context, _ time.Time) error {
					if r.engine == nil {
						return errors.New("engine not started")
					}
					return r.engine.RunScheduled(ctx, s.Name, name, s.Task, s.Params)
				}
			}
			jobs = append(jobs, j)
		}
	}
	return jobs
}

// postDigest posts an app's digest to each of its connected channels.
func (r *Routines) postDigest(ctx context.Context, app string) error {
	m, err := r.Digest(ctx, app)
	if err != nil {
		return err
	}
	var errs []error
	for _, ch := range r.apps[app].Channels {
		plat, id, _ := strings.Cut(ch, ":")
		p, ok := r.platforms[plat]
		if !ok {
			continue
		}
		if _, err := p.Post(ctx, id, m); err != nil {
			errs = append(errs, fmt.Errorf("post digest of %s to %s: %w", app, ch, err))
		}
	}
	return errors.Join(errs...)
}

// notify logs what the scheduler did. Denied schedules were already posted
// in the app's channel by the engine.
func (r *Routines) notify(ev schedule.Event) {
	var denied *bot.ScheduleDenied
	var busy *bot.ScheduleBusy
	switch {
	case ev.Kind == schedule.Failed && errors.As(ev.Err, &denied):
		r.log.Warn("schedule denied", "schedule", ev.Key, "at", ev.At, "reason", denied.Reason)
	case ev.Kind == schedule.Failed && errors.As(ev.Err, &busy):
		r.log.Warn("schedule skipped: previous still in progress", "schedule", ev.Key, "at", ev.At, "run", busy.Run, "approval", busy.Approval)
	case ev.Kind == schedule.Failed:
		r.log.Error("schedule failed", "schedule", ev.Key, "at", ev.At, "err", ev.Err)
	case ev.Kind == schedule.Started:
		r.log.Info("schedule fired", "schedule", ev.Key, "at", ev.At)
	case ev.Kind == schedule.Taken:
		r.log.Info("schedule already fired by another replica", "schedule", ev.Key, "at", ev.At)
	case ev.Kind == schedule.Skipped, ev.Kind == schedule.Missed, ev.Kind == schedule.CaughtUp:
		r.log.Warn("schedule "+string(ev.Kind), "schedule", ev.Key, "at", ev.At)
	default:
		r.log.Debug("schedule "+string(ev.Kind), "schedule", ev.Key, "at", ev.At)
	}
}

// CatchUpWithin makes Start run a fire time missed less than d ago late,
// once, even for schedules without catch-up: the time another replica took
// to take over the schedules must not lose a fire. Call before Start.
func (r *Routines) CatchUpWithin(d time.Duration) { r.sched.CatchUpWithin(d) }

// Start catches up or skips missed runs, then starts the schedules and the
// alarm watcher, running scheduled tasks through e; they stop with ctx,
// and Wait waits for them.
func (r *Routines) Start(ctx context.Context, e Engine) error {
	r.engine = e
	if err := r.sched.Recover(ctx); err != nil {
		return fmt.Errorf("start schedules: %w", err)
	}
	r.sched.Start(ctx)
	r.alerts.Start(ctx)
	if r.queue != "" {
		// The queue is the bot's own, read with the default credentials
		// in the queue's region.
		cfg, err := r.aws.Config(ctx, "", queueRegion(r.queue), "day2bot")
		if err != nil {
			return fmt.Errorf("start alarm feed: %w", err)
		}
		f := &alerts.Feed{Queue: r.queue, SQS: sqs.NewFromConfig(cfg), Watcher: r.alerts}
		r.feedDone = make(chan struct{})
		go func() {
			defer close(r.feedDone)
			_ = f.Run(ctx) // ends with ctx; errors are logged by the feed
		}()
	}
	return nil
}

// Wait returns once what Start started has stopped.
func (r *Routines) Wait() {
	r.sched.Wait()
	r.alerts.Wait()
	if r.feedDone != nil {
		<-r.feedDone
	}
}

// OwnsAlarm reports whether an app watches the alarm.
func (r *Routines) OwnsAlarm(name string) bool {
	for _, ra := range r.apps {
		if ra.OwnsAlarm(name) {
			return true
		}
	}
	return false
}

// PollAlarm looks at one alarm now and posts its alert if it changed (the
// sandbox's `alarm NAME`).
func (r *Routines) PollAlarm(ctx context.Context, name string) error {
	return r.alerts.PollAlarm(ctx, name)
}

// queueRegion is the region in an SQS queue URL
// (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME), "" if it has none.
func queueRegion(queueURL string) string {
	u, err := url.Parse(queueURL)
	if err != nil {
		return ""
	}
	parts := strings.Split(u.Hostname(), ".")
	if len(parts) >= 4 && parts[0] == "sqs" {
		return parts[1]
	}
	return ""
}
