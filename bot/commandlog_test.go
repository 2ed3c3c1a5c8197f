package bot_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/enginetest"
)

// Each command and each button press is one "command"/"button" log line
// that says how it ended and names the run or approval it led to.
func TestOneLogLinePerCommandWithRunID(t *testing.T) {
	logs := &enginetest.Transcript{}
	h := newHarness(t, func(o *bot.Options) { o.Logger = slog.New(slog.NewJSONHandler(logs, nil)) })

	lines := func(msg string) []map[string]any {
		var out []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
				out = append(out, m)
			}
		}
		return out
	}

	h.Say("alice", "shop restart-web batch=2")
	h.Say("carol", "shop restart-web")
	out := h.Say("bob", "shop restart-web")
	h.Say("alice", "approve "+enginetest.ApprovalID(t, out))
	h.Say("bob", "shpo")

	got := lines("command")
	if len(got) != 5 {
		t.Fatalf("%d command lines, want 5:\n%s", len(got), logs.String())
	}
	want := []map[string]string{
		{"principal": "shell:alice", "verb": "run", "effect": "allow", "rule": "ops-all", "run": "r-1", "outcome": "queued"},
		{"principal": "shell:carol", "effect": "deny", "outcome": "denied"},
		{"principal": "shell:bob", "effect": "approve", "rule": "dev-shop-approve", "outcome": "approval requested"},
		{"principal": "shell:alice", "verb": "approve", "run": "r-2", "outcome": "approved, run queued"},
		{"principal": "shell:bob", "outcome": "usage error", "kind": "invalid"},
	}
	for i, w := range want {
		for k, v := range w {
			if got[i][k] != v {
				t.Errorf("line %d: %s = %v, want %q (line %v)", i, k, got[i][k], v, got[i])
			}
		}
	}
	if a, _ := got[2]["approval"].(string); !strings.HasPrefix(a, "a-") {
		t.Errorf("approval request line has no approval id: %v", got[2])
	}
}
