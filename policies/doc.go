// Package policies is day2bot's guardrail evaluator: compiled rules in, a
// Decision out. It is pure — no I/O, no clock, no globals — so the same
// request always gets the same answer and `why` can replay it. Rules are
// stored by policies/store; the engine passes a compiled RuleSet, the
// request and the rate-limit usage counts to Evaluate.
//
// # The rule language
//
// A rule (see Rule) says who may do what under which conditions, with one
// effect:
//
//	allow    the run starts at once
//	approve  the run starts after Quorum approvers agreed (Approvers are
//	         user:NAME, group:NAME or owner; Expiry defaults to 1h)
//	deny     the run is refused
//
// Who — subjects, any one of which must match the caller:
//
//	user:slack:U123   a principal (platform:id), exactly as the adapter reports it
//	user:carol        a handle, the configured per-person name
//	group:ops         a member of group ops
//	owner             an owner of the app being acted on
//	*                 anyone
//
// What — apps and tasks are globs ('*' any run of characters, '?' one
// character); an empty list means any. mutating: true or false restricts a
// rule to mutating or read-only tasks.
//
// Conditions, all of which must hold:
//
//	params     name → constraint; the parameter must be present and fit:
//	             "<= 8", ">= 1", "< 3", "> 0", "= 2", "!= 0"   numbers
//	             "between 1 10"                              inclusive
//	             "one of [small, medium]"                    exact strings
//	             "research-{user}-*"                         a glob; {user} is
//	                 the caller's handle, and never matches a caller without one
//	channels   channel ids or globs ("slack:C0123", "discord:*"); empty: anywhere
//	window     "[DAYS] HH:MM-HH:MM ZONE": "Mon-Fri 08:00-18:00 Europe/Berlin",
//	           "Sat,Sun 00:00-24:00 UTC", "Fri 22:00-06:00 UTC" (overnight windows
//	           belong to the day they start on). Hours are wall-clock in ZONE, so
//	           they hold across daylight-saving changes.
//	rate       "5/1h", "20/1d": per caller (principal) per rule; not on deny rules.
//	           A rule whose limit is used up does not match, like any other
//	           failed condition.
//
// # Combining
//
// Evaluate applies, in order:
//
//  1. A freeze on the app denies every mutating task (read-only tasks are
//     unaffected), whatever the rules say.
//  2. Any matching deny rule wins.
//  3. Else any matching approve rule: approval is needed.
//  4. Else any matching allow rule: allowed.
//  5. Else deny by default, naming the rule that came closest (NearMiss).
//     When an allow or approve rule matched but for its used-up rate limit,
//     the reason and NearMiss name that rule and its limit.
//
// A rate limit is a condition: an allow or approve rule whose limit is used
// up does not match, so another matching rule without a limit, or with
// budget left, still decides. Decision.RateRule names the deciding rule when
// it has a limit, so the use is recorded against the rule that let the run
// through.
//
// Among several matching rules of the same kind, the first in source order
// decides (its id, reason, approvers). Every Decision carries the deciding
// rule id and a one-line reason.
//
// Compile validates everything up front and reports each problem with rule
// id, field and reason; it indexes rules by literal app and task names so an
// evaluation looks only at rules that can concern the request.
package policies
