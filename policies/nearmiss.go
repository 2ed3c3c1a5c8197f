package policies

import (
	"fmt"
	"strings"
)

// nearMiss finds the allow or approve rule that matched the most conditions
// of req and says which conditions failed. Only rules whose apps match are
// considered: the app's own rules plus glob rules whose literal prefix is a
// prefix of the app name, so the search stays small with thousands of rules.
// It runs only on the default-deny path; explanations are built for the
// winner only.
func (rs *RuleSet) nearMiss(req *Request) string {
	var best *compiledRule
	bestScore := -1
	consider := func(list []*compiledRule) {
		for _, r := range list {
			if r.src.Effect == Deny || !matchAny(r.apps, req.App) {
				continue
			}
			if s := r.score(req); s > bestScore || (s == bestScore && r.idx < best.idx) {
				best, bestScore = r, s
			}
		}
	}
	consider(rs.appRules[req.App])
	for i := 0; i <= len(req.App); i++ {
		consider(rs.globApps[req.App[:i]])
	}
	if best == nil {
		return ""
	}
	return fmt.Sprintf("rule %q almost matched: %s", best.src.ID, strings.Join(best.failures(req), "; "))
}

// score ranks how close r came. Satisfied conditions count most; among
// equally close rules, one written for this caller beats one about someone
// else ("your rule is for read-only tasks" is more useful than "you are not
// in group ops"), and one naming the app or task beats a catch-all.
func (r *compiledRule) score(req *Request) int {
	subjectOK := r.subjectMatches(req)
	s := 8 * (conditionCount - r.misses(req, subjectOK))
	if subjectOK {
		s += 4
	}
	if len(r.apps) > 0 && matchAny(r.apps, req.App) {
		s++
	}
	if len(r.tasks) > 0 && matchAny(r.tasks, req.Task) {
		s++
	}
	return s
}

// misses counts failed conditions like failures does, without building
// the explanations.
func (r *compiledRule) misses(req *Request, subjectOK bool) int {
	n := 0
	count := func(failed bool) {
		if failed {
			n++
		}
	}
	count(!subjectOK)
	count(!matchAny(r.apps, req.App))
	count(!matchAny(r.tasks, req.Task))
	count(r.mutating >= 0 && (r.mutating == 1) != req.Mutating)
	count(len(r.channels) > 0 && !matchAny(r.channels, req.Channel))
	count(r.window != nil && !r.window.Contains(req.Time))
	for i := range r.params {
		p := &r.params[i]
		if v, ok := req.Params[p.name]; !ok || !p.c.Match(v, req.Handle) {
			n++ // all parameters together are one condition
			break
		}
	}
	return n
}

// conditionCount is how many conditions a rule checks: subject, app, task,
// mutating, channel, window and params (all parameters together count as
// one).
const conditionCount = 7

// failures explains each condition of r that req does not satisfy, one
// entry per failed condition.
func (r *compiledRule) failures(req *Request) []string {
	var out []string
	who := callerName(req)
	if !r.subjectMatches(req) {
		out = append(out, fmt.Sprintf("%s is not %s", who, describeSubjects(r.src.Subjects, req.App)))
	}
	if !matchAny(r.apps, req.App) {
		out = append(out, fmt.Sprintf("app %s does not match %s", req.App, strings.Join(r.src.Apps, ", ")))
	}
	if !matchAny(r.tasks, req.Task) {
		out = append(out, fmt.Sprintf("task %s does not match %s", req.Task, strings.Join(r.src.Tasks, ", ")))
	}
	if r.mutating >= 0 && (r.mutating == 1) != req.Mutating {
		if req.Mutating {
			out = append(out, fmt.Sprintf("task %s is mutating, rule is for read-only tasks", req.Task))
		} else {
			out = append(out, fmt.Sprintf("task %s is read-only, rule is for mutating tasks", req.Task))
		}
	}
	if len(r.channels) > 0 && !matchAny(r.channels, req.Channel) {
		ch := req.Channel
		if ch == "" {
			ch = "(none)"
		}
		out = append(out, fmt.Sprintf("channel %s is not %s", ch, orList(r.src.Channels)))
	}
	if r.window != nil && !r.window.Contains(req.Time) {
		lt := req.Time.In(r.window.loc)
		out = append(out, fmt.Sprintf("%s is outside %s", lt.Format("Mon 15:04 MST"), r.window.src))
	}
	var bad []string
	for i := range r.params {
		p := &r.params[i]
		v, ok := req.Params[p.name]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("parameter %s is not given, rule requires %s %s", p.name, p.name, p.c.describe(req.Handle)))
		case p.c.UsesHandle() && req.Handle == "":
			bad = append(bad, fmt.Sprintf("%s=%s: rule needs your handle for {user} in %s, and %s has none", p.name, v, p.c.src, who))
		case !p.c.Match(v, req.Handle):
			bad = append(bad, fmt.Sprintf("%s=%s is not %s", p.name, v, p.c.describe(req.Handle)))
		}
	}
	if len(bad) > 0 {
		// Several failed parameters are one failed condition.
		out = append(out, strings.Join(bad, ", "))
	}
	return out
}

func describeSubjects(subjects []string, app string) string {
	parts := make([]string, len(subjects))
	for i, s := range subjects {
		switch {
		case s == "owner":
			s = "an owner of " + app
		case strings.HasPrefix(s, "group:"):
			s = "in group " + strings.TrimPrefix(s, "group:")
		default:
			s = strings.TrimPrefix(s, "user:")
		}
		parts[i] = s
	}
	return orList(parts)
}

// orList renders "a", "a or b", "a, b or c".
func orList(items []string) string {
	switch len(items) {
	case 0:
		return "(nothing)"
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
