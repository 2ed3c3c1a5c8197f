package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
)

// resume picks up after the previous process: runs it left running may
// have half-happened, so they are marked interrupted and announced, never
// retried; runs it left queued had not started and are resumed; pending
// approvals live in the store and keep working as they are.
//
// With replicas sharing the store (Options.Shared) a running run may be
// another live replica's: this replica only beats its heart and takes the
// queued runs of replicas that stopped (replicaLoop); the lease holder
// interrupts the runs of stopped replicas (RecoverOrphans).
//
// Marking happens now, announcing in the background on bg (the engine's
// loop context): a chat API that accepts and never answers must not keep
// the process from serving, and a server listens before it starts the
// engine.
func (e *Engine) resume(ctx, bg context.Context) error {
	if e.opts.Shared {
		// The first beat, and the queued runs of stopped replicas, now.
		if err := e.store.Heartbeat(ctx, e.opts.Replica, e.now()); err != nil {
			return err
		}
		e.takeQueued(ctx)
		e.bg.Add(1)
		go func() {
			defer e.bg.Done()
			e.replicaLoop(bg)
		}()
	} else {
		rs, err := e.store.InterruptRunning(ctx, e.now())
		if err != nil {
			return err
		}
		e.interrupted(ctx, bg, rs)
		queued, err := e.store.QueuedRuns(ctx)
		if err != nil {
			return err
		}
		// Oldest first: resume in the order they were asked for.
		for _, id := range queued {
			e.log.InfoContext(ctx, "resuming queued run", "run", id)
			e.runner.enqueue(id)
		}
	}
	// Approvals that expired while nobody was watching, and plans that
	// were still being computed.
	e.expireNow(ctx)
	e.replanPending(bg)
	return nil
}

// interrupted logs, counts and (in the background) announces runs just
// marked interrupted.
func (e *Engine) interrupted(ctx, bg context.Context, rs []store.Run) {
	for _, r := range rs {
		e.log.WarnContext(ctx, "run interrupted by restart", "run", r.ID, "app", r.App, "task", r.Task, "replica", r.Owner)
		e.metrics.runs.WithLabelValues(string(store.Interrupted)).Inc()
	}
	if len(rs) > 0 {
		e.background(func() {
			for _, r := range rs {
				e.announce(bg, r, interruptedMessage(e.namedRun(bg, r)))
			}
		})
	}
}

// announce updates a run's message, or posts to the channel it came from
// when it has none.
func (e *Engine) announce(ctx context.Context, r store.Run, m Message) {
	if sr, ok := decodeRef(r.MessageRef); ok && e.update(ctx, sr.MessageRef, m) {
		return
	}
	p, ok := e.opts.Platforms[r.Platform]
	if !ok || r.Channel == "" {
		return
	}
	if _, err := p.Post(ctx, r.Channel, m); err != nil {
		e.log.WarnContext(ctx, "announce run", "run", r.ID, "err", err)
	}
}

// Sweep does the periodic work now: expire overdue approvals, run due
// follow-ups and forget rule uses older than any rate window. The engine's
// loop calls it every SweepEvery; tests call it after advancing their clock.
func (e *Engine) Sweep(ctx context.Context) {
	e.expireNow(ctx)
	e.remindApprovals(ctx)
	e.runFollowUps(ctx)
	if err := e.store.PruneUses(ctx, e.now().Add(-maxRateWindow)); err != nil {
		e.log.ErrorContext(ctx, "prune rule uses", "err", err)
	}
}

// maxRateWindow is the longest rate period a rule may have (policies
// refuses longer ones).
const maxRateWindow = 31 * 24 * time.Hour

// sweepLoop sweeps SweepEvery after the previous sweep ended, on the
// engine's clock, until ctx ends.
func (e *Engine) sweepLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.opts.Clock.After(e.opts.SweepEvery):
			e.Sweep(ctx)
		}
	}
}

// runFollowUps executes due follow-ups, each exactly once across processes
// (ClaimFollowUp), with the bot's own identity on the originating run's
// target.
func (e *Engine) runFollowUps(ctx context.Context) {
	fs, err := e.store.DueFollowUps(ctx, e.now())
	if err != nil {
		e.log.ErrorContext(ctx, "due follow-ups", "err", err)
		return
	}
	for _, f := range fs {
		ok, err := e.store.ClaimFollowUp(ctx, f.ID)
		if err != nil {
			e.log.ErrorContext(ctx, "claim follow-up", "follow_up", f.ID, "err", err)
			continue
		}
		if !ok {
			continue
		}
		e.followUp(ctx, f)
	}
}

func (e *Engine) followUp(ctx context.Context, f store.FollowUp) {
	log := e.log.With("follow_up", f.ID, "run", f.RunID, "action", f.Action)
	fail := func(err error) {
		log.ErrorContext(ctx, "follow-up failed", "err", err)
		e.audit(ctx, "day2bot", store.KindRun, f.App, "", f.RunID, fmt.Sprintf("follow-up %s failed: %v", f.Action, err))
	}
	run, err := e.store.Run(ctx, f.RunID)
	if err != nil {
		fail(err)
		return
	}
	app, ok := e.apps.app(run.App)
	if !ok {
		fail(fmt.Errorf("app %s is no longer configured", run.App))
		return
	}
	t, ok := app.task(run.Task)
	if !ok {
		fail(fmt.Errorf("task %s/%s is no longer configured", run.App, run.Task))
		return
	}
	act, ok := e.reg.Lookup(f.Action)
	if !ok {
		fail(fmt.Errorf("action %s is not registered", f.Action))
		return
	}
	raw := map[string]string{}
	if len(f.Values) > 0 && string(f.Values) != "null" {
		if err := json.Unmarshal(f.Values, &raw); err != nil {
			fail(fmt.Errorf("decode follow-up values: %w", err))
			return
		}
	}
	vals, err := tasks.ParseValues(act.Params(), raw)
	if err != nil {
		fail(err)
		return
	}
	runCtx, cancel := context.WithTimeout(ctx, e.opts.RunTimeout)
	defer cancel()
	cfg, err := e.aws.Config(runCtx, app.Account, app.Region, "day2bot:follow-up")
	if err != nil {
		fail(err)
		return
	}
	res, err := recovered(f.Action+" follow-up", func() (tasks.Result, error) {
		return act.Run(runCtx, tasks.Invocation{AWS: cfg, Target: t.Target, Values: vals, Now: e.now()}, nil)
	})
	if err != nil {
		fail(err)
		return
	}
	log.InfoContext(ctx, "follow-up done", "summary", res.Summary)
	e.audit(ctx, "day2bot", store.KindRun, f.App, run.Task, f.RunID, fmt.Sprintf("follow-up %s (%s): %s", f.Action, f.Reason, res.Summary))
	m := resultMessage(run, res, store.Succeeded)
	m.Title = run.App + " follow-up of " + run.ID + ": " + f.Action
	m.Text = f.Reason + " — " + res.Summary
	e.announce(ctx, store.Run{Platform: run.Platform, Channel: run.Channel, ID: run.ID}, m)
}
