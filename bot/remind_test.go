package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/enginetest"
)

// A request nobody decided by half its time (an hour here) is recalled
// once in its channel, with who may approve and the time left; not
// before, not twice, not after a restart, and not when it was decided.
func TestApprovalReminderOnceAtHalfTime(t *testing.T) {
	h := newHarness(t)
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web batch=2"))
	decided := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web batch=3"))
	h.Say("alice", "approve "+decided)

	sweep := func(after time.Duration) string {
		h.Clock.Advance(after)
		mark := h.Out.Len()
		h.Engine.Sweep(h.Ctx)
		h.Drain()
		return h.Out.Since(mark)
	}
	if out := sweep(20 * time.Minute); strings.Contains(out, "Still waiting") {
		t.Fatalf("reminded before half time:\n%s", out)
	}
	out := sweep(15 * time.Minute)
	// ops are alice and dave: the reminder pings them (on the shell, "@alice @dave").
	enginetest.MustContain(t, out, "Still waiting for approval: shop restart-web", "@alice @dave\n", "Requested by bob 35m ago; it expires in 25m",
		"1 of group:ops may approve it", "approve "+id, "batch=2")
	enginetest.MustNotContain(t, out, decided)
	if n := strings.Count(out, "Still waiting"); n != 1 {
		t.Fatalf("%d reminders, want 1:\n%s", n, out)
	}
	if out := sweep(time.Minute); strings.Contains(out, "Still waiting") {
		t.Fatalf("reminded twice:\n%s", out)
	}
	h.Restart()
	if out := sweep(time.Minute); strings.Contains(out, "Still waiting") {
		t.Fatalf("reminded again after a restart:\n%s", out)
	}
}
