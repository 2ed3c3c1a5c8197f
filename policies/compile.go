package policies

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// DefaultExpiry is how long an approval request stays open when the rule
// does not say.
const DefaultExpiry = time.Hour

// compiledRule is a Rule with everything parsed once.
type compiledRule struct {
	idx       int
	src       Rule
	subjects  []subject
	apps      []glob // empty: any app
	tasks     []glob // empty: any task
	mutating  int8   // -1 any, 0 read-only only, 1 mutating only
	params    []paramConstraint
	channels  []glob
	window    *Window
	rate      Rate // N == 0: no limit
	approvers []string
	quorum    int
	expiry    time.Duration
	reason    string // precomputed reason for decisions this rule makes
}

type paramConstraint struct {
	name string
	c    Constraint
}

// Compile validates rules and builds an evaluable RuleSet. The error, if
// any, is an errs.Invalid error listing every problem; its cause is a
// *ValidationError (errors.As) with the Problems.
func Compile(rules []Rule) (*RuleSet, error) {
	var ps problems
	rs := &RuleSet{
		exact:    map[appTask][]*compiledRule{},
		byApp:    map[string][]*compiledRule{},
		byTask:   map[string][]*compiledRule{},
		appRules: map[string][]*compiledRule{},
		globApps: map[string][]*compiledRule{},
	}
	seen := map[string]bool{}
	zones := map[string]*time.Location{}
	for i := range rules {
		r := &rules[i]
		id := r.ID
		switch {
		case id == "":
			id = fmt.Sprintf("#%d", i+1)
			ps.add(id, "id", "missing id")
		case !validRuleID(id):
			ps.add(id, "id", "bad id: use letters, digits, '-', '_', '.' (at most 64)")
		case seen[id]:
			ps.add(id, "id", "duplicate id")
		}
		seen[id] = true
		if cr := compileRule(i, id, r, &ps, zones); cr != nil {
			rs.rules = append(rs.rules, cr)
		}
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	for _, cr := range rs.rules {
		rs.index(cr)
	}
	return rs, nil
}

// cloneRule deep-copies a rule so a RuleSet never changes under callers
// that reuse their slices (decisions hand out Approvers).
func cloneRule(r *Rule) Rule {
	c := *r
	c.Subjects = slices.Clone(r.Subjects)
	c.Apps = slices.Clone(r.Apps)
	c.Tasks = slices.Clone(r.Tasks)
	c.Params = maps.Clone(r.Params)
	c.Channels = slices.Clone(r.Channels)
	c.Approvers = slices.Clone(r.Approvers)
	if r.Mutating != nil {
		m := *r.Mutating
		c.Mutating = &m
	}
	return c
}

func validRuleID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// compileRule parses one rule, adding any problems; nil if it had any.
func compileRule(i int, id string, r *Rule, ps *problems, zones map[string]*time.Location) *compiledRule {
	before := len(ps.list)
	cr := &compiledRule{idx: i, src: cloneRule(r), mutating: -1}
	cr.src.ID = id

	switch r.Effect {
	case Allow, Deny, Approve:
	case "":
		ps.add(id, "effect", "missing effect: want allow, deny or approve")
	default:
		ps.add(id, "effect", "unknown effect %q: want allow, deny or approve", r.Effect)
	}

	if len(r.Subjects) == 0 {
		ps.add(id, "subjects", "no subjects: name users, groups, owner, or * for anyone")
	}
	for j, s := range r.Subjects {
		sub, err := parseSubject(s)
		if err != nil {
			ps.add(id, fmt.Sprintf("subjects[%d]", j), "%v", err)
			continue
		}
		cr.subjects = append(cr.subjects, sub)
	}

	cr.apps = compileNames(id, "apps", r.Apps, ps)
	cr.tasks = compileNames(id, "tasks", r.Tasks, ps)
	if r.Mutating != nil {
		cr.mutating = 0
		if *r.Mutating {
			cr.mutating = 1
		}
	}

	for _, name := range slices.Sorted(maps.Keys(r.Params)) {
		field := "params." + name
		if !validParamName(name) {
			ps.add(id, field, "bad parameter name %q", name)
			continue
		}
		c, err := ParseConstraint(r.Params[name])
		if err != nil {
			ps.add(id, field, "%v", err)
			continue
		}
		cr.params = append(cr.params, paramConstraint{name: name, c: c})
	}

	for j, ch := range r.Channels {
		g, err := parseGlob(strings.TrimSpace(ch), false)
		if err != nil {
			ps.add(id, fmt.Sprintf("channels[%d]", j), "%v", err)
			continue
		}
		cr.channels = append(cr.channels, g)
	}

	if r.Window != "" {
		w, err := parseWindowCached(r.Window, zones)
		if err != nil {
			ps.add(id, "window", "%v", err)
		} else {
			cr.window = &w
		}
	}

	if r.Rate != "" {
		rate, err := ParseRate(r.Rate)
		switch {
		case err != nil:
			ps.add(id, "rate", "%v", err)
		case r.Effect == Deny:
			ps.add(id, "rate", "a deny rule cannot have a rate limit")
		default:
			cr.rate = rate
		}
	}

	compileApproval(id, r, cr, ps)
	if len(ps.list) > before {
		return nil
	}
	cr.reason = ruleReason(cr)
	return cr
}

// compileApproval checks approvers, quorum and expiry.
func compileApproval(id string, r *Rule, cr *compiledRule, ps *problems) {
	if r.Effect != Approve {
		if len(r.Approvers) > 0 {
			ps.add(id, "approvers", "only approve rules have approvers")
		}
		if r.Quorum != 0 {
			ps.add(id, "quorum", "only approve rules have a quorum")
		}
		if r.Expiry != "" {
			ps.add(id, "expiry", "only approve rules have an expiry")
		}
		return
	}
	if len(r.Approvers) == 0 {
		ps.add(id, "approvers", "an approve rule needs approvers (user:NAME, group:NAME or owner)")
	}
	users := map[string]bool{}
	onlyUsers := true
	for j, a := range r.Approvers {
		sub, err := parseSubject(a)
		field := fmt.Sprintf("approvers[%d]", j)
		switch {
		case err != nil:
			ps.add(id, field, "%v", err)
		case sub.kind == subjectAnyone:
			ps.add(id, field, "* cannot approve; name users or groups")
		case sub.kind == subjectUser:
			users[sub.name] = true
		default:
			onlyUsers = false
		}
	}
	cr.approvers = cr.src.Approvers
	cr.quorum = r.Quorum
	switch {
	case r.Quorum < 1:
		ps.add(id, "quorum", "quorum must be at least 1, got %d", r.Quorum)
	case onlyUsers && len(users) > 0 && r.Quorum > len(users):
		ps.add(id, "quorum", "quorum %d can never be met by %d approvers", r.Quorum, len(users))
	}
	cr.expiry = DefaultExpiry
	if r.Expiry != "" {
		d, err := parseDuration(strings.TrimSpace(r.Expiry))
		switch {
		case err != nil:
			ps.add(id, "expiry", "%v", err)
		case d < time.Minute || d > maxExpiry:
			ps.add(id, "expiry", "expiry must be between 1m and 30d, got %s", r.Expiry)
		default:
			cr.expiry = d
		}
	}
}

// compileNames compiles app or task globs; names are DNS-ish words.
func compileNames(id, field string, names []string, ps *problems) []glob {
	var out []glob
	for j, n := range names {
		n = strings.TrimSpace(n)
		if n == "*" {
			return nil // any: same as empty, and keeps the rule in the glob index
		}
		bad := n == ""
		for i := 0; i < len(n); i++ {
			c := n[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.*?", c) >= 0) {
				bad = true
			}
		}
		if bad {
			ps.add(id, fmt.Sprintf("%s[%d]", field, j), "bad name or glob %q: letters, digits, '-', '_', '.', with * and ? as wildcards", n)
			continue
		}
		g, err := parseGlob(n, false)
		if err != nil {
			ps.add(id, fmt.Sprintf("%s[%d]", field, j), "%v", err)
			continue
		}
		out = append(out, g)
	}
	return out
}

func validParamName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// parseWindowCached parses a window, loading each zone once: 10k rules
// usually share a handful of zones and loading one reads tzdata.
func parseWindowCached(s string, zones map[string]*time.Location) (Window, error) {
	return parseWindow(s, func(name string) (*time.Location, error) {
		if loc, ok := zones[name]; ok {
			return loc, nil
		}
		loc, err := loadZone(name)
		if err == nil {
			zones[name] = loc
		}
		return loc, err
	})
}

// ruleReason is the one-line reason for a decision made by cr; computed
// once so the allow path does not allocate.
func ruleReason(cr *compiledRule) string {
	var b strings.Builder
	switch cr.src.Effect {
	case Allow:
		fmt.Fprintf(&b, "allowed by rule %q", cr.src.ID)
	case Deny:
		fmt.Fprintf(&b, "denied by rule %q", cr.src.ID)
	case Approve:
		noun := "approval"
		if cr.quorum > 1 {
			noun = "approvals"
		}
		fmt.Fprintf(&b, "needs %d %s from %s (rule %q)", cr.quorum, noun, strings.Join(cr.approvers, ", "), cr.src.ID)
	}
	if d := strings.TrimSpace(cr.src.Description); d != "" {
		b.WriteString(": ")
		b.WriteString(strings.Join(strings.Fields(d), " "))
	}
	return b.String()
}
