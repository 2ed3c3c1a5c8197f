package storetest

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies/store"
)

// Two replicas start one queued run at once: one starts it, and the run
// records it as its owner.
func testStartRunOnceWithOwner(t *testing.T, db Database) {
	ctx := context.Background()
	a, clk := openTemp(t, db)
	b := db.Open(t, store.WithClock(clk.Now))
	r, err := a.CreateRun(ctx, store.Run{State: store.Queued, App: "shop", Task: "scale", Owner: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Run(ctx, r.ID); got.Owner != "r1" {
		t.Fatalf("owner at create = %q", got.Owner)
	}
	var won atomic.Int32
	var winner atomic.Value
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := []string{"r1", "r2"}[i%2]
			err := []*store.Store{a, b}[i%2].StartRun(ctx, r.ID, owner)
			switch {
			case err == nil:
				won.Add(1)
				winner.Store(owner)
			default:
				if d := errDiff(err, errs.Conflict, "run "+r.ID+" is running, not queued"); d != "" {
					t.Errorf("start: %s", d)
				}
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d starts, want 1", won.Load())
	}
	if got, _ := b.Run(ctx, r.ID); got.State != store.Running || got.Owner != winner.Load() {
		t.Fatalf("run = %s owned by %q, winner %v", got.State, got.Owner, winner.Load())
	}
}

// Queued runs of a live replica stay its own until they waited too long;
// those of a stopped replica, or of none, go to whoever takes them, each
// to one taker.
func testTakeQueued(t *testing.T, db Database) {
	ctx := context.Background()
	a, clk := openTemp(t, db)
	b := db.Open(t, store.WithClock(clk.Now))
	t0 := clk.Now()
	must(0, a.Heartbeat(ctx, "dead", t0))
	clk.Advance(time.Minute)
	for _, id := range []string{"live", "t1", "t2", "t3"} {
		must(0, a.Heartbeat(ctx, id, clk.Now()))
	}
	mk := func(owner string) string {
		r, err := a.CreateRun(ctx, store.Run{State: store.Queued, App: "shop", Task: "t", Owner: owner})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	var orphans []string
	for range 10 {
		orphans = append(orphans, mk("dead"), mk(""))
	}
	mine := mk("live")
	stale := clk.Now().Add(-30 * time.Second)

	var mu sync.Mutex
	taken := map[string][]string{}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := []string{"t1", "t2"}[i%2]
			ids, err := []*store.Store{a, b}[i%2].TakeQueued(ctx, owner, 3, clk.Now(), stale)
			if err != nil {
				t.Errorf("take: %v", err)
				return
			}
			mu.Lock()
			taken[owner] = append(taken[owner], ids...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	all := append(slices.Clone(taken["t1"]), taken["t2"]...)
	if len(all) != len(orphans) {
		t.Fatalf("taken %d runs %v, want the %d orphans", len(all), all, len(orphans))
	}
	slices.Sort(all)
	want := slices.Clone(orphans)
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Fatalf("taken %v, want %v", all, want)
	}
	for owner, ids := range taken {
		for _, id := range ids {
			if r, _ := a.Run(ctx, id); r.Owner != owner || r.State != store.Queued {
				t.Fatalf("%s = %s owned by %q, want queued for %s", id, r.State, r.Owner, owner)
			}
		}
	}
	// The live replica's run is its own until it has waited past the
	// cutoff; then another replica takes it.
	if ids := must(a.TakeQueued(ctx, "t3", 10, clk.Now(), stale)); len(ids) != 0 {
		t.Fatalf("took %v from a live replica", ids)
	}
	clk.Advance(time.Minute)
	for _, id := range []string{"live", "t1", "t2", "t3"} {
		must(0, a.Heartbeat(ctx, id, clk.Now()))
	}
	ids := must(a.TakeQueued(ctx, "t3", 50, clk.Now(), clk.Now().Add(-30*time.Second)))
	if !slices.Contains(ids, mine) {
		t.Fatalf("a run waiting a minute was not taken over: %v", ids)
	}
	if ids := must(a.TakeQueued(ctx, "t3", 50, clk.Now(), clk.Now().Add(-30*time.Second))); len(ids) != 0 {
		t.Fatalf("took its own runs again: %v", ids)
	}
}

// Only runs whose replica stopped beating are interrupted, each reported
// to one caller (announced once).
func testInterruptOrphans(t *testing.T, db Database) {
	ctx := context.Background()
	a, clk := openTemp(t, db)
	b := db.Open(t, store.WithClock(clk.Now))
	must(0, a.Heartbeat(ctx, "dead", clk.Now()))
	running := func(owner string) string {
		r, err := a.CreateRun(ctx, store.Run{State: store.Queued, App: "shop", Task: "t", Owner: owner})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.StartRun(ctx, r.ID, owner); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	dead1, dead2 := running("dead"), running("dead")
	clk.Advance(time.Minute)
	must(0, b.Heartbeat(ctx, "live", clk.Now()))
	live := running("live")
	queued := must(a.CreateRun(ctx, store.Run{State: store.Queued, App: "shop", Task: "t", Owner: "dead"}))
	stale := clk.Now().Add(-15 * time.Second)

	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs, err := []*store.Store{a, b}[i%2].InterruptOrphans(ctx, clk.Now(), stale)
			if err != nil {
				t.Errorf("interrupt orphans: %v", err)
				return
			}
			mu.Lock()
			for _, r := range rs {
				if r.State != store.Interrupted {
					t.Errorf("returned %s as %s", r.ID, r.State)
				}
				got = append(got, r.ID)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(got)
	want := []string{dead1, dead2}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("interrupted %v, want %v once each", got, want)
	}
	if r, _ := a.Run(ctx, live); r.State != store.Running {
		t.Fatalf("live replica's run = %s", r.State)
	}
	if r, _ := a.Run(ctx, queued.ID); r.State != store.Queued {
		t.Fatalf("queued run of the stopped replica = %s, want queued (another replica takes it)", r.State)
	}
	if r, _ := a.Run(ctx, dead1); r.FinishedAt.IsZero() || r.Summary == "" {
		t.Fatalf("interrupted run = %+v", r)
	}
}

// A schedule's fire time is claimed by one replica.
func testClaimScheduleRunOnce(t *testing.T, db Database) {
	ctx := context.Background()
	a, clk := openTemp(t, db)
	b := db.Open(t, store.WithClock(clk.Now))
	at := clk.Now().Truncate(time.Minute)
	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := []*store.Store{a, b}[i%2].ClaimScheduleRun(ctx, "shop/nightly", at)
			if err != nil {
				t.Errorf("claim: %v", err)
			}
			if ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d claims of one fire time, want 1", won.Load())
	}
	if ok := must(a.ClaimScheduleRun(ctx, "shop/nightly", at.Add(-time.Minute))); ok {
		t.Fatal("claimed an older fire time")
	}
	if ok := must(b.ClaimScheduleRun(ctx, "shop/nightly", at.Add(time.Minute))); !ok {
		t.Fatal("the next fire time was not claimed")
	}
	if last := must(a.ScheduleLastRun(ctx, "shop/nightly")); !last.Equal(at.Add(time.Minute)) {
		t.Fatalf("last run = %v", last)
	}
}
