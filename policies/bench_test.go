package policies

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchRules builds 10,000 rules over 1,000 apps, shaped like a large real
// policy: per app a handful of exact app/task rules (some with parameter
// constraints, windows and rates), an approve rule, a read-only rule with a
// task glob; plus cross-app rules keyed by task and a few catch-all globs.
func benchRules() []Rule {
	var rules []Rule
	add := func(r Rule) {
		r.ID = fmt.Sprintf("r%d", len(rules))
		rules = append(rules, r)
	}
	for a := range 1000 {
		app := fmt.Sprintf("app-%d", a)
		grp := fmt.Sprintf("group:team-%d", a%50)
		add(Rule{Effect: Allow, Subjects: []string{grp}, Apps: []string{app}, Tasks: []string{"restart-web"}})
		add(Rule{Effect: Allow, Subjects: []string{grp}, Apps: []string{app}, Tasks: []string{"scale"},
			Params: map[string]string{"desired": "between 1 8"}})
		add(Rule{Effect: Approve, Subjects: []string{grp, "owner"}, Apps: []string{app}, Tasks: []string{"scale"},
			Params: map[string]string{"desired": "> 8"}, Approvers: []string{"group:sre"}, Quorum: 2})
		add(Rule{Effect: Allow, Subjects: []string{"owner"}, Apps: []string{app}, Tasks: []string{"snapshot-db"},
			Window: "Mon-Fri 08:00-18:00 Europe/Berlin", Rate: "5/1h"})
		add(Rule{Effect: Allow, Subjects: []string{"*"}, Apps: []string{app}, Tasks: []string{"status-*"}, Mutating: boolp(false)})
		add(Rule{Effect: Allow, Subjects: []string{"user:slack:U1"}, Apps: []string{app}, Tasks: []string{"flush-cache"},
			Channels: []string{"slack:COPS"}})
		add(Rule{Effect: Allow, Subjects: []string{"group:researchers"}, Apps: []string{app}, Tasks: []string{"reset-bucket-access"},
			Params: map[string]string{"bucket": "research-{user}-*"}, Rate: "10/1d"})
		add(Rule{Effect: Deny, Subjects: []string{"group:interns"}, Apps: []string{app}, Tasks: []string{"drop-*"}})
		add(Rule{Effect: Allow, Subjects: []string{grp}, Apps: []string{app}, Tasks: []string{"rotate-logs", "vacuum"}})
	}
	for len(rules) < 9950 {
		n := len(rules)
		add(Rule{Effect: Allow, Subjects: []string{fmt.Sprintf("group:g%d", n%97)}, Apps: []string{fmt.Sprintf("svc-%d-*", n%200)},
			Tasks: []string{fmt.Sprintf("task-%d", n%300)}})
	}
	for len(rules) < 9999 {
		n := len(rules)
		add(Rule{Effect: Deny, Subjects: []string{"*"}, Apps: []string{fmt.Sprintf("legacy-%d-*", n)}, Tasks: []string{"*delete*"}})
	}
	add(Rule{Effect: Deny, Subjects: []string{"*"}, Tasks: []string{"*delete-trail*"}})
	return rules
}

type countUsage int

func (c countUsage) Used(string, string, time.Time) int { return int(c) }

func BenchmarkEvaluate10k(b *testing.B) {
	rs, err := Compile(benchRules())
	if err != nil {
		b.Fatal(err)
	}
	mon := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	base := Request{Principal: "slack:U77", Handle: "carol", Groups: []string{"team-17", "researchers"}, App: "app-517",
		Owners: []string{"carol"}, Mutating: true, Channel: "slack:COPS", Time: mon}
	cases := []struct {
		name   string
		task   string
		params map[string]string
		used   countUsage
		effect Effect
	}{
		{"allow", "restart-web", nil, 0, Allow},
		{"allow-params", "scale", map[string]string{"desired": "4"}, 0, Allow},
		{"allow-window-rate", "snapshot-db", nil, 1, Allow},
		{"allow-user-glob", "reset-bucket-access", map[string]string{"bucket": "research-carol-genomics"}, 1, Allow},
		{"approve", "scale", map[string]string{"desired": "12"}, 0, Approve},
		{"deny-rule", "delete-trail", nil, 0, Deny},
		{"deny-rate-limited", "snapshot-db", nil, 5, Deny},
		{"default-deny-near-miss", "reboot-everything", nil, 0, Deny},
	}
	for _, c := range cases {
		req := base
		req.Task, req.Params = c.task, c.params
		d := rs.Evaluate(req, c.used)
		// Each case must take the path it is named after: a deny rule
		// names itself, a used-up rate limit is a default deny that says so.
		wrongPath := (c.name == "deny-rule" && d.Rule == "") ||
			(c.name == "deny-rate-limited" && !strings.Contains(d.Reason, "rate limit")) ||
			(c.name == "default-deny-near-miss" && d.NearMiss == "")
		if d.Effect != c.effect || wrongPath {
			b.Fatalf("%s: got %s by %q (%s)", c.name, d.Effect, d.Rule, d.Reason)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rs.Evaluate(req, c.used)
			}
		})
	}
}

func BenchmarkCompile10k(b *testing.B) {
	rules := benchRules()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(rules); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAllowPathDoesNotAllocate keeps the hot path honest without timing.
func TestAllowPathDoesNotAllocate(t *testing.T) {
	rs, err := Compile(benchRules())
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Principal: "slack:U77", Handle: "carol", Groups: []string{"team-17", "researchers"}, App: "app-517",
		Owners: []string{"carol"}, Task: "reset-bucket-access", Mutating: true, Time: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC),
		Params: map[string]string{"bucket": "research-carol-genomics"}}
	var d Decision
	allocs := testing.AllocsPerRun(100, func() { d = rs.Evaluate(req, countUsage(1)) })
	if d.Effect != Allow {
		t.Fatalf("got %s: %s", d.Effect, d.Reason)
	}
	if allocs != 0 {
		t.Fatalf("allow path allocates %v times per decision", allocs)
	}
}
