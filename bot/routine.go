package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
)

// Routine work: tasks the scheduler runs on an app's schedules. A
// scheduled run is a command like any other, from the principal
// scheduler:<app> (no handle; its groups come from the store, so policies
// can grant it tasks), decided by the same policies: allowed runs are
// queued, runs that need approval are posted for approval in the app's
// channel, and denied ones are reported there and journaled, never run.

// SchedulerPrincipal is the principal of an app's scheduled runs.
func SchedulerPrincipal(app string) string { return "scheduler:" + app }

// ScheduleDenied is returned by RunScheduled when the policies deny the
// run; it has already been reported in the app's channel.
type ScheduleDenied struct {
	Schedule, App, Reason string
}

func (e *ScheduleDenied) Error() string {
	return fmt.Sprintf("schedule %s of %s was denied: %s", e.Schedule, e.App, e.Reason)
}

// ScheduleBusy is returned by RunScheduled when the previous fire of the
// same task is still queued, running or waiting for approval: a schedule
// never overlaps itself, even though runs finish after RunScheduled
// returns (and across restarts, since the check reads the journal).
type ScheduleBusy struct {
	Schedule, App, Task string
	// Run or Approval is what is still in progress.
	Run, Approval string
}

func (e *ScheduleBusy) Error() string {
	what := "run " + e.Run
	if e.Approval != "" {
		what = "approval " + e.Approval
	}
	return fmt.Sprintf("schedule %s of %s skipped: %s of %s is still in progress", e.Schedule, e.App, what, e.Task)
}

// RunScheduled runs task of app for the schedule named schedule, as
// SchedulerPrincipal(app). Its messages go to the app's first channel on a
// connected platform. It returns once the run is queued or the approval
// posted; a denial is a *ScheduleDenied, a skip because the previous one
// is still in progress a *ScheduleBusy.
func (e *Engine) RunScheduled(ctx context.Context, schedule, app, task string, params map[string]string) error {
	a, ok := e.apps.app(app)
	if !ok {
		return fmt.Errorf("run schedule %s: unknown app %q", schedule, app)
	}
	reply := e.appChannel(a)
	c := caller{Principal: SchedulerPrincipal(a.Name), Platform: reply.platform, Channel: reply.channel, Name: "schedule " + schedule}
	gs, err := e.store.GroupsOf(ctx, c.Principal, "")
	if err != nil {
		return fmt.Errorf("run schedule %s: groups of %s: %w", schedule, c.Principal, err)
	}
	c.Groups = gs
	if err := e.scheduleBusy(ctx, schedule, a.Name, task, c.Principal); err != nil {
		return err
	}
	unlock := e.lockRate(c.Principal, c.Handle)
	defer unlock()
	p, err := e.resolve(a.Name, task, params)
	if err != nil {
		unlock()
		if msg, ok := errs.Render(err); ok {
			e.ephemeral(ctx, reply, Message{Text: fmt.Sprintf("schedule %s of %s cannot run: %s", schedule, a.Name, oneLine(msg)), Tone: ToneWarning})
		}
		return fmt.Errorf("run schedule %s: %w", schedule, err)
	}
	d, err := e.decide(ctx, c, p)
	if err != nil {
		unlock()
		return fmt.Errorf("run schedule %s: %w", schedule, err)
	}
	if d.Effect != policies.Allow {
		unlock()
	}
	e.metrics.decisions.WithLabelValues(string(d.Effect)).Inc()
	e.auditDecision(ctx, c, p, d, false)
	switch d.Effect {
	case policies.Deny:
		e.ephemeral(ctx, reply, Message{
			Text: fmt.Sprintf("schedule %s of %s was denied: %s", schedule, a.Name, d.Reason),
			Tone: ToneWarning, Context: []string{"as " + c.Principal + " · task " + p.task.Name},
		})
		return &ScheduleDenied{Schedule: schedule, App: a.Name, Reason: d.Reason}
	case policies.Approve:
		e.requestApproval(ctx, c, p, d, reply)
	default:
		e.queueRun(ctx, c, p, d, false, reply, unlock)
	}
	return nil
}

// scheduleBusy reports a *ScheduleBusy when principal has task of app
// queued, running or waiting for approval.
func (e *Engine) scheduleBusy(ctx context.Context, schedule, app, task, principal string) error {
	runs, err := e.store.Runs(ctx, store.RunFilter{App: app, States: []store.State{store.Queued, store.Running}, Limit: 1000})
	if err != nil {
		return fmt.Errorf("run schedule %s: %w", schedule, err)
	}
	for _, r := range runs {
		if r.Principal == principal && strings.EqualFold(r.Task, task) {
			return &ScheduleBusy{Schedule: schedule, App: app, Task: task, Run: r.ID}
		}
	}
	pend, err := e.store.PendingApprovals(ctx, app)
	if err != nil {
		return fmt.Errorf("run schedule %s: %w", schedule, err)
	}
	for _, ap := range pend {
		if ap.Requester == principal && strings.EqualFold(ap.Task, task) {
			return &ScheduleBusy{Schedule: schedule, App: app, Task: task, Approval: ap.ID}
		}
	}
	return nil
}

// appChannel answers in the app's first channel whose platform is
// connected; with none, answers go to the log only.
func (e *Engine) appChannel(a *App) channelReply {
	for _, ch := range a.Channels {
		plat, id, ok := strings.Cut(ch, ":")
		if p, known := e.opts.Platforms[plat]; ok && known {
			return channelReply{e: e, p: p, platform: plat, channel: id}
		}
	}
	return channelReply{e: e}
}

// channelReply is the Responder of work nobody typed: both kinds of answer
// are posted in the channel, since there is no one to whisper to.
type channelReply struct {
	e                 *Engine
	p                 Platform
	platform, channel string
}

func (r channelReply) Ephemeral(ctx context.Context, m Message) error {
	_, err := r.Public(ctx, m)
	return err
}

func (r channelReply) Public(ctx context.Context, m Message) (MessageRef, error) {
	if r.p == nil {
		r.e.log.WarnContext(ctx, "no channel for routine message", "title", m.Title, "text", m.Text)
		return MessageRef{}, errors.New("post routine message: the app has no channel on a connected platform")
	}
	ref, err := r.p.Post(ctx, r.channel, m)
	if err != nil {
		return MessageRef{}, fmt.Errorf("post routine message: %w", err)
	}
	if ref.Platform == "" {
		ref.Platform = r.platform
	}
	return ref, nil
}

var _ Responder = channelReply{}
