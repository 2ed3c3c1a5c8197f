// Package schedule runs routine jobs on cron specs with an injected clock.
//
// It uses robfig/cron/v3 only to parse specs and compute the next time
// (cron.ParseStandard(spec).Next): cron.Cron itself reads time.Now and real
// timers, cannot catch up missed runs, and with WithChain(Recover,
// SkipIfStillRunning) one panic disables a job for good (cron#366). Here the
// loop is ours: the clock is injected, every job is recovered from panics
// on its own, never overlaps itself, and a run missed while the process was
// down is caught up once or skipped, per job, from the persisted last run.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/day2bot/day2bot/internal/clock"
	"github.com/day2bot/day2bot/internal/errs"
)

// Job is one scheduled piece of work.
type Job struct {
	// Key identifies the job in the persisted state, e.g. "shop/nightly-snapshot".
	Key string
	// Spec is a standard 5-field cron spec, optionally prefixed with
	// CRON_TZ=Area/City, or a descriptor such as @daily.
	Spec string
	// CatchUp runs a missed run once at start-up instead of skipping it.
	CatchUp bool
	// Run does the work. at is the scheduled time, not the wall clock.
	Run func(ctx context.Context, at time.Time) error
}

// State persists the last run of each job, so restarts neither repeat nor
// lose runs. ClaimScheduleRun records at as the last run only if the one
// recorded is older and reports whether it did: of two schedulers firing
// one time (replicas, a lease changing hands), one runs the job.
type State interface {
	ScheduleLastRun(ctx context.Context, key string) (time.Time, error)
	ClaimScheduleRun(ctx context.Context, key string, at time.Time) (bool, error)
}

// Clock is the time source; tests pass a fake they advance.
type Clock = clock.Clock

// Event reports what happened to a job, for logs, metrics and chat notices.
type Event struct {
	Key  string
	At   time.Time // scheduled time
	Kind EventKind
	Err  error // for Failed
}

// EventKind says what happened.
type EventKind string

const (
	Started  EventKind = "started"
	Finished EventKind = "finished"
	Failed   EventKind = "failed"   // Run returned an error or panicked
	Skipped  EventKind = "skipped"  // still running from the previous fire
	Missed   EventKind = "missed"   // missed while down and CatchUp is off
	CaughtUp EventKind = "caughtup" // missed while down, run once now
	Taken    EventKind = "taken"    // this fire time was run by another scheduler
)

// Parse validates a cron spec. cron's parser has panicked on odd input in
// the past, so it is called behind a recover: user input never panics.
func Parse(spec string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("invalid spec: %v", r)
		}
	}()
	return cron.ParseStandard(spec)
}

// Scheduler fires jobs. Create with New, then Start; Tick is exported so a
// test can drive it with exact times.
type Scheduler struct {
	clock  Clock
	state  State
	log    *slog.Logger
	notify func(Event)

	mu      sync.Mutex
	entries []*entry
	wg      sync.WaitGroup
	grace   time.Duration // see CatchUpWithin
}

// CatchUpWithin makes Recover run a fire time missed less than d ago late,
// once, even for jobs without CatchUp: the time another replica took to
// take over the schedules must not lose a fire. Call before Recover.
func (s *Scheduler) CatchUpWithin(d time.Duration) {
	s.mu.Lock()
	s.grace = d
	s.mu.Unlock()
}

type entry struct {
	job     Job
	sched   cron.Schedule
	next    time.Time
	running bool
}

// New parses every job's spec up front; any bad spec fails the whole set so
// a typo is found at start-up, not at 3 a.m. notify may be nil.
func New(jobs []Job, state State, clock Clock, log *slog.Logger, notify func(Event)) (*Scheduler, error) {
	if notify == nil {
		notify = func(Event) {}
	}
	s := &Scheduler{clock: clock, state: state, log: log, notify: notify}
	seen := map[string]bool{}
	// A bad spec or key is a config error naming the job, never a panic;
	// all of them are reported at once.
	var problems []error
	for _, j := range jobs {
		if seen[j.Key] {
			problems = append(problems, errs.E("add schedule "+j.Key, errs.Invalid, "schedule %s: defined twice", j.Key))
			continue
		}
		seen[j.Key] = true
		sc, err := Parse(j.Spec)
		if err != nil {
			problems = append(problems, errs.Wrap("add schedule "+j.Key, errs.Invalid, err, "schedule %s: bad cron spec %q: %v", j.Key, j.Spec, err))
			continue
		}
		s.entries = append(s.entries, &entry{job: j, sched: sc})
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return s, nil
}

// Recover computes each job's next time from its persisted last run: a run
// missed while the process was down is fired once now (CatchUp) or skipped
// to the next future time. Call once before Tick/Start.
func (s *Scheduler) Recover(ctx context.Context) error {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.entries {
		last, err := s.state.ScheduleLastRun(ctx, e.job.Key)
		if err != nil {
			return fmt.Errorf("read last run of %s: %w", e.job.Key, err)
		}
		if last.IsZero() {
			// Never ran: start from now, no catch-up of history.
			e.next = e.sched.Next(now)
			continue
		}
		missed := e.sched.Next(last)
		if !missed.After(now) {
			if e.job.CatchUp || now.Sub(missed) < s.grace {
				e.next = missed // fires on the first Tick, once
				s.notify(Event{Key: e.job.Key, At: missed, Kind: CaughtUp})
				continue
			}
			s.notify(Event{Key: e.job.Key, At: missed, Kind: Missed})
		}
		e.next = e.sched.Next(now)
	}
	return nil
}

// Tick fires every job due at now. Each due job fires at most once per Tick,
// however many of its times have passed: a slow tick never bursts.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) {
	s.mu.Lock()
	for _, e := range s.entries {
		if e.next.IsZero() {
			e.next = e.sched.Next(now)
			continue
		}
		if e.next.After(now) {
			continue
		}
		at := e.next
		e.next = e.sched.Next(now)
		if e.running {
			s.notify(Event{Key: e.job.Key, At: at, Kind: Skipped})
			continue
		}
		e.running = true
		s.wg.Add(1)
		go s.fire(ctx, e, at)
	}
	s.mu.Unlock()
}

func (s *Scheduler) fire(ctx context.Context, e *entry, at time.Time) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		e.running = false
		s.mu.Unlock()
	}()
	// Persist before running: a crash mid-run must not repeat the run on
	// restart (a mutating job runs at most once per fire time), and a
	// fire time another scheduler claimed is not run again.
	ok, err := s.state.ClaimScheduleRun(ctx, e.job.Key, at)
	if err != nil {
		s.log.ErrorContext(ctx, "persist schedule last run", "job", e.job.Key, "err", err)
		s.notify(Event{Key: e.job.Key, At: at, Kind: Failed, Err: err})
		return
	}
	if !ok {
		s.notify(Event{Key: e.job.Key, At: at, Kind: Taken})
		return
	}
	s.notify(Event{Key: e.job.Key, At: at, Kind: Started})
	err = s.runRecovered(ctx, e.job, at)
	if err != nil {
		s.log.ErrorContext(ctx, "scheduled job failed", "job", e.job.Key, "at", at, "err", err)
		s.notify(Event{Key: e.job.Key, At: at, Kind: Failed, Err: err})
		return
	}
	s.notify(Event{Key: e.job.Key, At: at, Kind: Finished})
}

// runRecovered turns a panic into an error: one bad run never disables the
// job (the cron#366 trap).
func (s *Scheduler) runRecovered(ctx context.Context, j Job, at time.Time) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return j.Run(ctx, at)
}

// Start runs the loop until ctx is done: sleep until the earliest next
// time, Tick, repeat. Call Recover first.
func (s *Scheduler) Start(ctx context.Context) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			now := s.clock.Now()
			s.Tick(ctx, now)
			wait := s.untilNext(now)
			select {
			case <-ctx.Done():
				return
			case <-s.clock.After(wait):
			}
		}
	}()
}

// Wait blocks until the loop and all running jobs have returned.
func (s *Scheduler) Wait() { s.wg.Wait() }

func (s *Scheduler) untilNext(now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	wait := time.Hour // re-check at least hourly (clock jumps, DST)
	for _, e := range s.entries {
		if d := e.next.Sub(now); d < wait {
			wait = d
		}
	}
	if wait < 0 {
		wait = 0
	}
	return wait
}

// Info is a job's schedule for listings (`day2bot schedules list`).
type Info struct {
	Key     string
	Spec    string
	CatchUp bool
	Next    time.Time
	Last    time.Time
	Running bool
}

// List reports every job with its next and persisted last run, by key.
func (s *Scheduler) List(ctx context.Context) ([]Info, error) {
	s.mu.Lock()
	infos := make([]Info, 0, len(s.entries))
	for _, e := range s.entries {
		next := e.next
		if next.IsZero() {
			next = e.sched.Next(s.clock.Now())
		}
		infos = append(infos, Info{Key: e.job.Key, Spec: e.job.Spec, CatchUp: e.job.CatchUp, Next: next, Running: e.running})
	}
	s.mu.Unlock()
	for i := range infos {
		last, err := s.state.ScheduleLastRun(ctx, infos[i].Key)
		if err != nil {
			return nil, fmt.Errorf("read last run of %s: %w", infos[i].Key, err)
		}
		infos[i].Last = last
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Key < infos[j].Key })
	return infos, nil
}
