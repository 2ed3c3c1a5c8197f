package storetest

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/day2bot/day2bot/policies/store"

	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/internal/errs"
)

func newApproval(t *testing.T, s *store.Store, clk *clocktest.Clock, quorum int) store.Approval {
	t.Helper()
	a, err := s.CreateApproval(context.Background(), store.ApprovalRequest{
		App: "shop", Task: "scale", Params: map[string]string{"desired": "8", "group": "web"},
		Requester: "slack:U102", RequesterHandle: "erin", Channel: "C1", Platform: "slack",
		RuleID: "scale-approve", Approvers: []string{"group:ops"}, Quorum: quorum,
		ExpiresAt: clk.Now().Add(time.Hour), Request: []byte(`{"app":"shop"}`),
	})
	if err != nil {
		t.Fatalf("CreateApproval: %v", err)
	}
	return a
}

func testApprovalIDsAndHash(t *testing.T, db Database) {
	s, clk := openTemp(t, db)
	re := regexp.MustCompile(`^a-[2-9a-hjkmnp-z]{5}$`)
	seen := map[string]bool{}
	for range 200 {
		a := newApproval(t, s, clk, 1)
		if !re.MatchString(a.ID) || len(a.ID) > 12 {
			t.Fatalf("bad id %q", a.ID)
		}
		if seen[a.ID] {
			t.Fatalf("duplicate id %q", a.ID)
		}
		seen[a.ID] = true
	}
	h1 := store.ParamsHash(map[string]string{"a": "1", "b": "2"})
	h2 := store.ParamsHash(map[string]string{"b": "2", "a": "1"})
	h3 := store.ParamsHash(map[string]string{"a": "1", "b": "3"})
	// "a=1,b=2" must not collide with a key that contains the separator.
	h4 := store.ParamsHash(map[string]string{"a": "1,b=2"})
	if h1 != h2 || h1 == h3 || h1 == h4 || len(h1) != 64 {
		t.Fatalf("hashes: %s %s %s %s", h1, h2, h3, h4)
	}
}

func testVoteQuorumStartsRunOnce(t *testing.T, db Database) {
	ctx := context.Background()
	s, clk := openTemp(t, db)
	if err := s.SetUser(ctx, "admin", "carol", []string{"slack:U100", "discord:200"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUser(ctx, "admin", "erin", []string{"slack:U102", "discord:202"}); err != nil {
		t.Fatal(err)
	}
	a := newApproval(t, s, clk, 2)

	const self = "you cannot approve or deny your own request"
	_, err := s.Vote(ctx, a.ID, "slack:U102", true, clk.Now())
	wantErr(t, "requester vote", err, errs.Permission, self)
	// The requester's other identity is still the requester.
	_, err = s.Vote(ctx, a.ID, "discord:202", true, clk.Now())
	wantErr(t, "requester's discord vote", err, errs.Permission, self)
	res, err := s.Vote(ctx, a.ID, "slack:U100", true, clk.Now())
	if err != nil || res.Started || res.Approval.State != store.Pending || res.Approval.Approvals() != 1 {
		t.Fatalf("first vote = %+v, %v", res, err)
	}
	_, err = s.Vote(ctx, a.ID, "slack:U100", true, clk.Now())
	wantErr(t, "second vote by same principal", err, errs.Conflict, "you already voted on "+a.ID)
	// Same person, other platform: still one vote per person.
	_, err = s.Vote(ctx, a.ID, "discord:200", true, clk.Now())
	wantErr(t, "second vote by same person", err, errs.Conflict, "you already voted on "+a.ID)
	clk.Advance(time.Minute)
	res, err = s.Vote(ctx, a.ID, "slack:U103", true, clk.Now())
	if err != nil || !res.Started || res.RunID == "" || res.Approval.State != store.Approved {
		t.Fatalf("quorum vote = %+v, %v", res, err)
	}
	run, err := s.Run(ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.Queued || run.ApprovalID != a.ID || run.Principal != "slack:U102" || run.Handle != "erin" ||
		run.Params["desired"] != "8" || len(run.Approvers) != 2 || run.Decision.Rule != "scale-approve" || string(run.Request) != `{"app":"shop"}` {
		t.Fatalf("queued run = %+v", run)
	}
	_, err = s.Vote(ctx, a.ID, "slack:U104", true, clk.Now())
	wantErr(t, "vote after approval", err, errs.Conflict, "approval "+a.ID+" is already approved")
	got, _ := s.Approval(ctx, a.ID)
	if got.RunID != res.RunID || got.DecidedBy != "slack:U103" || !got.DecidedAt.Equal(clk.Now()) {
		t.Fatalf("stored approval = %+v", got)
	}
	_, err = s.Vote(ctx, "a-zzzzz", "slack:U100", true, clk.Now())
	wantErr(t, "vote on an unknown id", err, errs.NotFound, "no approval a-zzzzz")
}

func testVoteDenyDecides(t *testing.T, db Database) {
	ctx := context.Background()
	s, clk := openTemp(t, db)
	a := newApproval(t, s, clk, 2)
	res, err := s.Vote(ctx, a.ID, "slack:U100", false, clk.Now())
	if err != nil || res.Started || res.Approval.State != store.Denied {
		t.Fatalf("deny = %+v, %v", res, err)
	}
	_, err = s.Vote(ctx, a.ID, "slack:U101", true, clk.Now())
	wantErr(t, "vote after deny", err, errs.Conflict, "approval "+a.ID+" is already denied")
	if runs, _ := s.Runs(ctx, store.RunFilter{}); len(runs) != 0 {
		t.Fatalf("deny queued runs: %+v", runs)
	}
}

func testExpireAndCancel(t *testing.T, db Database) {
	ctx := context.Background()
	s, clk := openTemp(t, db)
	a := newApproval(t, s, clk, 1)
	b := newApproval(t, s, clk, 1)
	if err := s.CancelApproval(ctx, b.ID, "slack:U102"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "cancel twice", s.CancelApproval(ctx, b.ID, "slack:U102"), errs.Conflict, "approval "+b.ID+" is already cancelled")
	wantErr(t, "cancel of an unknown id", s.CancelApproval(ctx, "a-zzzzz", "slack:U102"), errs.NotFound, "no approval a-zzzzz")
	pending, _ := s.PendingApprovals(ctx, "shop")
	if len(pending) != 1 || pending[0].ID != a.ID {
		t.Fatalf("pending = %+v", pending)
	}
	if exp, _ := s.ExpireApprovals(ctx, clk.Now().Add(59*time.Minute)); len(exp) != 0 {
		t.Fatalf("expired early: %+v", exp)
	}
	clk.Advance(time.Hour)
	// A vote at or after expiry does not count, even before the sweep.
	_, err := s.Vote(ctx, a.ID, "slack:U100", true, clk.Now())
	wantErr(t, "late vote", err, errs.Conflict, "approval "+a.ID+" has expired")
	exp, err := s.ExpireApprovals(ctx, clk.Now())
	if err != nil || len(exp) != 1 || exp[0].ID != a.ID || exp[0].State != store.Expired {
		t.Fatalf("ExpireApprovals = %+v, %v", exp, err)
	}
	if exp, _ := s.ExpireApprovals(ctx, clk.Now()); len(exp) != 0 {
		t.Fatalf("expired twice: %+v", exp)
	}
	if err := s.SetApprovalMessage(ctx, a.ID, `{"channel":"C1","id":"1.2"}`); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Approval(ctx, a.ID); got.MessageRef != `{"channel":"C1","id":"1.2"}` {
		t.Fatalf("message ref = %q", got.MessageRef)
	}
}

// TestVoteRace: 50 approvers click at once, through two Stores on the same
// file (two replicas); exactly one vote starts the run.
func testVoteRace(t *testing.T, db Database) {
	ctx := context.Background()
	for _, quorum := range []int{1, 3} {
		t.Run(fmt.Sprintf("quorum %d", quorum), func(t *testing.T) {
			a, clk := openTemp(t, db)
			b := db.Open(t, store.WithClock(clk.Now))
			ap := newApproval(t, a, clk, quorum)
			var started atomic.Int32
			var runIDs sync.Map
			var wg sync.WaitGroup
			for i := range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s := a
					if i%2 == 1 {
						s = b
					}
					res, err := s.Vote(ctx, ap.ID, fmt.Sprintf("slack:V%d", i), true, clk.Now())
					if err != nil {
						if d := errDiff(err, errs.Conflict, "approval "+ap.ID+" is already approved"); d != "" {
							t.Errorf("vote %d: %s", i, d)
						}
						return
					}
					if res.Started {
						started.Add(1)
						runIDs.Store(res.RunID, true)
					}
				}()
			}
			wg.Wait()
			if n := started.Load(); n != 1 {
				t.Fatalf("Started = %d times, want 1", n)
			}
			var runs []store.Run
			for _, r := range must(a.Runs(ctx, store.RunFilter{Limit: 1000})) {
				if r.ApprovalID == ap.ID {
					runs = append(runs, r)
				}
			}
			if len(runs) != 1 {
				t.Fatalf("runs = %d, want 1", len(runs))
			}
			if _, ok := runIDs.Load(runs[0].ID); !ok {
				t.Fatalf("run %s was not the one reported", runs[0].ID)
			}
			got, _ := a.Approval(ctx, ap.ID)
			if got.State != store.Approved || got.Approvals() != quorum {
				t.Fatalf("approval = %s with %d approvals, want approved with %d", got.State, got.Approvals(), quorum)
			}
		})
	}
}

func testRaiseApprovalQuorum(t *testing.T, db Database) {
	ctx := context.Background()
	s, clk := openTemp(t, db)
	a := newApproval(t, s, clk, 1)
	if err := s.RaiseApprovalQuorum(ctx, a.ID, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.RaiseApprovalQuorum(ctx, a.ID, 1); err != nil { // never lowers
		t.Fatal(err)
	}
	res, err := s.Vote(ctx, a.ID, "slack:U100", true, clk.Now())
	if err != nil || res.Started || res.Approval.Quorum != 2 {
		t.Fatalf("first vote after raising the quorum to 2 = %+v, %v", res, err)
	}
	res, err = s.Vote(ctx, a.ID, "slack:U101", true, clk.Now())
	if err != nil || !res.Started {
		t.Fatalf("second vote = %+v, %v", res, err)
	}
	if err := s.RaiseApprovalQuorum(ctx, a.ID, 3); err != nil { // decided: left alone
		t.Fatal(err)
	}
	if got, _ := s.Approval(ctx, a.ID); got.Quorum != 2 {
		t.Fatalf("quorum of a decided approval = %d, want 2", got.Quorum)
	}
}
