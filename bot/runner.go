package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
)

// runner is the bounded job runner: a fixed number of workers take run ids
// from an in-memory queue. The queue is only a wake-up list; the store is
// the truth. A worker claims a run by moving it queued → running, a
// compare-and-set in the store, so a run handed to two workers (or two
// processes) still runs once.
type runner struct {
	e       *Engine
	workers int

	mu      sync.Mutex
	wake    *sync.Cond
	queue   []string
	stopped bool
	running map[string]context.CancelCauseFunc
	// aborting is why every run was cancelled (cancelAll); a run claimed
	// after that is left queued for the next start.
	aborting string
	wg       sync.WaitGroup
}

// errCancelled is the cause of a run's context when someone cancelled it.
var errCancelled = errors.New("cancelled")

func newRunner(e *Engine, workers int) *runner {
	r := &runner{e: e, workers: workers, running: map[string]context.CancelCauseFunc{}}
	r.wake = sync.NewCond(&r.mu)
	return r
}

func (r *runner) start(ctx context.Context) {
	// Stopping the loops does not cancel the runs in flight: each has its
	// own cancel (runner.running), which Close uses only after the
	// server's grace period (Drain), because a half-done reboot is worse
	// than a slower shutdown. A killed process has its runs marked
	// interrupted at the next start.
	ctx = context.WithoutCancel(ctx)
	for range r.workers {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.work(ctx)
		}()
	}
}

// stop ends the workers after their current run; queued ids stay queued in
// the store for the next start.
func (r *runner) stop() {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.stopped = true
	dropped := len(r.queue)
	r.queue = nil
	r.wake.Broadcast()
	r.mu.Unlock()
	for range dropped {
		r.e.busy.dec()
	}
	r.wg.Wait()
}

func (r *runner) enqueue(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	r.e.busy.inc()
	r.queue = append(r.queue, id)
	r.wake.Signal()
}

// idle is how many more runs the workers could start now.
func (r *runner) idle() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.aborting != "" {
		return 0
	}
	return max(0, r.workers-len(r.queue)-len(r.running))
}

func (r *runner) next() (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.queue) == 0 && !r.stopped {
		r.wake.Wait()
	}
	if r.stopped {
		return "", false
	}
	id := r.queue[0]
	r.queue = r.queue[1:]
	return id, true
}

func (r *runner) work(ctx context.Context) {
	for {
		id, ok := r.next()
		if !ok {
			return
		}
		r.e.execute(ctx, id)
		r.e.busy.dec()
	}
}

// cancel stops a run executing in this process; false if it is not here.
func (r *runner) cancel(id, by string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.running[id]
	if ok {
		c(fmt.Errorf("%w by %s", errCancelled, by))
	}
	return ok
}

// cancelAll stops every run executing in this process, as cancel does
// for one.
func (r *runner) cancelAll(by string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.aborting = by
	for _, c := range r.running {
		c(fmt.Errorf("%w by %s", errCancelled, by))
	}
}

// track registers a run's cancel; false if another worker of this process
// already has the run (it was handed out twice) or the engine is closing.
func (r *runner) track(id string, c context.CancelCauseFunc) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.running[id]; dup || r.aborting != "" {
		return false
	}
	r.running[id] = c
	return true
}

func (r *runner) untrack(id string) {
	r.mu.Lock()
	delete(r.running, id)
	r.mu.Unlock()
}

// execute claims and runs one queued run and reports its outcome. Every path
// ends with the run in a final state and its message updated.
func (e *Engine) execute(ctx context.Context, id string) {
	run, err := e.store.Run(ctx, id)
	if err != nil {
		e.log.ErrorContext(ctx, "load run", "run", id, "err", err)
		return
	}
	if run.State != store.Queued {
		return // cancelled meanwhile, or another worker has it
	}
	// Tracked before the claim: a cancel that finds the run running (it
	// lost the queued → cancelled race) also finds it here, even while
	// the "running" message is still being posted.
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if !e.runner.track(id, cancel) {
		return
	}
	defer e.runner.untrack(id)
	if err := e.store.StartRun(ctx, id, e.opts.Replica); err != nil {
		if !errs.Is(errs.Conflict, err) {
			e.log.ErrorContext(ctx, "start run", "run", id, "err", err)
		}
		return
	}
	run.State = store.Running
	run = e.namedRun(ctx, run)
	log := e.log.With("run", id, "app", run.App, "task", run.Task)
	log.InfoContext(ctx, "run started", "principal", run.Principal, "dry_run", run.DryRun)
	sr, hasMsg := decodeRef(run.MessageRef)
	show := func(m Message) {
		if hasMsg {
			e.update(ctx, sr.MessageRef, m)
		}
	}
	show(runningMessage(run, nil))

	runCtx, cancelTimeout := context.WithTimeoutCause(runCtx, e.opts.RunTimeout,
		fmt.Errorf("timed out after %s", tasks.FormatDuration(e.opts.RunTimeout)))
	defer cancelTimeout()

	finish := func(state store.State, summary, result string, m Message) {
		// The run's own context may be done; journal with the engine's.
		if err := e.store.FinishRun(context.WithoutCancel(ctx), id, state, summary, result); err != nil {
			log.ErrorContext(ctx, "finish run", "state", state, "err", err)
		}
		e.metrics.runs.WithLabelValues(string(state)).Inc()
		log.InfoContext(ctx, "run finished", "state", state, "summary", summary)
		if hasMsg {
			show(m)
		} else {
			// The queued message was never posted (the reply failed):
			// the result still goes to the channel the run came from.
			e.announce(ctx, run, m)
		}
	}
	failInternal := func(err error) {
		log.ErrorContext(ctx, "run failed", "err", err)
		e.metrics.countError("run", errs.Internal)
		text := "failed — run " + id + ", see logs"
		finish(store.Failed, text, "", failedMessage(run, text))
	}

	p, err := e.resolve(run.App, run.Task, run.Params)
	if err != nil {
		failInternal(fmt.Errorf("resolve journaled request: %w", err))
		return
	}
	if frozen, err := e.frozenAtStart(ctx, run, p); err != nil {
		failInternal(err)
		return
	} else if frozen != "" {
		m := failedMessage(run, frozen)
		m.Title, m.Tone = taskTitle(run.App, run.Task)+" — cancelled", ToneWarning
		finish(store.Cancelled, frozen, "", m)
		return
	}
	if runCtx.Err() != nil { // cancelled before the action started
		e.finishError(runCtx, run, context.Cause(runCtx), finish, failInternal)
		return
	}
	app, _ := e.apps.app(run.App)
	cfg, err := e.aws.Config(runCtx, app.Account, app.Region, run.Principal)
	if err != nil {
		e.finishError(runCtx, run, err, finish, failInternal)
		return
	}
	inv := tasks.Invocation{AWS: cfg, Target: p.task.Target, Related: p.task.Related, Values: p.values, Now: e.now()}
	if run.ApprovalID != "" {
		inv.Approved = e.approvedPlan(ctx, run.ApprovalID)
	}
	if run.DryRun {
		plan, err := recovered(p.action.Name()+" plan", func() (tasks.Plan, error) { return p.action.Plan(runCtx, inv) })
		if err != nil {
			e.finishError(runCtx, run, err, finish, failInternal)
			return
		}
		body, _ := json.Marshal(plan)
		finish(store.Succeeded, "plan: "+plan.Summary, string(body), planMessage(run, plan, e.apps.confirmText(run.App, run.Task)))
		return
	}
	res, err := recovered(p.action.Name()+" run", func() (tasks.Result, error) {
		return p.action.Run(runCtx, inv, e.progress(runCtx, run, show))
	})
	if err != nil {
		e.finishError(runCtx, run, err, finish, failInternal)
		return
	}
	state := store.Succeeded
	if n := len(res.Resources); n > 0 && res.Failed() == n {
		state = store.Failed
	}
	body, _ := json.Marshal(res)
	e.scheduleFollowUps(ctx, run, res.FollowUps)
	m := resultMessage(run, res, state)
	if res.FailedTransiently() {
		// Every resource failed for a passing reason and none changed:
		// trying again is safe to offer, as for a Transient error.
		m.Buttons = retryButtons(run, "Retry")
	}
	finish(state, res.Summary, string(body), m)
}

// approvedPlan is the plan shown on an approval's message: an action that
// prepared something in its plan (a change set) runs exactly that. It is
// an empty plan when the approvers saw none (it failed or was still being
// computed), so such an action refuses rather than act unseen.
func (e *Engine) approvedPlan(ctx context.Context, id string) *tasks.Plan {
	a, err := e.store.Approval(ctx, id)
	if err != nil {
		e.log.WarnContext(ctx, "load approved plan", "approval", id, "err", err)
		return &tasks.Plan{}
	}
	if sr, ok := decodeRef(a.MessageRef); ok && sr.Plan != nil {
		return sr.Plan
	}
	return &tasks.Plan{}
}

// frozenAtStart says why a mutating run must not start because its app was
// frozen after the run was allowed (it waited for a worker, or for a
// restart); "" if it may start. The decision was made before the freeze,
// and a freeze is meant to stop changes now.
func (e *Engine) frozenAtStart(ctx context.Context, run store.Run, p *prepared) (string, error) {
	if run.DryRun || !p.action.Mutating() {
		return "", nil
	}
	fr, err := e.freezeOf(ctx, run.App)
	if err != nil || fr == nil {
		return "", err
	}
	if !fr.Until.IsZero() && !e.now().Before(fr.Until) {
		return "", nil
	}
	text := "not started: " + run.App + " is frozen"
	if fr.By != "" {
		text += " by " + fr.By
	}
	if fr.Reason != "" {
		text += " (" + fr.Reason + ")"
	}
	return text, nil
}

// recovered calls f and turns a panic into an error: a bug in one action
// fails its run ("see logs", with the stack in the log), not the process
// and every other run in flight with it.
func recovered[T any](what string, f func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in %s: %v\n%s", what, r, debug.Stack())
		}
	}()
	return f()
}

// finishError classifies a run error: cancelled by someone, timed out, a
// user-fixable error (named in chat), or internal (logged, run id shown).
func (e *Engine) finishError(runCtx context.Context, run store.Run, err error,
	finish func(store.State, string, string, Message), failInternal func(error)) {
	cause := context.Cause(runCtx)
	msg, isUser := errs.Render(err)
	switch {
	case cause != nil && errors.Is(cause, errCancelled):
		text := cause.Error()
		m := failedMessage(run, text)
		m.Title, m.Tone = taskTitle(run.App, run.Task)+" — cancelled", ToneWarning
		finish(store.Cancelled, text, "", m)
	case cause != nil && errors.Is(runCtx.Err(), context.DeadlineExceeded):
		text := cause.Error() + "; some resources may have changed"
		finish(store.Failed, text, "", failedMessage(run, text))
	case isUser:
		e.metrics.countError("run", errs.KindOf(err))
		text := oneLine(msg)
		m := failedMessage(run, text)
		switch {
		case errs.Is(errs.Transient, err):
			// "Try again in a minute" is one press away; the press is
			// the presser's own command, through policy like any other.
			m.Buttons = retryButtons(run, "Retry")
		case errs.Is(errs.Permission, err) && errs.IAMActionOf(err) != "":
			// AWS refused for a missing grant: the fix is the role's
			// generated policy, which the operator prints with this.
			m.Context = append(m.Context, "the app's role policy: day2bot iam-policy "+run.App)
		}
		finish(store.Failed, text, "", m)
	default:
		failInternal(err)
	}
}

// progress returns the action's progress callback. Work shorter than
// ProgressEvery shows no progress at all (the result follows at once);
// longer work updates the run's message at most every ProgressEvery by the
// engine's clock, so a chatty action cannot flood the platform's limits.
func (e *Engine) progress(ctx context.Context, run store.Run, show func(Message)) func(tasks.Progress) {
	var mu sync.Mutex
	last := e.now() // the "running" message was just shown
	return func(p tasks.Progress) {
		mu.Lock()
		now := e.now()
		if now.Sub(last) < e.opts.ProgressEvery {
			mu.Unlock()
			return
		}
		last = now
		mu.Unlock()
		if ctx.Err() == nil {
			show(runningMessage(run, &p))
		}
	}
}

// scheduleFollowUps stores the deferred actions a run asked for.
func (e *Engine) scheduleFollowUps(ctx context.Context, run store.Run, fs []tasks.FollowUp) {
	for _, f := range fs {
		vals := map[string]string{}
		for k, v := range f.Values {
			vals[k] = formatValue(v)
		}
		body, _ := json.Marshal(vals)
		id, err := e.store.AddFollowUp(ctx, store.FollowUp{App: run.App, Action: f.Action, Values: body,
			Reason: f.Reason, DueAt: e.now().Add(f.After), RunID: run.ID})
		if err != nil {
			e.log.ErrorContext(ctx, "add follow-up", "run", run.ID, "action", f.Action, "err", err)
			continue
		}
		e.log.InfoContext(ctx, "follow-up scheduled", "run", run.ID, "follow_up", id, "action", f.Action, "after", f.After)
	}
}
