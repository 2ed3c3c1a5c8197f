// Package bot is day2bot's engine: it parses what people type, resolves it
// to an app's task, asks the policies, asks for approval where a rule says
// so, runs the task on a bounded pool of workers and reports back through a
// platform-neutral Platform. Adapters (bot/slack, bot/discord, bot/shell)
// translate their platform into Command and Action values and render Message
// values; nothing here knows about any platform.
//
// Where to look: grammar.go parses, dispatch.go decides, approvals.go asks
// and counts votes, runner.go runs, render.go builds the messages.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/day2bot/day2bot/internal/clock"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/tasks"
)

// AWSProvider hands out an aws.Config for an app's account and region with
// credentials scoped to the principal who asked (tasks/awsclient).
type AWSProvider interface {
	Config(ctx context.Context, account, region, principal string) (aws.Config, error)
}

// Registry finds actions by name (*tasks.Registry).
type Registry interface {
	Lookup(name string) (tasks.Action, bool)
}

// Options configure an Engine. Store, Apps, Registry and AWS are required.
type Options struct {
	Store    Store
	Apps     []App
	Registry Registry
	AWS      AWSProvider
	// Platforms by Name(); updates of stored messages go through them.
	Platforms map[string]Platform
	// Clock is the engine's time and what its loops (sweeps, heartbeats)
	// wait on; default clock.Real. Tests pass a clocktest clock and move it.
	Clock clock.Clock
	// Logger; default discards.
	Logger *slog.Logger
	// Workers bounds concurrent runs; default 4.
	Workers int
	// RunTimeout bounds one run; default 15m.
	RunTimeout time.Duration
	// ApprovalExpiry applies when a rule names none; default 1h.
	ApprovalExpiry time.Duration
	// Admins are handles or principals that may use `policy` and freeze
	// any app.
	Admins []string
	// Metrics receives the engine's counters; nil keeps them unregistered.
	Metrics prometheus.Registerer
	// SweepEvery is how often expiry and follow-ups are checked; default 15s.
	SweepEvery time.Duration
	// ProgressEvery throttles progress updates of one run; default 2s.
	ProgressEvery time.Duration
	// Digest builds an app's health digest for `digest APP`; nil answers
	// that digests are not set up.
	Digest func(ctx context.Context, app string) (Message, error)
	// Cost reports an app's cost for `cost APP` (month to date, the same
	// days of last month, the forecast, by service); nil answers that cost
	// is not set up.
	Cost func(ctx context.Context, app string) (Message, error)
	// ChoiceWait is how long a lookup of parameter values (autocomplete,
	// a form's select) is waited for before answering with what is known;
	// default 1.5s, inside the platforms' 3 s.
	ChoiceWait time.Duration
	// CostRows are an app's cost by day and service over [from, to), for
	// `report APP`; nil leaves cost out of reports.
	CostRows func(ctx context.Context, app string, from, to time.Time) ([]CostRow, error)
	// ReportRows bounds what one report reads of the journal: the month's
	// newest runs and audit entries, each; default 10,000. A report that
	// reached it says so.
	ReportRows int
	// DigestEvery is how often `digest APP` builds a fresh digest of one
	// app (each costs about a dozen AWS calls); requests in between post
	// the last one again. Default 5m.
	DigestEvery time.Duration
	// Schedules lists an app's schedules for `schedules APP`; nil answers
	// that schedules are not set up.
	Schedules func(ctx context.Context, app string) (Message, error)
	// Replica names this process among the replicas sharing the store;
	// default a random id. Runs it starts record it as their owner.
	Replica string
	// Shared says that other replicas may run on the same store
	// (Postgres). Start then leaves running runs alone (they may be
	// another replica's), beats this replica's heart every Heartbeat and
	// takes queued runs whose replica stopped; the lease holder calls
	// RecoverOrphans. Without it (SQLite, one process) Start marks every
	// running run interrupted, as the previous process left it.
	Shared bool
	// Heartbeat is how often a shared replica beats its heart and looks
	// for queued runs to take; default 2s. A replica silent for
	// StaleAfter (default 15s) is taken for dead.
	Heartbeat, StaleAfter time.Duration
	// DashboardLink makes the sign-in link of `dashboard APP` for the
	// person platform:user and says how long it works (bot/web's
	// Server.Link); nil answers that the dashboard is not set up.
	DashboardLink func(platform, user, app string) (link string, ttl time.Duration)
}

// Engine is the dispatcher, approval keeper and job runner. It is safe for
// concurrent use by several adapters.
type Engine struct {
	opts    Options
	store   Store
	apps    catalog
	reg     Registry
	aws     AWSProvider
	now     func() time.Time
	log     *slog.Logger
	admins  []string
	metrics metrics

	runner *runner

	mu       sync.Mutex
	started  bool
	cancel   context.CancelFunc
	loopCtx  context.Context // ends with Close
	bg       sync.WaitGroup  // loops and background work (planning)
	busy     activity        // queued and running runs plus background work
	msgLocks keyedMutex

	looseMu sync.Mutex
	looseOf *policies.RuleSet // the rule set loose was derived from
	loose   *policies.RuleSet // looseOf without allow/approve parameter conditions

	completion reachableRules  // the rule set completions are filtered with
	choices    choiceCache     // live parameter values, per app, task and parameter
	visibility visibilityRules // the rule set reads are filtered with
	digests    digests         // the last on-demand digest of each app
}

// New checks opts and builds an engine. Call Start to recover and begin
// running work, and Close to stop.
func New(opts Options) (*Engine, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("new engine: no store")
	case opts.Registry == nil:
		return nil, errors.New("new engine: no action registry")
	case opts.AWS == nil:
		return nil, errors.New("new engine: no AWS provider")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.RunTimeout <= 0 {
		opts.RunTimeout = 15 * time.Minute
	}
	if opts.ApprovalExpiry <= 0 {
		opts.ApprovalExpiry = time.Hour
	}
	if opts.SweepEvery <= 0 {
		opts.SweepEvery = 15 * time.Second
	}
	if opts.ChoiceWait <= 0 {
		opts.ChoiceWait = choiceWait
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 2 * time.Second
	}
	if opts.DigestEvery <= 0 {
		opts.DigestEvery = 5 * time.Minute
	}
	if opts.ReportRows <= 0 {
		opts.ReportRows = 10000
	}
	if opts.Platforms == nil {
		opts.Platforms = map[string]Platform{}
	}
	if opts.Replica == "" {
		opts.Replica = NewReplicaID()
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 2 * time.Second
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = 15 * time.Second
	}
	// A task whose action this build does not have is left out (and said
	// so in the log) rather than failing every other app: config
	// validation is where a missing action is an error.
	apps := make([]App, 0, len(opts.Apps))
	for _, a := range opts.Apps {
		a.Tasks = slices.DeleteFunc(slices.Clone(a.Tasks), func(t Task) bool {
			if _, ok := opts.Registry.Lookup(t.Action); !ok {
				opts.Logger.Warn("task left out: its action is not registered", "app", a.Name, "task", t.Name, "action", t.Action)
				return true
			}
			return false
		})
		apps = append(apps, a)
	}
	opts.Apps = apps
	m, err := newMetrics(opts.Metrics)
	if err != nil {
		return nil, fmt.Errorf("new engine: %w", err)
	}
	e := &Engine{
		opts:    opts,
		store:   opts.Store,
		apps:    newCatalog(opts.Apps),
		reg:     opts.Registry,
		aws:     opts.AWS,
		now:     opts.Clock.Now,
		log:     opts.Logger,
		admins:  opts.Admins,
		metrics: m,
	}
	e.runner = newRunner(e, opts.Workers)
	return e, nil
}

// Start recovers from a previous process (runs left running are marked
// interrupted and announced, queued runs resumed; pending approvals need
// nothing: their state is in the store), then starts the workers and the
// expiry and follow-up loop. It returns once they run; Close stops them.
func (e *Engine) Start(ctx context.Context) error {
	e.mu.Lock()
	if e.started {
		e.mu.Unlock()
		return errors.New("start engine: already started")
	}
	e.started = true
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.cancel, e.loopCtx = cancel, loopCtx
	e.mu.Unlock()

	e.runner.start(loopCtx)
	if err := e.resume(ctx, loopCtx); err != nil {
		return fmt.Errorf("start engine: %w", err)
	}
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		e.sweepLoop(loopCtx)
	}()
	go func() {
		// Cancelling the caller's context stops the engine too.
		select {
		case <-ctx.Done():
			cancel()
		case <-loopCtx.Done():
		}
	}()
	return nil
}

// Close stops the loops, cancels the runs still executing and waits for
// them to end; their AWS calls end with their context. Runs still queued
// stay queued in the store and are resumed by the next Start. A server
// that wants runs in flight to finish calls Drain (bounded by its grace
// period) first.
func (e *Engine) Close() error {
	e.mu.Lock()
	cancel := e.cancel
	e.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	e.runner.cancelAll("day2bot shutting down")
	e.runner.stop()
	e.bg.Wait()
	return nil
}

// Drain waits until no run is queued or running in this engine and no
// background work (planning, announcements) is in flight. The shell uses
// it to print a script's transcript in a stable order; servers never need it.
func (e *Engine) Drain(ctx context.Context) error { return e.busy.wait(ctx) }

// background runs f as tracked background work.
func (e *Engine) background(f func()) {
	e.busy.inc()
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		defer e.busy.dec()
		f()
	}()
}

// activity counts work in flight and wakes waiters when it drops to zero.
type activity struct {
	mu      sync.Mutex
	n       int
	waiters []chan struct{}
}

func (a *activity) inc() {
	a.mu.Lock()
	a.n++
	a.mu.Unlock()
}

func (a *activity) dec() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n--
	if a.n == 0 {
		for _, w := range a.waiters {
			close(w)
		}
		a.waiters = nil
	}
}

func (a *activity) wait(ctx context.Context) error {
	a.mu.Lock()
	if a.n == 0 {
		a.mu.Unlock()
		return nil
	}
	w := make(chan struct{})
	a.waiters = append(a.waiters, w)
	a.mu.Unlock()
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
