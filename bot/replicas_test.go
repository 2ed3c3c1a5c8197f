package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/policies/store"
)

// A replica sharing the store leaves the runs of live replicas alone at
// start, takes the queued run of a stopped replica and runs it once, and
// (as lease holder) interrupts and announces once the running runs of
// replicas whose heart stopped.
func TestSharedReplicaRecoversOnlyStoppedReplicas(t *testing.T) {
	h := newHarness(t, func(o *bot.Options) {
		o.Shared, o.Replica = true, "rep-b"
		o.Heartbeat = time.Hour // beats at start; the test moves the clock
	})
	h.Stop()
	h.Open()
	now := h.Clock.Now()
	mk := func(state store.State, task, owner string) string {
		t.Helper()
		r, err := h.Store.CreateRun(h.Ctx, store.Run{State: store.Queued, App: "shop", Task: task,
			Principal: "shell:alice", Handle: "alice", Platform: "shell", Channel: "ops", Owner: owner})
		if err != nil {
			t.Fatal(err)
		}
		if state == store.Running {
			if err := h.Store.StartRun(h.Ctx, r.ID, owner); err != nil {
				t.Fatal(err)
			}
		}
		return r.ID
	}
	for id, at := range map[string]time.Time{"rep-dead": now.Add(-time.Minute), "rep-live": now} {
		if err := h.Store.Heartbeat(h.Ctx, id, at); err != nil {
			t.Fatal(err)
		}
	}
	deadRun := mk(store.Running, "restart-web", "rep-dead")
	liveRun := mk(store.Running, "restart-web", "rep-live")
	orphan := mk(store.Queued, "list-web", "rep-dead")
	h.Start()
	h.Drain()

	state := func(id string) store.Run {
		t.Helper()
		r, err := h.Store.Run(h.Ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := state(orphan); r.State != store.Succeeded || r.Owner != "rep-b" {
		t.Fatalf("queued run of the stopped replica = %s owned by %q, want succeeded here", r.State, r.Owner)
	}
	if h.list.runs.Load() != 1 {
		t.Fatalf("list ran %d times", h.list.runs.Load())
	}
	for _, id := range []string{deadRun, liveRun} {
		if r := state(id); r.State != store.Running {
			t.Fatalf("start of a shared replica changed %s to %s", id, r.State)
		}
	}

	mark := h.Out.Len()
	for range 2 { // the second look finds nothing new
		if err := h.Engine.RecoverOrphans(h.Ctx); err != nil {
			t.Fatal(err)
		}
		h.Drain()
	}
	if r := state(deadRun); r.State != store.Interrupted {
		t.Fatalf("run of the stopped replica = %s", r.State)
	}
	if r := state(liveRun); r.State != store.Running {
		t.Fatalf("run of the live replica = %s", r.State)
	}
	out := h.Out.Since(mark)
	if n := strings.Count(out, "interrupted"); n != 1 {
		t.Fatalf("%d announcements, want 1:\n%s", n, out)
	}
	enginetest.MustContain(t, out, "shop restart-web")

	// The live replica falls silent past StaleAfter: its run goes too.
	h.Clock.Advance(20 * time.Second)
	if err := h.Engine.RecoverOrphans(h.Ctx); err != nil {
		t.Fatal(err)
	}
	h.Drain()
	if r := state(liveRun); r.State != store.Interrupted {
		t.Fatalf("run of a replica silent for 20s = %s", r.State)
	}
}
