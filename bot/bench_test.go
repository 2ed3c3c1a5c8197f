package bot_test

import (
	"testing"

	"github.com/day2bot/day2bot/bot"
)

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := bot.Parse(`/day2 research revoke-access bucket=research-carol-imaging principal="arn:aws:iam::123456789012:role/visiting-student" --dry-run`); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstAnswer measures HandleCommand up to its first answer on
// the paths that answer synchronously and touch the store: a denial (rules,
// freeze, identity lookups, audit write) and a help listing.
func BenchmarkFirstAnswer(b *testing.B) {
	for _, c := range []struct{ name, user, text string }{
		{"deny", "carol", "shop restart-web batch=2"},
		{"why", "bob", "why shop restart-web batch=2"},
		{"help", "bob", "help"},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := newHarness(b)
			r := &recorder{}
			cmd := bot.Command{Platform: "shell", User: c.user, Channel: "ops", Text: c.text, Reply: r}
			for b.Loop() {
				h.Engine.HandleCommand(h.Ctx, cmd)
			}
		})
	}
}

// BenchmarkComplete measures an autocomplete request filtered by policy:
// the rule-set version check, the caller's identity and groups, and one
// evaluation per task of the cached completion rule set.
func BenchmarkComplete(b *testing.B) {
	for _, c := range []struct{ name, principal, text string }{
		{"apps", "shell:bob", ""},
		{"tasks", "shell:bob", "shop "},
		{"params", "shell:bob", "shop restart-web "},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := newHarness(b)
			for b.Loop() {
				h.Engine.Complete(h.Ctx, c.principal, c.text)
			}
		})
	}
}
