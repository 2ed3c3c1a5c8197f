package shell_test

// End-to-end: commands typed into a shell Session, through the engine and
// the policies in a real SQLite file, to the real AWS actions over HTTP
// against the emulator. Each test runs its own emulator, so reboot counts
// are its own.

import (
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func boolp(b bool) *bool { return &b }

var e2ePolicy = policies.File{
	Users:  map[string][]string{"alice": {"shell:alice"}, "bob": {"shell:bob"}, "carol": {"shell:carol"}, "dave": {"shell:dave"}},
	Groups: map[string][]string{"ops": {"alice", "dave"}, "developers": {"bob"}, "researchers": {"carol"}},
	Rules: []policies.Rule{
		{ID: "ops-everything", Effect: policies.Allow, Subjects: []string{"group:ops"}},
		{ID: "developers-read", Effect: policies.Allow, Subjects: []string{"group:developers"}, Mutating: boolp(false)},
		{ID: "developers-shop-changes", Effect: policies.Approve, Subjects: []string{"group:developers"}, Apps: []string{"shop"},
			Mutating: boolp(true), Approvers: []string{"group:ops"}, Quorum: 1},
	},
}

// e2e is the engine harness on the library's actions against an emulator
// of the test's own, with shop's four web instances seeded.
type e2e struct {
	*enginetest.Harness
	emu *emulator.Server
	ids []string
}

// withLogger gives the engine a logger the test reads.
func withLogger(l *slog.Logger) func(*bot.Options) {
	return func(o *bot.Options) { o.Logger = l }
}

func newE2E(t *testing.T, opts ...func(*bot.Options)) *e2e {
	t.Helper()
	return newE2EWith(t, nil, opts...)
}

// newE2EWith calls setup (apps, seeds) before the engine starts.
func newE2EWith(t *testing.T, setup func(x *e2e), opts ...func(*bot.Options)) *e2e {
	t.Helper()
	emu := emulator.New()
	t.Cleanup(emu.Close)
	// shop is the ec2-web blueprint resolved as serve and sandbox resolve it.
	shop := enginetest.LibraryApp(t, "shop", blueprints.App{Blueprints: []string{"ec2-web"}, Region: "us-east-1", Owners: []string{"alice"}})
	x := &e2e{emu: emu, Harness: enginetest.Open(t, enginetest.Config{
		Start: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), Policy: e2ePolicy, Apps: []bot.App{shop},
		Actions: enginetest.LibraryActions(), AWS: enginetest.EmulatorAWS{Emu: emu}, Workers: 4, Options: opts,
	})}
	ids, err := emu.SeedInstances(x.Ctx, 4, emulator.InstanceSpec{Tags: map[string]string{"app": "shop", "tier": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	x.ids = ids
	if setup != nil {
		setup(x)
	}
	x.Start()
	return x
}

// reboots is how many times each seeded instance was rebooted.
func (x *e2e) reboots() []int {
	n := make([]int, len(x.ids))
	for i, id := range x.ids {
		n[i] = x.emu.RebootCount(id)
	}
	return n
}

func (x *e2e) wantReboots(want int) {
	x.T.Helper()
	for i, n := range x.reboots() {
		if n != want {
			x.T.Fatalf("instance %s rebooted %d times, want %d (all: %v)", x.ids[i], n, want, x.reboots())
		}
	}
}

func TestE2EAllowedRunRebootsEveryInstanceOnce(t *testing.T) {
	x := newE2E(t)
	out := x.Say("alice", "shop restart-web batch=2")
	enginetest.MustContain(t, out, "shop restart-web — queued", "shop restart-web — succeeded", "rebooted 4 of 4 instances", x.ids[0], x.ids[3])
	x.wantReboots(1)
	if n := x.emu.Count("ec2:RebootInstances"); n != 2 {
		t.Fatalf("RebootInstances called %d times, want 2 (two batches of 2)", n)
	}
}

func TestE2EDeniedRunTouchesNoAWS(t *testing.T) {
	x := newE2E(t)
	x.emu.ResetRequests()
	out := x.Say("carol", "shop restart-web")
	enginetest.MustContain(t, out, "[only carol]", "Denied: shop restart-web", "no rule allows carol to run shop/restart-web")
	if reqs := x.emu.Requests(""); len(reqs) != 0 {
		t.Fatalf("a denied request reached AWS: %d calls, first %s:%s", len(reqs), reqs[0].Service, reqs[0].Operation)
	}
}

func TestE2EApprovalByApproverRunsOnce(t *testing.T) {
	x := newE2E(t)
	out := x.Say("bob", "shop restart-web batch=2")
	enginetest.MustContain(t, out, "Approval needed: shop restart-web", "Plan: reboot 4 instances in 2 batches of up to 2", "[Approve] [Deny]")
	x.wantReboots(0)
	id := enginetest.ApprovalID(t, out)
	out = x.Say("alice", "press "+id+" approve")
	enginetest.MustContain(t, out, "Approved: shop restart-web", "approved by alice", "rebooted 4 of 4 instances")
	x.wantReboots(1)
}

func TestE2ESelfApprovalRefused(t *testing.T) {
	x := newE2E(t)
	id := enginetest.ApprovalID(t, x.Say("bob", "shop restart-web"))
	enginetest.MustContain(t, x.Say("bob", "press "+id+" approve"), "[only bob]", "you cannot approve or deny your own request")
	enginetest.MustContain(t, x.Say("bob", "approve "+id), "you cannot approve or deny your own request")
	x.wantReboots(0)
}

func TestE2ENonApproverRefused(t *testing.T) {
	x := newE2E(t)
	id := enginetest.ApprovalID(t, x.Say("bob", "shop restart-web"))
	enginetest.MustContain(t, x.Say("carol", "press "+id+" approve"), "[only carol]", "only group:ops may approve or deny "+id)
	x.wantReboots(0)
}

func TestE2EApprovalExpires(t *testing.T) {
	x := newE2E(t)
	id := enginetest.ApprovalID(t, x.Say("bob", "shop restart-web"))
	x.Clock.Advance(61 * time.Minute)
	mark := x.Out.Len()
	x.Engine.Sweep(x.Ctx)
	enginetest.MustContain(t, x.Out.Since(mark), "Expired: shop restart-web")
	enginetest.MustContain(t, x.Say("alice", "press "+id+" approve"), `no "approve" button`)
	enginetest.MustContain(t, x.Say("alice", "approve "+id), "approval "+id+" is already expired")
	x.wantReboots(0)
}

func TestE2EFiftyConcurrentApprovalsRebootOnce(t *testing.T) {
	x := newE2E(t)
	id := enginetest.ApprovalID(t, x.Say("bob", "shop restart-web batch=4"))
	enginetest.Concurrently(50, "approve "+id, []string{"alice", "dave"}, x.Harness)
	x.wantReboots(1)
	if n := x.emu.Count("ec2:RebootInstances"); n != 1 {
		t.Fatalf("RebootInstances called %d times, want 1", n)
	}
}

func TestE2ERestartWithPendingApproval(t *testing.T) {
	x := newE2E(t)
	id := enginetest.ApprovalID(t, x.Say("bob", "shop restart-web"))
	x.Restart()
	out := x.Say("alice", "press "+id+" approve") // a button of the old process's message
	enginetest.MustContain(t, out, "Approved: shop restart-web", "rebooted 4 of 4 instances")
	x.wantReboots(1)
}

func TestE2ERestartWithRunLeftRunning(t *testing.T) {
	x := newE2E(t)
	started, release := make(chan struct{}, 1), make(chan struct{})
	x.emu.Handle("ec2:RebootInstances", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		started <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, `<RebootInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>e2e</requestId><return>true</return></RebootInstancesResponse>`)
	})
	x.Session("alice").Line(x.Ctx, "shop restart-web batch=4")
	<-started
	// The process dies mid-run: its engine is abandoned, a new one opens
	// the same file.
	old, oldStore := x.Engine, x.Store
	x.Engine, x.Store = nil, nil
	x.Open()
	mark := x.Out.Len()
	x.Start()
	x.Drain() // the announcement goes out in the background
	enginetest.MustContain(t, x.Out.Since(mark), "shop restart-web — interrupted", "It was not retried")
	runs, err := x.Store.Runs(x.Ctx, store.RunFilter{App: "shop"})
	if err != nil || len(runs) != 1 || runs[0].State != store.Interrupted {
		t.Fatalf("runs after restart = %+v, %v", runs, err)
	}
	enginetest.MustContain(t, x.Say("alice", "history shop"), "interrupted")
	close(release)
	old.Close()
	oldStore.Close()
	if n := x.emu.Count("ec2:RebootInstances"); n != 1 {
		t.Fatalf("RebootInstances called %d times, want 1: an interrupted run is never retried", n)
	}
}

// Two day2bot processes on one host share the database file: approvals
// clicked on both still reboot once.
func TestE2ETwoProcessesOneDatabase(t *testing.T) {
	x := newE2E(t)
	id := enginetest.ApprovalID(t, x.Say("bob", "shop restart-web batch=4"))
	enginetest.Concurrently(50, "press "+id+" approve", []string{"alice", "dave"}, x.Harness, x.Another())
	x.wantReboots(1)
	if n := x.emu.Count("ec2:RebootInstances"); n != 1 {
		t.Fatalf("RebootInstances called %d times by two processes, want 1", n)
	}
}
