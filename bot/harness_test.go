package bot_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/tasks"
)

// fakeAction records runs; a test may hold runs at a gate.
type fakeAction struct {
	name     string
	mutating bool
	params   []tasks.Param
	runs     atomic.Int32
	plans    atomic.Int32
	// gate, if set, blocks Run until closed or the context ends; started
	// receives once per run that reached the gate.
	gate    chan struct{}
	started chan string
	// result builds the result; default one ok row per target id.
	result   func(inv tasks.Invocation) (tasks.Result, error)
	progress []tasks.Progress
	// beforeProgress runs before each progress report (tests move the
	// clock there).
	beforeProgress func(i int)
	planErr        error
	planPanic      bool
}

func (a *fakeAction) Name() string          { return a.name }
func (a *fakeAction) Params() []tasks.Param { return a.params }
func (a *fakeAction) Mutating() bool        { return a.mutating }
func (a *fakeAction) IAMActions() []string  { return []string{"ec2:RebootInstances"} }

func (a *fakeAction) Plan(ctx context.Context, inv tasks.Invocation) (tasks.Plan, error) {
	a.plans.Add(1)
	if a.planPanic {
		panic("plan bug")
	}
	if a.planErr != nil {
		return tasks.Plan{}, a.planErr
	}
	p := tasks.Plan{Summary: fmt.Sprintf("would %s %d resources", a.name, len(inv.Target.IDs))}
	for _, id := range inv.Target.IDs {
		p.Changes = append(p.Changes, tasks.Change{Resource: id, Action: a.name})
	}
	return p, nil
}

func (a *fakeAction) Run(ctx context.Context, inv tasks.Invocation, progress func(tasks.Progress)) (tasks.Result, error) {
	a.runs.Add(1)
	for i, p := range a.progress {
		if a.beforeProgress != nil {
			a.beforeProgress(i)
		}
		if progress != nil {
			progress(p)
		}
	}
	if a.gate != nil {
		if a.started != nil {
			a.started <- a.name
		}
		select {
		case <-a.gate:
		case <-ctx.Done():
			return tasks.Result{}, ctx.Err()
		}
	}
	if a.result != nil {
		return a.result(inv)
	}
	res := tasks.Result{Summary: fmt.Sprintf("%s on %d resources", a.name, len(inv.Target.IDs))}
	for _, id := range inv.Target.IDs {
		res.Resources = append(res.Resources, tasks.ResourceResult{Resource: id, Status: tasks.StatusOK, Detail: fmt.Sprint(inv.Values["batch"])})
	}
	return res, nil
}

func intp(v float64) *float64 { return &v }
func boolp(v bool) *bool      { return &v }

// testPolicy: alice is ops (everything, approver), bob a developer
// (read-only allowed, mutating on shop needs one ops approval), carol may
// do nothing on shop.
func testPolicy() policies.File {
	return policies.File{
		Users: map[string][]string{
			"alice": {"shell:alice"},
			"bob":   {"shell:bob"},
			"carol": {"shell:carol"},
			"dave":  {"shell:dave"},
		},
		Groups: map[string][]string{"ops": {"alice", "dave"}, "dev": {"bob"}},
		Rules: []policies.Rule{
			{ID: "ops-all", Effect: policies.Allow, Subjects: []string{"group:ops"}},
			{ID: "dev-read", Effect: policies.Allow, Subjects: []string{"group:dev"}, Mutating: boolp(false)},
			{ID: "dev-shop-approve", Effect: policies.Approve, Subjects: []string{"group:dev"}, Apps: []string{"shop"},
				Mutating: boolp(true), Approvers: []string{"group:ops"}, Quorum: 1},
		},
	}
}

// harness is the engine harness with the fake actions behind shop's two
// tasks.
type harness struct {
	*enginetest.Harness
	restart *fakeAction
	list    *fakeAction
}

func testApps() []bot.App {
	return []bot.App{{
		Name: "shop", Blueprints: []string{"ec2-web"}, Region: "us-east-1", Owners: []string{"alice"},
		Tasks: []bot.Task{
			{Name: "restart-web", Description: "reboot web instances", Action: "test.restart",
				Target: tasks.Selector{Type: "ec2:instance", IDs: []string{"i-1", "i-2"}},
				Params: []tasks.Param{{Name: "batch", Type: tasks.TypeInt, Default: "1", Min: intp(1), Max: intp(4)}}},
			{Name: "list-web", Description: "list web instances", Action: "test.list",
				Target: tasks.Selector{Type: "ec2:instance", IDs: []string{"i-1", "i-2"}}},
		},
	}}
}

func newHarness(t testing.TB, opts ...func(*bot.Options)) *harness {
	t.Helper()
	h := &harness{
		restart: &fakeAction{name: "test.restart", mutating: true, params: []tasks.Param{{Name: "batch", Type: tasks.TypeInt, Default: "1", Min: intp(1), Max: intp(4)}}},
		list:    &fakeAction{name: "test.list"},
	}
	h.Harness = enginetest.New(t, enginetest.Config{
		Policy: testPolicy(), Apps: testApps(), Actions: []tasks.Action{h.restart, h.list}, Options: opts,
	})
	return h
}
