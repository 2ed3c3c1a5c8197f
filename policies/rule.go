package policies

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Effect is what a matching rule decides.
type Effect string

const (
	Allow   Effect = "allow"
	Deny    Effect = "deny"
	Approve Effect = "approve" // allowed once Quorum approvers agreed
)

// Rule is one guardrail rule in its source form, as written in a policy file
// and stored in SQLite. Compile it before evaluating.
type Rule struct {
	ID          string `yaml:"id" json:"id"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	Effect      Effect `yaml:"effect" json:"effect"`
	// Subjects: "user:slack:U123" (a principal), "user:carol" (a handle),
	// "group:ops", "owner" (the app's owners), "*".
	Subjects []string `yaml:"subjects" json:"subjects"`
	// Apps and Tasks are globs; empty means "*".
	Apps  []string `yaml:"apps,omitempty" json:"apps,omitempty"`
	Tasks []string `yaml:"tasks,omitempty" json:"tasks,omitempty"`
	// Mutating, when set, restricts the rule to mutating (true) or
	// read-only (false) tasks.
	Mutating *bool `yaml:"mutating,omitempty" json:"mutating,omitempty"`
	// Params maps a parameter name to a constraint: "<= 8", ">= 1",
	// "between 1 10", a glob such as "research-{user}-*", or "one of [a, b]".
	Params map[string]string `yaml:"params,omitempty" json:"params,omitempty"`
	// Channels the rule applies in ("slack:C123", "#ops" style names are
	// platform channel ids); empty means anywhere.
	Channels []string `yaml:"channels,omitempty" json:"channels,omitempty"`
	// Window is a time window with a zone: "Mon-Fri 08:00-18:00 Europe/Berlin".
	Window string `yaml:"window,omitempty" json:"window,omitempty"`
	// Rate is a per-user limit for this rule: "5/1h".
	Rate string `yaml:"rate,omitempty" json:"rate,omitempty"`
	// Approvers, Quorum and Expiry apply to effect approve.
	Approvers []string `yaml:"approvers,omitempty" json:"approvers,omitempty"`
	Quorum    int      `yaml:"quorum,omitempty" json:"quorum,omitempty"`
	Expiry    string   `yaml:"expiry,omitempty" json:"expiry,omitempty"`
}

// File is a policy file: what `day2bot policy import` reads and `export`
// writes. Users maps a handle to the chat identities of one person; Groups
// maps a group to its members (handles or principals).
type File struct {
	Users  map[string][]string `yaml:"users,omitempty" json:"users,omitempty"`
	Groups map[string][]string `yaml:"groups,omitempty" json:"groups,omitempty"`
	Rules  []Rule              `yaml:"rules" json:"rules"`
}

// Conditions are the rule's conditions as short phrases, in a fixed order
// (mutating, parameters sorted by name, channels, window, rate, approvers),
// so that listings of a policy read the same every time. A rule without
// conditions has none.
func (r Rule) Conditions() []string {
	var cs []string
	if r.Mutating != nil {
		cs = append(cs, "mutating="+strconv.FormatBool(*r.Mutating))
	}
	for _, k := range slices.Sorted(maps.Keys(r.Params)) {
		cs = append(cs, k+" "+r.Params[k])
	}
	if len(r.Channels) > 0 {
		cs = append(cs, "in "+strings.Join(r.Channels, ", "))
	}
	if r.Window != "" {
		cs = append(cs, r.Window)
	}
	if r.Rate != "" {
		cs = append(cs, "rate "+r.Rate)
	}
	if r.Effect == Approve {
		cs = append(cs, strconv.Itoa(max(r.Quorum, 1))+" of "+strings.Join(r.Approvers, ", "))
	}
	return cs
}
