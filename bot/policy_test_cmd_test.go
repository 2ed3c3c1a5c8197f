package bot_test

import (
	"testing"

	"github.com/day2bot/day2bot/internal/enginetest"
)

// A user policy test cannot resolve is the admin's typo, answered as such,
// not an internal error.
func TestPolicyTestUnknownUserShape(t *testing.T) {
	h := newHarness(t)
	out := h.Say("alice", "policy test bob.smith shop restart-web")
	enginetest.MustContain(t, out, `user "bob.smith" is neither a principal`)
	enginetest.MustNotContain(t, out, "internal error")
}
