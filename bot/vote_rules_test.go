package bot_test

import (
	"testing"

	"github.com/day2bot/day2bot/internal/enginetest"
)

// An approval is voted on under the rules as they are now: when an admin
// narrows a rule's approvers, a pending request can no longer be approved
// by someone the rule stopped naming.
func TestVoteChecksTheCurrentApprovers(t *testing.T) {
	h := newHarness(t)
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	f := testPolicy()
	f.Rules[2].Approvers = []string{"user:dave"} // was group:ops (alice and dave)
	if err := h.Store.ImportFile(h.Ctx, "test", f); err != nil {
		t.Fatal(err)
	}
	enginetest.MustContain(t, h.Say("alice", "approve "+id), "only user:dave may approve")
	if n := h.restart.runs.Load(); n != 0 {
		t.Fatalf("restart-web ran %d times after a vote by someone the rule no longer names", n)
	}
	enginetest.MustContain(t, h.Say("dave", "approve "+id), "succeeded")
	if n := h.restart.runs.Load(); n != 1 {
		t.Errorf("restart-web ran %d times, want 1", n)
	}
}

// A rule that now asks for more approvals than when the request was made
// holds the request until that many approvers agree.
func TestVoteNeedsTheCurrentQuorum(t *testing.T) {
	h := newHarness(t)
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	f := testPolicy()
	f.Rules[2].Quorum = 2 // was 1
	if err := h.Store.ImportFile(h.Ctx, "test", f); err != nil {
		t.Fatal(err)
	}
	enginetest.MustContain(t, h.Say("alice", "approve "+id), "1 of 2")
	if n := h.restart.runs.Load(); n != 0 {
		t.Fatalf("restart-web ran %d times after 1 of the 2 approvals the rule now asks for", n)
	}
	enginetest.MustContain(t, h.Say("dave", "approve "+id), "succeeded")
	if n := h.restart.runs.Load(); n != 1 {
		t.Errorf("restart-web ran %d times, want 1", n)
	}
}
