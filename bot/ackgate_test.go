package bot_test

import (
	"context"
	"testing"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/policies/store"
)

// TestAckGateOpensOnceTheVoteIsStored: the engine opens a click's ack
// gate only when the vote, and the run the quorum queued, are in the
// store, so a transport that acks on it never acks a vote a crash can
// lose. A refused click opens it too (nothing to record).
func TestAckGateOpensOnceTheVoteIsStored(t *testing.T) {
	h := newHarness(t)
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web batch=2"))

	var seen []store.Approval
	var runs int
	release := func() {
		a, err := h.Store.Approval(h.Ctx, id)
		if err != nil {
			t.Errorf("load approval at release: %v", err)
			return
		}
		seen = append(seen, a)
		runs = len(h.Runs("shop"))
	}
	ctx := bot.WithAckGate(h.Ctx, release)
	h.Engine.HandleAction(ctx, bot.Action{Platform: "shell", User: "alice", Channel: "ops", ButtonID: "ap:" + id, Reply: &recorder{}})
	h.Drain()
	if len(seen) == 0 {
		t.Fatal("the ack gate was never opened")
	}
	if first := seen[0]; first.Approvals() != 1 || first.State != store.Approved || runs != 1 {
		t.Fatalf("at the first release: approval %s with %d approvals, %d runs; want approved, 1, 1", first.State, first.Approvals(), runs)
	}

	// A refused click (carol is no approver) still ends the wait.
	opened := false
	ctx = bot.WithAckGate(context.Background(), func() { opened = true })
	h.Engine.HandleAction(ctx, bot.Action{Platform: "shell", User: "carol", Channel: "ops", ButtonID: "dn:" + id, Reply: &recorder{}})
	if !opened {
		t.Fatal("a refused click left the ack gate closed")
	}
}
