package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/policies"
)

func newClock() *clocktest.Clock {
	return clocktest.New(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
}

// openAt opens a store at path, closed when the test ends.
func openAt(t *testing.T, path string, clk *clocktest.Clock, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, append([]Option{WithClock(clk.Now)}, opts...)...)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openTemp(t *testing.T) (*Store, *clocktest.Clock, string) {
	t.Helper()
	clk := newClock()
	path := filepath.Join(t.TempDir(), "day2bot.db")
	return openAt(t, path, clk), clk, path
}

func TestOpenMigratesFreshFile(t *testing.T) {
	s, _, _ := openTemp(t)
	v, err := s.SchemaVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if v != len(ms) || v < 2 {
		t.Fatalf("schema version = %d, want %d", v, len(ms))
	}
}

func TestOpenEmptyFileAndForeignFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	s := openAt(t, empty, clk)
	if err := s.AddMember(ctx, "admin", "ops", "carol"); err != nil {
		t.Fatalf("write after migrating an empty file: %v", err)
	}

	// A SQLite file at user_version 0 that already has an unrelated table.
	other := filepath.Join(dir, "v0.db")
	raw, err := sql.Open("sqlite3", "file:"+other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('keep me')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	s2 := openAt(t, other, clk)
	if v, _ := s2.SchemaVersion(ctx); v < 2 {
		t.Fatalf("version = %d", v)
	}
	var x string
	if err := s2.rdb.QueryRow(`SELECT x FROM notes`).Scan(&x); err != nil || x != "keep me" {
		t.Fatalf("foreign table lost: %q %v", x, err)
	}
}

func TestMigrateFromVersion1KeepsData(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := Open(ctx, path, WithClock(clk.Now), withMaxMigrations(1))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := old.SchemaVersion(ctx); v != 1 {
		t.Fatalf("old version = %d", v)
	}
	if err := old.ImportFile(ctx, "admin", loadFile(t, "policy.yaml")); err != nil {
		t.Fatal(err)
	}
	want := exportYAML(t, old)
	old.Close()

	s := openAt(t, path, clk)
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.SchemaVersion(ctx); v != len(ms) {
		t.Fatalf("version after upgrade = %d, want %d", v, len(ms))
	}
	if got := exportYAML(t, s); !bytes.Equal(got, want) {
		t.Fatalf("policy changed by migration:\n%s\n---\n%s", want, got)
	}
	if _, err := s.CreateRun(ctx, Run{App: "shop", Task: "scale", Principal: "slack:U1"}); err != nil {
		t.Fatalf("table from migration 2 missing: %v", err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "future.db")
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if s, err := Open(context.Background(), path); err == nil {
		s.Close()
		t.Fatal("opened a file from a newer binary")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Fatalf("error = %v", err)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	path := filepath.Join(t.TempDir(), "day2bot.db")
	s, err := Open(ctx, path, WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ImportFile(ctx, "admin", loadFile(t, "policy.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := s.Freeze(ctx, "shop", "carol", "release", time.Time{}); err != nil {
		t.Fatal(err)
	}
	a, err := s.CreateApproval(ctx, ApprovalRequest{App: "shop", Task: "scale", Params: map[string]string{"desired": "8"},
		Requester: "slack:U102", RequesterHandle: "erin", RuleID: "scale-approve", Approvers: []string{"group:ops"}, Quorum: 2,
		ExpiresAt: clk.Now().Add(time.Hour), Request: []byte(`{"text":"shop scale desired=8"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Vote(ctx, a.ID, "slack:U100", true, clk.Now()); err != nil {
		t.Fatal(err)
	}
	run, err := s.CreateRun(ctx, Run{State: Queued, App: "shop", Task: "restart-web", Params: map[string]string{"batch": "2"},
		Principal: "slack:U100", Handle: "carol", Decision: RunDecision{Effect: policies.Allow, Rule: "ops-restart", Reason: "ops"}})
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
	auditN := len(must(s.AuditLog(ctx, AuditFilter{Limit: 1000})))
	s.Close()

	s = openAt(t, path, clk)
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
	if a2.State != Pending || len(a2.Votes) != 1 || a2.Params["desired"] != "8" || string(a2.Request) != `{"text":"shop scale desired=8"}` || a2.ParamsHash != a.ParamsHash {
		t.Fatalf("approval after reopen = %+v", a2)
	}
	r2, err := s.Run(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r2.State != Queued || r2.Params["batch"] != "2" || r2.Decision.Rule != "ops-restart" || !r2.CreatedAt.Equal(clk.Now()) {
		t.Fatalf("run after reopen = %+v", r2)
	}
	u, _ := s.UsageFor(ctx, "slack:U100", clk.Now().Add(-time.Hour))
	if n := u.Used("research-bucket", "slack:U100", clk.Now().Add(-time.Hour)); n != 1 {
		t.Fatalf("uses after reopen = %d", n)
	}
	if at, _ := s.ScheduleLastRun(ctx, "shop/digest"); !at.Equal(clk.Now()) {
		t.Fatalf("schedule after reopen = %v", at)
	}
	if n := len(must(s.AuditLog(ctx, AuditFilter{Limit: 1000}))); n != auditN {
		t.Fatalf("audit entries after reopen = %d, want %d", n, auditN)
	}
}

// TestConcurrentWriters: 8 goroutines writing through one Store and 8
// through a second Store on the same file never see "database is locked".
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	a, clk, path := openTemp(t)
	b := openAt(t, path, clk)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers*each)
	for _, s := range []*Store{a, b} {
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					run, err := s.CreateRun(ctx, Run{App: "shop", Task: "t", Principal: fmt.Sprintf("w%d", w)})
					if err != nil {
						errs <- err
						continue
					}
					if err := s.TransitionRun(ctx, run.ID, Requested, Queued, ""); err != nil {
						errs <- err
					}
					if err := s.Audit(ctx, Entry{Actor: "w", Kind: KindDecision, Detail: fmt.Sprint(i)}); err != nil {
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
	runs, err := a.Runs(ctx, RunFilter{States: []State{Queued}, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2*writers*each {
		t.Fatalf("queued runs = %d, want %d", len(runs), 2*writers*each)
	}
}

func TestAuditIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTemp(t)
	if err := s.Audit(ctx, Entry{Actor: "carol", Kind: KindDecision, App: "shop", Task: "scale", Detail: "deny: no rule"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE audit SET detail = 'allow'`, `DELETE FROM audit`} {
		if _, err := s.wdb.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only refusal", q, err)
		}
	}
	es, err := s.AuditLog(ctx, AuditFilter{App: "shop"})
	if err != nil || len(es) != 1 || es[0].Detail != "deny: no rule" {
		t.Fatalf("AuditLog = %+v, %v", es, err)
	}
	if err := s.Audit(ctx, Entry{Actor: "x"}); err == nil {
		t.Fatal("entry without kind accepted")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestOpenOddFileName(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	path := filepath.Join(t.TempDir(), "my db?#%41.db")
	s := openAt(t, path, clk)
	if err := s.AddMember(ctx, "admin", "ops", "carol"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the given name: %v", err)
	}
	if gs, _ := openAt(t, path, clk).Groups(ctx); len(gs["ops"]) != 1 {
		t.Fatalf("reopened groups = %v", gs)
	}
}
