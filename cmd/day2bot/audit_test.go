package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/policies/store"
)

var updateAudit = flag.Bool("update-audit", false, "rewrite testdata/audit.golden")

// auditDB returns a database whose audit log holds one entry of each kind,
// an hour apart from at.
func auditDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "day2bot.db")
	ctx := context.Background()
	s, err := openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for i, e := range []store.Entry{
		{Actor: "admin", Kind: store.KindPolicy, Detail: "added rule ops-restart"},
		{Actor: "slack:U1", Kind: store.KindDecision, App: "shop", Task: "restart-web", Detail: "allow by ops-restart"},
		{Actor: "day2bot", Kind: store.KindRun, App: "shop", Task: "restart-web", RunID: "r-1", Detail: "succeeded:\n4 instances restarted"},
		{Actor: "slack:U2", Kind: store.KindApproval, App: "shop", Task: "scale", RunID: "r-2", Detail: "approved"},
		{Actor: "admin", Kind: store.KindFreeze, App: "blog", Detail: "frozen until Monday"},
	} {
		e.At = at.Add(time.Duration(i) * time.Hour)
		if err := s.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestAuditTable(t *testing.T) {
	code, got, errs := runCLI(t, "", "--db", auditDB(t), "audit")
	if code != 0 {
		t.Fatalf("audit: exit %d: %s", code, errs)
	}
	golden := filepath.Join("testdata", "audit.golden")
	if *updateAudit {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update-audit)", err)
	}
	if got != string(want) {
		t.Fatalf("audit output differs from %s (go test -update-audit rewrites it):\n%s", golden, got)
	}
}

func TestAuditFilters(t *testing.T) {
	db := auditDB(t)
	tests := []struct {
		name       string
		args       []string
		code       int
		want, lack []string
	}{
		{"by app", []string{"--app", "shop"}, 0, []string{"shop/restart-web", "shop/scale"}, []string{"blog", "added rule"}},
		{"by kind", []string{"--kind", "freeze"}, 0, []string{"frozen until Monday"}, []string{"shop"}},
		{"by actor", []string{"--actor", "admin"}, 0, []string{"added rule", "frozen"}, []string{"slack:U1", "day2bot "}},
		{"by run", []string{"--run", "r-1"}, 0, []string{"succeeded: 4 instances restarted"}, []string{"approved"}},
		{"newest first, limited", []string{"--limit", "1"}, 0, []string{"frozen until Monday"}, []string{"approved"}},
		{"filters combine", []string{"--app", "shop", "--kind", "approval"}, 0, []string{"approved"}, []string{"restart-web"}},
		{"nothing matches", []string{"--app", "nope"}, 0, []string{"TIME  ACTOR  KIND  APP/TASK  RUN  DETAIL\n"}, []string{"shop"}},
		{"unknown kind", []string{"--kind", "decisions"}, exitUsage, []string{`--kind "decisions": want one of decision, policy, approval, run, freeze, refused; did you mean "decision"?`}, nil},
		{"bad limit", []string{"--limit", "0"}, exitUsage, []string{"--limit must be at least 1"}, nil},
		{"arguments", []string{"shop"}, exitUsage, []string{"unknown command"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", append([]string{"--db", db, "audit"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errs, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errs)
				}
			}
			for _, l := range tt.lack {
				if strings.Contains(out, l) {
					t.Errorf("output has %q:\n%s", l, out)
				}
			}
		})
	}
}

func TestAuditNeedsExistingDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "typo.db")
	code, _, errs := runCLI(t, "", "--db", db, "audit")
	if code != exitUsage || !strings.Contains(errs, "no database at "+db) {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("audit created %s (%v)", db, err)
	}
}
