package bot

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/day2bot/day2bot/internal/suggest"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
)

// The read-only commands: help, apps, tasks, status, history, pending.

// defaultsDecision evaluates a task for c with only its default values, the
// question help and tasks answer: "could you run this at all?".
func (e *Engine) defaultsDecision(ctx context.Context, c caller, rs *policies.RuleSet, app *App, t *Task) (policies.Decision, bool) {
	act, ok := e.reg.Lookup(t.Action)
	if !ok {
		return policies.Decision{}, false
	}
	vals, params := tasks.Values{}, map[string]string{}
	for _, p := range t.Params {
		if p.Default == "" {
			continue
		}
		if v, err := p.Parse(p.Default); err == nil {
			vals[p.Name], params[p.Name] = v, formatValue(v)
		}
	}
	fr, err := e.freezeOf(ctx, app.Name)
	if err != nil {
		return policies.Decision{}, false
	}
	req := policies.Request{Principal: c.Principal, Handle: c.Handle, Groups: c.Groups, App: app.Name, Owners: app.Owners,
		Task: t.Name, Mutating: act.Mutating(), Params: policyParams(vals, params), Channel: c.channel(), Time: e.now(), Freeze: fr}
	d := rs.Evaluate(req, e.usage(ctx))
	if d.Effect == policies.Deny && !d.Frozen {
		// A rule may allow the task only for some values the defaults do
		// not fill (carol's own bucket): ask the rule set without
		// parameter conditions on allow and approve rules.
		if loose := e.paramFree(rs); loose != nil {
			if ld := loose.Evaluate(req, e.usage(ctx)); ld.Effect != policies.Deny {
				ld.Reason = "for some parameter values"
				ld.NearMiss = someValues
				return ld, true
			}
		}
	}
	return d, true
}

// someValues marks a decision that holds only for some parameter values.
const someValues = "some values"

// paramFree returns rs with the parameter conditions of its allow and
// approve rules dropped (deny rules kept whole), cached per rule set.
func (e *Engine) paramFree(rs *policies.RuleSet) *policies.RuleSet {
	if rs == nil {
		return nil
	}
	e.looseMu.Lock()
	defer e.looseMu.Unlock()
	if e.looseOf == rs {
		return e.loose
	}
	rules := rs.Rules()
	changed := false
	for i, r := range rules {
		if r.Effect != policies.Deny && len(r.Params) > 0 {
			r.Params = nil
			rules[i] = r
			changed = true
		}
	}
	var loose *policies.RuleSet
	if changed {
		if c, err := policies.Compile(rules); err == nil {
			loose = c
		}
	}
	e.looseOf, e.loose = rs, loose
	return loose
}

func (e *Engine) help(ctx context.Context, c caller, req Request, reply Responder) {
	if req.Topic != "" {
		if a, ok := e.apps.app(req.Topic); ok {
			e.listTasks(ctx, c, Request{App: a.Name}, reply)
			return
		}
		if u, ok := usage[Verb(req.Topic)]; ok {
			e.ephemeral(ctx, reply, Message{Title: "help " + req.Topic, Text: u})
			return
		}
		cands := append(verbWords(), e.apps.names...)
		e.reject(ctx, reply, usagef("no help on %q; try help%s", req.Topic, suggest.DidYouMean(req.Topic, cands)))
		return
	}
	rs, err := e.store.RuleSet(ctx)
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	lines := []string{usage[VerbApps], usage[VerbTasks], usage[VerbRun], usage[VerbWhy], usage[VerbStatus],
		usage[VerbDigest], usage[VerbHistory], usage[VerbPending], usage[VerbCancel]}
	if e.mayApprove(c, rs) {
		lines = append(lines, usage[VerbApprove], usage[VerbDeny])
	}
	if e.mayFreezeSome(c) {
		lines = append(lines, usage[VerbFreeze], usage[VerbUnfreeze])
	}
	if e.isAdmin(c) {
		lines = append(lines, usage[VerbPolicy])
	}
	m := Message{Title: "day2bot — what you, " + c.who() + ", may run", Text: strings.Join(lines, "\n")}
	t := &Table{Columns: []string{"App", "Task", "Effect", "Parameters"}}
	for _, name := range e.apps.names {
		a, _ := e.apps.app(name)
		for _, task := range a.Tasks {
			d, ok := e.defaultsDecision(ctx, c, rs, a, &task)
			if !ok || d.Effect == policies.Deny {
				continue
			}
			t.Rows = append(t.Rows, []string{a.Name, task.Name, decisionWord(d), paramNames(task.Params)})
		}
	}
	if len(t.Rows) > 0 {
		m.Table = t
	} else {
		m.Context = []string{"no task is open to you yet; ask an admin"}
	}
	e.ephemeral(ctx, reply, m)
}

// usage is the one-line synopsis of each command.
var usage = map[Verb]string{
	VerbHelp:     "`help [command|app]` — this list",
	VerbApps:     "`apps` — the apps",
	VerbTasks:    "`tasks APP` — an app's tasks and parameters",
	VerbRun:      "`APP TASK [key=value …] [--dry-run]` — run a task (also `run APP TASK …`)",
	VerbWhy:      "`why APP TASK [key=value …]` — explain the policy decision",
	VerbStatus:   "`status APP` — freeze, runs in progress, pending approvals",
	VerbDigest:   "`digest APP` — the app's health digest",
	VerbHistory:  "`history [APP]` — recent runs",
	VerbPending:  "`pending` — approvals waiting",
	VerbCancel:   "`cancel ID` — cancel your run or approval request",
	VerbApprove:  "`approve ID` — approve a request",
	VerbDeny:     "`deny ID [reason]` — deny a request",
	VerbFreeze:   "`freeze APP [duration] [reason]` — stop mutating tasks",
	VerbUnfreeze: "`unfreeze APP` — lift a freeze",
	VerbPolicy:   "`policy list|show ID|remove ID|test USER APP TASK [k=v …]` — manage guardrails",
}

func effectWord(e policies.Effect) string {
	switch e {
	case policies.Allow:
		return "allowed"
	case policies.Approve:
		return "needs approval"
	}
	return "denied"
}

// decisionWord is effectWord, qualified when it holds only for some values.
func decisionWord(d policies.Decision) string {
	if d.NearMiss == someValues {
		return effectWord(d.Effect) + " for some values"
	}
	return effectWord(d.Effect)
}

func paramSummary(ps []tasks.Param) string {
	if len(ps) == 0 {
		return "—"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, "; ")
}

// paramNames is the short form help shows: required names bare, optional
// ones with their default: "bucket principal [duration=24h]".
func paramNames(ps []tasks.Param) string {
	if len(ps) == 0 {
		return "—"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		switch {
		case p.Required:
			s[i] = p.Name
		case p.Default != "":
			s[i] = "[" + p.Name + "=" + p.Default + "]"
		default:
			s[i] = "[" + p.Name + "]"
		}
	}
	return strings.Join(s, " ")
}

// mayApprove reports whether any rule names c as an approver.
func (e *Engine) mayApprove(c caller, rs *policies.RuleSet) bool {
	if rs == nil {
		return false
	}
	for _, r := range rs.Rules() {
		if r.Effect != policies.Approve {
			continue
		}
		// Owners approve only for their apps; any app they own counts.
		for _, a := range e.apps.apps {
			if inApproverSet(c, a, r.Approvers) {
				return true
			}
		}
		if inApproverSet(c, nil, r.Approvers) {
			return true
		}
	}
	return false
}

func (e *Engine) mayFreezeSome(c caller) bool {
	if e.isAdmin(c) {
		return true
	}
	for _, a := range e.apps.apps {
		if isOwner(c, a) {
			return true
		}
	}
	return false
}

func (e *Engine) listApps(ctx context.Context, c caller, reply Responder) {
	if len(e.apps.names) == 0 {
		e.ephemeral(ctx, reply, Message{Text: "no apps are configured"})
		return
	}
	t := &Table{Columns: []string{"App", "Blueprints", "Region", "Tasks"}}
	for _, n := range e.apps.names {
		a, _ := e.apps.app(n)
		t.Rows = append(t.Rows, []string{a.Name, strings.Join(a.Blueprints, ", "), a.Region, fmt.Sprint(len(a.Tasks))})
	}
	e.ephemeral(ctx, reply, Message{Title: "Apps", Table: t, Context: []string{"tasks APP lists what an app offers"}})
}

func (e *Engine) listTasks(ctx context.Context, c caller, req Request, reply Responder) {
	a, ok := e.apps.app(req.App)
	if !ok {
		e.reject(ctx, reply, usagef("unknown app %q; try apps%s", req.App, suggest.DidYouMean(req.App, e.apps.names)))
		return
	}
	rs, err := e.store.RuleSet(ctx)
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	t := &Table{Columns: []string{"Task", "For you", "Parameters", "Description"}}
	for _, task := range a.Tasks {
		eff := "unknown"
		if d, ok := e.defaultsDecision(ctx, c, rs, a, &task); ok {
			eff = decisionWord(d)
		}
		t.Rows = append(t.Rows, []string{task.Name, eff, paramSummary(task.Params), task.Description})
	}
	m := Message{Title: "Tasks of " + a.Name, Text: a.Description, Table: t,
		Context: []string{"run: " + a.Name + " TASK key=value … · explain: why " + a.Name + " TASK"}}
	e.ephemeral(ctx, reply, m)
}

func (e *Engine) status(ctx context.Context, c caller, req Request, reply Responder) {
	a, ok := e.apps.app(req.App)
	if !ok {
		e.reject(ctx, reply, usagef("unknown app %q; try apps%s", req.App, suggest.DidYouMean(req.App, e.apps.names)))
		return
	}
	fr, err := e.freezeOf(ctx, a.Name)
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	active, err := e.store.Runs(ctx, store.RunFilter{App: a.Name, States: []store.State{store.Queued, store.Running}})
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	pend, err := e.store.PendingApprovals(ctx, a.Name)
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	m := Message{Title: "Status of " + a.Name, Fields: []Field{
		{"Blueprints", strings.Join(a.Blueprints, ", ")},
		{"Region", a.Region},
		{"Frozen", freezeText(fr)},
		{"Runs in progress", fmt.Sprint(len(active))},
		{"Pending approvals", fmt.Sprint(len(pend))},
	}}
	if len(active) > 0 {
		m.Table = runsTable(active, e.now())
	}
	e.ephemeral(ctx, reply, m)
}

func freezeText(f *policies.Freeze) string {
	if f == nil {
		return "no"
	}
	s := "yes, by " + f.By
	if !f.Until.IsZero() {
		s += " until " + f.Until.UTC().Format("2006-01-02 15:04 MST")
	}
	if f.Reason != "" {
		s += ": " + f.Reason
	}
	return s
}

func (e *Engine) digest(ctx context.Context, c caller, req Request, reply Responder) {
	if _, ok := e.apps.app(req.App); !ok {
		e.reject(ctx, reply, usagef("unknown app %q; try apps%s", req.App, suggest.DidYouMean(req.App, e.apps.names)))
		return
	}
	if e.opts.Digest == nil {
		e.reject(ctx, reply, usagef("digests are not set up in this day2bot"))
		return
	}
	e.ephemeral(ctx, reply, Message{Text: "building the digest of " + req.App + "…"})
	bg := context.WithoutCancel(ctx)
	e.background(func() {
		m, err := e.opts.Digest(bg, req.App)
		if err != nil {
			e.reject(bg, reply, err)
			return
		}
		if _, err := reply.Public(bg, m); err != nil {
			e.log.WarnContext(bg, "post digest", "app", req.App, "err", err)
		}
	})
}

func (e *Engine) history(ctx context.Context, c caller, req Request, reply Responder) {
	if req.App != "" {
		if _, ok := e.apps.app(req.App); !ok {
			e.reject(ctx, reply, usagef("unknown app %q; try apps%s", req.App, suggest.DidYouMean(req.App, e.apps.names)))
			return
		}
	}
	rs, err := e.store.Runs(ctx, store.RunFilter{App: req.App, Limit: 15})
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	title := "Recent runs"
	if req.App != "" {
		title += " of " + req.App
	}
	if len(rs) == 0 {
		e.ephemeral(ctx, reply, Message{Title: title, Text: "no runs yet"})
		return
	}
	e.ephemeral(ctx, reply, Message{Title: title, Table: runsTable(rs, e.now())})
}

func runsTable(rs []store.Run, now time.Time) *Table {
	t := &Table{Columns: []string{"Run", "State", "App", "Task", "By", "When", "Summary"}}
	for _, r := range rs {
		t.Rows = append(t.Rows, []string{r.ID, string(r.State), r.App, r.Task, who(r.Handle, r.Principal), ago(now, r.CreatedAt), r.Summary})
	}
	return t
}

// ago renders how long ago t was, coarsely: "just now", "5m ago", "3h ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}

func (e *Engine) pendingList(ctx context.Context, c caller, reply Responder) {
	as, err := e.store.PendingApprovals(ctx, "")
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	t := &Table{Columns: []string{"Approval", "App", "Task", "Parameters", "Requested by", "You"}}
	for _, a := range as {
		if !e.now().Before(a.ExpiresAt) {
			continue
		}
		app, _ := e.apps.app(a.App)
		you := ""
		switch {
		case a.Requester == c.Principal || (c.Handle != "" && a.RequesterHandle == c.Handle):
			you = "yours"
		case inApproverSet(c, app, a.Approvers):
			you = "may approve"
		default:
			continue
		}
		t.Rows = append(t.Rows, []string{a.ID, a.App, a.Task, formatParams(a.Params), who(a.RequesterHandle, a.Requester), you})
	}
	if len(t.Rows) == 0 {
		e.ephemeral(ctx, reply, Message{Title: "Pending approvals", Text: "nothing is waiting for you"})
		return
	}
	e.ephemeral(ctx, reply, Message{Title: "Pending approvals", Table: t, Context: []string{"approve ID · deny ID [reason]"}})
}

// cancelCommand cancels a run (queued or running) or withdraws a pending
// approval. The requester and admins may cancel; so may the approvers of
// an approval.
func (e *Engine) cancelCommand(ctx context.Context, c caller, id string, reply Responder) {
	id = strings.ToLower(id)
	if strings.HasPrefix(id, "a-") {
		a, err := e.store.Approval(ctx, id)
		if err != nil {
			e.reject(ctx, reply, err)
			return
		}
		app, _ := e.apps.app(a.App)
		mine := a.Requester == c.Principal || (c.Handle != "" && a.RequesterHandle == c.Handle)
		if !mine && !e.isAdmin(c) && !inApproverSet(c, app, a.Approvers) {
			e.reject(ctx, reply, usagef("only the requester, an approver or an admin may cancel %s", id))
			return
		}
		unlock := e.lockMessage(id)
		defer unlock()
		if err := e.store.CancelApproval(ctx, id, c.Principal); err != nil {
			e.reject(ctx, reply, err)
			return
		}
		a, err = e.store.Approval(ctx, id)
		if err != nil {
			e.internal(ctx, reply, "", err)
			return
		}
		sr, _ := decodeRef(a.MessageRef)
		e.updateOrReply(ctx, sr, reply, e.approvalMsg(ctx, a, sr, ""))
		if sr.Platform != "" {
			e.ephemeral(ctx, reply, Message{Text: "cancelled approval " + id})
		}
		return
	}
	run, err := e.store.Run(ctx, id)
	if err != nil {
		e.reject(ctx, reply, err)
		return
	}
	mine := run.Principal == c.Principal || (c.Handle != "" && run.Handle == c.Handle)
	if !mine && !e.isAdmin(c) {
		e.reject(ctx, reply, usagef("only %s or an admin may cancel %s", who(run.Handle, run.Principal), id))
		return
	}
	switch run.State {
	case store.Queued:
		if err := e.store.TransitionRun(ctx, id, store.Queued, store.Cancelled, "cancelled by "+c.who()); err != nil {
			if e.runner.cancel(id, c.who()) { // it started meanwhile
				e.ephemeral(ctx, reply, Message{Text: "cancelling run " + id + "…"})
				return
			}
			e.reject(ctx, reply, err)
			return
		}
		e.metrics.runs.WithLabelValues(string(store.Cancelled)).Inc()
		m := failedMessage(e.namedRun(ctx, run), "cancelled by "+c.who()+" before it started")
		m.Title, m.Tone = taskTitle(run.App, run.Task)+" — cancelled", ToneWarning
		e.announce(ctx, run, m)
		e.ephemeral(ctx, reply, Message{Text: "cancelled run " + id})
	case store.Running:
		if !e.runner.cancel(id, c.who()) {
			e.reject(ctx, reply, usagef("run %s is running in another day2bot process; it cannot be cancelled from here", id))
			return
		}
		e.ephemeral(ctx, reply, Message{Text: "cancelling run " + id + "…"})
	default:
		e.reject(ctx, reply, usagef("run %s is already %s", id, run.State))
	}
}

// freezeOf is the app's freeze, if any.
func (e *Engine) freezeOf(ctx context.Context, app string) (*policies.Freeze, error) {
	f, err := e.store.FreezeOf(ctx, app)
	if err != nil {
		return nil, fmt.Errorf("read freeze of %s: %w", app, err)
	}
	return f, nil
}

// usage counts the caller's rule uses for rate limits. If they cannot be
// read the limit counts as reached (logged): a guardrail fails closed.
func (e *Engine) usage(ctx context.Context) policies.Usage {
	return usageFunc(func(rule, principal string, since time.Time) int {
		u, err := e.store.UsageFor(ctx, principal, since)
		if err != nil {
			e.log.ErrorContext(ctx, "read rule uses", "err", err)
			return math.MaxInt32
		}
		return u.Used(rule, principal, since)
	})
}

type usageFunc func(rule, principal string, since time.Time) int

func (f usageFunc) Used(rule, principal string, since time.Time) int {
	return f(rule, principal, since)
}
