package policies

import (
	"fmt"
	"strconv"
	"time"
)

// Request is everything the evaluator needs to know about one attempted run.
type Request struct {
	Principal string   // "slack:U123", "shell:alice", "scheduler:shop"
	Handle    string   // the person's configured handle ("carol"); may be empty
	Groups    []string // groups the caller is in
	App       string
	Owners    []string // the app's owners: handles or principals
	Task      string
	Mutating  bool
	Params    map[string]string // validated values, as strings
	Channel   string
	Time      time.Time
	Freeze    *Freeze // the app's freeze, if any
}

// Freeze stops all mutating tasks of an app.
type Freeze struct {
	Reason string
	By     string
	Until  time.Time // zero: until unfrozen
}

// Usage counts earlier uses of a rate-limited rule. The store implements it;
// a nil Usage means rate limits are not counted.
type Usage interface {
	Used(ruleID, principal string, since time.Time) int
}

// Decision is the outcome of Evaluate, with enough to explain itself.
type Decision struct {
	Effect Effect
	// Rule is the id of the deciding rule; "" for the default deny
	// (including one caused by a used-up rate limit) and for a freeze.
	Rule string
	// Reason is one human line.
	Reason string
	// Approvers, Quorum and Expiry are set for Approve. Approvers are in
	// subject syntax ("group:sre", "user:carol", "user:slack:U1", "owner" =
	// the app's owners) and shared with the rule set: do not modify them.
	Approvers []string
	Quorum    int
	Expiry    time.Duration
	// NearMiss, for a default deny, names the rule that came closest and
	// why it did not match ("" if no rule concerns the app).
	NearMiss string
	// RateRule is the rule whose use the engine must record when the run
	// starts (after an allow, or once an approval is granted), so its rate
	// limit counts it. "" when the deciding rule has no limit.
	RateRule string
	// Frozen is set when the app's freeze decided.
	Frozen bool
}

// Allowed reports whether the run may start without approval.
func (d Decision) Allowed() bool { return d.Effect == Allow }

// Evaluate decides req against rs. See the package comment for the
// combining rules.
func Evaluate(rs *RuleSet, req Request, usage Usage) Decision {
	return rs.Evaluate(req, usage)
}

// Evaluate decides req. It never fails: anything unknown is denied.
func (rs *RuleSet) Evaluate(req Request, usage Usage) Decision {
	if req.Mutating && req.Freeze != nil && (req.Freeze.Until.IsZero() || req.Time.Before(req.Freeze.Until)) {
		return Decision{Effect: Deny, Reason: freezeReason(&req), Frozen: true}
	}
	if rs == nil {
		rs = &RuleSet{}
	}
	var m matchState
	m.visit(rs.exact[appTask{req.App, req.Task}], &req, usage)
	m.visit(rs.byApp[req.App], &req, usage)
	m.visit(rs.byTask[req.Task], &req, usage)
	m.visit(rs.any, &req, usage)

	switch {
	case m.deny != nil:
		return Decision{Effect: Deny, Rule: m.deny.src.ID, Reason: m.deny.reason}
	case m.approve != nil:
		r := m.approve
		return Decision{Effect: Approve, Rule: r.src.ID, Reason: r.reason,
			Approvers: r.approvers, Quorum: r.quorum, Expiry: r.expiry, RateRule: rateRule(r)}
	case m.allow != nil:
		return Decision{Effect: Allow, Rule: m.allow.src.ID, Reason: m.allow.reason, RateRule: rateRule(m.allow)}
	case m.limited != nil:
		// Default deny, but only a used-up rate limit stood in the way:
		// say so rather than pointing at some other rule. The count is left
		// out: a store that cannot count reports a huge number to fail
		// closed, which would read as nonsense.
		r := m.limited
		rate, id, who := r.rate.String(), strconv.Quote(r.src.ID), callerName(&req)
		return Decision{
			Effect:   Deny,
			Reason:   "rate limit " + rate + " of rule " + id + " reached for " + who + "; try again later",
			NearMiss: "rule " + id + " almost matched: its rate limit " + rate + " is used up for " + who,
		}
	}
	return Decision{
		Effect:   Deny,
		Reason:   fmt.Sprintf("no rule allows %s to run %s/%s", callerName(&req), req.App, req.Task),
		NearMiss: rs.nearMiss(&req),
	}
}

// matchState keeps, per outcome, the earliest matching rule in source order.
// The four index lists are visited one after another, so "earliest" is by
// rule index, not by visiting order. limited is the earliest allow or
// approve rule that matched except for its used-up rate limit; it only
// explains a default deny.
type matchState struct {
	deny, approve, allow, limited *compiledRule
}

func (m *matchState) visit(list []*compiledRule, req *Request, usage Usage) {
	for _, r := range list {
		if !r.matches(req) {
			continue
		}
		if r.src.Effect == Deny {
			m.deny = earlier(m.deny, r)
			continue
		}
		// A rate limit is the last condition of a rule. Counting uses may
		// cost the caller a lookup, so skip it when this rule could not
		// decide anyway: a deny matched, or an approve beats this allow, or
		// an earlier rule of the same kind matched.
		if r.rate.N > 0 && usage != nil && m.couldDecide(r) {
			if usage.Used(r.src.ID, req.Principal, req.Time.Add(-r.rate.Per)) >= r.rate.N {
				m.limited = earlier(m.limited, r)
				continue
			}
		}
		if r.src.Effect == Approve {
			m.approve = earlier(m.approve, r)
		} else {
			m.allow = earlier(m.allow, r)
		}
	}
}

// couldDecide reports whether allow or approve rule r, if it matched, would
// become the deciding rule given what matched so far.
func (m *matchState) couldDecide(r *compiledRule) bool {
	if m.deny != nil {
		return false
	}
	if r.src.Effect == Approve {
		return m.approve == nil || r.idx < m.approve.idx
	}
	return m.approve == nil && (m.allow == nil || r.idx < m.allow.idx)
}

func earlier(cur, r *compiledRule) *compiledRule {
	if cur == nil || r.idx < cur.idx {
		return r
	}
	return cur
}

func rateRule(r *compiledRule) string {
	if r.rate.N > 0 {
		return r.src.ID
	}
	return ""
}

// matches checks every condition, cheapest first.
func (r *compiledRule) matches(req *Request) bool {
	if r.mutating >= 0 && (r.mutating == 1) != req.Mutating {
		return false
	}
	if !matchAny(r.apps, req.App) || !matchAny(r.tasks, req.Task) {
		return false
	}
	if !r.subjectMatches(req) {
		return false
	}
	if len(r.channels) > 0 && !matchAny(r.channels, req.Channel) {
		return false
	}
	for i := range r.params {
		p := &r.params[i]
		v, ok := req.Params[p.name]
		if !ok || !p.c.Match(v, req.Handle) {
			return false
		}
	}
	return r.window == nil || r.window.Contains(req.Time)
}

func (r *compiledRule) subjectMatches(req *Request) bool {
	for i := range r.subjects {
		if r.subjects[i].matches(req) {
			return true
		}
	}
	return false
}

// matchAny: empty list means any value.
func matchAny(gs []glob, v string) bool {
	if len(gs) == 0 {
		return true
	}
	for i := range gs {
		if gs[i].match(v, "") {
			return true
		}
	}
	return false
}

func callerName(req *Request) string {
	switch {
	case req.Handle != "":
		return req.Handle
	case req.Principal != "":
		return req.Principal
	}
	return "an unknown user"
}

func freezeReason(req *Request) string {
	f := req.Freeze
	s := req.App + " is frozen"
	if f.By != "" {
		s += " by " + f.By
	}
	if f.Until.IsZero() {
		s += " until unfrozen"
	} else {
		s += " until " + f.Until.UTC().Format("2006-01-02 15:04 MST")
	}
	if f.Reason != "" {
		s += ": " + f.Reason
	}
	return s + " (mutating tasks are blocked; read-only tasks still run)"
}
