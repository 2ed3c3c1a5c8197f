package policies

import (
	"strings"
	"testing"
	"time"
)

func boolp(b bool) *bool { return &b }

// fixture is a policy that exercises every rule feature. Order matters for
// the "first rule decides" cases.
func fixture() []Rule {
	return []Rule{
		{ID: "no-trail-delete", Effect: Deny, Subjects: []string{"*"}, Tasks: []string{"*delete-trail*"},
			Description: "nobody may delete the CloudTrail trail"},
		{ID: "ops-all", Effect: Allow, Subjects: []string{"group:ops"}, Apps: []string{"shop"}},
		{ID: "dev-readonly", Effect: Allow, Subjects: []string{"group:dev"}, Apps: []string{"shop"}, Mutating: boolp(false)},
		{ID: "scale-small", Effect: Allow, Subjects: []string{"group:dev"}, Apps: []string{"shop"}, Tasks: []string{"scale"},
			Params: map[string]string{"desired": "between 1 4"}},
		{ID: "scale-big", Effect: Approve, Subjects: []string{"group:dev", "group:ops"}, Apps: []string{"shop"}, Tasks: []string{"scale"},
			Params: map[string]string{"desired": ">= 5"}, Approvers: []string{"group:sre"}, Quorum: 2, Expiry: "30m"},
		{ID: "interns-no-scale", Effect: Deny, Subjects: []string{"group:interns"}, Apps: []string{"shop"}, Tasks: []string{"scale"},
			Description: "interns never scale shop"},
		{ID: "blog-owners", Effect: Allow, Subjects: []string{"owner"}, Apps: []string{"blog"}},
		{ID: "researcher-reset", Effect: Allow, Subjects: []string{"group:researchers"}, Apps: []string{"datalake"},
			Tasks: []string{"reset-bucket-access"}, Params: map[string]string{"bucket": "research-{user}-*"}, Rate: "5/1h"},
		{ID: "business-hours", Effect: Allow, Subjects: []string{"user:carol"}, Apps: []string{"billing"}, Tasks: []string{"restart-*"},
			Window: "Mon-Fri 08:00-18:00 Europe/Berlin"},
		{ID: "night-batch", Effect: Allow, Subjects: []string{"user:slack:U999"}, Apps: []string{"billing"}, Tasks: []string{"run-batch"},
			Window: "Fri 22:00-06:00 UTC"},
		{ID: "berlin-night", Effect: Allow, Subjects: []string{"user:slack:U999"}, Apps: []string{"billing"}, Tasks: []string{"vacuum"},
			Window: "Sat 22:00-06:00 Europe/Berlin"},
		{ID: "ops-channel", Effect: Allow, Subjects: []string{"*"}, Apps: []string{"web-*"}, Tasks: []string{"flush-cache"},
			Channels: []string{"slack:COPS", "discord:*"}},
		{ID: "size-enum", Effect: Allow, Subjects: []string{"group:dev"}, Apps: []string{"shop"}, Tasks: []string{"resize-db"},
			Params: map[string]string{"size": "one of [small, medium]"}},
		{ID: "oncall-approve-restart", Effect: Approve, Subjects: []string{"group:oncall"}, Apps: []string{"shop"}, Tasks: []string{"restart-web"},
			Approvers: []string{"user:alice", "user:bob"}, Quorum: 1},
		{ID: "oncall-allow-restart", Effect: Allow, Subjects: []string{"group:oncall"}, Apps: []string{"shop"}, Tasks: []string{"restart-web"}},
		{ID: "first-allow", Effect: Allow, Subjects: []string{"user:dora"}, Apps: []string{"api"}, Tasks: []string{"status"}},
		{ID: "second-allow", Effect: Allow, Subjects: []string{"*"}, Apps: []string{"api"}, Tasks: []string{"status"}},
		// A rate limit is a condition: a used-up rule does not match and
		// the next matching rule decides.
		{ID: "ci-restart-limited", Effect: Allow, Subjects: []string{"group:dev"}, Apps: []string{"ci"}, Tasks: []string{"restart"}, Rate: "5/1h"},
		{ID: "ci-restart-any", Effect: Allow, Subjects: []string{"group:dev"}, Apps: []string{"ci"}, Tasks: []string{"restart"}},
		{ID: "ci-deploy-approve", Effect: Approve, Subjects: []string{"group:dev"}, Apps: []string{"ci"}, Tasks: []string{"deploy"},
			Approvers: []string{"group:sre"}, Quorum: 1, Rate: "2/1d"},
		{ID: "ci-deploy-release", Effect: Allow, Subjects: []string{"group:release"}, Apps: []string{"ci"}, Tasks: []string{"deploy"}},
		{ID: "ci-purge-first", Effect: Allow, Subjects: []string{"group:dev"}, Apps: []string{"ci"}, Tasks: []string{"purge"}, Rate: "1/1h"},
		{ID: "ci-purge-second", Effect: Allow, Subjects: []string{"group:dev"}, Apps: []string{"ci"}, Tasks: []string{"purge"}, Rate: "3/1h"},
	}
}

// usageMap is a Usage backed by fixed counts per rule.
type usageMap map[string]int

func (u usageMap) Used(ruleID, principal string, since time.Time) int { return u[ruleID] }

var _ Usage = usageMap(nil)

// monday 10:00 Berlin in winter.
var winterMonday = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func TestEvaluate(t *testing.T) {
	rs, err := Compile(fixture())
	if err != nil {
		t.Fatal(err)
	}
	bob := Request{Principal: "slack:U2", Handle: "bob", App: "shop", Time: winterMonday, Channel: "slack:CGEN"}
	tests := []struct {
		name     string
		req      Request
		usage    Usage
		effect   Effect
		rule     string
		reason   string // substring
		nearMiss string // substring; "-" means must be empty
		rateRule string
	}{
		// combining order
		{name: "default deny, no rules for app", req: with(bob, func(r *Request) { r.App, r.Task = "unknown", "x" }),
			effect: Deny, reason: "no rule allows bob to run unknown/x", nearMiss: "-"},
		{name: "allow by group", req: with(bob, func(r *Request) { r.Groups, r.Task, r.Mutating = []string{"ops"}, "restart-web", true }),
			effect: Allow, rule: "ops-all", reason: `allowed by rule "ops-all"`},
		{name: "deny beats allow", req: with(bob, func(r *Request) {
			r.Groups, r.Task, r.Mutating, r.App = []string{"ops"}, "delete-trail", true, "shop"
		}), effect: Deny, rule: "no-trail-delete", reason: `denied by rule "no-trail-delete": nobody may delete the CloudTrail trail`},
		{name: "deny on any app via task glob", req: with(bob, func(r *Request) { r.App, r.Task = "audit", "force-delete-trail-now" }),
			effect: Deny, rule: "no-trail-delete"},
		{name: "deny beats approve and allow", req: with(bob, func(r *Request) {
			r.Groups, r.Task, r.Mutating, r.Params = []string{"dev", "ops", "interns"}, "scale", true, map[string]string{"desired": "6"}
		}), effect: Deny, rule: "interns-no-scale", reason: "interns never scale shop"},
		{name: "approve beats allow", req: with(bob, func(r *Request) {
			r.Groups, r.Task, r.Mutating, r.Params = []string{"ops"}, "scale", true, map[string]string{"desired": "6"}
		}), effect: Approve, rule: "scale-big", reason: `needs 2 approvals from group:sre (rule "scale-big")`},
		{name: "approve beats allow regardless of order", req: with(bob, func(r *Request) {
			r.Groups, r.Task, r.Mutating = []string{"oncall"}, "restart-web", true
		}), effect: Approve, rule: "oncall-approve-restart", reason: `needs 1 approval from user:alice, user:bob`},
		{name: "first of equal rules decides", req: with(bob, func(r *Request) { r.App, r.Task, r.Handle = "api", "status", "dora" }),
			effect: Allow, rule: "first-allow"},
		{name: "later rule when first does not match", req: with(bob, func(r *Request) { r.App, r.Task = "api", "status" }),
			effect: Allow, rule: "second-allow"},

		// params
		{name: "number in range", req: with(bob, func(r *Request) {
			r.Groups, r.Task, r.Mutating, r.Params = []string{"dev"}, "scale", true, map[string]string{"desired": "4"}
		}), effect: Allow, rule: "scale-small"},
		{name: "number lower edge", req: with(bob, func(r *Request) {
			r.Groups, r.Task, r.Mutating, r.Params = []string{"dev"}, "scale", true, map[string]string{"desired": "1"}
		}), effect: Allow, rule: "scale-small"},
		{name: "number below range", req: with(bob, func(r *Request) {
			r.Groups, r.Task, r.Mutating, r.Params = []string{"dev"}, "scale", true, map[string]string{"desired": "0"}
		}), effect: Deny, nearMiss: `rule "scale-small" almost matched: desired=0 is not between 1 4`},
		{name: "not a number", req: with(bob, func(r *Request) {
			r.Groups, r.Task, r.Mutating, r.Params = []string{"dev"}, "scale", true, map[string]string{"desired": "lots"}
		}), effect: Deny, nearMiss: `desired=lots is not between 1 4`},
		{name: "missing param fails constraint", req: with(bob, func(r *Request) {
			r.Groups, r.Task, r.Mutating = []string{"dev"}, "scale", true
		}), effect: Deny, nearMiss: `rule "scale-small" almost matched: parameter desired is not given, rule requires desired between 1 4`},
		{name: "approve with >=", req: with(bob, func(r *Request) {
			r.Groups, r.Task, r.Mutating, r.Params = []string{"dev"}, "scale", true, map[string]string{"desired": "5"}
		}), effect: Approve, rule: "scale-big"},
		{name: "one of: member", req: with(bob, func(r *Request) {
			r.Groups, r.Task, r.Mutating, r.Params = []string{"dev"}, "resize-db", true, map[string]string{"size": "medium"}
		}), effect: Allow, rule: "size-enum"},
		{name: "one of: not member", req: with(bob, func(r *Request) {
			r.Groups, r.Task, r.Mutating, r.Params = []string{"dev"}, "resize-db", true, map[string]string{"size": "huge"}
		}), effect: Deny, nearMiss: `size=huge is not one of [small, medium]`},

		// {user} placeholder
		{name: "user placeholder own bucket", req: Request{Principal: "slack:U3", Handle: "carol", Groups: []string{"researchers"},
			App: "datalake", Task: "reset-bucket-access", Mutating: true, Params: map[string]string{"bucket": "research-carol-genomics"}},
			effect: Allow, rule: "researcher-reset", rateRule: "researcher-reset"},
		{name: "user placeholder someone else's bucket", req: Request{Principal: "slack:U3", Handle: "carol", Groups: []string{"researchers"},
			App: "datalake", Task: "reset-bucket-access", Mutating: true, Params: map[string]string{"bucket": "research-dave-genomics"}},
			effect: Deny, nearMiss: `rule "researcher-reset" almost matched: bucket=research-dave-genomics is not research-carol-*`},
		{name: "user placeholder prefix trick", req: Request{Principal: "slack:U3", Handle: "carol", Groups: []string{"researchers"},
			App: "datalake", Task: "reset-bucket-access", Mutating: true, Params: map[string]string{"bucket": "research-carolx-genomics"}},
			effect: Deny},
		{name: "user placeholder without handle", req: Request{Principal: "slack:U3", Groups: []string{"researchers"},
			App: "datalake", Task: "reset-bucket-access", Mutating: true, Params: map[string]string{"bucket": "research--genomics"}},
			effect: Deny, nearMiss: `rule needs your handle for {user} in research-{user}-*, and slack:U3 has none`},

		// rate limits
		{name: "rate under limit", usage: usageMap{"researcher-reset": 4}, req: Request{Principal: "slack:U3", Handle: "carol",
			Groups: []string{"researchers"}, App: "datalake", Task: "reset-bucket-access", Mutating: true,
			Params: map[string]string{"bucket": "research-carol-x"}}, effect: Allow, rule: "researcher-reset", rateRule: "researcher-reset"},
		{name: "rate reached", usage: usageMap{"researcher-reset": 5}, req: Request{Principal: "slack:U3", Handle: "carol",
			Groups: []string{"researchers"}, App: "datalake", Task: "reset-bucket-access", Mutating: true,
			Params: map[string]string{"bucket": "research-carol-x"}}, effect: Deny,
			reason:   `rate limit 5/1h of rule "researcher-reset" reached for carol; try again later`,
			nearMiss: `rule "researcher-reset" almost matched: its rate limit 5/1h is used up for carol`},
		{name: "rate used up, unlimited rule allows", usage: usageMap{"ci-restart-limited": 5},
			req:    with(bob, func(r *Request) { r.App, r.Task, r.Mutating, r.Groups = "ci", "restart", true, []string{"dev"} }),
			effect: Allow, rule: "ci-restart-any", reason: `allowed by rule "ci-restart-any"`},
		{name: "rate with budget decides before unlimited rule", usage: usageMap{"ci-restart-limited": 4},
			req:    with(bob, func(r *Request) { r.App, r.Task, r.Mutating, r.Groups = "ci", "restart", true, []string{"dev"} }),
			effect: Allow, rule: "ci-restart-limited", rateRule: "ci-restart-limited"},
		{name: "rate used up on approve, nothing else matches", usage: usageMap{"ci-deploy-approve": 2},
			req:    with(bob, func(r *Request) { r.App, r.Task, r.Mutating, r.Groups = "ci", "deploy", true, []string{"dev"} }),
			effect: Deny, reason: `rate limit 2/1d of rule "ci-deploy-approve" reached for bob; try again later`,
			nearMiss: `rule "ci-deploy-approve" almost matched: its rate limit 2/1d is used up for bob`},
		{name: "approve with budget", usage: usageMap{"ci-deploy-approve": 1},
			req:    with(bob, func(r *Request) { r.App, r.Task, r.Mutating, r.Groups = "ci", "deploy", true, []string{"dev"} }),
			effect: Approve, rule: "ci-deploy-approve", rateRule: "ci-deploy-approve"},
		{name: "approve with budget beats allow", usage: usageMap{"ci-deploy-approve": 1},
			req: with(bob, func(r *Request) {
				r.App, r.Task, r.Mutating, r.Groups = "ci", "deploy", true, []string{"dev", "release"}
			}),
			effect: Approve, rule: "ci-deploy-approve", rateRule: "ci-deploy-approve"},
		{name: "approve used up, allow decides", usage: usageMap{"ci-deploy-approve": 2},
			req: with(bob, func(r *Request) {
				r.App, r.Task, r.Mutating, r.Groups = "ci", "deploy", true, []string{"dev", "release"}
			}),
			effect: Allow, rule: "ci-deploy-release"},
		{name: "first limited rule used up, second has budget", usage: usageMap{"ci-purge-first": 1, "ci-purge-second": 2},
			req:    with(bob, func(r *Request) { r.App, r.Task, r.Mutating, r.Groups = "ci", "purge", true, []string{"dev"} }),
			effect: Allow, rule: "ci-purge-second", rateRule: "ci-purge-second"},
		{name: "both limited rules used up names the first", usage: usageMap{"ci-purge-first": 1, "ci-purge-second": 3},
			req:    with(bob, func(r *Request) { r.App, r.Task, r.Mutating, r.Groups = "ci", "purge", true, []string{"dev"} }),
			effect: Deny, reason: `rate limit 1/1h of rule "ci-purge-first" reached for bob`,
			nearMiss: `rule "ci-purge-first" almost matched: its rate limit 1/1h is used up`},
		{name: "rate used up, other conditions still reported for non-matching requests", usage: usageMap{"ci-purge-first": 1},
			req:    with(bob, func(r *Request) { r.App, r.Task, r.Mutating = "ci", "purge", true }),
			effect: Deny, reason: "no rule allows bob to run ci/purge", nearMiss: `is not in group dev`},

		// owner
		{name: "owner by handle", req: Request{Principal: "slack:U7", Handle: "carol", App: "blog", Owners: []string{"carol"}, Task: "restart", Mutating: true},
			effect: Allow, rule: "blog-owners"},
		{name: "owner by principal", req: Request{Principal: "slack:U7", App: "blog", Owners: []string{"slack:U7"}, Task: "restart"},
			effect: Allow, rule: "blog-owners"},
		{name: "not an owner", req: Request{Principal: "slack:U8", Handle: "erin", App: "blog", Owners: []string{"carol"}, Task: "restart"},
			effect: Deny, nearMiss: `rule "blog-owners" almost matched: erin is not an owner of blog`},

		// mutating filter
		{name: "read-only rule allows read-only task", req: with(bob, func(r *Request) { r.Groups, r.Task = []string{"dev"}, "status" }),
			effect: Allow, rule: "dev-readonly"},
		{name: "read-only rule near miss", req: with(bob, func(r *Request) { r.Groups, r.Task, r.Mutating = []string{"dev"}, "restart-web", true }),
			effect: Deny, reason: "no rule allows bob to run shop/restart-web",
			nearMiss: `rule "dev-readonly" almost matched: task restart-web is mutating, rule is for read-only tasks`},

		// channels and app globs
		{name: "channel listed", req: Request{Principal: "slack:U1", App: "web-shop", Task: "flush-cache", Channel: "slack:COPS"},
			effect: Allow, rule: "ops-channel"},
		{name: "channel glob", req: Request{Principal: "discord:1", App: "web-blog", Task: "flush-cache", Channel: "discord:42"},
			effect: Allow, rule: "ops-channel"},
		{name: "channel not listed", req: Request{Principal: "slack:U1", App: "web-shop", Task: "flush-cache", Channel: "slack:CGEN"},
			effect: Deny, nearMiss: `channel slack:CGEN is not slack:COPS or discord:*`},
		{name: "app glob miss", req: Request{Principal: "slack:U1", App: "webshop", Task: "flush-cache", Channel: "slack:COPS"},
			effect: Deny, nearMiss: "-"},

		// windows
		{name: "window inside", req: Request{Principal: "slack:U3", Handle: "carol", App: "billing", Task: "restart-api", Time: winterMonday},
			effect: Allow, rule: "business-hours"},
		{name: "window outside weekend", req: Request{Principal: "slack:U3", Handle: "carol", App: "billing", Task: "restart-api",
			Time: time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC)},
			effect: Deny, nearMiss: `rule "business-hours" almost matched: Sat 11:00 CET is outside Mon-Fri 08:00-18:00 Europe/Berlin`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Evaluate(rs, tt.req, tt.usage)
			if d.Effect != tt.effect || d.Rule != tt.rule {
				t.Fatalf("got %s by %q (%s; near miss %q), want %s by %q", d.Effect, d.Rule, d.Reason, d.NearMiss, tt.effect, tt.rule)
			}
			if !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("reason %q does not contain %q", d.Reason, tt.reason)
			}
			switch tt.nearMiss {
			case "-":
				if d.NearMiss != "" {
					t.Errorf("near miss %q, want none", d.NearMiss)
				}
			default:
				if !strings.Contains(d.NearMiss, tt.nearMiss) {
					t.Errorf("near miss %q does not contain %q", d.NearMiss, tt.nearMiss)
				}
			}
			if d.RateRule != tt.rateRule {
				t.Errorf("rate rule %q, want %q", d.RateRule, tt.rateRule)
			}
			if d.Effect == Approve {
				if len(d.Approvers) == 0 || d.Quorum < 1 || d.Expiry <= 0 {
					t.Errorf("approve decision without approvers/quorum/expiry: %+v", d)
				}
			}
			if d.Reason == "" || strings.Contains(d.Reason, "\n") {
				t.Errorf("reason must be one non-empty line: %q", d.Reason)
			}
		})
	}
}
