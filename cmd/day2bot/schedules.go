package main

// Routine work of serve and sandbox: the apps' schedules (tasks run as
// scheduler:<app>, health digests), the digest builder behind `digest APP`
// and the alarm watcher; and `day2bot schedules list`.

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
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/cobra"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/bot/alerts"
	"github.com/day2bot/day2bot/bot/digest"
	"github.com/day2bot/day2bot/bot/schedule"
	clk "github.com/day2bot/day2bot/internal/clock"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
)

// routineDeps is what newRoutines wires together.
type routineDeps struct {
	Store     *store.Store
	Catalog   *blueprints.Catalog
	Apps      map[string]blueprints.App
	AWS       bot.AWSProvider
	Platforms []bot.Platform
	Logger    *slog.Logger
	// Clock drives schedules and alert polling; nil is the real one.
	Clock schedule.Clock
	// CostTag is the cost-allocation tag carrying the app name ("" for
	// the whole account's cost); Config.CostTag overrides it.
	CostTag string
	// Config is the routines part of day2bot.yaml.
	Config RoutinesConfig
}

// RoutinesConfig is `routines:` in day2bot.yaml.
type RoutinesConfig struct {
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

// digestEvery parses DigestEvery: at least 10s, since a digest is about a
// dozen AWS calls. Zero means the engine's default.
func (c RoutinesConfig) digestEvery() (time.Duration, error) {
	if c.DigestEvery == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(c.DigestEvery)
	if err != nil || d < 10*time.Second {
		return 0, fmt.Errorf("routines.digest_every: %s is not a duration of at least 10s, like 5m", tasks.QuoteInput(c.DigestEvery))
	}
	return d, nil
}

// alertEvery parses AlertEvery: at least 10s, since every poll is one
// DescribeAlarms per app prefix.
func (c RoutinesConfig) alertEvery() (time.Duration, error) {
	if c.AlertEvery == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(c.AlertEvery)
	if err != nil || d < 10*time.Second {
		return 0, fmt.Errorf("routines.alert_every: %q is not a duration of at least 10s, like 1m", c.AlertEvery)
	}
	return d, nil
}

// routines are built before the engine (which takes Digest) and started
// after it (scheduled tasks go through it).
type routines struct {
	apps      map[string]*blueprints.ResolvedApp
	platforms map[string]bot.Platform
	st        *store.Store
	log       *slog.Logger
	clock     schedule.Clock
	digests   *digest.Builder
	alerts    *alerts.Watcher
	sched     *schedule.Scheduler
	jobs      []schedule.Job
	engine    *bot.Engine
	aws       bot.AWSProvider
	queue     string // SQS queue of alarm notifications, optional
	feedDone  chan struct{}
}

func newRoutines(d routineDeps) (*routines, error) {
	apps, err := resolvedApps(d.Catalog, d.Apps)
	if err != nil {
		return nil, err
	}
	log := cmp.Or(d.Logger, slog.New(slog.DiscardHandler))
	clock := d.Clock
	if clock == nil {
		clock = clk.Real{}
	}
	every, err := d.Config.alertEvery()
	if err != nil {
		return nil, err
	}
	r := &routines{apps: apps, platforms: map[string]bot.Platform{}, st: d.Store, log: log, clock: clock, aws: d.AWS, queue: d.Config.AlertQueue}
	for _, p := range d.Platforms {
		r.platforms[p.Name()] = p
	}
	awsFor := func(ctx context.Context, app *blueprints.ResolvedApp) (digest.Clients, error) {
		cfg, err := d.AWS.Config(ctx, app.Account.RoleARN, app.Region, bot.SchedulerPrincipal(app.Name))
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
	r.digests, err = digest.New(digest.Options{Clients: awsFor, Journal: d.Store, Clock: clock.Now, CostTag: cmp.Or(d.Config.CostTag, d.CostTag), Logger: log})
	if err != nil {
		return nil, err
	}
	r.alerts, err = alerts.New(alerts.Options{
		Apps: slices.Collect(maps.Values(apps)),
		Clients: func(ctx context.Context, app *blueprints.ResolvedApp) (alerts.CloudWatchAPI, error) {
			c, err := awsFor(ctx, app)
			return c.CloudWatch, err
		},
		State: d.Store, Platforms: r.platforms, Clock: clock, Every: every, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	r.jobs = r.scheduleJobs()
	// Specs are checked now, so a bad one is a config error at start-up.
	if r.sched, err = schedule.New(r.jobs, d.Store, clock, log, r.notify); err != nil {
		return nil, err
	}
	return r, nil
}

// resolvedApps resolves every configured app against the catalog.
func resolvedApps(cat *blueprints.Catalog, cfg map[string]blueprints.App) (map[string]*blueprints.ResolvedApp, error) {
	out := make(map[string]*blueprints.ResolvedApp, len(cfg))
	for name, app := range cfg {
		ra, err := blueprints.ResolveApp(cat, name, app)
		if err != nil {
			return nil, fmt.Errorf("resolve app %s: %w", name, err)
		}
		out[name] = ra
	}
	return out, nil
}

// Digest builds an app's digest for `digest APP` (engine Options.Digest).
func (r *routines) Digest(ctx context.Context, app string) (bot.Message, error) {
	ra, ok := r.apps[app]
	if !ok {
		return bot.Message{}, fmt.Errorf("digest: unknown app %q", app)
	}
	return r.digests.Message(ctx, ra)
}

// Cost is `cost APP` (bot.Options.Cost).
func (r *routines) Cost(ctx context.Context, app string) (bot.Message, error) {
	ra, ok := r.apps[app]
	if !ok {
		return bot.Message{}, fmt.Errorf("cost: unknown app %q", app)
	}
	return r.digests.CostMessage(ctx, ra)
}

// CostRows are for `report APP` (bot.Options.CostRows).
func (r *routines) CostRows(ctx context.Context, app string, from, to time.Time) ([]bot.CostRow, error) {
	ra, ok := r.apps[app]
	if !ok {
		return nil, fmt.Errorf("cost: unknown app %q", app)
	}
	return r.digests.CostRows(ctx, ra, from, to)
}

// scheduleJobs turns every app's schedules into jobs, in key order.
func (r *routines) scheduleJobs() []schedule.Job {
	var jobs []schedule.Job
	for _, name := range slices.Sorted(maps.Keys(r.apps)) {
		for _, s := range r.apps[name].Schedules {
			j := schedule.Job{Key: s.Key, Spec: s.Cron, CatchUp: s.CatchUp}
			if s.Digest {
				j.Run = func(ctx context.Context, _ time.Time) error { return r.postDigest(ctx, name) }
			} else {
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
func (r *routines) postDigest(ctx context.Context, app string) error {
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
func (r *routines) notify(ev schedule.Event) {
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

// start catches up or skips missed runs, then starts the schedules and the
// alarm watcher; they stop with ctx, and wait waits for them.
func (r *routines) start(ctx context.Context, e *bot.Engine) error {
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

func (r *routines) wait() {
	r.sched.Wait()
	r.alerts.Wait()
	if r.feedDone != nil {
		<-r.feedDone
	}
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

func newSchedulesCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "schedules",
		Short: "Show the apps' schedules (routine tasks and digests)",
	}
	var configPath string
	list := &cobra.Command{
		Use:   "list",
		Short: "List every app's schedules with their next run and the last run recorded in the database",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dbPath := ""
			if cmd.Flags().Changed("db") {
				dbPath = g.DBPath
			}
			return listSchedules(cmd.Context(), g, configPath, dbPath)
		},
	}
	list.Flags().StringVar(&configPath, "config", "day2bot.yaml", "path of the config file")
	c.AddCommand(list)
	return c
}

// listSchedules prints KEY, SPEC, CATCH-UP, NEXT and LAST for every schedule.
func listSchedules(ctx context.Context, g *globals, configPath, dbPath string) error {
	cfg, err := loadConfig(configPath, g.Getenv)
	if err != nil {
		return usageError("%w", err)
	}
	cat := cfg.Catalog
	apps, err := resolvedApps(cat, cfg.Apps)
	if err != nil {
		return usageError("%w", err)
	}
	st, err := openStore(ctx, cmp.Or(dbPath, cfg.Database, "day2bot.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	var jobs []schedule.Job
	kind := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(apps)) {
		for _, s := range apps[name].Schedules {
			jobs = append(jobs, schedule.Job{Key: s.Key, Spec: s.Cron, CatchUp: s.CatchUp})
			kind[s.Key] = "task " + s.Task
			if s.Digest {
				kind[s.Key] = "digest"
			}
		}
	}
	sc, err := schedule.New(jobs, st, clk.Real{}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return usageError("%w", err)
	}
	infos, err := sc.List(ctx)
	if err != nil {
		return err
	}
	if len(infos) == 0 {
		fmt.Fprintln(g.Stdout, "no schedules")
		return nil
	}
	tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCHEDULE\tRUNS\tCRON\tCATCH-UP\tNEXT\tLAST")
	for _, in := range infos {
		last := "never"
		if !in.Last.IsZero() {
			last = in.Last.UTC().Format("2006-01-02 15:04 MST")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\n", in.Key, kind[in.Key], in.Spec, in.CatchUp, in.Next.UTC().Format("2006-01-02 15:04 MST"), last)
	}
	return tw.Flush()
}

// Schedules lists an app's schedules for `schedules APP` (engine
// Options.Schedules): next run from the scheduler, last from the store.
func (r *routines) Schedules(ctx context.Context, app string) (bot.Message, error) {
	infos, err := r.sched.List(ctx)
	if err != nil {
		return bot.Message{}, fmt.Errorf("list schedules of %s: %w", app, err)
	}
	ra, ok := r.apps[app]
	if !ok {
		return bot.Message{}, fmt.Errorf("list schedules: unknown app %q", app)
	}
	runs := map[string]string{}
	for _, s := range ra.Schedules {
		runs[s.Key] = "task " + s.Task
		if s.Digest {
			runs[s.Key] = "digest"
		}
	}
	t := &bot.Table{Columns: []string{"Schedule", "Runs", "Cron", "Next", "Last"}}
	for _, in := range infos {
		kind, mine := runs[in.Key]
		if !mine {
			continue
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
		t.Rows = append(t.Rows, []string{name, kind, in.Spec, in.Next.UTC().Format("Jan 2 15:04 MST"), last})
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
