package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies/store"

	"github.com/day2bot/day2bot/policies"
)

func testRunLifecycle(t *testing.T, db Database) {
	ctx := context.Background()
	s, clk := openTemp(t, db)
	r, err := s.CreateRun(ctx, store.Run{App: "shop", Task: "restart-web", Params: map[string]string{"batch": "2"},
		Principal: "slack:U100", Handle: "carol", Platform: "slack", Channel: "C1",
		Decision: store.RunDecision{Effect: policies.Allow, Rule: "ops-restart", Reason: "ops may restart"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "r-1" || r.State != store.Requested {
		t.Fatalf("created %+v", r)
	}
	if err := s.TransitionRun(ctx, r.ID, store.Requested, store.Queued, ""); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if err := s.TransitionRun(ctx, r.ID, store.Queued, store.Running, "rebooting 2 instances"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "second start", s.TransitionRun(ctx, r.ID, store.Queued, store.Running, ""),
		errs.Conflict, "run r-1 is running, not queued")
	wantErr(t, "backwards transition", s.TransitionRun(ctx, r.ID, store.Running, store.Requested, ""),
		errs.Invalid, "a run cannot move from running to requested")
	wantErr(t, "finish into running", s.FinishRun(ctx, r.ID, store.Running, "", ""),
		errs.Invalid, "running is not a final run state")
	clk.Advance(time.Second)
	if err := s.FinishRun(ctx, r.ID, store.Succeeded, "2 rebooted", `{"i-1":"ok","i-2":"ok"}`); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "finish twice", s.FinishRun(ctx, r.ID, store.Failed, "again", ""),
		errs.Conflict, "run r-1 is succeeded, not requested or queued or running")
	if err := s.SetRunMessage(ctx, r.ID, `{"id":"1.2"}`); err != nil {
		t.Fatal(err)
	}
	got, err := s.Run(ctx, "r-1")
	if err != nil {
		t.Fatal(err)
	}
	start := newClock().Now()
	if got.State != store.Succeeded || got.Summary != "2 rebooted" || got.Result != `{"i-1":"ok","i-2":"ok"}` || got.MessageRef != `{"id":"1.2"}` ||
		!got.CreatedAt.Equal(start) || !got.StartedAt.Equal(start.Add(time.Second)) || !got.FinishedAt.Equal(start.Add(2*time.Second)) {
		t.Fatalf("run = %+v", got)
	}
	es, _ := s.AuditLog(ctx, store.AuditFilter{RunID: "r-1"})
	if len(es) != 4 { // created, queued, running, succeeded
		t.Fatalf("run audit = %+v", es)
	}
	for id, want := range map[string]string{"r-2": "no run r-2", "x": "no run x", "": `no run ""`, "r--1": "no run r--1"} {
		_, err := s.Run(ctx, id)
		if d := errDiff(err, errs.NotFound, want); d != "" {
			t.Errorf("Run(%q): %s", id, d)
		}
	}
	_, err = s.CreateRun(ctx, store.Run{App: "shop", Task: "x", State: store.Succeeded})
	wantErr(t, "create finished run", err, errs.Invalid, "a run cannot start in state succeeded")
}

func testRunStartsOnceUnderRace(t *testing.T, db Database) {
	ctx := context.Background()
	a, clk := openTemp(t, db)
	b := db.Open(t, store.WithClock(clk.Now))
	r, err := a.CreateRun(ctx, store.Run{State: store.Queued, App: "shop", Task: "scale"})
	if err != nil {
		t.Fatal(err)
	}
	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := []*store.Store{a, b}[i%2]
			err := s.TransitionRun(ctx, r.ID, store.Queued, store.Running, "")
			switch {
			case err == nil:
				won.Add(1)
			default:
				if d := errDiff(err, errs.Conflict, "run "+r.ID+" is running, not queued"); d != "" {
					t.Errorf("transition: %s", d)
				}
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d starts, want 1", won.Load())
	}
}

func testInterruptRunningAndResume(t *testing.T, db Database) {
	ctx := context.Background()
	s, clk := openTemp(t, db)
	mk := func(st store.State, app string) store.Run {
		r, err := s.CreateRun(ctx, store.Run{State: st, App: app, Task: "t"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	running := mk(store.Running, "shop")
	queued := mk(store.Queued, "shop")
	mk(store.Requested, "blog")
	done := mk(store.Running, "blog")
	if err := s.FinishRun(ctx, done.ID, store.Failed, "boom", ""); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	got, err := s.InterruptRunning(ctx, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != running.ID || got[0].State != store.Interrupted {
		t.Fatalf("interrupted = %+v", got)
	}
	if r, _ := s.Run(ctx, running.ID); r.State != store.Interrupted || !r.FinishedAt.Equal(clk.Now()) {
		t.Fatalf("stored = %+v", r)
	}
	q, _ := s.Runs(ctx, store.RunFilter{States: []store.State{store.Queued}})
	if len(q) != 1 || q[0].ID != queued.ID {
		t.Fatalf("queued = %+v", q)
	}
	shop, _ := s.Runs(ctx, store.RunFilter{App: "shop"})
	if len(shop) != 2 || shop[0].ID != queued.ID { // newest first
		t.Fatalf("shop runs = %+v", shop)
	}
	if lim, _ := s.Runs(ctx, store.RunFilter{Limit: 1}); len(lim) != 1 || lim[0].ID != "r-4" {
		t.Fatalf("limited = %+v", lim)
	}
}

// Start-up resumes every queued run, oldest first, however many piled up
// while the bot was down (Runs stops at its listing limit).
func testQueuedRunsListsAllOldestFirst(t *testing.T, db Database) {
	ctx := context.Background()
	s, _ := openTemp(t, db)
	var want []string
	for i := range 1205 {
		state := store.Queued
		if i%100 == 7 {
			state = store.Running // not to be resumed
		}
		r, err := s.CreateRun(ctx, store.Run{State: state, App: "shop", Task: "restart-web", Principal: "slack:U1"})
		if err != nil {
			t.Fatal(err)
		}
		if state == store.Queued {
			want = append(want, r.ID)
		}
	}
	got, err := s.QueuedRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
		t.Fatalf("got %d ids (%v … %v), want %d (%v … %v)", len(got), got[0], got[len(got)-1], len(want), want[0], want[len(want)-1])
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("id %d = %s, want %s", i, got[i], want[i])
		}
	}
}

// A month's report reads only its month: Since and Until bound runs by
// creation and audit entries by time, [Since, Until), whatever came after.
func testRunsAndAuditByTime(t *testing.T, db Database) {
	ctx := context.Background()
	s, clk := openTemp(t, db)
	t0 := clk.Now()
	var ids []string
	for i := range 3 {
		r, err := s.CreateRun(ctx, store.Run{State: store.Requested, App: "shop", Task: "t"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
		if err := s.Audit(ctx, store.Entry{At: clk.Now(), Actor: "alice", Kind: store.KindDecision, App: "shop", Detail: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour)
	}
	mid := store.RunFilter{App: "shop", Since: t0.Add(time.Hour), Until: t0.Add(2 * time.Hour)}
	if rs, err := s.Runs(ctx, mid); err != nil || len(rs) != 1 || rs[0].ID != ids[1] {
		t.Errorf("runs in the second hour = %+v, %v; want %s only", rs, err, ids[1])
	}
	if rs, _ := s.Runs(ctx, store.RunFilter{App: "shop", Until: t0.Add(time.Hour)}); len(rs) != 1 || rs[0].ID != ids[0] {
		t.Errorf("runs before the second hour = %+v, want %s only", rs, ids[0])
	}
	if rs, _ := s.Runs(ctx, store.RunFilter{App: "shop", Since: t0.Add(time.Hour)}); len(rs) != 2 {
		t.Errorf("runs from the second hour = %+v, want 2", rs)
	}
	es, err := s.AuditLog(ctx, store.AuditFilter{App: "shop", Kind: store.KindDecision, Since: t0.Add(time.Hour), Until: t0.Add(2 * time.Hour)})
	if err != nil || len(es) != 1 || es[0].Detail != "1" {
		t.Errorf("audit in the second hour = %+v, %v; want entry 1 only", es, err)
	}
}
