package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/policies/store"
)

// "last" names the newest item of the verb's kind: approve/deny last the
// newest approval waiting for the caller's vote, cancel last the caller's
// newest run in progress or pending request.
func TestLastMeansTheNewestOfTheVerbsKind(t *testing.T) {
	h := newHarness(t)
	enginetest.MustContain(t, h.Say("alice", "approve last"), "no approval is waiting for your vote")
	first := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web batch=1"))
	h.Clock.Advance(time.Minute) // "newest" is by time asked
	second := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web batch=2"))
	if first == second {
		t.Fatalf("one approval id for two requests: %s", first)
	}
	// bob asked: nothing of it is his to vote on.
	enginetest.MustContain(t, h.Say("bob", "approve last"), "no approval is waiting for your vote")
	enginetest.MustContain(t, h.Say("alice", "deny last not now"), "Denied")
	a, err := h.Store.Approval(h.Ctx, second)
	if err != nil || a.State != store.Denied {
		t.Fatalf("second approval %+v, %v; want denied (the newest)", a, err)
	}
	// cancel last: bob's newest pending request is the first one now.
	enginetest.MustContain(t, h.Say("bob", "cancel last"), "cancelled")
	a, err = h.Store.Approval(h.Ctx, first)
	if err != nil || a.State != store.ApprovalCancelled {
		t.Fatalf("first approval %+v, %v; want cancelled", a, err)
	}
	out := h.Say("carol", "cancel last")
	if !strings.Contains(out, "no run in progress") {
		t.Fatalf("carol's cancel last: %s", out)
	}
}

// `tasks APP` fits an 80-column window however long the descriptions.
func TestTaskListFitsEightyColumns(t *testing.T) {
	h := newHarness(t)
	for _, line := range strings.Split(h.Say("bob", "tasks shop"), "\n") {
		if n := len([]rune(line)); n > 80 {
			t.Errorf("%d columns: %q", n, line)
		}
	}
}
