package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/day2bot/day2bot/policies/store"
)

func testSeenOnce(t *testing.T, db Database) {
	ctx := context.Background()
	s, clk := openTemp(t, db)
	until := clk.Now().Add(5 * time.Minute)
	steps := []struct {
		name      string
		st        *store.Store
		key       string
		advance   time.Duration
		wantFirst bool
	}{
		{"first sight", s, "slack:abc", 0, true},
		{"replay", s, "slack:abc", 0, false},
		{"another key", s, "discord:1", 0, true},
		{"replay after a restart", nil, "slack:abc", time.Minute, false},
		{"at the end of the window", nil, "slack:abc", 4 * time.Minute, false},
		{"after the window", nil, "slack:abc", time.Second, true},
	}
	var reopened *store.Store
	for _, step := range steps {
		clk.Advance(step.advance)
		st := step.st
		if st == nil {
			if reopened == nil {
				// A new process on the same database.
				s.Close()
				reopened = db.Open(t, store.WithClock(clk.Now))
			}
			st = reopened
		}
		first, err := st.SeenOnce(ctx, step.key, until)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if first != step.wantFirst {
			t.Errorf("%s: first = %v, want %v", step.name, first, step.wantFirst)
		}
	}
	// Expired keys are pruned: only the re-seen one is left.
	n, err := db.QueryInt(ctx, `SELECT count(*) FROM seen_requests`)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d rows kept, want 1 (expired keys pruned)", n)
	}
	if _, err := reopened.SeenOnce(ctx, "", until); err == nil {
		t.Error("empty key accepted")
	}
}

// testSeenOnceAcrossReplicas: the same signed request delivered to three
// replicas at once (a retry, a replay, Socket Mode spreading one envelope)
// is served by exactly one.
func testSeenOnceAcrossReplicas(t *testing.T, db Database) {
	ctx := context.Background()
	a, clk := openTemp(t, db)
	stores := []*store.Store{a, db.Open(t, store.WithClock(clk.Now)), db.Open(t, store.WithClock(clk.Now))}
	until := clk.Now().Add(5 * time.Minute)
	for k := range 20 {
		key := fmt.Sprintf("slack:envelope-%d", k)
		var firsts atomic.Int32
		var wg sync.WaitGroup
		for i := range 9 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				first, err := stores[i%3].SeenOnce(ctx, key, until)
				if err != nil {
					t.Errorf("SeenOnce: %v", err)
				}
				if first {
					firsts.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := firsts.Load(); n != 1 {
			t.Fatalf("%s served %d times, want once", key, n)
		}
	}
}
