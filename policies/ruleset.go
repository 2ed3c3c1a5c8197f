package policies

// RuleSet is a compiled, indexed, immutable set of rules. It is safe for
// concurrent use; build a new one when the rules change.
type RuleSet struct {
	rules []*compiledRule // source order

	// Every rule lives in exactly one of these, chosen by whether its apps
	// and tasks are all literal names. Evaluate looks up one key in each,
	// so it touches only rules that can concern the request.
	exact  map[appTask][]*compiledRule // literal apps and literal tasks
	byApp  map[string][]*compiledRule  // literal apps; task globs or any task
	byTask map[string][]*compiledRule  // app globs or any app; literal tasks
	any    []*compiledRule             // globs (or any) on both sides

	// For the near-miss search, which must list every rule whose apps match:
	// appRules holds the exact and byApp rules per app; globApps the other
	// rules, keyed by the literal prefix of each app glob ("" for any app).
	appRules map[string][]*compiledRule
	globApps map[string][]*compiledRule
}

type appTask struct{ app, task string }

// index files the rule under one of the four lookup structures.
func (rs *RuleSet) index(cr *compiledRule) {
	litApps := allLiteral(cr.apps)
	litTasks := allLiteral(cr.tasks)
	switch {
	case litApps && litTasks:
		for _, a := range cr.apps {
			for _, t := range cr.tasks {
				k := appTask{a.src, t.src}
				rs.exact[k] = appendOnce(rs.exact[k], cr)
			}
		}
	case litApps:
		for _, a := range cr.apps {
			rs.byApp[a.src] = appendOnce(rs.byApp[a.src], cr)
		}
	case litTasks:
		for _, t := range cr.tasks {
			rs.byTask[t.src] = appendOnce(rs.byTask[t.src], cr)
		}
	default:
		rs.any = append(rs.any, cr)
	}
	if litApps {
		for _, a := range cr.apps {
			rs.appRules[a.src] = appendOnce(rs.appRules[a.src], cr)
		}
	} else if len(cr.apps) == 0 {
		rs.globApps[""] = append(rs.globApps[""], cr)
	} else {
		for _, a := range cr.apps {
			p := a.literalPrefix()
			rs.globApps[p] = appendOnce(rs.globApps[p], cr)
		}
	}
}

// allLiteral: a non-empty list with no wildcards (empty means "any").
func allLiteral(gs []glob) bool {
	if len(gs) == 0 {
		return false
	}
	for i := range gs {
		if !gs[i].literal {
			return false
		}
	}
	return true
}

// appendOnce guards against a rule listing the same app or task twice.
func appendOnce(list []*compiledRule, cr *compiledRule) []*compiledRule {
	if n := len(list); n > 0 && list[n-1] == cr {
		return list
	}
	return append(list, cr)
}

// Len is the number of rules.
func (rs *RuleSet) Len() int {
	if rs == nil {
		return 0
	}
	return len(rs.rules)
}

// Rules returns the source rules in order.
func (rs *RuleSet) Rules() []Rule {
	if rs == nil {
		return nil
	}
	out := make([]Rule, len(rs.rules))
	for i, cr := range rs.rules {
		out[i] = cr.src
	}
	return out
}
