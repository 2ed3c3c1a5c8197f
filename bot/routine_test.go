package bot_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
)

func withChannel(o *bot.Options) {
	for i := range o.Apps {
		o.Apps[i].Channels = []string{"slack:C1", "shell:ops"} // slack is not connected here
	}
}

func TestRunScheduledAllowed(t *testing.T) {
	h := newHarness(t, withChannel)
	if err := h.Store.AddRule(h.Ctx, "test", policies.Rule{ID: "sched-list", Effect: policies.Allow,
		Subjects: []string{"user:scheduler:shop"}, Apps: []string{"shop"}, Tasks: []string{"list-web"}}); err != nil {
		t.Fatal(err)
	}
	mark := h.Out.Len()
	if err := h.Engine.RunScheduled(h.Ctx, "hourly-list", "shop", "list-web", nil); err != nil {
		t.Fatal(err)
	}
	h.Drain()
	if n := h.list.runs.Load(); n != 1 {
		t.Fatalf("list ran %d times, want 1", n)
	}
	rs := h.Runs("shop")
	if len(rs) != 1 || rs[0].Principal != "scheduler:shop" || rs[0].State != store.Succeeded || rs[0].Platform != "shell" || rs[0].Channel != "ops" {
		t.Errorf("run = %+v", rs)
	}
	enginetest.MustContain(t, h.Out.Since(mark), "in ops]", "shop list-web")
}

func TestRunScheduledDenied(t *testing.T) {
	h := newHarness(t, withChannel)
	mark := h.Out.Len()
	err := h.Engine.RunScheduled(h.Ctx, "nightly-restart", "shop", "restart-web", nil)
	var denied *bot.ScheduleDenied
	if !errors.As(err, &denied) || denied.Schedule != "nightly-restart" {
		t.Fatalf("err = %v, want ScheduleDenied", err)
	}
	h.Drain()
	if n := h.restart.runs.Load(); n != 0 {
		t.Fatalf("a denied schedule ran %d times", n)
	}
	enginetest.MustContain(t, h.Out.Since(mark), "schedule nightly-restart of shop was denied: ", "as scheduler:shop")
	entries, err := h.Store.AuditLog(h.Ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		if e.Actor == "scheduler:shop" && e.Kind == store.KindDecision && strings.HasPrefix(e.Detail, "deny shop/restart-web") {
			found = true
		}
	}
	if !found {
		t.Errorf("denial not journaled: %+v", entries)
	}
	if len(h.Runs("shop")) != 0 {
		t.Errorf("a denied schedule left a run")
	}
}

func TestRunScheduledNeedsApproval(t *testing.T) {
	h := newHarness(t, withChannel)
	if err := h.Store.AddRule(h.Ctx, "test", policies.Rule{ID: "sched-restart", Effect: policies.Approve,
		Subjects: []string{"user:scheduler:shop"}, Apps: []string{"shop"}, Tasks: []string{"restart-web"},
		Approvers: []string{"group:ops"}, Quorum: 1}); err != nil {
		t.Fatal(err)
	}
	mark := h.Out.Len()
	if err := h.Engine.RunScheduled(h.Ctx, "nightly-restart", "shop", "restart-web", map[string]string{"batch": "2"}); err != nil {
		t.Fatal(err)
	}
	h.Drain()
	out := h.Out.Since(mark)
	id := enginetest.ApprovalID(t, out)
	if h.restart.runs.Load() != 0 {
		t.Fatal("ran before approval")
	}
	h.Say("alice", "approve "+id)
	if n := h.restart.runs.Load(); n != 1 {
		t.Errorf("runs after approval = %d, want 1", n)
	}
}

func TestRunScheduledUnknownTask(t *testing.T) {
	h := newHarness(t, withChannel)
	mark := h.Out.Len()
	if err := h.Engine.RunScheduled(h.Ctx, "typo", "shop", "restart-wbe", nil); err == nil {
		t.Fatal("no error for an unknown task")
	}
	enginetest.MustContain(t, h.Out.Since(mark), "schedule typo of shop cannot run")
}

// TestRunScheduledNeverOverlaps: while a scheduled run is still running
// (or its approval pending), the next fire is skipped, not queued behind.
func TestRunScheduledNeverOverlaps(t *testing.T) {
	h := newHarness(t, withChannel)
	if err := h.Store.AddRule(h.Ctx, "test", policies.Rule{ID: "sched-list", Effect: policies.Allow,
		Subjects: []string{"user:scheduler:shop"}, Apps: []string{"shop"}, Tasks: []string{"list-web"}}); err != nil {
		t.Fatal(err)
	}
	h.list.gate = make(chan struct{})
	h.list.started = make(chan string, 1)
	if err := h.Engine.RunScheduled(h.Ctx, "hourly-list", "shop", "list-web", nil); err != nil {
		t.Fatal(err)
	}
	<-h.list.started
	err := h.Engine.RunScheduled(h.Ctx, "hourly-list", "shop", "list-web", nil)
	var busy *bot.ScheduleBusy
	if !errors.As(err, &busy) || busy.Run == "" {
		t.Fatalf("second fire err = %v, want ScheduleBusy with the run", err)
	}
	close(h.list.gate)
	h.Drain()
	if n := h.list.runs.Load(); n != 1 {
		t.Errorf("runs = %d, want 1", n)
	}
	// Finished: the next fire runs again.
	if err := h.Engine.RunScheduled(h.Ctx, "hourly-list", "shop", "list-web", nil); err != nil {
		t.Fatal(err)
	}
	h.Drain()
	if n := h.list.runs.Load(); n != 2 {
		t.Errorf("runs = %d, want 2", n)
	}

	// A fire waiting for approval blocks the next one too.
	if err := h.Store.AddRule(h.Ctx, "test", policies.Rule{ID: "sched-restart", Effect: policies.Approve,
		Subjects: []string{"user:scheduler:shop"}, Apps: []string{"shop"}, Tasks: []string{"restart-web"},
		Approvers: []string{"group:ops"}, Quorum: 1}); err != nil {
		t.Fatal(err)
	}
	if err := h.Engine.RunScheduled(h.Ctx, "nightly-restart", "shop", "restart-web", nil); err != nil {
		t.Fatal(err)
	}
	h.Drain()
	err = h.Engine.RunScheduled(h.Ctx, "nightly-restart", "shop", "restart-web", nil)
	if !errors.As(err, &busy) || busy.Approval == "" {
		t.Fatalf("fire during a pending approval err = %v, want ScheduleBusy with the approval", err)
	}
}
