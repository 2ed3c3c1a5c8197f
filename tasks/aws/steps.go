package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/day2bot/day2bot/tasks"
)

// The rds, ecs, s3 and cloudwatch families are built on stepAction.
//
// Every action here is "read AWS, decide per resource, then act per
// resource". Plan and Run share the same planning function, so what a dry
// run shows is exactly what a run does: Run executes the plan's steps in
// order, and a skipped change in the plan is a skipped resource in the run.

// step performs one planned change and describes the outcome.
type step func(ctx context.Context) (detail string, err error)

// decision is the plan for one resource: skipped (Skip says why) or a step
// to run; Action overrides the plan's verb for this resource.
type decision struct {
	Skip   string
	Action string
	Detail string
	Run    step
}

// planBuilder collects changes and their steps in matching order.
type planBuilder struct {
	verb, noun string
	changes    []tasks.Change
	steps      []step
}

func (b *planBuilder) add(resource, detail string, d decision) {
	ch := tasks.Change{Resource: resource, Action: b.verb, Detail: detail}
	if d.Action != "" {
		ch.Action = d.Action
	}
	if d.Detail != "" {
		ch.Detail = d.Detail
	}
	if d.Run == nil {
		ch.Action, ch.Detail = "skip", d.Skip
	}
	b.changes = append(b.changes, ch)
	b.steps = append(b.steps, d.Run)
}

func (b *planBuilder) plan() tasks.Plan {
	acting := 0
	for _, s := range b.steps {
		if s != nil {
			acting++
		}
	}
	summary := fmt.Sprintf("%s %d of %d %s", b.verb, acting, len(b.steps), b.noun)
	if len(b.steps) == 0 {
		summary = "no " + b.noun + " match the target"
	}
	return tasks.Plan{Summary: summary, Changes: b.changes}
}

// stepAction is an action defined by its metadata and a planning function.
type stepAction struct {
	name       string
	target     string // resource type, e.g. "rds:db-instance"
	params     []tasks.Param
	mutating   bool
	iam        []string
	verb, noun string
	plan       func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error)
	// followUps, if set, is added to the result when a step succeeded.
	followUps func(inv tasks.Invocation) []tasks.FollowUp
}

var _ tasks.Action = (*stepAction)(nil)

func (a *stepAction) Name() string          { return a.name }
func (a *stepAction) TargetType() string    { return a.target }
func (a *stepAction) Params() []tasks.Param { return a.params }
func (a *stepAction) Mutating() bool        { return a.mutating }
func (a *stepAction) IAMActions() []string  { return a.iam }

func (a *stepAction) Plan(ctx context.Context, inv tasks.Invocation) (tasks.Plan, error) {
	p, _, err := a.plan(ctx, inv)
	if err != nil {
		return tasks.Plan{}, classifyFor(err, a.iam, inv.Target)
	}
	return p, nil
}

func (a *stepAction) Run(ctx context.Context, inv tasks.Invocation, progress func(tasks.Progress)) (tasks.Result, error) {
	p, steps, err := a.plan(ctx, inv)
	if err != nil {
		return tasks.Result{}, classifyFor(err, a.iam, inv.Target)
	}
	var res tasks.Result
	var denied error // once AWS denies a permission, the rest would be denied too
	for i, ch := range p.Changes {
		rr := tasks.ResourceResult{Resource: ch.Resource, Status: tasks.StatusOK}
		switch {
		case steps[i] == nil:
			rr.Status, rr.Detail = tasks.StatusSkipped, ch.Detail
		case denied != nil:
			rr = Failure(ch.Resource, denied)
			rr.Detail = "not attempted: " + rr.Detail
		case ctx.Err() != nil:
			rr = tasks.ResourceResult{Resource: ch.Resource, Status: tasks.StatusFailed, Detail: "not attempted: " + context.Cause(ctx).Error()}
		default:
			detail, err := steps[i](ctx)
			if err != nil {
				err = ClassifyOn(err, a.iam, ch.Resource)
				var ad *AccessDeniedError
				if errors.As(err, &ad) {
					denied = err
				}
				rr = Failure(ch.Resource, err)
			} else {
				rr.Detail = detail
			}
		}
		res.Resources = append(res.Resources, rr)
		if progress != nil {
			progress(tasks.Progress{Done: i + 1, Total: len(p.Changes), Message: ch.Resource + ": " + string(rr.Status)})
		}
	}
	res.Summary = Summarize(a.verb, a.noun, res.Resources)
	if len(res.Resources) == 0 {
		res.Summary = p.Summary
	}
	if a.followUps != nil {
		for _, rr := range res.Resources {
			if rr.Status == tasks.StatusOK {
				res.FollowUps = a.followUps(inv)
				break
			}
		}
	}
	return res, nil
}

// classifyFor classifies an error outside the per-resource steps (listing
// the target, planning): an AWS answer that names no resource is about the
// app's binding.
func classifyFor(err error, iam []string, sel tasks.Selector) error {
	return withResource(Classify(err, iam), bindingText(sel))
}

// bindingText names a selector in messages: "s3:bucket names research-*".
func bindingText(sel tasks.Selector) string {
	if t := selectorText(sel); t != "" {
		return sel.Type + " " + t
	}
	return sel.Type
}

// checkSelector refuses a selector that selects nothing in particular: an
// empty binding must not mean "every resource in the account".
func checkSelector(sel tasks.Selector) error {
	if len(sel.IDs) == 0 && len(sel.Names) == 0 && len(sel.Tags) == 0 {
		return &UserError{Msg: fmt.Sprintf("the app's %s binding selects nothing: give it ids, names or tags", sel.Type)}
	}
	return nil
}

// selects reports whether a resource matches every part of the selector
// that is set: ids (id or ARN), names (globs like "research-*"), tags.
func selects(sel tasks.Selector, id, arn string, tags map[string]string) bool {
	if len(sel.IDs) > 0 && !slices.Contains(sel.IDs, id) && (arn == "" || !slices.Contains(sel.IDs, arn)) {
		return false
	}
	if len(sel.Names) > 0 && !matchesAnyName(sel.Names, id) {
		return false
	}
	for k, v := range sel.Tags {
		if got, ok := tags[k]; !ok || (v != "*" && got != v) {
			return false
		}
	}
	return true
}

func matchesAnyName(patterns []string, name string) bool {
	for _, p := range patterns {
		if globMatch(p, name) {
			return true
		}
	}
	return false
}

// globMatch matches a name glob: * is any run of characters (slashes
// included: alarm names may contain them), ? is one character, anything
// else is literal.
func globMatch(pattern, name string) bool {
	// Greedy with backtracking to the last star: linear for typical
	// patterns, never exponential.
	p, n, star, mark := 0, 0, -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == name[n]):
			p++
			n++
		case star >= 0:
			p, mark = star+1, mark+1
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// forTarget sets the resource type of a family's step actions.
func forTarget(target string, actions ...tasks.Action) []tasks.Action {
	for _, a := range actions {
		if sa, ok := a.(*stepAction); ok {
			sa.target = target
		}
	}
	return actions
}
