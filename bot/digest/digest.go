// Package digest builds an app's health digest: resources up vs expected,
// the blueprint's health metrics over a window with warn/critical markers,
// alarms in ALARM, recent runs and failures, pending approvals and the
// month's cost so far against the same days of the previous month, plus a
// small PNG chart of the key metric.
//
// Collection makes as few AWS calls as it can, because digests run for
// every app on a schedule and each call counts against API rate limits
// (and, for Cost Explorer, is billed): instances come in pages of 1000,
// metric queries go 500 to a GetMetricData call with a period chosen so
// each query returns at most 200 points, and cost is cached for hours.
//
// Resources are selected and counted by the tasks' own selection code
// (Clients.Count), so globs and "*" tag values mean what they mean to a
// task. Each file states the few SDK methods it needs as a local interface
// (metrics.go, alarms.go, cost.go), so tests run against the emulator and
// production against the SDK clients (SDKClients).
package digest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
)

// Clients are the AWS clients one app's digest uses, and the tasks'
// selection (tasks/aws.Count and Members in production), so that a digest
// and a task read the same resources for one binding.
type Clients struct {
	CloudWatch CloudWatchAPI
	Cost       CostAPI
	// Count lists and counts the resources sel selects (up of expected,
	// with their metric dimensions); known is false for a type it does
	// not count.
	Count func(ctx context.Context, sel tasks.Selector) (ms []tasks.Member, known bool, err error)
	// Members lists the resources of the types Count does not know
	// (queues, streams, functions...); known is false for a type it does
	// not list either.
	Members func(ctx context.Context, sel tasks.Selector) (ids []string, known bool, err error)
}

// SDKClients builds the AWS clients from an app's aws.Config (the
// selection hooks are the caller's). Cost Explorer has a single endpoint
// in us-east-1, whatever the app's region.
func SDKClients(cfg aws.Config) Clients {
	return Clients{
		CloudWatch: cloudwatch.NewFromConfig(cfg),
		Cost: costexplorer.NewFromConfig(cfg, func(o *costexplorer.Options) {
			o.Region = "us-east-1"
		}),
	}
}

// Journal is what the digest reads from the store: recent runs and pending
// approvals (*store.Store implements it).
type Journal interface {
	Runs(ctx context.Context, f store.RunFilter) ([]store.Run, error)
	PendingApprovals(ctx context.Context, app string) ([]store.Approval, error)
}

var _ Journal = (*store.Store)(nil)

// Options configure a Builder. Clients and Journal are required.
type Options struct {
	// Clients returns the AWS clients for an app, with credentials of the
	// principal scheduler:<app> (the composition root goes through
	// awsclient, so CloudTrail shows the scheduler).
	Clients func(ctx context.Context, app *blueprints.ResolvedApp) (Clients, error)
	Journal Journal
	// Clock is the digest's time; default time.Now.
	Clock func() time.Time
	// Window is how far back metrics and failures go; default 24h.
	Window time.Duration
	// Concurrency bounds how many apps are collected at once; default 4.
	Concurrency int
	// CostTag is the cost-allocation tag that carries the app name (e.g.
	// "app"); empty reports the whole account's cost. The tag must be
	// activated in the Billing console or Cost Explorer returns nothing
	// for it.
	CostTag string
	// CostTTL is how long an app's cost is cached; default 6h. Every Cost
	// Explorer request is billed.
	CostTTL time.Duration
	// Logger; default discards.
	Logger *slog.Logger
}

// Builder collects and renders digests. It is safe for concurrent use.
type Builder struct {
	opts Options
	sem  chan struct{}
	cost costCache
}

// New checks opts and returns a Builder.
func New(opts Options) (*Builder, error) {
	if opts.Clients == nil || opts.Journal == nil {
		return nil, errors.New("new digest builder: Clients and Journal are required")
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Window <= 0 {
		opts.Window = 24 * time.Hour
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.CostTTL <= 0 {
		opts.CostTTL = 6 * time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Builder{opts: opts, sem: make(chan struct{}, opts.Concurrency), cost: costCache{entries: map[string]costEntry{}}}, nil
}

// Report is one app's collected digest. A section that could not be
// collected is left empty and named in Problems: a digest with a hole is
// more useful than no digest.
type Report struct {
	App      string
	Region   string
	From, To time.Time
	// Period is the metric period the window was read at.
	Period    time.Duration
	Resources []ResourceCount
	Metrics   []MetricSummary
	Alarms    []FiringAlarm
	// Runs are the app's most recent runs, newest first; Failures counts
	// the failed and interrupted ones in the window.
	Runs     []store.Run
	Failures int
	Pending  []store.Approval
	Cost     Cost
	Problems []string
}

// Build collects one app's digest. Sections are collected concurrently;
// the Builder bounds how many apps are collected at once.
func (b *Builder) Build(ctx context.Context, app *blueprints.ResolvedApp) (Report, error) {
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return Report{}, fmt.Errorf("build digest of %s: %w", app.Name, ctx.Err())
	}
	defer func() { <-b.sem }()

	now := b.opts.Clock().UTC()
	r := Report{App: app.Name, Region: app.Region, From: now.Add(-b.opts.Window), To: now}
	cl, err := b.opts.Clients(ctx, app)
	if err != nil {
		return Report{}, fmt.Errorf("build digest of %s: aws clients: %w", app.Name, err)
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		problems []string
	)
	problem := func(section string, err error) {
		b.opts.Logger.WarnContext(ctx, "digest section failed", "app", app.Name, "section", section, "err", err)
		mu.Lock()
		problems = append(problems, section+": "+errorText(err))
		mu.Unlock()
	}
	wg.Go(func() {
		// Metrics need the resources' ids, so they follow them.
		res, found, err := collectResources(ctx, cl, app)
		if err != nil {
			problem("resources", err)
		}
		r.Resources = res
		ms, period, err := collectMetrics(ctx, cl.CloudWatch, app.Metrics, found, r.From, r.To)
		if err != nil {
			problem("metrics", err)
		}
		r.Metrics, r.Period = ms, period
	})
	wg.Go(func() {
		as, err := firingAlarms(ctx, cl.CloudWatch, app.AlarmPrefixes)
		if err != nil {
			problem("alarms", err)
		}
		r.Alarms = as
	})
	wg.Go(func() {
		c, err := b.costOf(ctx, cl.Cost, app.Name, now)
		if err != nil {
			problem("cost", err)
		}
		r.Cost = c
	})
	wg.Go(func() {
		if err := b.journal(ctx, &r); err != nil {
			problem("journal", err)
		}
	})
	wg.Wait()
	r.Problems = problems
	return r, nil
}

// recentRuns is how many runs a digest lists.
const recentRuns = 5

func (b *Builder) journal(ctx context.Context, r *Report) error {
	runs, err := b.opts.Journal.Runs(ctx, store.RunFilter{App: r.App, Limit: 200})
	if err != nil {
		return fmt.Errorf("read runs: %w", err)
	}
	for _, run := range runs {
		if run.CreatedAt.Before(r.From) {
			continue
		}
		if run.State == store.Failed || run.State == store.Interrupted {
			r.Failures++
		}
	}
	r.Runs = runs[:min(len(runs), recentRuns)]
	pend, err := b.opts.Journal.PendingApprovals(ctx, r.App)
	if err != nil {
		return fmt.Errorf("read pending approvals: %w", err)
	}
	r.Pending = pend
	return nil
}

// errorText is an error as one short line for the digest's problems.
func errorText(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Message builds and renders app's digest with its chart: what `digest
// APP` and the digest schedules post. A chart that cannot be drawn is
// left out rather than failing the digest.
func (b *Builder) Message(ctx context.Context, app *blueprints.ResolvedApp) (bot.Message, error) {
	r, err := b.Build(ctx, app)
	if err != nil {
		return bot.Message{}, err
	}
	png, err := Chart(r)
	if err != nil {
		b.opts.Logger.WarnContext(ctx, "digest chart", "app", app.Name, "err", err)
		png = nil
	}
	return Message(r, png), nil
}
