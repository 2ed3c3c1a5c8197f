package bot

// Who may see an app. Reads (apps, tasks, status, history, schedules,
// digest, completions) show an app only to the people the policy could let
// act on it or decide about it: admins, its owners, and anyone some allow or
// approve rule of the app could match — as the one who asks or, for an
// approve rule, as an approver. "Could match" ignores the conditions a
// person may meet another time (parameters, channels, windows, rate
// limits); deny rules do not hide an app (they stop runs, and a person
// denied one task may still be allowed another). Everyone else gets no
// listing, no status, no digest and, when a run is denied, no rule names.

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/day2bot/day2bot/internal/suggest"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/tasks"
)

// MaySee reports whether the person known as principal ("slack:U123", or a
// handle) may see app: they are an admin, one of its owners, or some allow
// or approve rule of the app could match them, as requester or as approver
// (conditions such as parameters, channels, windows and rate limits are
// not checked, deny rules are not consulted). It is the one rule every read
// follows — chat listings, status, history, digests, completions — and the
// one other front ends (the dashboard) must use. An unknown app is not
// visible. Errors are the store's (rules or identity unreadable); callers
// should then show nothing.
func (e *Engine) MaySee(ctx context.Context, principal, app string) (bool, error) {
	a, ok := e.apps.app(app)
	if !ok {
		return false, nil
	}
	c, rs, err := e.viewer(ctx, principal)
	if err != nil {
		return false, err
	}
	return e.sees(c, rs, a), nil
}

// VisibleApps lists, sorted, the names of the apps principal may see (see
// MaySee).
func (e *Engine) VisibleApps(ctx context.Context, principal string) ([]string, error) {
	c, rs, err := e.viewer(ctx, principal)
	if err != nil {
		return nil, err
	}
	return e.visibleApps(c, rs), nil
}

// viewer resolves principal to the caller reads are checked for, with the
// current rule set.
func (e *Engine) viewer(ctx context.Context, principal string) (caller, *policies.RuleSet, error) {
	p, handle, groups, err := e.store.Identify(ctx, principal)
	if err != nil {
		return caller{}, nil, fmt.Errorf("identify %s: %w", principal, err)
	}
	rs, err := e.store.RuleSet(ctx)
	if err != nil {
		return caller{}, nil, fmt.Errorf("load rules: %w", err)
	}
	c := caller{Principal: p, Handle: handle, Groups: groups}
	c.Platform, _, _ = strings.Cut(p, ":")
	return c, rs, nil
}

// sees is MaySee for an identified caller and a loaded rule set.
func (e *Engine) sees(c caller, rs *policies.RuleSet, a *App) bool {
	if e.isAdmin(c) || isOwner(c, a) {
		return true
	}
	vis := e.visibility.of(rs)
	req := policies.Request{Principal: c.Principal, Handle: c.Handle, Groups: c.Groups, App: a.Name, Owners: a.Owners}
	for i := range a.Tasks {
		t := &a.Tasks[i]
		act, ok := e.reg.Lookup(t.Action)
		if !ok {
			continue
		}
		req.Task, req.Mutating = t.Name, act.Mutating()
		if vis.Evaluate(req, nil).Effect == policies.Allow {
			return true
		}
	}
	return false
}

// visibleApps are the sorted names of the apps c sees.
func (e *Engine) visibleApps(c caller, rs *policies.RuleSet) []string {
	var out []string
	for _, n := range e.apps.names {
		if a, _ := e.apps.app(n); e.sees(c, rs, a) {
			out = append(out, n)
		}
	}
	return out
}

// visibilityRules caches, per compiled rule set, its visibility form: one
// allow rule per allow or approve rule with the same apps, tasks and
// mutating flag but no other condition, plus one for the approvers of each
// approve rule. Deny rules are left out. The store hands out the same
// *RuleSet until the policy changes, so this compiles once per version.
type visibilityRules struct {
	mu   sync.Mutex
	from *policies.RuleSet
	vis  *policies.RuleSet
}

func (v *visibilityRules) of(rs *policies.RuleSet) *policies.RuleSet {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.from == rs && v.vis != nil {
		return v.vis
	}
	var rules []policies.Rule
	if rs != nil {
		for _, r := range rs.Rules() {
			if r.Effect == policies.Deny {
				continue
			}
			base := policies.Rule{Effect: policies.Allow, Apps: r.Apps, Tasks: r.Tasks, Mutating: r.Mutating}
			who := base
			who.ID, who.Subjects = fmt.Sprintf("v%d", len(rules)), r.Subjects
			rules = append(rules, who)
			if r.Effect == policies.Approve && len(r.Approvers) > 0 {
				approvers := base
				approvers.ID, approvers.Subjects = fmt.Sprintf("v%d", len(rules)), r.Approvers
				rules = append(rules, approvers)
			}
		}
	}
	vis, err := policies.Compile(rules)
	if err != nil {
		// Every subject and approver compiled once already; if that ever
		// failed here, showing nothing is the safe answer.
		vis = nil
	}
	v.from, v.vis = rs, vis
	return vis
}

// readableApp resolves the app a read names for c. When it reports !ok it
// has answered: an unknown app (suggesting only apps c sees), an app c may
// not see, or a store failure.
func (e *Engine) readableApp(ctx context.Context, c caller, name string, reply Responder) (*App, bool) {
	rs, err := e.store.RuleSet(ctx)
	if err != nil {
		e.internal(ctx, reply, "", fmt.Errorf("load rules: %w", err))
		return nil, false
	}
	a, ok := e.apps.app(name)
	if !ok {
		e.reject(ctx, reply, e.unknownApp(c, rs, name))
		return nil, false
	}
	if !e.sees(c, rs, a) {
		e.reject(ctx, reply, notVisible(a.Name))
		return nil, false
	}
	return a, true
}

// unknownApp is the answer to an app name that names no app, with a
// suggestion among the apps c sees and the words in also.
func (e *Engine) unknownApp(c caller, rs *policies.RuleSet, name string, also ...string) error {
	cands := append(e.visibleApps(c, rs), also...)
	return notFoundf("unknown app %s; try apps%s", tasks.QuoteInput(name), suggest.DidYouMean(name, cands))
}

// notVisible answers a read of an app the caller may not see. It names no
// rule and no owner: those are for people the app concerns.
func notVisible(app string) error {
	return deniedf("%s is not open to you: no rule lets you act on it; ask an admin", app)
}

// forCaller is d as c may read it. Someone who sees nothing of the app
// learns that the run is denied and no more: not the rule that denied it,
// nor the rule that came closest (their names and conditions describe how
// the app is guarded). The audit log keeps the full decision.
func (e *Engine) forCaller(ctx context.Context, c caller, p *prepared, d policies.Decision) policies.Decision {
	rs, err := e.store.RuleSet(ctx)
	if err == nil && e.sees(c, rs, p.app) {
		return d
	}
	if d.Frozen {
		return policies.Decision{Effect: d.Effect, Reason: d.Reason, Frozen: true}
	}
	name := who(c.Handle, c.Principal)
	reason := fmt.Sprintf("%s may not run %s/%s", name, p.app.Name, p.task.Name)
	if d.Rule == "" {
		reason = fmt.Sprintf("no rule allows %s to run %s/%s", name, p.app.Name, p.task.Name)
	}
	return policies.Decision{Effect: d.Effect, Reason: reason}
}
