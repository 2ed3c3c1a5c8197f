package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
)

// requestApproval stores an approval request, posts it with Approve/Deny
// buttons, and computes the plan in the background (AWS reads take longer
// than the platforms' reply deadline); the message is updated with it.
func (e *Engine) requestApproval(ctx context.Context, c caller, p *prepared, d policies.Decision, reply Responder) {
	body, err := encodeRequest(runRequest{RateRule: d.RateRule, Mutating: p.action.Mutating()})
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	expiry := d.Expiry
	if expiry <= 0 {
		expiry = e.opts.ApprovalExpiry
	}
	a, err := e.store.CreateApproval(ctx, store.ApprovalRequest{
		App: p.app.Name, Task: p.task.Name, Params: p.params,
		Requester: c.Principal, RequesterHandle: c.Handle, Channel: c.Channel, Platform: c.Platform,
		RuleID: d.Rule, Approvers: d.Approvers, Quorum: max(d.Quorum, 1),
		ExpiresAt: e.now().Add(expiry), Request: body,
	})
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	cl := noteCommand(ctx)
	cl.approval, cl.outcome = a.ID, "approval requested"
	var sr storedRef
	ref, err := reply.Public(ctx, e.approvalMsg(ctx, a, storedRef{}, ""))
	if err != nil {
		e.log.ErrorContext(ctx, "post approval request", "approval", a.ID, "err", err)
		// The request stands; once planned, `pending` and `approve ID`
		// still reach it.
		e.ephemeral(ctx, reply, Message{Text: "approval " + a.ID + " requested; approvers can use `approve " + a.ID + "` once its plan is computed"})
	} else {
		sr.MessageRef = ref
		if err := e.store.SetApprovalMessage(ctx, a.ID, encodeStored(sr)); err != nil {
			e.log.ErrorContext(ctx, "store approval message", "approval", a.ID, "err", err)
		}
	}
	bgctx := context.WithoutCancel(ctx)
	e.background(func() { e.planApproval(bgctx, c.Principal, p, a.ID, sr, reply) })
}

// planApproval computes the dry run shown to approvers and re-renders the
// approval in whatever state it has reached meanwhile: with its buttons
// when there is a plan. A request whose plan fails is not offered for
// approval at all: it is cancelled, its message says why and the
// requester (reply, if the request is still being answered) gets the
// error, to fix and ask again.
func (e *Engine) planApproval(ctx context.Context, requester string, p *prepared, id string, sr storedRef, reply Responder) {
	ctx, cancel := context.WithTimeout(ctx, e.opts.RunTimeout)
	defer cancel()
	plan, planErr := e.plan(ctx, requester, p.app, p.task, p.action, p.values)
	if planErr != nil {
		sr.PlanErr = userText(planErr)
		e.log.WarnContext(ctx, "plan for approval", "approval", id, "err", planErr)
	} else {
		sr.Plan = &plan
	}
	unlock := e.lockMessage(id)
	defer unlock()
	if err := e.store.SetApprovalMessage(ctx, id, encodeStored(sr)); err != nil {
		e.log.ErrorContext(ctx, "store approval plan", "approval", id, "err", err)
	}
	note := ""
	if planErr != nil {
		if err := e.store.CancelApproval(ctx, id, "day2bot"); err != nil && !errs.Is(errs.Conflict, err) {
			e.log.ErrorContext(ctx, "cancel approval without a plan", "approval", id, "err", err)
		}
		note = "not offered for approval: the plan failed"
		if reply != nil {
			e.ephemeral(ctx, reply, Message{Text: "Not sent for approval (" + id + "): the plan failed: " + sr.PlanErr, Tone: ToneDanger})
		}
	}
	a, err := e.store.Approval(ctx, id)
	if err != nil {
		e.log.ErrorContext(ctx, "reload approval", "approval", id, "err", err)
		return
	}
	if a.State != store.Pending && planErr == nil {
		return // its message already shows the decision or the run
	}
	e.update(ctx, sr.MessageRef, e.approvalMsg(ctx, a, sr, note))
}

// replanPending computes the plans the previous process did not finish:
// an approval without one has no buttons until it has.
func (e *Engine) replanPending(ctx context.Context) {
	as, err := e.store.PendingApprovals(ctx, "")
	if err != nil {
		e.log.ErrorContext(ctx, "list pending approvals", "err", err)
		return
	}
	for _, a := range as {
		sr := decodeStored(a.MessageRef)
		if sr.Plan != nil || sr.PlanErr != "" {
			continue
		}
		p, err := e.resolve(a.App, a.Task, a.Params)
		if err != nil {
			e.log.WarnContext(ctx, "replan approval", "approval", a.ID, "err", err)
			continue
		}
		e.background(func() { e.planApproval(ctx, a.Requester, p, a.ID, sr, nil) })
	}
}

// plan runs the action's dry run with the caller's credentials.
func (e *Engine) plan(ctx context.Context, principal string, app *App, t *Task, act tasks.Action, vals tasks.Values) (tasks.Plan, error) {
	cfg, err := e.aws.Config(ctx, app.Account, app.Region, principal)
	if err != nil {
		return tasks.Plan{}, fmt.Errorf("aws config for %s: %w", app.Name, err)
	}
	return recovered(act.Name()+" plan", func() (tasks.Plan, error) {
		return act.Plan(ctx, tasks.Invocation{AWS: cfg, Target: t.Target, Values: vals, Now: e.now()})
	})
}

// HandleAction answers a button press. Like HandleCommand it never returns
// an error and answers first within milliseconds: an ephemeral refusal or an
// update of the message that carried the button.
func (e *Engine) HandleAction(ctx context.Context, a Action) {
	ctx = context.WithoutCancel(ctx) // as in HandleCommand
	cl := &commandLog{what: "button", start: e.now(), outcome: "answered",
		attrs: []slog.Attr{slog.String("principal", a.Principal()), slog.String("channel", a.Channel), slog.String("button", a.ButtonID)}}
	ctx = withCommandLog(ctx, cl)
	defer func() { cl.write(ctx, e.log, e.now()) }()
	defer OpenAckGate(ctx) // every path, refusals included, ends the wait
	defer e.recoverPanic(ctx, a.Reply, "button "+a.ButtonID)
	c, err := e.identify(ctx, a.Platform, a.User, a.UserName, a.Channel)
	if err != nil {
		e.internal(ctx, a.Reply, "", err)
		return
	}
	switch {
	case strings.HasPrefix(a.ButtonID, buttonApprove):
		e.vote(ctx, c, strings.TrimPrefix(a.ButtonID, buttonApprove), true, "", a.Reply, a.Message)
	case strings.HasPrefix(a.ButtonID, buttonDeny):
		e.vote(ctx, c, strings.TrimPrefix(a.ButtonID, buttonDeny), false, "", a.Reply, a.Message)
	case strings.HasPrefix(a.ButtonID, buttonRemediation):
		app, task, ok := strings.Cut(strings.TrimPrefix(a.ButtonID, buttonRemediation), ":")
		if !ok {
			e.reject(ctx, a.Reply, usagef("this button is not understood any more; type the command instead"))
			return
		}
		e.runCommand(ctx, c, Request{Verb: VerbRun, App: app, Task: task}, a.Reply)
	case strings.HasPrefix(a.ButtonID, buttonAlertAction):
		e.alertAction(ctx, c, strings.TrimPrefix(a.ButtonID, buttonAlertAction), a.Reply)
	case strings.HasPrefix(a.ButtonID, buttonForm):
		e.formButton(ctx, c, strings.TrimPrefix(a.ButtonID, buttonForm), a.Reply)
	case strings.HasPrefix(a.ButtonID, buttonRetry):
		e.retryButton(ctx, c, strings.TrimPrefix(a.ButtonID, buttonRetry), a.Reply)
	default:
		e.reject(ctx, a.Reply, usagef("this button is not understood any more; type the command instead"))
	}
}

// vote is one Approve or Deny, from a button (via is the message that
// carried it) or from `approve ID` / `deny ID reason` (via is zero). The checks run in this order: the approval exists and
// is pending, the voter is in the approver set and is not the requester
// (the store checks that again, atomically, with the duplicate vote), the
// request is still allowed by the current rules; then the store records the
// vote, and the one vote that reaches the quorum queues the run.
func (e *Engine) vote(ctx context.Context, c caller, id string, approve bool, reason string, reply Responder, via MessageRef) {
	id = strings.ToLower(id)
	ap, err := e.store.Approval(ctx, id)
	if err != nil {
		e.reject(ctx, reply, err)
		return
	}
	if ap.State != store.Pending {
		e.reject(ctx, reply, conflictf("approval %s is already %s", id, ap.State))
		return
	}
	if decodeStored(ap.MessageRef).Plan == nil {
		e.reject(ctx, reply, conflictf("the plan of %s is still being computed; vote once it is shown", id))
		return
	}
	if !e.now().Before(ap.ExpiresAt) {
		e.expireNow(ctx)
		e.reject(ctx, reply, conflictf("approval %s has expired", id))
		return
	}
	app, _ := e.apps.app(ap.App)
	if c.Principal == ap.Requester || (c.Handle != "" && c.Handle == ap.RequesterHandle) {
		e.reject(ctx, reply, deniedf("you cannot approve or deny your own request"))
		return
	}
	if !inApproverSet(c, app, ap.Approvers) {
		e.reject(ctx, reply, deniedf("only %s may approve or deny %s", strings.Join(ap.Approvers, ", "), id))
		return
	}
	var use rateUse
	unlockRate := func() {}
	if approve {
		// The requester's rate lock covers the recheck, the vote and the
		// use it records, as in runCommand.
		unlockRate = e.lockRate(ap.Requester, ap.RequesterHandle)
		defer unlockRate()
		var ok bool
		if use, ok = e.recheck(ctx, ap, c, reply, via); !ok {
			unlockRate()
			return
		}
	}
	unlock := e.lockMessage(id)
	res, err := e.store.Vote(ctx, id, c.Principal, approve, e.now())
	if err == nil && res.Started && use.rule != "" {
		e.recordUse(ctx, use.rule, use.principal, use.handle, res.RunID)
	}
	// The vote (and the run it queued) is in the store: the platform may
	// be told the click arrived.
	OpenAckGate(ctx)
	unlockRate()
	if err != nil {
		unlock()
		e.reject(ctx, reply, err)
		return
	}
	cl := noteCommand(ctx)
	cl.approval, cl.run, cl.outcome = id, res.RunID, map[bool]string{true: "approved", false: "denied"}[approve]
	if res.Started {
		cl.outcome = "approved, run queued"
	}
	note := ""
	if !approve && reason != "" {
		note = "reason: " + reason
	}
	sr := e.approvalRef(ctx, res.Approval, via)
	if res.Started {
		if sr.Platform != "" {
			if err := e.store.SetRunMessage(ctx, res.RunID, encodeRef(sr.MessageRef)); err != nil {
				e.log.ErrorContext(ctx, "store run message", "run", res.RunID, "err", err)
			}
		}
	}
	e.updateOrReply(ctx, sr, reply, e.approvalMsg(ctx, res.Approval, sr, note))
	unlock()
	if via.ID == "" && sr.Platform != "" {
		// Typed, not pressed: the request's message may be elsewhere, so
		// the voter gets an answer of their own.
		e.ephemeral(ctx, reply, Message{Text: voteAck(res), Tone: ToneSuccess})
	}
	if !approve {
		e.audit(ctx, c.Principal, store.KindApproval, ap.App, ap.Task, "", fmt.Sprintf("denied %s: %s", id, reason))
	}
	if res.Started {
		e.runner.enqueue(res.RunID)
	}
}

// voteAck confirms a typed vote in one line.
func voteAck(res store.VoteResult) string {
	a := res.Approval
	switch {
	case res.Started:
		return "approved " + a.ID + ": run " + res.RunID + " queued"
	case a.State == store.Denied:
		return "denied " + a.ID
	}
	return fmt.Sprintf("approved %s: %d of %d approvals so far", a.ID, a.Approvals(), a.Quorum)
}

// approvalRef is where approval a's message is: the stored ref, or, when
// the button was pressed before the request's message was recorded (over
// Discord HTTP the post learns its message id one request after the message
// appears), the button's own message, via, which is then stored. Call it
// with the approval's message lock held.
func (e *Engine) approvalRef(ctx context.Context, a store.Approval, via MessageRef) storedRef {
	sr, ok := decodeRef(a.MessageRef)
	if ok || via.Platform == "" || via.ID == "" {
		return sr
	}
	sr = storedRef{MessageRef: via}
	if err := e.store.SetApprovalMessage(ctx, a.ID, encodeStored(sr)); err != nil {
		e.log.WarnContext(ctx, "store approval message", "approval", a.ID, "err", err)
	}
	return sr
}

// rateUse is a use of a rate-limited rule to record once a run is queued.
type rateUse struct{ rule, principal, handle string }

// recheck evaluates the stored request again under the current rules, for
// the requester as they are now: a request the rules no longer allow is
// cancelled instead of approved, on its message (via, the pressed button's
// message, if the request's is not recorded yet). A voter the current rule
// does not name as an approver is refused, and a quorum the rule raised
// applies to the request. When it allows the request it
// returns the rate-limited use the approval would take, if any.
func (e *Engine) recheck(ctx context.Context, ap store.Approval, voter caller, reply Responder, via MessageRef) (rateUse, bool) {
	requester := caller{Principal: ap.Requester, Platform: ap.Platform, Channel: ap.Channel}
	var err error
	if requester.Handle, err = e.store.Handle(ctx, ap.Requester); err == nil {
		requester.Groups, err = e.store.GroupsOf(ctx, ap.Requester, requester.Handle)
	}
	if err != nil {
		e.internal(ctx, reply, "", err)
		return rateUse{}, false
	}
	p, err := e.resolve(ap.App, ap.Task, ap.Params)
	var d policies.Decision
	if err == nil {
		d, err = e.decide(ctx, requester, p)
	}
	msg, isUser := errs.Render(err)
	switch {
	case isUser:
		d = policies.Decision{Effect: policies.Deny, Reason: "the task changed: " + msg}
	case err != nil:
		e.internal(ctx, reply, "", err)
		return rateUse{}, false
	}
	if d.Effect == policies.Approve && !inApproverSet(voter, p.app, d.Approvers) {
		// The rule may have changed its approvers since the request: the
		// voter must be one of them now, not only then.
		e.reject(ctx, reply, deniedf("only %s may approve %s under the current rules", strings.Join(d.Approvers, ", "), ap.ID))
		return rateUse{}, false
	}
	if d.Effect == policies.Approve && d.Quorum > ap.Quorum {
		if err := e.store.RaiseApprovalQuorum(ctx, ap.ID, d.Quorum); err != nil {
			e.internal(ctx, reply, "", err)
			return rateUse{}, false
		}
	}
	if d.Effect != policies.Deny {
		return rateUse{rule: d.RateRule, principal: requester.Principal, handle: requester.Handle}, true
	}
	unlock := e.lockMessage(ap.ID)
	defer unlock()
	if err := e.store.CancelApproval(ctx, ap.ID, "day2bot"); err != nil {
		e.reject(ctx, reply, err)
		return rateUse{}, false
	}
	e.audit(ctx, voter.Principal, store.KindApproval, ap.App, ap.Task, "", fmt.Sprintf("approval %s cancelled at vote time: %s", ap.ID, d.Reason))
	if a, err := e.store.Approval(ctx, ap.ID); err == nil {
		if sr := e.approvalRef(ctx, a, via); sr.Platform != "" {
			e.update(ctx, sr.MessageRef, e.approvalMsg(ctx, a, sr, "cancelled: the rules no longer allow it — "+d.Reason))
		}
	}
	e.reject(ctx, reply, conflictf("approval %s was cancelled: the rules no longer allow it — %s", ap.ID, d.Reason))
	return rateUse{}, false
}

// expireNow marks overdue approvals expired and updates their messages.
func (e *Engine) expireNow(ctx context.Context) {
	as, err := e.store.ExpireApprovals(ctx, e.now())
	if err != nil {
		e.log.ErrorContext(ctx, "expire approvals", "err", err)
		return
	}
	for _, a := range as {
		unlock := e.lockMessage(a.ID)
		sr, ok := decodeRef(a.MessageRef)
		if ok {
			e.update(ctx, sr.MessageRef, e.approvalMsg(ctx, a, sr, ""))
		}
		unlock()
	}
}

// updateOrReply updates the stored message, or answers the presser if the
// approval has no message (its post failed).
func (e *Engine) updateOrReply(ctx context.Context, sr storedRef, reply Responder, m Message) {
	if sr.Platform != "" && e.update(ctx, sr.MessageRef, m) {
		return
	}
	e.ephemeral(ctx, reply, m)
}

// update edits a posted message through its platform; false if it could
// not.
func (e *Engine) update(ctx context.Context, ref MessageRef, m Message) bool {
	p, ok := e.opts.Platforms[ref.Platform]
	if !ok {
		e.log.WarnContext(ctx, "update message: unknown platform", "platform", ref.Platform)
		return false
	}
	if err := p.Update(ctx, ref, m); err != nil {
		e.log.WarnContext(ctx, "update message", "platform", ref.Platform, "id", ref.ID, "err", err)
		return false
	}
	return true
}

// lockRate serialises deciding and recording rate-limited uses of one
// person (as store.RateKey counts them) within this process.
// The returned unlock may be called more than once (callers defer it as
// well, so a panic cannot leave the person locked out).
func (e *Engine) lockRate(principal, handle string) func() {
	return sync.OnceFunc(e.lockMessage("rate:" + store.RateKey(principal, handle)))
}

// recordUse counts one use of a rate-limited rule for the run runID.
func (e *Engine) recordUse(ctx context.Context, rule, principal, handle, runID string) {
	if err := e.store.RecordUse(ctx, rule, store.RateKey(principal, handle), e.now()); err != nil {
		e.log.ErrorContext(ctx, "record rule use", "run", runID, "rule", rule, "err", err)
	}
}

func (e *Engine) audit(ctx context.Context, actor, kind, app, task, runID, detail string) {
	if err := e.store.Audit(ctx, store.Entry{At: e.now(), Actor: actor, Kind: kind, App: app, Task: task, RunID: runID, Detail: detail}); err != nil {
		e.log.ErrorContext(ctx, "audit", "kind", kind, "err", err)
	}
}

// userText is the user-facing sentence of err, or a generic line for an
// internal error (details go to the log).
func userText(err error) string {
	return oneLine(errs.Text(err, "internal error, see logs"))
}

// keyedMutex serialises updates of one message within this process, so a
// late plan never overwrites a decision.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*refLock
}

type refLock struct {
	sync.Mutex
	refs int
}

func (e *Engine) lockMessage(key string) func() {
	k := &e.msgLocks
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*refLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &refLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
