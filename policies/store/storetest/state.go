package storetest

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies/store"
)

func testFreeze(t *testing.T, db Database) {
	ctx := context.Background()
	s, clk := openTemp(t, db)
	if f, err := s.FreezeOf(ctx, "shop"); f != nil || err != nil {
		t.Fatalf("unfrozen = %+v, %v", f, err)
	}
	wantErr(t, "unfreeze unfrozen", s.Unfreeze(ctx, "shop", "carol"), errs.NotFound, "shop is not frozen")
	until := clk.Now().Add(2 * time.Hour)
	if err := s.Freeze(ctx, "shop", "carol", "black friday", until); err != nil {
		t.Fatal(err)
	}
	f, _ := s.FreezeOf(ctx, "shop")
	if f == nil || f.By != "carol" || f.Reason != "black friday" || !f.Until.Equal(until) {
		t.Fatalf("freeze = %+v", f)
	}
	clk.Advance(2 * time.Hour)
	if f, _ := s.FreezeOf(ctx, "shop"); f != nil {
		t.Fatalf("expired freeze still active: %+v", f)
	}
	if err := s.Freeze(ctx, "shop", "dave", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(1000 * time.Hour)
	if f, _ := s.FreezeOf(ctx, "shop"); f == nil || !f.Until.IsZero() || f.By != "dave" {
		t.Fatalf("open-ended freeze = %+v", f)
	}
	if err := s.Unfreeze(ctx, "shop", "dave"); err != nil {
		t.Fatal(err)
	}
	if f, _ := s.FreezeOf(ctx, "shop"); f != nil {
		t.Fatalf("after unfreeze: %+v", f)
	}
	if es, _ := s.AuditLog(ctx, store.AuditFilter{Kind: store.KindFreeze, App: "shop"}); len(es) != 3 {
		t.Fatalf("freeze audit = %+v", es)
	}
}

func testUsage(t *testing.T, db Database) {
	ctx := context.Background()
	s, clk := openTemp(t, db)
	t0 := clk.Now()
	for i := range 5 {
		if err := s.RecordUse(ctx, "r1", "slack:U1", t0.Add(time.Duration(i)*10*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RecordUse(ctx, "r2", "slack:U1", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordUse(ctx, "r1", "slack:U2", t0); err != nil {
		t.Fatal(err)
	}
	u, err := s.UsageFor(ctx, "slack:U1", t0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		rule, principal string
		since           time.Time
		want            int
	}{
		{"r1", "slack:U1", t0, 5},
		{"r1", "slack:U1", t0.Add(20 * time.Minute), 3},
		{"r1", "slack:U1", t0.Add(41 * time.Minute), 0},
		{"r2", "slack:U1", t0, 1},
		{"r3", "slack:U1", t0, 0},
		{"r1", "slack:U2", t0, 0}, // not in this snapshot
	}
	for _, c := range cases {
		if got := u.Used(c.rule, c.principal, c.since); got != c.want {
			t.Errorf("Used(%s, %s, %v) = %d, want %d", c.rule, c.principal, c.since, got, c.want)
		}
	}
	if err := s.PruneUses(ctx, t0.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	u, _ = s.UsageFor(ctx, "slack:U1", t0.Add(-time.Hour))
	if got := u.Used("r1", "slack:U1", t0.Add(-time.Hour)); got != 3 {
		t.Fatalf("after prune = %d, want 3", got)
	}
}

func testScheduleAndAlarmState(t *testing.T, db Database) {
	ctx := context.Background()
	s, clk := openTemp(t, db)
	if at, err := s.ScheduleLastRun(ctx, "shop/digest"); err != nil || !at.IsZero() {
		t.Fatalf("never run = %v, %v", at, err)
	}
	for range 2 {
		clk.Advance(time.Hour)
		if err := s.SetScheduleLastRun(ctx, "shop/digest", clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if at, _ := s.ScheduleLastRun(ctx, "shop/digest"); !at.Equal(clk.Now()) {
		t.Fatalf("last run = %v", at)
	}
	if st, ref, err := s.AlarmState(ctx, "shop-5xx"); st != "" || ref != "" || err != nil {
		t.Fatalf("unknown alarm = %q %q %v", st, ref, err)
	}
	if err := s.SetAlarmState(ctx, "shop-5xx", "ALARM", `{"id":"1"}`); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAlarmState(ctx, "shop-5xx", "OK", `{"id":"2"}`); err != nil {
		t.Fatal(err)
	}
	if st, ref, _ := s.AlarmState(ctx, "shop-5xx"); st != "OK" || ref != `{"id":"2"}` {
		t.Fatalf("alarm = %q %q", st, ref)
	}
}

func testFollowUpsClaimedOnce(t *testing.T, db Database) {
	ctx := context.Background()
	a, clk := openTemp(t, db)
	b := db.Open(t, store.WithClock(clk.Now))
	due := clk.Now().Add(30 * time.Minute)
	id, err := a.AddFollowUp(ctx, store.FollowUp{App: "shop", Action: "scale", Values: json.RawMessage(`{"desired":"2"}`),
		Reason: "undo temporary scale-up", DueAt: due, RunID: "r-7"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.AddFollowUp(ctx, store.FollowUp{App: "shop", Values: json.RawMessage(`{bad`)})
	wantErr(t, "bad JSON", err, errs.Invalid, "follow-up values are not JSON")
	if fs, _ := a.DueFollowUps(ctx, due.Add(-time.Second)); len(fs) != 0 {
		t.Fatalf("due early: %+v", fs)
	}
	fs, err := b.DueFollowUps(ctx, due)
	if err != nil || len(fs) != 1 || fs[0].ID != id || string(fs[0].Values) != `{"desired":"2"}` || fs[0].RunID != "r-7" || !fs[0].DueAt.Equal(due) {
		t.Fatalf("due = %+v, %v", fs, err)
	}
	var claimed atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := []*store.Store{a, b}[i%2].ClaimFollowUp(ctx, id)
			if err != nil {
				t.Error(err)
			}
			if ok {
				claimed.Add(1)
			}
		}()
	}
	wg.Wait()
	if claimed.Load() != 1 {
		t.Fatalf("claimed %d times", claimed.Load())
	}
	if fs, _ := a.DueFollowUps(ctx, due); len(fs) != 0 {
		t.Fatalf("claimed follow-up still due: %+v", fs)
	}
}

func testIdentitiesAndGroups(t *testing.T, db Database) {
	ctx := context.Background()
	s, _ := openTemp(t, db)
	if err := s.SetUser(ctx, "admin", "carol", []string{"slack:U100", "discord:200"}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "claiming carol's principal", s.SetUser(ctx, "admin", "dave", []string{"slack:U100"}),
		errs.Conflict, "slack:U100 already belongs to carol")
	wantErr(t, "bad handle", s.SetUser(ctx, "admin", "Bad Handle", []string{"slack:U9"}),
		errs.Invalid, `users.Bad Handle: bad handle "Bad Handle": lowercase letters, digits and '-' (a DNS label)`)
	if h, err := s.Handle(ctx, "discord:200"); h != "carol" || err != nil {
		t.Fatalf("Handle = %q, %v", h, err)
	}
	if h, err := s.Handle(ctx, "slack:U999"); h != "" || err != nil {
		t.Fatalf("unknown Handle = %q, %v", h, err)
	}
	for _, m := range [][2]string{{"ops", "carol"}, {"ops", "slack:U103"}, {"dba", "discord:200"}, {"web", "dave"}} {
		if err := s.AddMember(ctx, "admin", m[0], m[1]); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, "double add", s.AddMember(ctx, "admin", "ops", "carol"), errs.Conflict, "carol is already in group ops")
	wantErr(t, "bad group", s.AddMember(ctx, "admin", "Bad Group", "carol"),
		errs.Invalid, `groups.Bad Group: bad group name "Bad Group" (lowercase letters, digits, '-', '_', '.')`)
	gs, err := s.GroupsOf(ctx, "slack:U100", "carol")
	if err != nil || len(gs) != 1 || gs[0] != "ops" {
		t.Fatalf("GroupsOf(slack:U100, carol) = %v, %v", gs, err)
	}
	if gs, _ := s.GroupsOf(ctx, "discord:200", "carol"); len(gs) != 2 || gs[0] != "dba" || gs[1] != "ops" {
		t.Fatalf("GroupsOf(discord:200, carol) = %v", gs)
	}
	if err := s.RemoveMember(ctx, "admin", "ops", "carol"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "remove twice", s.RemoveMember(ctx, "admin", "ops", "carol"), errs.NotFound, "carol is not in group ops")
	groups, _ := s.Groups(ctx)
	if len(groups["ops"]) != 1 || groups["ops"][0] != "slack:U103" {
		t.Fatalf("groups = %v", groups)
	}
	if err := s.AddRule(ctx, "admin", policyRule("r1", "group:web")); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "removing a group a rule names", s.RemoveGroup(ctx, "admin", "web"), errs.Invalid, "rule r1 still names group web")
	if err := s.RemoveGroup(ctx, "admin", "dba"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUser(ctx, "admin", "carol", nil); err != nil {
		t.Fatal(err)
	}
	if users, _ := s.Users(ctx); len(users) != 0 {
		t.Fatalf("users after removal = %v", users)
	}
}
