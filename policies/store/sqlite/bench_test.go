package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
)

func benchStore(b *testing.B) (*store.Store, *clocktest.Clock) {
	clk := newClock()
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), store.WithClock(clk.Now))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s, clk
}

// BenchmarkRuleSetCached is the per-command cost of getting the compiled
// rules when nothing changed: one read of policy_version.
func BenchmarkRuleSetCached(b *testing.B) {
	ctx := context.Background()
	s, _ := benchStore(b)
	f := policies.File{}
	for i := range 1000 {
		f.Rules = append(f.Rules, policies.Rule{ID: fmt.Sprintf("r%d", i), Effect: policies.Allow,
			Subjects: []string{"group:ops"}, Apps: []string{fmt.Sprintf("app%d", i%50)}, Tasks: []string{"restart-*"}})
	}
	if err := s.ImportFile(ctx, "bench", f); err != nil {
		b.Fatal(err)
	}
	if _, err := s.RuleSet(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.RuleSet(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUsageFor loads one principal's uses among 10,000 recorded.
func BenchmarkUsageFor(b *testing.B) {
	ctx := context.Background()
	s, clk := benchStore(b)
	for i := range 10000 {
		if err := s.RecordUse(ctx, "r1", fmt.Sprintf("slack:U%d", i%100), clk.Now().Add(-time.Duration(i)*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.UsageFor(ctx, "slack:U7", clk.Now().Add(-time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateRun is one journaled run (insert + audit, one commit).
func BenchmarkCreateRun(b *testing.B) {
	ctx := context.Background()
	s, _ := benchStore(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.CreateRun(ctx, store.Run{App: "shop", Task: "scale", Principal: "slack:U1", Params: map[string]string{"desired": "4"}}); err != nil {
			b.Fatal(err)
		}
	}
}
