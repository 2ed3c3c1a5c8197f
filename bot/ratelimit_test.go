package bot_test

import (
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/policies"
)

// busyWorker holds the engine's only worker on a gated list-web run of
// alice, so runs queued meanwhile wait in the queue; it returns the gate.
func busyWorker(t *testing.T, h *harness) chan struct{} {
	t.Helper()
	gate := make(chan struct{})
	h.list.gate, h.list.started = gate, make(chan string, 1)
	h.Session("alice").Line(h.Ctx, "shop list-web")
	select {
	case <-h.list.started:
	case <-time.After(30 * time.Second):
		t.Fatal("list-web never started")
	}
	return gate
}

func oneWorker(o *bot.Options) { o.Workers = 1 }

// A rate limit counts a run from the moment it is allowed, not from when a
// worker gets to it: a second command while the first still waits in the
// queue is over the limit.
func TestRateLimitCountsQueuedRuns(t *testing.T) {
	h := newHarness(t, oneWorker)
	f := testPolicy()
	f.Rules = append(f.Rules, policies.Rule{ID: "carol-once-an-hour", Effect: policies.Allow, Subjects: []string{"user:carol"},
		Apps: []string{"shop"}, Tasks: []string{"restart-web"}, Rate: "1/1h"})
	if err := h.Store.ImportFile(h.Ctx, "test", f); err != nil {
		t.Fatal(err)
	}
	gate := busyWorker(t, h)
	h.Session("carol").Line(h.Ctx, "shop restart-web")
	mark := h.Out.Len()
	h.Session("carol").Line(h.Ctx, "shop restart-web")
	second := h.Out.Since(mark)
	close(gate)
	h.Drain()
	enginetest.MustContain(t, second, "Denied", "rate limit 1/1h")
	if n := h.restart.runs.Load(); n != 1 {
		t.Errorf("restart-web ran %d times under a 1/1h limit, want 1", n)
	}
}

// Two approvals of a rate-limited approve rule: the second approval is
// checked against the first one's use even while its run is still queued.
func TestRateLimitCountsApprovedRunsAtApproval(t *testing.T) {
	h := newHarness(t, oneWorker)
	f := testPolicy()
	f.Rules[2].Rate = "1/1h" // dev-shop-approve
	if err := h.Store.ImportFile(h.Ctx, "test", f); err != nil {
		t.Fatal(err)
	}
	first := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	second := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	gate := busyWorker(t, h)
	h.Session("alice").Line(h.Ctx, "approve "+first)
	mark := h.Out.Len()
	h.Session("alice").Line(h.Ctx, "approve "+second)
	out := h.Out.Since(mark)
	close(gate)
	h.Drain()
	enginetest.MustContain(t, out, "cancelled", "rate limit 1/1h")
	if n := h.restart.runs.Load(); n != 1 {
		t.Errorf("restart-web ran %d times under a 1/1h limit, want 1", n)
	}
}
