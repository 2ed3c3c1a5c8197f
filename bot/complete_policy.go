package bot

import (
	"context"
	"sync"

	"github.com/day2bot/day2bot/policies"
)

// Completions offer only what the caller may run at all. "At all" is
// wider than "now, with these values": a suggestion is a promise that the
// command can work, while the command itself is always checked in full and,
// when a condition fails, says which one. So a task is offered unless the
// policy denies it even with the allow and approve rules stripped of their
// parameter, channel, window and rate conditions (the autocomplete request
// knows neither the values nor, for every platform, the channel). Deny
// rules count whole, evaluated now; freezes are left out (they pass, and a
// frozen task's reply says so).

// runnableFunc reports whether a task of an app may be offered.
type runnableFunc func(a *App, t *Task) bool

// mayRunFilter is the completion filter for principal. When the policy or
// the caller's groups cannot be read it offers everything (logged): a
// suggestion runs nothing, and the command is checked anyway.
func (e *Engine) mayRunFilter(ctx context.Context, principal string) runnableFunc {
	all := func(*App, *Task) bool { return true }
	rs, err := e.store.RuleSet(ctx)
	if err != nil {
		e.log.WarnContext(ctx, "complete: load rules", "err", err)
		return all
	}
	p, handle, groups, err := e.store.Identify(ctx, principal)
	if err != nil {
		e.log.WarnContext(ctx, "complete: identify caller", "principal", principal, "err", err)
		return all
	}
	reach := e.completion.of(rs)
	now := e.now()
	return func(a *App, t *Task) bool {
		act, ok := e.reg.Lookup(t.Action)
		if !ok {
			return false
		}
		req := policies.Request{Principal: p, Handle: handle, Groups: groups, App: a.Name, Owners: a.Owners,
			Task: t.Name, Mutating: act.Mutating(), Time: now}
		return reach.Evaluate(req, nil).Effect != policies.Deny
	}
}

// anyRunnable reports whether some task of a may be offered.
func anyRunnable(a *App, may runnableFunc) bool {
	for i := range a.Tasks {
		if may(a, &a.Tasks[i]) {
			return true
		}
	}
	return false
}

// reachableRules caches, per compiled rule set, its completion form: allow
// and approve rules without parameter, channel, window and rate
// conditions. The store hands out the same *RuleSet until the policy
// changes, so this compiles once per policy version.
type reachableRules struct {
	mu    sync.Mutex
	from  *policies.RuleSet
	reach *policies.RuleSet
	// byParam are the forms that keep the condition on one parameter
	// (see forParam), for the same rule set.
	byParam map[string]*policies.RuleSet
}

func (c *reachableRules) of(rs *policies.RuleSet) *policies.RuleSet {
	return c.derive(rs, "", false)
}

// forParam is the completion form that keeps the allow and approve rules'
// condition on param: what a parameter's offered values are checked with.
func (c *reachableRules) forParam(rs *policies.RuleSet, param string) *policies.RuleSet {
	return c.derive(rs, param, true)
}

func (c *reachableRules) derive(rs *policies.RuleSet, param string, keep bool) *policies.RuleSet {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.from != rs {
		c.from, c.reach, c.byParam = rs, nil, nil
	}
	if !keep && c.reach != nil {
		return c.reach
	}
	if got, ok := c.byParam[param]; keep && ok {
		return got
	}
	rules := rs.Rules()
	for i, r := range rules {
		if r.Effect != policies.Deny {
			kept := map[string]string(nil)
			if v, ok := r.Params[param]; keep && ok {
				kept = map[string]string{param: v}
			}
			r.Params, r.Channels, r.Window, r.Rate = kept, nil, "", ""
			rules[i] = r
		}
	}
	reach, err := policies.Compile(rules)
	if err != nil {
		// Dropping conditions cannot make a compiled rule invalid; if it
		// ever did, the full rules are the safe answer.
		reach = rs
	}
	if !keep {
		c.reach = reach
		return reach
	}
	if c.byParam == nil {
		c.byParam = map[string]*policies.RuleSet{}
	}
	c.byParam[param] = reach
	return reach
}
