package policies

import (
	"slices"
	"testing"
)

func TestRuleConditions(t *testing.T) {
	yes := true
	tests := []struct {
		name string
		rule Rule
		want []string
	}{
		{"none", Rule{Effect: Allow}, nil},
		{"mutating", Rule{Effect: Allow, Mutating: &yes}, []string{"mutating=true"}},
		{"params sorted by name", Rule{Effect: Allow, Params: map[string]string{
			"size": "<= 8", "bucket": "research-{user}-*", "count": "between 1 10", "az": "one of [a, b]",
		}}, []string{"az one of [a, b]", "bucket research-{user}-*", "count between 1 10", "size <= 8"}},
		{"channels window rate", Rule{Effect: Allow, Channels: []string{"slack:C1", "slack:C2"},
			Window: "Mon-Fri 08:00-18:00 UTC", Rate: "5/1h"},
			[]string{"in slack:C1, slack:C2", "Mon-Fri 08:00-18:00 UTC", "rate 5/1h"}},
		{"approve without quorum needs one", Rule{Effect: Approve, Approvers: []string{"group:sre"}}, []string{"1 of group:sre"}},
		{"approve with quorum", Rule{Effect: Approve, Quorum: 2, Approvers: []string{"group:sre", "owner"}}, []string{"2 of group:sre, owner"}},
		{"approvers only count on approve", Rule{Effect: Deny, Quorum: 2, Approvers: []string{"owner"}}, nil},
		{"all in order", Rule{Effect: Approve, Mutating: &yes, Params: map[string]string{"b": "<= 2", "a": ">= 1"},
			Channels: []string{"slack:C1"}, Window: "Sat-Sun 00:00-24:00 UTC", Rate: "1/24h", Approvers: []string{"owner"}},
			[]string{"mutating=true", "a >= 1", "b <= 2", "in slack:C1", "Sat-Sun 00:00-24:00 UTC", "rate 1/24h", "1 of owner"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rule.Conditions(); !slices.Equal(got, tt.want) {
				t.Errorf("Conditions() = %q, want %q", got, tt.want)
			}
		})
	}
}

// Map iteration order is random on every range, so rendering many times
// catches a listing that depends on it.
func TestRuleConditionsDeterministic(t *testing.T) {
	r := Rule{Effect: Allow, Params: map[string]string{}}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		r.Params[k] = "<= 1"
	}
	first := r.Conditions()
	for range 50 {
		if got := r.Conditions(); !slices.Equal(got, first) {
			t.Fatalf("Conditions() changed between calls: %q then %q", first, got)
		}
	}
}
