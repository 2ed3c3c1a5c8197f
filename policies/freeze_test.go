package policies

import (
	"strings"
	"testing"
	"time"
)

func TestFreeze(t *testing.T) {
	rs, err := Compile([]Rule{{ID: "ops-all", Effect: Allow, Subjects: []string{"group:ops"}, Apps: []string{"shop"}}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	base := Request{Principal: "slack:U1", Handle: "carol", Groups: []string{"ops"}, App: "shop", Task: "restart-web", Mutating: true, Time: now}
	tests := []struct {
		name     string
		freeze   *Freeze
		mutating bool
		effect   Effect
		reason   string
	}{
		{"no freeze", nil, true, Allow, `allowed by rule "ops-all"`},
		{"frozen until unfrozen", &Freeze{Reason: "release 4.2 in progress", By: "dave"}, true, Deny,
			"shop is frozen by dave until unfrozen: release 4.2 in progress (mutating tasks are blocked; read-only tasks still run)"},
		{"frozen until later", &Freeze{Reason: "black friday", By: "dave", Until: now.Add(2 * time.Hour)}, true, Deny,
			"shop is frozen by dave until 2026-11-25 14:00 UTC: black friday"},
		{"freeze without details", &Freeze{}, true, Deny, "shop is frozen until unfrozen (mutating"},
		{"freeze ended", &Freeze{Reason: "x", Until: now}, true, Allow, `allowed by rule "ops-all"`},
		{"read-only unaffected", &Freeze{Reason: "x"}, false, Allow, `allowed by rule "ops-all"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base
			req.Freeze, req.Mutating = tt.freeze, tt.mutating
			d := rs.Evaluate(req, nil)
			if d.Effect != tt.effect || !strings.Contains(d.Reason, tt.reason) {
				t.Fatalf("got %s %q, want %s containing %q", d.Effect, d.Reason, tt.effect, tt.reason)
			}
			if d.Frozen != (tt.effect == Deny) {
				t.Fatalf("Frozen = %v", d.Frozen)
			}
			if d.Frozen && d.Rule != "" {
				t.Fatalf("freeze decision names rule %q", d.Rule)
			}
		})
	}
}

// TestIndexBuckets checks that a rule is found whichever index bucket it
// lands in, including rules listing several apps and tasks.
func TestIndexBuckets(t *testing.T) {
	rs, err := Compile([]Rule{
		{ID: "exact", Effect: Allow, Subjects: []string{"*"}, Apps: []string{"a1", "a2"}, Tasks: []string{"t1", "t2"}},
		{ID: "by-app", Effect: Allow, Subjects: []string{"*"}, Apps: []string{"b1", "b2"}, Tasks: []string{"t*"}},
		{ID: "by-task", Effect: Allow, Subjects: []string{"*"}, Apps: []string{"c*"}, Tasks: []string{"u1", "u2"}},
		{ID: "any", Effect: Allow, Subjects: []string{"*"}, Apps: []string{"d?"}},
		{ID: "star", Effect: Allow, Subjects: []string{"*"}, Apps: []string{"*"}, Tasks: []string{"only-star"}},
		{ID: "mixed", Effect: Allow, Subjects: []string{"*"}, Apps: []string{"e1", "e*"}, Tasks: []string{"v1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ app, task, rule string }{
		{"a1", "t1", "exact"}, {"a2", "t2", "exact"}, {"a1", "t2", "exact"}, {"a1", "t3", ""},
		{"b2", "t9", "by-app"}, {"b3", "t9", ""},
		{"c7", "u2", "by-task"}, {"c7", "u3", ""},
		{"d1", "anything", "any"}, {"dd1", "anything", ""},
		{"zz", "only-star", "star"},
		{"e1", "v1", "mixed"}, {"e22", "v1", "mixed"}, {"e1", "v2", ""},
	}
	for _, tt := range tests {
		d := rs.Evaluate(Request{Principal: "shell:x", App: tt.app, Task: tt.task}, nil)
		if d.Rule != tt.rule {
			t.Errorf("%s/%s decided by %q (%s), want %q", tt.app, tt.task, d.Rule, d.Reason, tt.rule)
		}
	}
	if rs.Len() != 6 || len(rs.Rules()) != 6 || rs.Rules()[3].ID != "any" {
		t.Fatalf("Len/Rules wrong: %d %v", rs.Len(), rs.Rules())
	}
}

func TestNilAndEmpty(t *testing.T) {
	var rs *RuleSet
	d := rs.Evaluate(Request{}, nil)
	if d.Effect != Deny || d.Reason != "no rule allows an unknown user to run /" {
		t.Fatalf("nil rule set: %+v", d)
	}
	empty, err := Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := Evaluate(empty, Request{Principal: "slack:U1", App: "shop", Task: "x"}, usageMap{}); d.Effect != Deny || d.NearMiss != "" {
		t.Fatalf("empty rule set: %+v", d)
	}
}
