package bot_test

import (
	"testing"

	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
)

// An action that panics fails its own run with "see logs"; the process
// and the other runs carry on.
func TestActionPanicFailsTheRunOnly(t *testing.T) {
	h := newHarness(t)
	h.restart.result = func(tasks.Invocation) (tasks.Result, error) {
		var m map[string]int
		//lint:ignore SA5000 the point: a bug in an action, assignment to a nil map
		m["boom"]++
		return tasks.Result{}, nil
	}
	enginetest.MustContain(t, h.Say("alice", "shop restart-web"), "failed — run r-1, see logs")
	if rs := h.Runs("shop"); len(rs) != 1 || rs[0].State != store.Failed {
		t.Fatalf("runs = %+v, want one failed", rs)
	}
	enginetest.MustContain(t, h.Say("alice", "shop list-web"), "succeeded")
}

// A plan that panics while an approval is computed fails that request
// only ("see logs"), which is then not offered for approval; the engine
// carries on.
func TestPlanPanicFailsTheRequestOnly(t *testing.T) {
	h := newHarness(t)
	h.restart.planPanic = true
	enginetest.MustContain(t, h.Say("bob", "shop restart-web"), "Plan unavailable: internal error, see logs", "not offered for approval")
	h.restart.planPanic = false
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	enginetest.MustContain(t, h.Say("alice", "approve "+id), "succeeded")
}
