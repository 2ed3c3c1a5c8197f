package replay

import (
	"context"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/clocktest"
)

func TestMemory(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC))
	m := NewMemory(clk.Now)
	until := clk.Now().Add(5 * time.Minute)
	steps := []struct {
		key     string
		advance time.Duration
		want    bool
	}{
		{"a", 0, true},
		{"a", 0, false},
		{"b", 0, true},
		{"a", 5 * time.Minute, false}, // the last instant of the window
		{"a", time.Second, true},      // expired, swept, new again
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		got, err := m.SeenOnce(ctx, s.key, until)
		if err != nil || got != s.want {
			t.Errorf("step %d (%s): %v %v, want %v", i, s.key, got, err, s.want)
		}
	}
	// Expired keys go at the next sweep, a minute on at most.
	clk.Advance(time.Minute)
	if _, err := m.SeenOnce(ctx, "c", clk.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if len(m.seen) != 1 {
		t.Errorf("%d keys kept, want only c after the sweep", len(m.seen))
	}
	if _, err := m.SeenOnce(ctx, "", until); err == nil {
		t.Error("empty key accepted")
	}
}
