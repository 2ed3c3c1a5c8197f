package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/day2bot/day2bot/policies"
)

func TestRunLifecycle(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTemp(t)
	r, err := s.CreateRun(ctx, Run{App: "shop", Task: "restart-web", Params: map[string]string{"batch": "2"},
		Principal: "slack:U100", Handle: "carol", Platform: "slack", Channel: "C1",
		Decision: RunDecision{Effect: policies.Allow, Rule: "ops-restart", Reason: "ops may restart"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "r-1" || r.State != Requested {
		t.Fatalf("created %+v", r)
	}
	if err := s.TransitionRun(ctx, r.ID, Requested, Queued, ""); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if err := s.TransitionRun(ctx, r.ID, Queued, Running, "rebooting 2 instances"); err != nil {
		t.Fatal(err)
	}
	var ue *UserError
	if err := s.TransitionRun(ctx, r.ID, Queued, Running, ""); !errors.As(err, &ue) || !errors.Is(err, ErrState) || ue.State != "running" {
		t.Fatalf("second start = %v", err)
	}
	if err := s.TransitionRun(ctx, r.ID, Running, Requested, ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("backwards transition = %v", err)
	}
	if err := s.FinishRun(ctx, r.ID, Running, "", ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("finish into running = %v", err)
	}
	clk.Advance(time.Second)
	if err := s.FinishRun(ctx, r.ID, Succeeded, "2 rebooted", `{"i-1":"ok","i-2":"ok"}`); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(ctx, r.ID, Failed, "again", ""); !errors.Is(err, ErrState) {
		t.Fatalf("finish twice = %v", err)
	}
	if err := s.SetRunMessage(ctx, r.ID, `{"id":"1.2"}`); err != nil {
		t.Fatal(err)
	}
	got, err := s.Run(ctx, "r-1")
	if err != nil {
		t.Fatal(err)
	}
	start := newClock().Now()
	if got.State != Succeeded || got.Summary != "2 rebooted" || got.Result != `{"i-1":"ok","i-2":"ok"}` || got.MessageRef != `{"id":"1.2"}` ||
		!got.CreatedAt.Equal(start) || !got.StartedAt.Equal(start.Add(time.Second)) || !got.FinishedAt.Equal(start.Add(2*time.Second)) {
		t.Fatalf("run = %+v", got)
	}
	es, _ := s.AuditLog(ctx, AuditFilter{RunID: "r-1"})
	if len(es) != 4 { // created, queued, running, succeeded
		t.Fatalf("run audit = %+v", es)
	}
	for _, id := range []string{"r-2", "x", "", "r--1"} {
		if _, err := s.Run(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Run(%q) = %v", id, err)
		}
	}
	if _, err := s.CreateRun(ctx, Run{App: "shop", Task: "x", State: Succeeded}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("create finished run = %v", err)
	}
}

func TestRunStartsOnceUnderRace(t *testing.T) {
	ctx := context.Background()
	a, clk, path := openTemp(t)
	b := openAt(t, path, clk)
	r, err := a.CreateRun(ctx, Run{State: Queued, App: "shop", Task: "scale"})
	if err != nil {
		t.Fatal(err)
	}
	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := []*Store{a, b}[i%2]
			err := s.TransitionRun(ctx, r.ID, Queued, Running, "")
			switch {
			case err == nil:
				won.Add(1)
			case !errors.Is(err, ErrState):
				t.Errorf("transition: %v", err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d starts, want 1", won.Load())
	}
}

func TestInterruptRunningAndResume(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTemp(t)
	mk := func(st State, app string) Run {
		r, err := s.CreateRun(ctx, Run{State: st, App: app, Task: "t"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	running := mk(Running, "shop")
	queued := mk(Queued, "shop")
	mk(Requested, "blog")
	done := mk(Running, "blog")
	if err := s.FinishRun(ctx, done.ID, Failed, "boom", ""); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	got, err := s.InterruptRunning(ctx, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != running.ID || got[0].State != Interrupted {
		t.Fatalf("interrupted = %+v", got)
	}
	if r, _ := s.Run(ctx, running.ID); r.State != Interrupted || !r.FinishedAt.Equal(clk.Now()) {
		t.Fatalf("stored = %+v", r)
	}
	q, _ := s.Runs(ctx, RunFilter{States: []State{Queued}})
	if len(q) != 1 || q[0].ID != queued.ID {
		t.Fatalf("queued = %+v", q)
	}
	shop, _ := s.Runs(ctx, RunFilter{App: "shop"})
	if len(shop) != 2 || shop[0].ID != queued.ID { // newest first
		t.Fatalf("shop runs = %+v", shop)
	}
	if lim, _ := s.Runs(ctx, RunFilter{Limit: 1}); len(lim) != 1 || lim[0].ID != "r-4" {
		t.Fatalf("limited = %+v", lim)
	}
}

// Start-up resumes every queued run, oldest first, however many piled up
// while the bot was down (Runs stops at its listing limit).
func TestQueuedRunsListsAllOldestFirst(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTemp(t)
	var want []string
	for i := range 1205 {
		state := Queued
		if i%100 == 7 {
			state = Running // not to be resumed
		}
		r, err := s.CreateRun(ctx, Run{State: state, App: "shop", Task: "restart-web", Principal: "slack:U1"})
		if err != nil {
			t.Fatal(err)
		}
		if state == Queued {
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
