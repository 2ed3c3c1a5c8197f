package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/tasks"
)

// Choices are the values offered for one parameter while a command is
// typed (Discord autocomplete) or filled in (a Slack modal's selects):
// enum and bool values as declared, and what the action can list from
// live AWS data (the app's buckets, alarms), narrowed to what the policy
// lets the caller pass. AWS lookups are shared by everyone asking about the
// same app, task and parameter, kept for choiceTTL, and bounded: a caller
// waits at most choiceWait and then gets what is known (the last list, or
// nothing yet), while the lookup finishes in the background for the next
// keystroke. Chat platforms drop answers slower than 3 s. choiceWait is
// the default of Options.ChoiceWait.
const (
	choiceTTL    = 30 * time.Second
	choiceWait   = 1500 * time.Millisecond
	choiceLookup = 20 * time.Second
	// MaxChoices bounds one answer: Discord shows 25, Slack 100.
	MaxChoices = 100
)

// ErrNoChoices says a parameter has no list of values to offer.
var ErrNoChoices = errors.New("no values to offer")

// Choice is one offered value.
type Choice = tasks.Choice

// ParamChoices lists the values of parameter param of app's task that
// principal may pass, those matching query first (case-insensitive:
// values starting with it, then labels containing it), at most
// MaxChoices. It returns ErrNoChoices when the parameter has none to
// offer, and fails on unknown app, task or parameter like the command
// would.
func (e *Engine) ParamChoices(ctx context.Context, principal, app, task, param, query string) ([]Choice, error) {
	a, t, p, err := e.choiceParam(ctx, principal, app, task, param)
	if err != nil {
		return nil, err
	}
	var all []Choice
	switch {
	case len(p.Enum) > 0:
		for _, v := range p.Enum {
			all = append(all, Choice{Value: v})
		}
	case p.Type == tasks.TypeBool:
		all = []Choice{{Value: "true"}, {Value: "false"}}
	default:
		act, _ := e.reg.Lookup(t.Action)
		ch, ok := act.(tasks.Chooser)
		if !ok || !ch.Choosable(p.Name) {
			return nil, ErrNoChoices
		}
		all = e.choices.get(ctx, e, principal, a, t, ch, p.Name)
	}
	may := e.valueFilter(ctx, principal, a, t, p.Name)
	return matchChoices(all, query, may), nil
}

// choiceParam finds the parameter, checking that principal may see the
// app and run the task at all.
func (e *Engine) choiceParam(ctx context.Context, principal, app, task, param string) (*App, *Task, *tasks.Param, error) {
	a, ok := e.apps.app(app)
	if !ok || !containsFold(e.seenApps(ctx, principal), a.Name) {
		return nil, nil, nil, fmt.Errorf("choices of %s/%s: %w", app, task, ErrNoChoices)
	}
	t, ok := a.task(task)
	if !ok || !e.mayRunFilter(ctx, principal)(a, t) {
		return nil, nil, nil, fmt.Errorf("choices of %s/%s: %w", app, task, ErrNoChoices)
	}
	for i := range t.Params {
		if strings.EqualFold(t.Params[i].Name, param) {
			return a, t, &t.Params[i], nil
		}
	}
	return nil, nil, nil, fmt.Errorf("choices of %s/%s %s: %w", app, task, param, ErrNoChoices)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// matchChoices keeps the allowed choices matching query, prefix matches of
// the value first.
func matchChoices(all []Choice, query string, may func(string) bool) []Choice {
	q := strings.ToLower(query)
	var first, then []Choice
	for _, c := range all {
		if !may(c.Value) {
			continue
		}
		switch {
		case strings.HasPrefix(strings.ToLower(c.Value), q):
			first = append(first, c)
		case strings.Contains(strings.ToLower(c.Text()), q):
			then = append(then, c)
		}
	}
	out := append(first, then...)
	if len(out) > MaxChoices {
		out = out[:MaxChoices]
	}
	return out
}

// valueFilter reports whether the policy could let principal run the task
// with param set to a value: the task's filter (see mayRunFilter) with the
// allow and approve rules keeping their condition on param, and deny rules
// whole. A value a rule would refuse is not offered. When the policy
// cannot be read every value is offered (logged): the command is checked
// in full anyway.
func (e *Engine) valueFilter(ctx context.Context, principal string, a *App, t *Task, param string) func(string) bool {
	all := func(string) bool { return true }
	rs, err := e.store.RuleSet(ctx)
	if err != nil {
		e.log.WarnContext(ctx, "choices: load rules", "err", err)
		return all
	}
	p, handle, groups, err := e.store.Identify(ctx, principal)
	if err != nil {
		e.log.WarnContext(ctx, "choices: identify caller", "principal", principal, "err", err)
		return all
	}
	act, ok := e.reg.Lookup(t.Action)
	if !ok {
		return func(string) bool { return false }
	}
	reach := e.completion.forParam(rs, param)
	now := e.now()
	return func(v string) bool {
		req := policies.Request{Principal: p, Handle: handle, Groups: groups, App: a.Name, Owners: a.Owners,
			Task: t.Name, Mutating: act.Mutating(), Params: map[string]string{param: v}, Time: now}
		return reach.Evaluate(req, nil).Effect != policies.Deny
	}
}

// choiceCache holds the live lists, one per app, task and parameter.
type choiceCache struct {
	mu sync.Mutex
	m  map[choiceKey]*choiceEntry
}

type choiceKey struct{ app, task, param string }

// choiceEntry is one lookup: done closes when list and at are set.
type choiceEntry struct {
	done chan struct{}
	at   time.Time
	list []Choice
	prev []Choice // the list before this lookup, answered while it runs
}

// get returns the list for the key: a fresh one at once, else it waits for
// the lookup (starting one if none runs) at most choiceWait and answers
// with what is known then.
func (c *choiceCache) get(ctx context.Context, e *Engine, principal string, a *App, t *Task, ch tasks.Chooser, param string) []Choice {
	key := choiceKey{a.Name, t.Name, param}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[choiceKey]*choiceEntry{}
	}
	ent := c.m[key]
	if ent == nil || (isDone(ent.done) && e.now().Sub(ent.at) >= choiceTTL) {
		next := &choiceEntry{done: make(chan struct{})}
		if ent != nil {
			next.prev = ent.list
		}
		ent = next
		c.m[key] = ent
		lctx := context.WithoutCancel(ctx)
		e.background(func() { ent.lookup(lctx, e, principal, a, t, ch, param) })
	}
	c.mu.Unlock()
	if isDone(ent.done) {
		return ent.list
	}
	wait := time.NewTimer(e.opts.ChoiceWait)
	defer wait.Stop()
	select {
	case <-ent.done:
		return ent.list
	case <-ctx.Done():
	case <-wait.C:
	}
	if isDone(ent.done) { // finished as time ran out
		return ent.list
	}
	e.log.InfoContext(ctx, "choices: lookup still running, answering with the last list", "app", a.Name, "task", t.Name, "param", param)
	return ent.prev
}

func (ent *choiceEntry) lookup(ctx context.Context, e *Engine, principal string, a *App, t *Task, ch tasks.Chooser, param string) {
	ctx, cancel := context.WithTimeout(ctx, choiceLookup)
	defer cancel()
	list, err := func() ([]Choice, error) {
		cfg, err := e.aws.Config(ctx, a.Account, a.Region, principal)
		if err != nil {
			return nil, fmt.Errorf("aws config for %s: %w", a.Name, err)
		}
		return recovered("choices of "+param, func() ([]Choice, error) {
			return ch.Choices(ctx, tasks.Invocation{AWS: cfg, Target: t.Target, Values: tasks.Values{}, Now: e.now()}, param)
		})
	}()
	if err != nil {
		// A failed lookup is kept like an empty one, for choiceTTL: asking
		// AWS again on every keystroke would not make it answer.
		e.log.WarnContext(ctx, "choices: lookup failed", "app", a.Name, "task", t.Name, "param", param, "err", err)
		list = ent.prev
	}
	ent.list, ent.at = list, e.now()
	close(ent.done)
}

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
