package storetest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
)

func testReopenKeepsEverything(t *testing.T, db Database) {
	ctx := context.Background()
	s, clk := openTemp(t, db)
	if err := s.ImportFile(ctx, "admin", loadFile(t, "policy.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := s.Freeze(ctx, "shop", "carol", "release", time.Time{}); err != nil {
		t.Fatal(err)
	}
	a, err := s.CreateApproval(ctx, store.ApprovalRequest{App: "shop", Task: "scale", Params: map[string]string{"desired": "8"},
		Requester: "slack:U102", RequesterHandle: "erin", RuleID: "scale-approve", Approvers: []string{"group:ops"}, Quorum: 2,
		ExpiresAt: clk.Now().Add(time.Hour), Request: []byte(`{"text":"shop scale desired=8"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Vote(ctx, a.ID, "slack:U100", true, clk.Now()); err != nil {
		t.Fatal(err)
	}
	run, err := s.CreateRun(ctx, store.Run{State: store.Queued, App: "shop", Task: "restart-web", Params: map[string]string{"batch": "2"},
		Principal: "slack:U100", Handle: "carol", Decision: store.RunDecision{Effect: policies.Allow, Rule: "ops-restart", Reason: "ops"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordUse(ctx, "research-bucket", "slack:U100", clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.SetScheduleLastRun(ctx, "shop/digest", clk.Now()); err != nil {
		t.Fatal(err)
	}
	policy := exportYAML(t, s)
	auditN := len(must(s.AuditLog(ctx, store.AuditFilter{Limit: 1000})))
	s.Close()

	s = db.Open(t, store.WithClock(clk.Now))
	if got := exportYAML(t, s); !bytes.Equal(got, policy) {
		t.Fatal("policy differs after reopen")
	}
	if f, _ := s.FreezeOf(ctx, "shop"); f == nil || f.By != "carol" || f.Reason != "release" {
		t.Fatalf("freeze after reopen = %+v", f)
	}
	a2, err := s.Approval(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a2.State != store.Pending || len(a2.Votes) != 1 || a2.Params["desired"] != "8" || string(a2.Request) != `{"text":"shop scale desired=8"}` || a2.ParamsHash != a.ParamsHash {
		t.Fatalf("approval after reopen = %+v", a2)
	}
	r2, err := s.Run(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r2.State != store.Queued || r2.Params["batch"] != "2" || r2.Decision.Rule != "ops-restart" || !r2.CreatedAt.Equal(clk.Now()) {
		t.Fatalf("run after reopen = %+v", r2)
	}
	u, _ := s.UsageFor(ctx, "slack:U100", clk.Now().Add(-time.Hour))
	if n := u.Used("research-bucket", "slack:U100", clk.Now().Add(-time.Hour)); n != 1 {
		t.Fatalf("uses after reopen = %d", n)
	}
	if at, _ := s.ScheduleLastRun(ctx, "shop/digest"); !at.Equal(clk.Now()) {
		t.Fatalf("schedule after reopen = %v", at)
	}
	if n := len(must(s.AuditLog(ctx, store.AuditFilter{Limit: 1000}))); n != auditN {
		t.Fatalf("audit entries after reopen = %d, want %d", n, auditN)
	}
}

// TestConcurrentWriters: 8 goroutines writing through one Store and 8
// through a second Store on the same file never see "database is locked".
func testConcurrentWriters(t *testing.T, db Database) {
	ctx := context.Background()
	a, clk := openTemp(t, db)
	b := db.Open(t, store.WithClock(clk.Now))
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers*each)
	for _, s := range []*store.Store{a, b} {
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					run, err := s.CreateRun(ctx, store.Run{App: "shop", Task: "t", Principal: fmt.Sprintf("w%d", w)})
					if err != nil {
						errs <- err
						continue
					}
					if err := s.TransitionRun(ctx, run.ID, store.Requested, store.Queued, ""); err != nil {
						errs <- err
					}
					if err := s.Audit(ctx, store.Entry{Actor: "w", Kind: store.KindDecision, Detail: fmt.Sprint(i)}); err != nil {
						errs <- err
					}
					if err := s.RecordUse(ctx, "r", "p", clk.Now()); err != nil {
						errs <- err
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
	}
	runs, err := a.Runs(ctx, store.RunFilter{States: []store.State{store.Queued}, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2*writers*each {
		t.Fatalf("queued runs = %d, want %d", len(runs), 2*writers*each)
	}
}

func testAuditIsAppendOnly(t *testing.T, db Database) {
	ctx := context.Background()
	s, _ := openTemp(t, db)
	if err := s.Audit(ctx, store.Entry{Actor: "carol", Kind: store.KindDecision, App: "shop", Task: "scale", Detail: "deny: no rule"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE audit SET detail = 'allow'`, `DELETE FROM audit`} {
		if err := db.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only refusal", q, err)
		}
	}
	es, err := s.AuditLog(ctx, store.AuditFilter{App: "shop"})
	if err != nil || len(es) != 1 || es[0].Detail != "deny: no rule" {
		t.Fatalf("AuditLog = %+v, %v", es, err)
	}
	if err := s.Audit(ctx, store.Entry{Actor: "x"}); err == nil {
		t.Fatal("entry without kind accepted")
	}
}

// testMigrations: a fresh database is at the newest schema, and opening it
// again (another replica starting) changes nothing.
func testMigrations(t *testing.T, db Database) {
	ctx := context.Background()
	s, _ := openTemp(t, db)
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v < 3 {
		t.Fatalf("schema version = %d, want at least 3", v)
	}
	if err := s.AddMember(ctx, "admin", "ops", "carol"); err != nil {
		t.Fatal(err)
	}
	// Replicas start together: concurrent opens migrate once.
	var wg sync.WaitGroup
	stores := make([]*store.Store, 4)
	for i := range stores {
		wg.Add(1)
		go func() { defer wg.Done(); stores[i] = db.Open(t) }()
	}
	wg.Wait()
	for _, s2 := range stores {
		v2, err := s2.SchemaVersion(ctx)
		if err != nil || v2 != v {
			t.Fatalf("schema version on reopen = %d, %v; want %d", v2, err, v)
		}
		if gs, err := s2.Groups(ctx); err != nil || len(gs["ops"]) != 1 {
			t.Fatalf("groups on reopen = %v, %v", gs, err)
		}
	}
}

// testUsageUnderConcurrency: uses recorded at once by two replicas are all
// counted, none lost or doubled.
func testUsageUnderConcurrency(t *testing.T, db Database) {
	ctx := context.Background()
	a, clk := openTemp(t, db)
	b := db.Open(t, store.WithClock(clk.Now))
	const each = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for _, s := range []*store.Store{a, b} {
		for i := range each {
			wg.Add(1)
			go func() {
				defer wg.Done()
				at := clk.Now().Add(-time.Duration(i) * time.Second)
				if err := s.RecordUse(ctx, "restart-limit", store.RateKey("slack:U1", "carol"), at); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("RecordUse: %v", err)
	}
	u, err := b.UsageFor(ctx, "handle:carol", clk.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n := u.Used("restart-limit", "handle:carol", clk.Now().Add(-time.Hour)); n != 2*each {
		t.Fatalf("uses = %d, want %d", n, 2*each)
	}
	if n := u.Used("restart-limit", "handle:carol", clk.Now().Add(-10*time.Second)); n != 2*11 {
		t.Fatalf("uses in the last 10s = %d, want %d", n, 2*11)
	}
}
