package bot_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/tasks"
)

// choosingAction lists two buckets; a lookup waits at the gate when one
// is set.
type choosingAction struct {
	fakeAction
	mu    sync.Mutex
	gate  chan struct{}
	calls atomic.Int32
}

func (a *choosingAction) Choosable(param string) bool { return param == "bucket" }

func (a *choosingAction) Choices(ctx context.Context, inv tasks.Invocation, param string) ([]tasks.Choice, error) {
	a.calls.Add(1)
	a.mu.Lock()
	gate := a.gate
	a.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return []tasks.Choice{{Value: "lab-b1"}, {Value: "lab-b2", Label: "lab-b2 (archive)"}}, nil
}

func (a *choosingAction) hold() chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gate = make(chan struct{})
	return a.gate
}

func values(cs []bot.Choice) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Value)
	}
	return out
}

// TestParamChoicesBoundedAndCached: a lookup slower than ChoiceWait
// answers with what is known (nothing, the first time; the last list
// later) and finishes in the background for the next ask; a list is
// reused until it is choiceTTL old, by everyone.
func TestParamChoicesBoundedAndCached(t *testing.T) {
	act := &choosingAction{fakeAction: fakeAction{name: "test.pick", mutating: true,
		params: []tasks.Param{{Name: "bucket", Type: tasks.TypeString, Required: true}, {Name: "mode", Type: tasks.TypeEnum, Enum: []string{"read", "write"}}}}}
	h := newHarness(t, func(o *bot.Options) {
		reg, err := tasks.NewRegistry(act, &fakeAction{name: "test.restart", mutating: true}, &fakeAction{name: "test.list"})
		if err != nil {
			t.Fatal(err)
		}
		o.Registry = reg
		o.Apps = append(o.Apps, bot.App{Name: "lab", Region: "us-east-1", Tasks: []bot.Task{{Name: "pick", Action: "test.pick",
			Target: tasks.Selector{Type: "s3:bucket", Tags: map[string]string{"app": "lab"}}, Params: act.params}}})
		o.ChoiceWait = time.Millisecond
	})
	ask := func(who, param, query string) []string {
		t.Helper()
		got, err := h.Engine.ParamChoices(h.Ctx, who, "lab", "pick", param, query)
		if err != nil {
			t.Fatalf("ParamChoices(%s %s %q): %v", who, param, query, err)
		}
		return values(got)
	}

	gate := act.hold()
	if got := ask("shell:alice", "bucket", ""); len(got) != 0 {
		t.Errorf("while the first lookup runs: %q, want nothing yet", got)
	}
	close(gate)
	h.Drain() // the lookup is background work of the engine
	if got := ask("shell:alice", "bucket", ""); !slices.Equal(got, []string{"lab-b1", "lab-b2"}) {
		t.Errorf("after the lookup: %q", got)
	}
	if got := ask("shell:dave", "bucket", "ARCH"); !slices.Equal(got, []string{"lab-b2"}) {
		t.Errorf("by label: %q", got)
	}
	if n := act.calls.Load(); n != 1 {
		t.Errorf("%d lookups, want 1 shared", n)
	}

	h.Clock.Advance(31 * time.Second)
	gate = act.hold()
	if got := ask("shell:alice", "bucket", "lab-b1"); !slices.Equal(got, []string{"lab-b1"}) {
		t.Errorf("while a stale list is looked up again: %q, want the last list", got)
	}
	close(gate)
	h.Drain()
	if n := act.calls.Load(); n != 2 {
		t.Errorf("%d lookups after the TTL, want 2", n)
	}

	// Enums need no lookup; parameters without values and callers who
	// may not run the task get none.
	if got := ask("shell:alice", "mode", "w"); !slices.Equal(got, []string{"write"}) {
		t.Errorf("enum: %q", got)
	}
	if _, err := h.Engine.ParamChoices(h.Ctx, "shell:carol", "lab", "pick", "bucket", ""); err == nil {
		t.Error("carol, in no group, was offered values")
	}
	if _, err := h.Engine.ParamChoices(h.Ctx, "shell:alice", "lab", "pick", "nope", ""); err == nil {
		t.Error("an unknown parameter was offered values")
	}
}
