package bot_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
)

func TestAllowedRun(t *testing.T) {
	h := newHarness(t)
	out := h.Say("alice", "shop restart-web batch=2")
	enginetest.MustContain(t, out, "shop restart-web — queued", "shop restart-web — succeeded", "batch=2", "i-1", "i-2", "run r-1")
	if n := h.restart.runs.Load(); n != 1 {
		t.Fatalf("action ran %d times, want 1", n)
	}
	rs := h.Runs("shop")
	if len(rs) != 1 || rs[0].State != store.Succeeded || rs[0].Decision.Rule != "ops-all" {
		t.Fatalf("runs = %+v", rs)
	}
	log, err := h.Store.AuditLog(h.Ctx, store.AuditFilter{Kind: store.KindDecision})
	if err != nil || len(log) != 1 || !strings.Contains(log[0].Detail, "allow shop/restart-web batch=2") {
		t.Fatalf("decision audit = %+v, %v", log, err)
	}
}

func TestDeniedRunExplains(t *testing.T) {
	h := newHarness(t)
	out := h.Say("carol", "shop restart-web")
	enginetest.MustContain(t, out, "[only carol]", "Denied: shop restart-web", "no rule allows carol")
	if n := h.restart.runs.Load() + h.restart.plans.Load(); n != 0 {
		t.Fatalf("AWS touched %d times for a denied request", n)
	}
	if rs := h.Runs("shop"); len(rs) != 0 {
		t.Fatalf("a denied request created runs: %+v", rs)
	}
}

func TestReadOnlyAllowedForDeveloper(t *testing.T) {
	h := newHarness(t)
	out := h.Say("bob", "shop list-web")
	enginetest.MustContain(t, out, "shop list-web — succeeded")
}

func TestParamErrorsAreOneLine(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct{ in, want string }{
		{"shop restart-web batch=9", "batch must be between 1 and 4, got 9"},
		{"shop restart-web bach=2", `did you mean "batch"?`},
		{"shop restart-wbe", `did you mean "restart-web"?`},
		{"shpo restart-web", `did you mean "shop"?`},
		{"aprove a-1", `did you mean "approve"?`},
		{"approve a-zzzzz", "no approval a-zzzzz"},
		{"cancel r-999", "no run r-999"},
		{"tasks nope", "unknown app"},
		{"shop", "usage: shop TASK"},
	} {
		out := h.Say("alice", c.in)
		enginetest.MustContain(t, out, c.want)
		body := strings.TrimPrefix(out, "[only alice]\n")
		if strings.Count(strings.TrimSpace(body), "\n") != 0 {
			t.Errorf("%q: answer is not one line:\n%s", c.in, out)
		}
	}
}

func TestApprovalByApprover(t *testing.T) {
	h := newHarness(t)
	out := h.Say("bob", "shop restart-web batch=2")
	enginetest.MustContain(t, out, "Approval needed: shop restart-web", "Requested by: bob", "1 of group:ops", "[Approve] [Deny]", "would test.restart 2 resources", "expires in 1h")
	if h.restart.runs.Load() != 0 {
		t.Fatal("ran before approval")
	}
	id := enginetest.ApprovalID(t, out)
	out = h.Say("alice", "press "+id+" approve")
	enginetest.MustContain(t, out, "Approved: shop restart-web", "approved by alice", "shop restart-web — succeeded", "approved by alice")
	if n := h.restart.runs.Load(); n != 1 {
		t.Fatalf("ran %d times, want 1", n)
	}
	rs := h.Runs("shop")
	if len(rs) != 1 || rs[0].ApprovalID != id || rs[0].Principal != "shell:bob" {
		t.Fatalf("runs = %+v", rs)
	}
	// A second press is refused: it is decided.
	out = h.Say("dave", "press "+id+" approve")
	enginetest.MustContain(t, out, "no \"approve\" button") // the buttons are gone
	out = h.Say("dave", "approve "+id)
	enginetest.MustContain(t, out, "approval "+id+" is already approved")
	if n := h.restart.runs.Load(); n != 1 {
		t.Fatalf("ran %d times after a late vote, want 1", n)
	}
}

func TestSelfApprovalRefused(t *testing.T) {
	h := newHarness(t)
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	out := h.Say("bob", "press "+id+" approve")
	enginetest.MustContain(t, out, "[only bob]", "you cannot approve or deny your own request")
	a, err := h.Store.Approval(h.Ctx, id)
	if err != nil || a.State != store.Pending || len(a.Votes) != 0 {
		t.Fatalf("approval after self vote = %+v, %v", a, err)
	}
}

func TestNonApproverRefused(t *testing.T) {
	h := newHarness(t)
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	out := h.Say("carol", "press "+id+" approve")
	enginetest.MustContain(t, out, "[only carol]", "only group:ops may approve or deny "+id)
	out = h.Say("carol", "deny "+id+" nope")
	enginetest.MustContain(t, out, "only group:ops may approve or deny")
	if h.restart.runs.Load() != 0 {
		t.Fatal("ran after a refused vote")
	}
}

func TestDenyByApprover(t *testing.T) {
	h := newHarness(t)
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	out := h.Say("alice", "deny "+id+" not during the sale")
	enginetest.MustContain(t, out, "Denied: shop restart-web", "denied by alice", "reason: not during the sale")
	if h.restart.runs.Load() != 0 || len(h.Runs("shop")) != 0 {
		t.Fatal("a denied approval ran")
	}
}

func TestApprovalExpiry(t *testing.T) {
	h := newHarness(t)
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	h.Clock.Advance(59 * time.Minute)
	h.Engine.Sweep(h.Ctx)
	if a, _ := h.Store.Approval(h.Ctx, id); a.State != store.Pending {
		t.Fatalf("expired early: %s", a.State)
	}
	h.Clock.Advance(time.Minute)
	mark := h.Out.Len()
	h.Engine.Sweep(h.Ctx)
	enginetest.MustContain(t, h.Out.Since(mark), "Expired: shop restart-web", "expired without enough approvals")
	out := h.Say("alice", "approve "+id)
	enginetest.MustContain(t, out, "is already expired")
	if h.restart.runs.Load() != 0 {
		t.Fatal("an expired approval ran")
	}
}

func TestVoteAfterDeadlineBeforeSweep(t *testing.T) {
	h := newHarness(t)
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	h.Clock.Advance(2 * time.Hour)
	out := h.Say("alice", "press "+id+" approve")
	enginetest.MustContain(t, out, "has expired", "Expired: shop restart-web")
	if h.restart.runs.Load() != 0 {
		t.Fatal("an expired approval ran")
	}
}

func TestPolicyReevaluatedAtVote(t *testing.T) {
	h := newHarness(t)
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	// Meanwhile shop is frozen: the request must not run.
	enginetest.MustContain(t, h.Say("alice", "freeze shop 2h release"), "shop is frozen")
	out := h.Say("alice", "press "+id+" approve")
	enginetest.MustContain(t, out, "was cancelled: the rules no longer allow it", "Cancelled: shop restart-web")
	a, _ := h.Store.Approval(h.Ctx, id)
	if a.State != store.ApprovalCancelled || h.restart.runs.Load() != 0 {
		t.Fatalf("approval = %s, runs = %d", a.State, h.restart.runs.Load())
	}
}

func TestConcurrentApprovalsStartOnce(t *testing.T) {
	h := newHarness(t)
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	enginetest.Concurrently(50, "press "+id+" approve", []string{"alice", "dave"}, h.Harness)
	if n := h.restart.runs.Load(); n != 1 {
		t.Fatalf("action ran %d times for 50 concurrent approvals, want 1", n)
	}
	if rs := h.Runs("shop"); len(rs) != 1 {
		t.Fatalf("%d runs journaled, want 1", len(rs))
	}
}

// Two processes sharing one database file: two engines, two stores.
func TestConcurrentApprovalsTwoEnginesOneFile(t *testing.T) {
	h := newHarness(t)
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	enginetest.Concurrently(50, "press "+id+" approve", []string{"alice", "dave"}, h.Harness, h.Another())
	if n := h.restart.runs.Load(); n != 1 {
		t.Fatalf("action ran %d times across two engines, want 1", n)
	}
}

func TestRestartKeepsPendingApproval(t *testing.T) {
	h := newHarness(t)
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	h.Restart()
	out := h.Say("alice", "approve "+id)
	enginetest.MustContain(t, out, "Approved: shop restart-web", "shop restart-web — succeeded")
	if n := h.restart.runs.Load(); n != 1 {
		t.Fatalf("ran %d times, want 1", n)
	}
}

func TestRestartInterruptsRunningRun(t *testing.T) {
	h := newHarness(t)
	h.restart.gate = make(chan struct{})
	h.restart.started = make(chan string, 1)
	h.Session("alice").Line(h.Ctx, "shop restart-web")
	<-h.restart.started
	// Simulate a crash: the process dies with the run in flight. Closing
	// the store under the engine is the nearest in-process equivalent; the
	// journal says running.
	if rs := h.Runs("shop"); len(rs) != 1 || rs[0].State != store.Running {
		t.Fatalf("before crash: %+v", rs)
	}
	crashed := h.Engine
	h.Engine = nil
	h.Store.Close()
	h.Store = nil
	h.Open()
	mark := h.Out.Len()
	h.Start()
	h.Drain() // the announcement goes out in the background
	enginetest.MustContain(t, h.Out.Since(mark), "shop restart-web — interrupted", "was not retried", "[Run again]")
	rs := h.Runs("shop")
	if len(rs) != 1 || rs[0].State != store.Interrupted {
		t.Fatalf("after restart: %+v", rs)
	}
	close(h.restart.gate)
	crashed.Close() // its late finish is refused by the store: the run stays interrupted
	if rs := h.Runs("shop"); rs[0].State != store.Interrupted {
		t.Fatalf("the crashed engine overwrote the journal: %s", rs[0].State)
	}
	// Once the resources are checked, Run again is alice's command anew.
	// (Pressed by id: in this one process the crashed engine's late update
	// has since replaced the shell's copy of the message.)
	r := &recorder{}
	h.Engine.HandleAction(h.Ctx, bot.Action{Platform: "shell", User: "alice", Channel: "ops", ButtonID: "rt:" + rs[0].ID, Reply: r})
	h.Drain()
	if rs := h.Runs("shop"); len(rs) != 2 || rs[0].State != store.Succeeded || rs[1].State != store.Interrupted {
		t.Fatalf("after Run again: %+v (answered %+v)", rs, r.ephemeral)
	}
}

func TestRestartResumesQueuedRun(t *testing.T) {
	h := newHarness(t)
	// A run journaled as queued by a process that stopped before a worker
	// took it.
	r, err := h.Store.CreateRun(h.Ctx, store.Run{State: store.Queued, App: "shop", Task: "restart-web",
		Params: map[string]string{"batch": "1"}, Principal: "alice", Handle: "alice", Platform: "shell", Channel: "ops",
		Decision: store.RunDecision{Effect: policies.Allow, Rule: "ops-all"}})
	if err != nil {
		t.Fatal(err)
	}
	h.Restart()
	h.Drain()
	got, _ := h.Store.Run(h.Ctx, r.ID)
	if got.State != store.Succeeded || h.restart.runs.Load() != 1 {
		t.Fatalf("resumed run = %s, ran %d", got.State, h.restart.runs.Load())
	}
}

func TestCancelRunningRun(t *testing.T) {
	h := newHarness(t)
	h.restart.gate = make(chan struct{})
	h.restart.started = make(chan string, 1)
	h.Session("alice").Line(h.Ctx, "shop restart-web")
	<-h.restart.started
	mark := h.Out.Len()
	h.Session("carol").Line(h.Ctx, "cancel r-1") // answered at once; no drain: the run is held
	enginetest.MustContain(t, h.Out.Since(mark), "only alice or an admin may cancel r-1")
	mark = h.Out.Len()
	h.Session("alice").Line(h.Ctx, "cancel r-1")
	h.Drain()
	enginetest.MustContain(t, h.Out.Since(mark), "cancelling run r-1", "shop restart-web — cancelled", "cancelled by alice")
	if r, _ := h.Store.Run(h.Ctx, "r-1"); r.State != store.Cancelled {
		t.Fatalf("state = %s", r.State)
	}
}

func TestCancelPendingApproval(t *testing.T) {
	h := newHarness(t)
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	out := h.Say("bob", "cancel "+id)
	enginetest.MustContain(t, out, "Cancelled: shop restart-web")
	enginetest.MustContain(t, h.Say("alice", "approve "+id), "already cancelled")
}

func TestRunTimeout(t *testing.T) {
	h := newHarness(t, func(o *bot.Options) { o.RunTimeout = 50 * time.Millisecond })
	h.restart.gate = make(chan struct{}) // never opens
	out := h.Say("alice", "shop restart-web")
	enginetest.MustContain(t, out, "shop restart-web — failed", "timed out after")
	if r, _ := h.Store.Run(h.Ctx, "r-1"); r.State != store.Failed {
		t.Fatalf("state = %s", r.State)
	}
}

func TestInternalErrorShowsRunID(t *testing.T) {
	h := newHarness(t)
	h.restart.result = func(tasks.Invocation) (tasks.Result, error) {
		return tasks.Result{}, errors.New("connection reset by peer at 10.0.0.7")
	}
	out := h.Say("alice", "shop restart-web")
	enginetest.MustContain(t, out, "failed — run r-1, see logs")
	enginetest.MustNotContain(t, out, "10.0.0.7")
}

func TestUserErrorFromActionIsShown(t *testing.T) {
	h := newHarness(t)
	h.restart.result = func(tasks.Invocation) (tasks.Result, error) {
		// Permission names the action to add, so the fix needs no log reading.
		return tasks.Result{}, &errs.Error{Op: "reboot instance", Kind: errs.Permission, Msg: "AWS denied RebootInstances",
			IAMAction: "ec2:RebootInstances", Err: errors.New("api error UnauthorizedOperation at 10.0.0.7")}
	}
	out := h.Say("alice", "shop restart-web")
	enginetest.MustContain(t, out, "shop restart-web — failed", `AWS denied RebootInstances: the app's IAM role needs permission "ec2:RebootInstances"`,
		"the app's role policy: day2bot iam-policy shop")
	enginetest.MustNotContain(t, out, "10.0.0.7")
}

func TestLongResultIsPaginated(t *testing.T) {
	h := newHarness(t)
	h.restart.result = func(tasks.Invocation) (tasks.Result, error) {
		var res tasks.Result
		for i := range 45 {
			res.Resources = append(res.Resources, tasks.ResourceResult{Resource: fmt.Sprintf("i-%03d", i), Status: tasks.StatusOK})
		}
		res.Summary = "rebooted 45"
		return res, nil
	}
	out := h.Say("alice", "shop restart-web")
	enginetest.MustContain(t, out, "i-019", "… 25 more, attached as a file", "r-1-result.tsv")
	enginetest.MustNotContain(t, out, "i-020")
}

func TestProgressIsThrottled(t *testing.T) {
	h := newHarness(t)
	h.restart.progress = []tasks.Progress{{Done: 1, Total: 5}, {Done: 2, Total: 5}, {Done: 3, Total: 5}, {Done: 4, Total: 5}, {Done: 5, Total: 5}}
	// Seconds since the run started, at each report: quick work shows no
	// progress, then at most one update per 2s.
	at := []time.Duration{time.Second, 3 * time.Second, 4 * time.Second, 5 * time.Second, 6 * time.Second}
	start := h.Clock.Now()
	h.restart.beforeProgress = func(i int) { h.Clock.Advance(start.Add(at[i]).Sub(h.Clock.Now())) }
	out := h.Say("alice", "shop restart-web")
	enginetest.MustContain(t, out, "2 of 5 done.", "4 of 5 done.", "shop restart-web — succeeded")
	enginetest.MustNotContain(t, out, "1 of 5 done.", "3 of 5 done.", "5 of 5 done.")
}

func TestFollowUpRunsOnceWhenDue(t *testing.T) {
	h := newHarness(t)
	h.restart.result = func(inv tasks.Invocation) (tasks.Result, error) {
		if inv.Values["batch"] == int64(3) {
			return tasks.Result{Summary: "undone"}, nil
		}
		return tasks.Result{Summary: "muted", FollowUps: []tasks.FollowUp{{After: 30 * time.Minute, Action: "test.restart", Values: tasks.Values{"batch": int64(3)}, Reason: "unmute"}}}, nil
	}
	h.Say("alice", "shop restart-web")
	h.Engine.Sweep(h.Ctx)
	if n := h.restart.runs.Load(); n != 1 {
		t.Fatalf("follow-up ran early: %d runs", n)
	}
	h.Clock.Advance(31 * time.Minute)
	mark := h.Out.Len()
	h.Engine.Sweep(h.Ctx)
	h.Engine.Sweep(h.Ctx)
	enginetest.MustContain(t, h.Out.Since(mark), "follow-up of r-1", "unmute — undone")
	if n := h.restart.runs.Load(); n != 2 {
		t.Fatalf("runs = %d, want 2 (run + one follow-up)", n)
	}
}

func TestDryRunPlansOnly(t *testing.T) {
	h := newHarness(t)
	out := h.Say("bob", "shop restart-web --dry-run")
	enginetest.MustContain(t, out, "dry run queued", "shop restart-web — plan", "would test.restart 2 resources", "dry run: nothing was changed")
	if h.restart.runs.Load() != 0 {
		t.Fatal("a dry run ran the action")
	}
	enginetest.MustContain(t, h.Say("carol", "shop restart-web --dry-run"), "Denied")
}

// A request whose plan fails is not offered for approval: its message
// says why, without buttons; the requester gets the error; the approval
// is cancelled, so no vote can run it.
func TestPlanFailureIsNotOfferedForApproval(t *testing.T) {
	h := newHarness(t)
	h.restart.planErr = errs.E("describe alarm", errs.NotFound, "there is no metric alarm named shop-cpu")
	out := h.Say("bob", "shop restart-web")
	enginetest.MustContain(t, out, "Plan unavailable: there is no metric alarm named shop-cpu", "not offered for approval",
		"Not sent for approval", "the plan failed: there is no metric alarm named shop-cpu")
	enginetest.MustNotContain(t, out, "[Approve]")
	as, err := h.Store.PendingApprovals(h.Ctx, "shop")
	if err != nil || len(as) != 0 {
		t.Fatalf("pending approvals %+v, %v; want none", as, err)
	}
	h.restart.planErr = nil
	id := regexp.MustCompile(`approval (a-[a-z0-9]+)`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("no approval id in:\n%s", out)
	}
	out = h.Say("alice", "approve "+id[1])
	enginetest.MustContain(t, out, "already cancelled")
	if rs := h.Runs("shop"); len(rs) != 0 {
		t.Fatalf("runs %+v, want none", rs)
	}
}

func TestWhy(t *testing.T) {
	h := newHarness(t)
	enginetest.MustContain(t, h.Say("bob", "why shop restart-web batch=2"), "needs approval", "dev-shop-approve", "1 of group:ops")
	enginetest.MustContain(t, h.Say("alice", "why shop restart-web"), "allowed", "ops-all")
	enginetest.MustContain(t, h.Say("carol", "why shop restart-web"), "denied")
}

func TestHelpListsOnlyWhatCallerMayRun(t *testing.T) {
	h := newHarness(t)
	carol := h.Say("carol", "help")
	enginetest.MustNotContain(t, carol, "restart-web", "list-web", "policy list", "approve ID", "freeze APP")
	enginetest.MustContain(t, carol, "`digest APP`", "`schedules APP`", "`history [APP]`") // info commands are for everyone
	bob := h.Say("bob", "help")
	enginetest.MustContain(t, bob, "restart-web", "needs approval", "list-web")
	enginetest.MustNotContain(t, bob, "policy list", "approve ID")
	alice := h.Say("alice", "help")
	enginetest.MustContain(t, alice, "policy list", "approve ID", "freeze APP")
}

func TestInfoCommands(t *testing.T) {
	h := newHarness(t)
	h.Say("alice", "shop restart-web")
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web batch=3"))
	enginetest.MustContain(t, h.Say("alice", "apps"), "shop", "ec2-web")
	enginetest.MustContain(t, h.Say("bob", "tasks shop"), "restart-web", "needs approval", "details: tasks shop TASK")
	enginetest.MustContain(t, h.Say("bob", "tasks shop restart-web"), "• batch (default 1)", "a whole number between 1 and 4", "For you: needs approval")
	enginetest.MustContain(t, h.Say("bob", "tasks shop restrat-web"), `no task "restrat-web"`, "restart-web")
	enginetest.MustContain(t, h.Say("alice", "history shop"), "r-1", "succeeded")
	enginetest.MustContain(t, h.Say("alice", "pending"), id, "may approve")
	enginetest.MustContain(t, h.Say("bob", "pending"), id, "yours")
	enginetest.MustContain(t, h.Say("carol", "pending"), "nothing is waiting")
	enginetest.MustContain(t, h.Say("alice", "status shop"), "Pending approvals: 1", "Frozen: no")
	enginetest.MustContain(t, h.Say("alice", "digest shop"), "digests are not set up")
}

func TestFreezeDeniesMutating(t *testing.T) {
	h := newHarness(t)
	enginetest.MustContain(t, h.Say("bob", "freeze shop"), "only admins and owners")
	enginetest.MustContain(t, h.Say("alice", "freeze shop 1h black friday"), "shop is frozen", "for 1h", "black friday")
	enginetest.MustContain(t, h.Say("alice", "shop restart-web"), "Denied", "frozen")
	enginetest.MustContain(t, h.Say("alice", "shop list-web"), "succeeded")
	enginetest.MustContain(t, h.Say("alice", "unfreeze shop"), "Unfrozen: shop")
	enginetest.MustContain(t, h.Say("alice", "shop restart-web"), "succeeded")
}

func TestPolicyCommandsForAdmins(t *testing.T) {
	h := newHarness(t)
	enginetest.MustContain(t, h.Say("bob", "policy list"), "policy commands are for admins")
	enginetest.MustContain(t, h.Say("alice", "policy list"), "ops-all", "dev-shop-approve", "1 of group:ops")
	enginetest.MustContain(t, h.Say("alice", "policy show dev-read"), "mutating=false")
	enginetest.MustContain(t, h.Say("alice", "policy show dev-reed"), `did you mean "dev-read"?`)
	enginetest.MustContain(t, h.Say("alice", "policy test bob shop restart-web"), "needs approval")
	enginetest.MustContain(t, h.Say("alice", "policy remove dev-shop-approve"), "removed rule")
	enginetest.MustContain(t, h.Say("bob", "shop restart-web"), "Denied")
}

// policy test with a handle answers as the handle's first principal, the
// way the person's own chat command is decided (and as the CLI's policy
// test does), so a rule naming that principal applies.
func TestPolicyTestResolvesHandleToPrincipal(t *testing.T) {
	h := newHarness(t)
	r := policies.Rule{ID: "carol-lists", Effect: policies.Allow, Subjects: []string{"user:shell:carol"}, Tasks: []string{"list-web"}}
	if err := h.Store.AddRule(h.Ctx, "test", r); err != nil {
		t.Fatal(err)
	}
	enginetest.MustContain(t, h.Say("carol", "shop list-web"), "succeeded")
	enginetest.MustContain(t, h.Say("alice", "policy test carol shop list-web"), "allowed by rule \"carol-lists\"")
	enginetest.MustContain(t, h.Say("alice", "policy test shell:carol shop list-web"), "allowed by rule \"carol-lists\"")
	enginetest.MustContain(t, h.Say("alice", "policy test carol shop restart-web"), "denied")
}

// A rule with several parameter conditions lists them sorted by name, the
// same on every call (they live in a map).
func TestPolicyListIsDeterministic(t *testing.T) {
	h := newHarness(t)
	r := policies.Rule{ID: "many-params", Effect: policies.Allow, Subjects: []string{"group:ops"}, Tasks: []string{"restart-web"},
		Params: map[string]string{"e": "<= 5", "a": "<= 1", "d": "<= 4", "c": "<= 3", "b": "<= 2", "f": "<= 6"}}
	if err := h.Store.AddRule(h.Ctx, "test", r); err != nil {
		t.Fatal(err)
	}
	want := "a <= 1; b <= 2; c <= 3; d <= 4; e <= 5; f <= 6"
	list, show := h.Say("alice", "policy list"), h.Say("alice", "policy show many-params")
	enginetest.MustContain(t, list, want)
	enginetest.MustContain(t, show, want)
	for range 10 {
		if got := h.Say("alice", "policy list"); got != list {
			t.Fatalf("policy list changed between calls:\n%s\nthen\n%s", list, got)
		}
		if got := h.Say("alice", "policy show many-params"); got != show {
			t.Fatalf("policy show changed between calls:\n%s\nthen\n%s", show, got)
		}
	}
}

func TestButtonsFromOtherPlatformsAndUnknownButtons(t *testing.T) {
	h := newHarness(t)
	r := &recorder{}
	h.Engine.HandleAction(h.Ctx, bot.Action{Platform: "shell", User: "alice", ButtonID: "zz:what", Reply: r})
	if len(r.ephemeral) != 1 || !strings.Contains(r.ephemeral[0].Text, "not understood") {
		t.Fatalf("replies = %+v", r.ephemeral)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := newHarness(t, func(o *bot.Options) { o.Metrics = reg })
	h.Say("alice", "shop restart-web")
	h.Say("carol", "shop restart-web")
	h.Say("carol", "hlep")
	h.Say("alice", "approve a-nope")
	h.restart.result = func(tasks.Invocation) (tasks.Result, error) {
		return tasks.Result{}, &errs.Error{Kind: errs.Permission, Msg: "AWS denied RebootInstances", IAMAction: "ec2:RebootInstances"}
	}
	h.Say("alice", "shop restart-web")
	h.restart.result = func(tasks.Invocation) (tasks.Result, error) { return tasks.Result{}, errors.New("boom") }
	h.Say("alice", "shop restart-web")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "{" + l.GetValue() + "}"
			}
			got[key] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"day2bot_commands_total": 6, "day2bot_decisions_total{allow}": 3, "day2bot_decisions_total{deny}": 1,
		"day2bot_runs_total{succeeded}": 1, "day2bot_runs_total{failed}": 2,
		// By stage and kind: the typo and the unknown approval were
		// refused, one run AWS denied, one failed inside.
		// (labels in name order: kind, stage)
		"day2bot_errors_total{invalid}{command}": 1, "day2bot_errors_total{not_found}{command}": 1,
		"day2bot_errors_total{permission}{run}": 1, "day2bot_errors_total{internal}{run}": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

func TestComplete(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"sh", []string{"shop"}},
		{"st", []string{"status"}},
		{"shop re", []string{"shop restart-web"}},
		{"shop ", []string{"shop list-web", "shop restart-web"}},
		{"shop restart-web ", []string{"shop restart-web batch="}},
		{"shop restart-web ba", []string{"shop restart-web batch="}},
		{"why sh", []string{"why shop"}},
		{"run shop ", []string{"run shop list-web", "run shop restart-web"}},
		{"why shop re", []string{"why shop restart-web"}},
		{"/day2 shop restart-web batch=2 ", nil},
		{"shop restart-web batch=2 b", nil},
		{"status ", []string{"status shop"}},
		{"approve ", nil},
		{"", []string{"shop", "help", "apps", "tasks", "run", "status", "digest", "cost", "report", "history", "pending", "approve", "deny", "cancel", "why", "freeze", "unfreeze", "policy", "schedules"}},
		{"schedules s", []string{"schedules shop"}},
		{"nope x", nil},
		// Whitespace other than a space is still nothing typed yet.
		{"\t", []string{"shop", "help", "apps", "tasks", "run", "status", "digest", "cost", "report", "history", "pending", "approve", "deny", "cancel", "why", "freeze", "unfreeze", "policy", "schedules"}},
		{"/day2 \u00a0", []string{"shop", "help", "apps", "tasks", "run", "status", "digest", "cost", "report", "history", "pending", "approve", "deny", "cancel", "why", "freeze", "unfreeze", "policy", "schedules"}},
	} {
		got := h.Engine.Complete(h.Ctx, "alice", c.in)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("Complete(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Completions offer apps and tasks to run only to those the policy lets
// run them at all: conditions the autocomplete cannot know (channel,
// window, values, rate) do not hide a task, a deny does. why and status
// offer every app the person may see, and nothing of the others.
func TestCompleteFiltersByPolicy(t *testing.T) {
	h := newHarness(t)
	complete := func(principal, in string) string { return fmt.Sprint(h.Engine.Complete(h.Ctx, principal, in)) }
	verbs := fmt.Sprint(verbsOnly())
	check := func(principal, in, want string) {
		t.Helper()
		if got := complete(principal, in); got != want {
			t.Errorf("Complete(%s, %q) = %s, want %s", principal, in, got, want)
		}
	}
	// carol may run nothing on shop.
	check("shell:carol", "", verbs)
	check("shell:carol", "sh", "[]")
	check("shell:carol", "shop ", "[]")
	check("shell:carol", "run ", "[]")
	check("shell:carol", "why ", "[]")
	check("shell:carol", "why shop ", "[]")
	check("shell:carol", "status ", "[]")
	// bob: read-only allowed, mutating needs approval — both offered.
	check("shell:bob", "shop ", "[shop list-web shop restart-web]")

	// An allow for carol from another channel, in a window, rate-limited,
	// still offers the task; the command says what is missing.
	add := func(r policies.Rule) {
		t.Helper()
		if err := h.Store.AddRule(h.Ctx, "test", r); err != nil {
			t.Fatal(err)
		}
	}
	add(policies.Rule{ID: "carol-lists-elsewhere", Effect: policies.Allow, Subjects: []string{"user:carol"}, Tasks: []string{"list-web"},
		Channels: []string{"shell:elsewhere"}, Window: "Sun 03:00-04:00 UTC", Rate: "1/1d"})
	check("shell:carol", "sh", "[shop]")
	check("shell:carol", "shop ", "[shop list-web]")
	check("shell:carol", "run shop ", "[run shop list-web]")
	check("shell:carol", "why shop ", "[why shop list-web why shop restart-web]")
	check("shell:carol", "status ", "[status shop]")
	enginetest.MustContain(t, h.Say("carol", "shop list-web"), "Denied")

	// A deny hides the task, now.
	add(policies.Rule{ID: "bob-no-restart", Effect: policies.Deny, Subjects: []string{"user:bob"}, Tasks: []string{"restart-web"}})
	check("shell:bob", "shop ", "[shop list-web]")
	check("shell:bob", "shop re", "[]")
	check("shell:bob", "why shop re", "[why shop restart-web]")
}

// verbsOnly is what an empty completion offers someone who may run nothing.
func verbsOnly() []string {
	return []string{"help", "apps", "tasks", "run", "status", "digest", "cost", "report", "history", "pending", "approve", "deny", "cancel", "why", "freeze", "unfreeze", "policy", "schedules"}
}

// recorder is a Responder that keeps what it was sent.
type recorder struct {
	mu        sync.Mutex
	ephemeral []bot.Message
	public    []bot.Message
}

func (r *recorder) Ephemeral(_ context.Context, m bot.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ephemeral = append(r.ephemeral, m)
	return nil
}

func (r *recorder) Public(_ context.Context, m bot.Message) (bot.MessageRef, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.public = append(r.public, m)
	return bot.MessageRef{Platform: "shell", Channel: "ops", ID: fmt.Sprint(len(r.public))}, nil
}

// FuzzHandleCommand: whatever anyone types, the engine answers exactly
// once first and never panics.
func FuzzHandleCommand(f *testing.F) {
	for _, s := range []string{"help", "shop restart-web batch=2", "shop restart-web batch=99", "why shop list-web",
		"approve a-xxxxx", "deny a-1 \"x", "policy test bob shop restart-web", "freeze shop 2h", "cancel r-1", "history", "tasks shop", "/day2 pending"} {
		f.Add("bob", s)
	}
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, user, text string) {
		if user != "alice" && user != "carol" {
			user = "bob"
		}
		r := &recorder{}
		h.Engine.HandleCommand(h.Ctx, bot.Command{Platform: "shell", User: user, Channel: "ops", Text: text, Reply: r})
		if err := h.Engine.Drain(h.Ctx); err != nil {
			t.Fatal(err)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.ephemeral)+len(r.public) == 0 {
			t.Fatalf("no answer to %q", text)
		}
		for _, m := range r.ephemeral {
			if strings.Contains(m.Text, "internal error") {
				t.Fatalf("internal error for %q: %+v", text, m)
			}
		}
	})
}

func TestHelpShowsTasksAllowedForSomeValues(t *testing.T) {
	h := newHarness(t)
	f := testPolicy()
	f.Rules = append(f.Rules, policies.Rule{ID: "carol-small-batches", Effect: policies.Allow, Subjects: []string{"user:carol"},
		Apps: []string{"shop"}, Tasks: []string{"restart-web"}, Params: map[string]string{"batch": ">= 2"}})
	if err := h.Store.ImportFile(h.Ctx, "test", f); err != nil {
		t.Fatal(err)
	}
	enginetest.MustContain(t, h.Say("carol", "help"), "restart-web", "allowed for some values", "[batch=1]")
	enginetest.MustContain(t, h.Say("carol", "shop restart-web"), "Denied", "batch=1 is not >= 2")
	enginetest.MustContain(t, h.Say("carol", "shop restart-web batch=2"), "succeeded")
}

func TestRateLimitCountsStartedRuns(t *testing.T) {
	h := newHarness(t)
	f := testPolicy()
	f.Rules = append(f.Rules, policies.Rule{ID: "carol-once-an-hour", Effect: policies.Allow, Subjects: []string{"user:carol"},
		Apps: []string{"shop"}, Tasks: []string{"restart-web"}, Rate: "1/1h"})
	if err := h.Store.ImportFile(h.Ctx, "test", f); err != nil {
		t.Fatal(err)
	}
	enginetest.MustContain(t, h.Say("carol", "shop restart-web"), "succeeded")
	enginetest.MustContain(t, h.Say("carol", "shop restart-web"), "Denied", "rate limit 1/1h")
	h.Clock.Advance(61 * time.Minute)
	enginetest.MustContain(t, h.Say("carol", "shop restart-web"), "succeeded")
}

func TestQuorumOfTwo(t *testing.T) {
	h := newHarness(t)
	f := testPolicy()
	f.Rules[2].Quorum = 2
	if err := h.Store.ImportFile(h.Ctx, "test", f); err != nil {
		t.Fatal(err)
	}
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	out := h.Say("alice", "press "+id+" approve")
	enginetest.MustContain(t, out, "Approval needed", "Approved so far: 1: alice", "[Approve] [Deny]")
	enginetest.MustContain(t, h.Say("alice", "press "+id+" approve"), "you already voted on "+id)
	if h.restart.runs.Load() != 0 {
		t.Fatal("ran with one of two approvals")
	}
	enginetest.MustContain(t, h.Say("dave", "approve "+id), "Approved: shop restart-web", "shop restart-web — succeeded", "approved by alice, dave")
	if n := h.restart.runs.Load(); n != 1 {
		t.Fatalf("ran %d times, want 1", n)
	}
}

// TestEveryCommandAnswersBeforeReturning is the adapters' timing contract:
// HandleCommand has replied through cmd.Reply by the time it returns, on
// every path.
func TestEveryCommandAnswersBeforeReturning(t *testing.T) {
	h := newHarness(t)
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	id2 := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web batch=2"))
	h.Say("alice", "shop list-web")
	for _, c := range []struct{ user, text string }{
		{"alice", "help"}, {"carol", "help"}, {"alice", "help shop"}, {"alice", "help approve"}, {"alice", "help nothing"},
		{"alice", "apps"}, {"alice", "tasks shop"}, {"alice", "tasks nope"}, {"alice", "shop list-web"},
		{"bob", "shop restart-web --dry-run"}, {"bob", "shop restart-web"}, {"carol", "shop restart-web"},
		{"alice", "shop restart-web batch=99"}, {"alice", "why shop restart-web"}, {"alice", "status shop"},
		{"alice", "digest shop"}, {"alice", "history"}, {"alice", "history shop"}, {"alice", "pending"},
		{"dave", "approve " + id}, {"alice", "deny " + id2 + " no"}, {"alice", "approve a-zzzzz"}, {"bob", "cancel r-1"},
		{"alice", "cancel r-1"}, {"alice", "freeze shop 1h"}, {"alice", "unfreeze shop"}, {"alice", "unfreeze shop"},
		{"alice", "policy list"}, {"alice", "policy show ops-all"}, {"alice", "policy test bob shop restart-web"},
		{"bob", "policy list"}, {"alice", "aprove"}, {"alice", `"unterminated`}, {"alice", ""},
	} {
		r := &recorder{}
		h.Engine.HandleCommand(h.Ctx, bot.Command{Platform: "shell", User: c.user, Channel: "ops", Text: c.text, Reply: r})
		r.mu.Lock()
		n := len(r.ephemeral) + len(r.public)
		r.mu.Unlock()
		if n == 0 {
			t.Errorf("%s: %q returned without an answer", c.user, c.text)
		}
		h.Drain()
	}
}

func TestWorkersBoundConcurrentRuns(t *testing.T) {
	h := newHarness(t) // Workers: 2
	h.restart.gate = make(chan struct{})
	h.restart.started = make(chan string, 3)
	for range 3 {
		h.Session("alice").Line(h.Ctx, "shop restart-web")
	}
	<-h.restart.started
	<-h.restart.started
	// Both workers are held at the gate: the third run must still wait.
	states := map[store.State]int{}
	for _, r := range h.Runs("shop") {
		states[r.State]++
	}
	if states[store.Running] != 2 || states[store.Queued] != 1 {
		t.Fatalf("states with 2 workers busy = %v, want 2 running and 1 queued", states)
	}
	close(h.restart.gate)
	h.Drain()
	if n := h.restart.runs.Load(); n != 3 {
		t.Fatalf("runs = %d, want 3", n)
	}
}

// FuzzHandleAction: any button id from any user gets an answer and never
// a panic or an internal error.
func FuzzHandleAction(f *testing.F) {
	for _, s := range []string{"ap:a-xxxxx", "dn:a-xxxxx", "rm:shop:restart-web", "rm:shop", "rm::", "ap:", "zz", "", "ap:../../etc", "rm:nope:x", "ra:x2345678:0", "ra:", "ra:x:99999999999999999999"} {
		f.Add("alice", s)
	}
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, user, id string) {
		if user != "alice" && user != "carol" {
			user = "bob"
		}
		r := &recorder{}
		h.Engine.HandleAction(h.Ctx, bot.Action{Platform: "shell", User: user, Channel: "ops", ButtonID: id, Reply: r})
		if err := h.Engine.Drain(h.Ctx); err != nil {
			t.Fatal(err)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.ephemeral)+len(r.public) == 0 {
			t.Fatalf("no answer to button %q", id)
		}
		for _, m := range r.ephemeral {
			if strings.Contains(m.Text, "internal error") {
				t.Fatalf("internal error for %q: %+v", id, m)
			}
		}
	})
}

// "5/1h per user": one person's uses count together whatever chat identity
// they come from (both identities map to the handle carol).
func TestRateLimitCountsThePersonAcrossIdentities(t *testing.T) {
	h := newHarness(t)
	f := testPolicy()
	f.Users["carol"] = append(f.Users["carol"], "shell:carol-on-discord")
	f.Rules = append(f.Rules, policies.Rule{ID: "carol-once-an-hour", Effect: policies.Allow, Subjects: []string{"user:carol"},
		Apps: []string{"shop"}, Tasks: []string{"restart-web"}, Rate: "1/1h"})
	if err := h.Store.ImportFile(h.Ctx, "test", f); err != nil {
		t.Fatal(err)
	}
	enginetest.MustContain(t, h.Say("carol", "shop restart-web"), "succeeded")
	enginetest.MustContain(t, h.Say("carol-on-discord", "shop restart-web"), "Denied", "rate limit 1/1h")
}

// The blueprint's confirm: text reaches the people deciding: in the plan of
// a dry run and on the approval request.
func TestConfirmTextShown(t *testing.T) {
	const warn = "Rebooting drops the connections on each instance of a batch."
	h := newHarness(t, func(o *bot.Options) {
		o.Apps[0].Tasks[0].Confirm = warn
	})
	enginetest.MustContain(t, h.Say("alice", "shop restart-web --dry-run"), "shop restart-web — plan", "Impact: "+warn)
	enginetest.MustContain(t, h.Say("bob", "shop restart-web"), "Approval needed: shop restart-web", "Impact: "+warn)
	enginetest.MustNotContain(t, h.Say("alice", "shop list-web --dry-run"), "Impact")
}
