package bot_test

import "testing"

// A user policy test cannot resolve is the admin's typo, answered as such,
// not an internal error.
func TestPolicyTestUnknownUserShape(t *testing.T) {
	h := newHarness(t)
	out := h.say("alice", "policy test bob.smith shop restart-web")
	mustContain(t, out, `user "bob.smith" is neither a principal`)
	mustNotContain(t, out, "internal error")
}
