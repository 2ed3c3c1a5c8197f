package bot

// Asking the policies: for a run request now, for "could you run this at
// all" (help, tasks), with the store's freezes and rate-limit uses.

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
)

// decide evaluates p for c now.
func (e *Engine) decide(ctx context.Context, c caller, p *prepared) (policies.Decision, error) {
	rs, err := e.store.RuleSet(ctx)
	if err != nil {
		return policies.Decision{}, fmt.Errorf("load rules: %w", err)
	}
	fr, err := e.freezeOf(ctx, p.app.Name)
	if err != nil {
		return policies.Decision{}, err
	}
	req := policies.Request{
		Principal: c.Principal, Handle: c.Handle, Groups: c.Groups,
		App: p.app.Name, Owners: p.app.Owners, Task: p.task.Name, Mutating: p.action.Mutating(),
		Params: policyParams(p.values, p.params), Channel: c.channel(), Time: e.now(), Freeze: fr,
	}
	return rs.Evaluate(req, e.usage(ctx, c)), nil
}

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
	d := rs.Evaluate(req, e.usage(ctx, c))
	if d.Effect == policies.Deny && !d.Frozen {
		// A rule may allow the task only for some values the defaults do
		// not fill (carol's own bucket): ask the rule set without
		// parameter conditions on allow and approve rules.
		if loose := e.paramFree(rs); loose != nil {
			if ld := loose.Evaluate(req, e.usage(ctx, c)); ld.Effect != policies.Deny {
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

// decisionWord is effectWord, qualified when it holds only for some values.
func decisionWord(d policies.Decision) string {
	if d.NearMiss == someValues {
		return effectWord(d.Effect) + " for some values"
	}
	return effectWord(d.Effect)
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
func (e *Engine) usage(ctx context.Context, c caller) policies.Usage {
	key := store.RateKey(c.Principal, c.Handle)
	return usageFunc(func(rule, _ string, since time.Time) int {
		u, err := e.store.UsageFor(ctx, key, since)
		if err != nil {
			e.log.ErrorContext(ctx, "read rule uses", "err", err)
			return math.MaxInt32
		}
		return u.Used(rule, key, since)
	})
}

type usageFunc func(rule, principal string, since time.Time) int

func (f usageFunc) Used(rule, principal string, since time.Time) int {
	return f(rule, principal, since)
}
