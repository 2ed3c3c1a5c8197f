package bot

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/internal/suggest"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
)

// HandleCommand answers one slash command. It never returns an error: every
// path ends with a message through cmd.Reply — ephemeral for help, errors and
// denials; public for a queued run (later updated in place with progress and
// the result) and for an approval request. It returns once any run is handed
// to the runner; it does not wait for the run.
func (e *Engine) HandleCommand(ctx context.Context, cmd Command) {
	e.metrics.commands.Inc()
	// Adapters may cancel their request context once the first answer is
	// out; the journaling after it must still happen.
	ctx = context.WithoutCancel(ctx)
	defer e.recoverPanic(ctx, cmd.Reply, "command "+strconv.Quote(cmd.Text))
	cl := &commandLog{start: e.now(), outcome: "answered",
		attrs: []slog.Attr{slog.String("principal", cmd.Principal()), slog.String("channel", cmd.Channel)}}
	ctx = withCommandLog(ctx, cl)
	defer func() { cl.write(ctx, e.log, e.now()) }()
	req, perr := Parse(cmd.Text)
	c, err := e.identify(ctx, cmd.Platform, cmd.User, cmd.UserName, cmd.Channel)
	if perr != nil {
		// Did-you-mean suggests only apps the caller may see; if they
		// cannot be told, none.
		var seen []string
		if rs, rerr := e.store.RuleSet(ctx); err == nil && rerr == nil {
			seen = e.visibleApps(c, rs)
		}
		if terr, ok := e.typo(cmd.Text, seen); ok {
			perr = terr
		}
		cl.outcome = "usage error"
		e.reject(ctx, cmd.Reply, perr)
		return
	}
	if err != nil {
		e.internal(ctx, cmd.Reply, "", err)
		return
	}
	cl.attrs = append(cl.attrs, slog.String("handle", c.Handle), slog.String("verb", string(req.Verb)),
		slog.String("app", req.App), slog.String("task", req.Task))
	switch req.Verb {
	case VerbHelp:
		e.help(ctx, c, req, cmd.Reply)
	case VerbApps:
		e.listApps(ctx, c, cmd.Reply)
	case VerbTasks:
		e.listTasks(ctx, c, req, cmd.Reply)
	case VerbRun:
		if !e.offerForm(ctx, c, req, cmd.Reply) {
			e.runCommand(ctx, c, req, cmd.Reply)
		}
	case VerbWhy:
		e.why(ctx, c, req, cmd.Reply)
	case VerbStatus:
		e.status(ctx, c, req, cmd.Reply)
	case VerbCost:
		e.cost(ctx, c, req, cmd.Reply)
	case VerbReport:
		e.report(ctx, c, req, cmd.Reply)
	case VerbDigest:
		e.digest(ctx, c, req, cmd.Reply)
	case VerbSchedules:
		e.schedules(ctx, c, req, cmd.Reply)
	case VerbHistory:
		e.history(ctx, c, req, cmd.Reply)
	case VerbDashboard:
		e.dashboardLink(ctx, c, req, cmd.Reply)
	case VerbPending:
		e.pendingList(ctx, c, cmd.Reply)
	case VerbApprove, VerbDeny, VerbCancel:
		id, err := e.resolveLast(ctx, c, req.Verb, req.ID)
		switch {
		case err != nil:
			e.reject(ctx, cmd.Reply, err)
		case req.Verb == VerbCancel:
			e.cancelCommand(ctx, c, id, cmd.Reply)
		default:
			e.vote(ctx, c, id, req.Verb == VerbApprove, req.Reason, cmd.Reply, MessageRef{})
		}
	case VerbFreeze:
		e.freeze(ctx, c, req, cmd.Reply)
	case VerbUnfreeze:
		e.unfreeze(ctx, c, req, cmd.Reply)
	case VerbPolicy:
		e.policyCommand(ctx, c, req, cmd.Reply)
	default:
		e.reject(ctx, cmd.Reply, usagef("unknown command %q; try help", req.Verb))
	}
}

// typo turns the parser's "usage: WORD TASK" for a lone unknown word into a
// did-you-mean over apps and command words together, which only the engine
// knows. seen are the apps the caller may see.
func (e *Engine) typo(text string, seen []string) (error, bool) {
	f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(text), "/day2"))
	if len(f) != 1 {
		return nil, false
	}
	w := strings.ToLower(f[0])
	if !nameRE.MatchString(w) {
		return nil, false // the parser's own answer (a quote, a flag) is better
	}
	if _, ok := e.apps.app(w); ok || slices.Contains(Verbs, Verb(w)) {
		return nil, false
	}
	cands := append(verbWords(), seen...)
	if c := suggest.Closest(w, cands); c != "" {
		return usagef("unknown command or app %s; did you mean %q?", tasks.QuoteInput(f[0]), c), true
	}
	return usagef("unknown command or app %s; try help", tasks.QuoteInput(f[0])), true
}

// prepared is a run request resolved and validated, ready for the policy.
type prepared struct {
	app    *App
	task   *Task
	action tasks.Action
	// params are the validated values in canonical text form (what is
	// journaled and shown); values the same, typed, for the action.
	params map[string]string
	values tasks.Values
}

// resolve finds the app, task and action and validates the parameters.
// Every error it returns is a user error.
func (e *Engine) resolve(app, task string, raw map[string]string) (*prepared, error) {
	a, ok := e.apps.app(app)
	if !ok {
		cands := append(slices.Clone(e.apps.names), verbWords()...)
		return nil, notFoundf("unknown app %q; try apps%s", app, suggest.DidYouMean(app, cands))
	}
	t, ok := a.task(task)
	if !ok {
		return nil, notFoundf("%s has no task %q; try tasks %s%s", a.Name, task, a.Name, suggest.DidYouMean(task, a.taskNames()))
	}
	act, ok := e.reg.Lookup(t.Action)
	if !ok {
		// New checked every task; a registry that shrank is a bug.
		return nil, fmt.Errorf("resolve %s/%s: action %q is not registered", a.Name, t.Name, t.Action)
	}
	vals, err := tasks.ParseValues(t.Params, raw)
	if err != nil {
		return nil, err
	}
	p := &prepared{app: a, task: t, action: act, values: vals, params: map[string]string{}}
	for _, prm := range t.Params {
		if v, ok := vals[prm.Name]; ok {
			p.params[prm.Name] = formatValue(v)
		}
	}
	return p, nil
}

// formatValue renders a typed value so that Param.Parse reads it back.
func formatValue(v any) string {
	switch x := v.(type) {
	case time.Duration:
		return tasks.FormatDuration(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// policyParams are the values as the policy sees them: durations in seconds
// so that numeric constraints ("<= 86400") apply to them.
func policyParams(vals tasks.Values, params map[string]string) map[string]string {
	out := make(map[string]string, len(params))
	for k, s := range params {
		if d, ok := vals[k].(time.Duration); ok {
			s = strconv.FormatInt(int64(d/time.Second), 10)
		}
		out[k] = s
	}
	return out
}

// runCommand is APP TASK …: resolve, validate, decide, then allow (queue),
// approve (ask) or deny (explain). Nothing touches AWS before the decision.
func (e *Engine) runCommand(ctx context.Context, c caller, req Request, reply Responder) {
	// Deciding and recording a rate-limited use happen under the person's
	// lock, so two commands at once cannot both take the last use; nothing
	// is posted under it.
	unlock := e.lockRate(c.Principal, c.Handle)
	defer unlock()
	p, d, ok := e.resolveAndDecide(ctx, c, req, reply)
	if !ok || d.Effect == policies.Deny || (d.Effect == policies.Approve && !req.DryRun) {
		unlock()
	}
	if !ok {
		return
	}
	e.metrics.decisions.WithLabelValues(string(d.Effect)).Inc()
	e.auditDecision(ctx, c, p, d, req.DryRun)
	cl := noteCommand(ctx)
	cl.effect, cl.rule = string(d.Effect), d.Rule
	if d.Effect == policies.Deny {
		cl.outcome = "denied"
	}
	if d.Effect == policies.Deny {
		e.ephemeral(ctx, reply, denyMessage(c, p, e.forCaller(ctx, c, p, d)))
		return
	}
	if d.Effect == policies.Approve && !req.DryRun {
		e.requestApproval(ctx, c, p, d, reply)
		return
	}
	// Allowed, or a dry run of something the caller could at least ask for:
	// a plan reads AWS but changes nothing.
	e.queueRun(ctx, c, p, d, req.DryRun, reply, unlock)
}

// queueRun journals an allowed run as queued, records its use of a
// rate-limited rule (a run counts from the moment it is allowed, not when a
// worker gets to it), posts its message and hands it to the runner. It
// calls unlock (the caller's rate lock, taken before the decision) once the
// run and its use are journaled.
func (e *Engine) queueRun(ctx context.Context, c caller, p *prepared, d policies.Decision, dryRun bool, reply Responder, unlock func()) {
	body, err := encodeRequest(runRequest{RateRule: d.RateRule, Mutating: p.action.Mutating()})
	if err != nil {
		unlock()
		e.internal(ctx, reply, "", err)
		return
	}
	run, err := e.store.CreateRun(ctx, store.Run{
		State: store.Queued, App: p.app.Name, Task: p.task.Name, Params: p.params,
		Principal: c.Principal, Handle: c.Handle, Platform: c.Platform, Channel: c.Channel,
		Decision: store.RunDecision{Effect: d.Effect, Rule: d.Rule, Reason: d.Reason},
		DryRun:   dryRun, Request: body, Owner: e.opts.Replica,
	})
	if err == nil && d.RateRule != "" && !dryRun {
		e.recordUse(ctx, d.RateRule, c.Principal, c.Handle, run.ID)
	}
	unlock()
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	ref, err := reply.Public(ctx, queuedMessage(run))
	if err != nil {
		e.log.ErrorContext(ctx, "post run message", "run", run.ID, "err", err)
	} else if err := e.store.SetRunMessage(ctx, run.ID, encodeRef(ref)); err != nil {
		e.log.ErrorContext(ctx, "store run message", "run", run.ID, "err", err)
	}
	cl := noteCommand(ctx)
	cl.run, cl.outcome = run.ID, "queued"
	e.runner.enqueue(run.ID)
}

// why explains the decision without running anything.
func (e *Engine) why(ctx context.Context, c caller, req Request, reply Responder) {
	if p, d, ok := e.resolveAndDecide(ctx, c, req, reply); ok {
		e.ephemeral(ctx, reply, whyMessage(c, p, e.forCaller(ctx, c, p, d)))
	}
}

// resolveAndDecide resolves APP TASK k=v and asks the policies. When it
// reports !ok it has already answered the caller (a user error or an
// internal failure).
func (e *Engine) resolveAndDecide(ctx context.Context, c caller, req Request, reply Responder) (*prepared, policies.Decision, bool) {
	if _, ok := e.apps.app(req.App); !ok {
		rs, err := e.store.RuleSet(ctx)
		if err != nil {
			e.internal(ctx, reply, "", fmt.Errorf("load rules: %w", err))
		} else {
			e.reject(ctx, reply, e.unknownApp(c, rs, req.App, verbWords()...))
		}
		return nil, policies.Decision{}, false
	}
	p, err := e.resolve(req.App, req.Task, req.Params)
	if err != nil {
		e.reject(ctx, reply, err)
		return nil, policies.Decision{}, false
	}
	d, err := e.decide(ctx, c, p)
	if err != nil {
		e.internal(ctx, reply, "", err)
		return nil, policies.Decision{}, false
	}
	return p, d, true
}

func (e *Engine) auditDecision(ctx context.Context, c caller, p *prepared, d policies.Decision, dryRun bool) {
	detail := fmt.Sprintf("%s %s/%s %s: %s", d.Effect, p.app.Name, p.task.Name, formatParams(p.params), d.Reason)
	if d.Rule != "" {
		detail += " (rule " + d.Rule + ")"
	}
	if dryRun {
		detail += " [dry run]"
	}
	if err := e.store.Audit(ctx, store.Entry{At: e.now(), Actor: c.Principal, Kind: store.KindDecision, App: p.app.Name, Task: p.task.Name, Detail: detail}); err != nil {
		e.log.ErrorContext(ctx, "audit decision", "err", err)
	}
}

// reject answers a user mistake in one line; anything that is not a user
// error is internal.
func (e *Engine) reject(ctx context.Context, reply Responder, err error) {
	if msg, ok := errs.Render(err); ok {
		cl := noteCommand(ctx)
		if cl.outcome == "answered" {
			cl.outcome = "user error"
		}
		k := errs.KindOf(err)
		cl.attrs = append(cl.attrs, slog.String("kind", kindLabel(k)))
		e.metrics.countError("command", k)
		e.ephemeral(ctx, reply, Message{Text: oneLine(msg), Tone: ToneWarning})
		return
	}
	e.internal(ctx, reply, "", err)
}

// internal logs err and tells the user only that it failed and where to look.
func (e *Engine) internal(ctx context.Context, reply Responder, runID string, err error) {
	e.log.ErrorContext(ctx, "internal error", "run", runID, "err", err)
	noteCommand(ctx).outcome = "internal error"
	e.metrics.countError("command", errs.Internal)
	text := "failed — internal error, see logs"
	if runID != "" {
		text = "failed — run " + runID + ", see logs"
	}
	e.ephemeral(ctx, reply, Message{Text: text, Tone: ToneDanger})
}

func (e *Engine) ephemeral(ctx context.Context, reply Responder, m Message) {
	if reply == nil {
		return
	}
	if err := reply.Ephemeral(ctx, m); err != nil {
		e.log.WarnContext(ctx, "ephemeral reply", "err", err)
	}
}

// recoverPanic keeps one bad command from taking the process down; the user
// still gets an answer.
func (e *Engine) recoverPanic(ctx context.Context, reply Responder, what string) {
	if r := recover(); r != nil {
		e.internal(ctx, reply, "", fmt.Errorf("panic in %s: %v", what, r))
	}
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
