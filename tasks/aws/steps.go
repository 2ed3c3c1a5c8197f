package aws

import (
	"context"
	"fmt"

	"github.com/day2bot/day2bot/internal/errs"
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

// stepProgressKey carries a step's progress reporter (see stepProgress).
type stepProgressKey struct{}

// withStepProgress lets step i of n report progress about resource.
func withStepProgress(ctx context.Context, progress func(tasks.Progress), i, n int, resource string) context.Context {
	if progress == nil {
		return ctx
	}
	return context.WithValue(ctx, stepProgressKey{}, func(msg string) {
		progress(tasks.Progress{Done: i, Total: n, Message: resource + ": " + msg})
	})
}

// stepProgress is how a long step (waiting for an update AWS runs) says
// where it is; a no-op when the run has no progress reporter.
func stepProgress(ctx context.Context) func(string) {
	if f, ok := ctx.Value(stepProgressKey{}).(func(string)); ok {
		return f
	}
	return func(string) {}
}

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
	// parallel > 1 runs the steps in batches of that many at once (see
	// runBatches): for independent resources counted in hundreds.
	parallel int
	// choices list the live values of parameters, by parameter name
	// (see withChoices).
	choices map[string]chooseFunc
}

// chooseFunc lists the values a parameter may take among the resources
// inv.Target selects.
type chooseFunc func(ctx context.Context, inv tasks.Invocation) ([]tasks.Choice, error)

var (
	_ tasks.Action  = (*stepAction)(nil)
	_ tasks.Chooser = (*stepAction)(nil)
)

func (a *stepAction) Choosable(param string) bool { return a.choices[param] != nil }

func (a *stepAction) Choices(ctx context.Context, inv tasks.Invocation, param string) ([]tasks.Choice, error) {
	f := a.choices[param]
	if f == nil {
		return nil, fmt.Errorf("choices of %s: %s has no list of values", param, a.name)
	}
	out, err := f(ctx, inv)
	if err != nil {
		return nil, classifyFor(err, a.iam, inv.Target)
	}
	return out, nil
}

// withChoices has every action among actions that takes param list its
// values with f.
func withChoices(param string, f chooseFunc, actions []tasks.Action) []tasks.Action {
	for _, a := range actions {
		sa, ok := a.(*stepAction)
		if !ok {
			continue
		}
		for _, p := range sa.params {
			if p.Name == param {
				if sa.choices == nil {
					sa.choices = map[string]chooseFunc{}
				}
				sa.choices[param] = f
			}
		}
	}
	return actions
}

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
	if a.parallel > 1 {
		res.Resources = a.runBatches(ctx, p.Changes, steps, progress)
		return a.finish(inv, p, res), nil
	}
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
			detail, err := steps[i](withStepProgress(ctx, progress, i, len(p.Changes), ch.Resource))
			if err != nil {
				err = ClassifyOn(err, a.iam, ch.Resource)
				if awsDenied(err) {
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
	return a.finish(inv, p, res), nil
}

// finish summarises a run and adds the follow-ups.
func (a *stepAction) finish(inv tasks.Invocation, p tasks.Plan, res tasks.Result) tasks.Result {
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
	return res
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
		return errs.E("select resources", errs.Invalid, "the app's %s binding selects nothing: give it ids, names or tags", sel.Type)
	}
	return nil
}

// selects applies the selection rules of tasks.Selector (ids or ARNs
// exact, names and tag values as globs) to a resource whose name is its id.
func selects(sel tasks.Selector, id, arn string, tags map[string]string) bool {
	if sel.Empty() {
		// Partial selectors (only the tags, only the names) are checked
		// part by part; an unset part selects everything.
		return true
	}
	return sel.Matches(tasks.Candidate{ID: id, ARN: arn, Tags: tags})
}

// globMatch is tasks.Glob.
func globMatch(pattern, name string) bool { return tasks.Glob(pattern, name) }

// forTarget sets the resource type of a family's step actions.
func forTarget(target string, actions ...tasks.Action) []tasks.Action {
	for _, a := range actions {
		if sa, ok := a.(*stepAction); ok {
			sa.target = target
		}
	}
	return actions
}
