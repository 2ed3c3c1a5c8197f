package tasks

import (
	"maps"
	"slices"
	"strings"
)

// Tag scoping: an app's role may change only resources that carry the
// app's tags, not every instance, database or group of its type in the
// account. Selection already keeps day2bot to the app's resources; the
// condition makes IAM refuse too, should a selector, a binding or day2bot
// itself be wrong.
//
// Only actions whose sole resource is the task's target, and whose
// service documents a resource-tag condition key for it, are scoped: a
// condition on an action that does not support its key would refuse
// every call. The keys follow each service's documentation (EC2 and Auto
// Scaling: ResourceTag; RDS: db-tag).
var tagConditionKey = map[string]struct {
	target string // the selector type the action acts on
	key    string // the condition key, {k} the tag key
}{
	"ec2:RebootInstances":                {"ec2:instance", "aws:ResourceTag/{k}"},
	"ec2:StartInstances":                 {"ec2:instance", "aws:ResourceTag/{k}"},
	"ec2:StopInstances":                  {"ec2:instance", "aws:ResourceTag/{k}"},
	"ec2:ModifyInstanceAttribute":        {"ec2:instance", "aws:ResourceTag/{k}"},
	"rds:RebootDBInstance":               {"rds:db-instance", "rds:db-tag/{k}"},
	"rds:StartDBInstance":                {"rds:db-instance", "rds:db-tag/{k}"},
	"rds:StopDBInstance":                 {"rds:db-instance", "rds:db-tag/{k}"},
	"autoscaling:SetDesiredCapacity":     {"autoscaling:group", "autoscaling:ResourceTag/{k}"},
	"autoscaling:UpdateAutoScalingGroup": {"autoscaling:group", "autoscaling:ResourceTag/{k}"},
	"autoscaling:SuspendProcesses":       {"autoscaling:group", "autoscaling:ResourceTag/{k}"},
	"autoscaling:ResumeProcesses":        {"autoscaling:group", "autoscaling:ResourceTag/{k}"},
	"autoscaling:StartInstanceRefresh":   {"autoscaling:group", "autoscaling:ResourceTag/{k}"},
}

// Targeted is one task of an app as the IAM policy sees it: its action
// and the selector of what the action acts on.
type Targeted struct {
	Action Action
	Target Selector
}

// TargetTags returns, for each scopable IAM action the tasks use, the tags
// every resource it may act on carries: the tags all of those tasks'
// targets select by, with the same value. An action used on a target of
// another type, or by a task whose target names no common tag, is left
// out (no condition): its statement stays scoped by resource type alone.
func TargetTags(ts []Targeted) map[string]map[string]string {
	out := map[string]map[string]string{}
	unscoped := map[string]bool{}
	for _, t := range ts {
		for _, ia := range t.Action.IAMActions() {
			c, ok := tagConditionKey[ia]
			if !ok || unscoped[ia] {
				continue
			}
			if c.target != t.Target.Type || len(t.Target.Tags) == 0 {
				unscoped[ia] = true
				delete(out, ia)
				continue
			}
			have, seen := out[ia]
			if !seen {
				out[ia] = maps.Clone(t.Target.Tags)
				continue
			}
			maps.DeleteFunc(have, func(k, v string) bool { return t.Target.Tags[k] != v })
			if len(have) == 0 {
				unscoped[ia] = true
				delete(out, ia)
			}
		}
	}
	return out
}

// tagCondition is the Condition that holds an IAM action to resources
// carrying tags: exact values with StringEquals, globs (the selectors' *
// and ?, which IAM's StringLike reads the same way) with StringLike. nil
// when ia cannot be scoped or tags is empty.
func tagCondition(ia string, tags map[string]string) map[string]map[string]string {
	c, ok := tagConditionKey[ia]
	if !ok || len(tags) == 0 {
		return nil
	}
	cond := map[string]map[string]string{}
	for k, v := range tags {
		op := "StringEquals"
		if strings.ContainsAny(v, "*?") {
			op = "StringLike"
		}
		if cond[op] == nil {
			cond[op] = map[string]string{}
		}
		// A literal $ would start a policy variable (${aws:username});
		// ${$} is IAM's escape for it.
		cond[op][strings.ReplaceAll(c.key, "{k}", k)] = strings.ReplaceAll(v, "$", "${$}")
	}
	return cond
}

// conditionKey is cond in a canonical one-line form, for grouping
// statements with equal conditions.
func conditionKey(cond map[string]map[string]string) string {
	var b strings.Builder
	for _, op := range []string{"StringEquals", "StringLike"} {
		kv := cond[op]
		for _, k := range slices.Sorted(maps.Keys(kv)) {
			b.WriteString(op + " " + k + "=" + kv[k] + ";")
		}
	}
	return b.String()
}
