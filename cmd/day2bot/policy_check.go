package main

// `policy test`: what the stored policy decides for one request, and why,
// with the decision as the exit status so scripts can branch on it.

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
)

// Exit codes of `policy test`.
const (
	exitNeedsApproval = 3
	exitDenied        = 4
)

// policyTest is the input of `policy test`.
type policyTest struct {
	user, app, task, channel, at string
	groups, owners               []string
	mutating                     bool
}

func newPolicyTestCmd(g *globals) *cobra.Command {
	var pt policyTest
	cmd := &cobra.Command{
		Use:   "test --user U --app A --task T [--group G...] [--channel C] [k=v ...]",
		Short: "Show what the policy decides for a request, and why",
		Long: `Evaluate one request against the stored policy, as the bot would, and print
the decision, the deciding rule and the reason (and, for a default deny, the
rule that came closest). Parameters are given as k=v arguments.

--user is a principal (slack:U123) or a handle (carol); the other one is
looked up in the users of the policy. The user's groups are those of the
policy plus any given with --group. The app's freeze, if any, applies, and
rate limits count the uses recorded in the database. The app's owners and
whether the task changes anything come from the bot's config, which this
command does not read: give them with --owner and --mutating.

Exit status: 0 allow, 3 needs approval, 4 deny, 2 usage error, 1 other error.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPolicyTest(cmd.Context(), g, pt, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&pt.user, "user", "", "principal (slack:U123) or handle (carol) of the caller")
	f.StringArrayVar(&pt.groups, "group", nil, "extra group of the caller (repeatable)")
	f.StringArrayVar(&pt.owners, "owner", nil, "an owner of the app, for rules with subject owner (repeatable)")
	f.StringVar(&pt.app, "app", "", "the app, as in the apps config (required)")
	f.StringVar(&pt.task, "task", "", "the task, as the user types it (required)")
	f.StringVar(&pt.channel, "channel", "", "channel the command is typed in")
	f.BoolVar(&pt.mutating, "mutating", true, "whether the task changes anything (false for a read-only task)")
	f.StringVar(&pt.at, "time", "", "evaluate at this RFC 3339 time instead of now")
	return cmd
}

func runPolicyTest(ctx context.Context, g *globals, pt policyTest, args []string) error {
	req, err := pt.request(args, time.Now())
	if err != nil {
		return err
	}
	var d policies.Decision
	err = withStore(ctx, g, true, func(s *store.Store) error {
		d, err = decide(ctx, s, req, pt.user, pt.groups)
		return err
	})
	if err != nil {
		return err
	}
	printDecision(g.Stdout, d)
	switch d.Effect {
	case policies.Allow:
		return nil
	case policies.Approve:
		return &exitError{code: exitNeedsApproval}
	default:
		return &exitError{code: exitDenied}
	}
}

// request checks the flags and arguments and builds the request they
// describe, without the caller's identity and groups (those are in the
// database).
func (pt policyTest) request(args []string, now time.Time) (policies.Request, error) {
	if pt.user == "" || pt.app == "" || pt.task == "" {
		return policies.Request{}, usageError("--user, --app and --task are required")
	}
	req := policies.Request{App: pt.app, Task: pt.task, Channel: pt.channel, Mutating: pt.mutating,
		Owners: pt.owners, Time: now}
	if pt.at != "" {
		t, err := time.Parse(time.RFC3339, pt.at)
		if err != nil {
			return req, usageError("--time %q: want RFC 3339, such as 2026-03-02T10:00:00Z", pt.at)
		}
		req.Time = t
	}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return req, usageError("argument %q: want NAME=VALUE", a)
		}
		if req.Params == nil {
			req.Params = map[string]string{}
		}
		req.Params[k] = v
	}
	return req, nil
}

// decide completes req from the database as the bot would — the caller's
// identity and groups (plus extraGroups), the app's freeze, the rate-limit
// uses — and evaluates it against the stored rules.
func decide(ctx context.Context, s *store.Store, req policies.Request, user string, extraGroups []string) (policies.Decision, error) {
	if err := identify(ctx, s, &req, user); err != nil {
		return policies.Decision{}, err
	}
	groups := append(req.Groups, extraGroups...)
	slices.Sort(groups)
	req.Groups = slices.Compact(groups)
	var err error
	if req.Freeze, err = s.FreezeOf(ctx, req.App); err != nil {
		return policies.Decision{}, err
	}
	rs, err := s.RuleSet(ctx)
	if err != nil {
		return policies.Decision{}, err
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return policies.Decision{}, err
	}
	key := store.RateKey(req.Principal, req.Handle)
	usage, err := s.UsageFor(ctx, key, req.Time.Add(-longestRate(rules)))
	if err != nil {
		return policies.Decision{}, err
	}
	return policies.Evaluate(rs, req, personUsage{usage, key}), nil
}

// personUsage answers the evaluator's per-principal question with the
// person's count: uses are recorded under store.RateKey, as the bot does.
type personUsage struct {
	u   policies.Usage
	key string
}

func (p personUsage) Used(rule, _ string, since time.Time) int { return p.u.Used(rule, p.key, since) }

// identify fills Principal, Handle and Groups from --user, which may be
// either a principal or a handle, as the bot's policy test does.
func identify(ctx context.Context, s *store.Store, req *policies.Request, user string) error {
	if !strings.Contains(user, ":") && !policies.ValidHandle(user) {
		return usageError("--user %q: want a principal such as slack:U123 or a handle such as carol", user)
	}
	var err error
	req.Principal, req.Handle, req.Groups, err = s.Identify(ctx, user)
	return err
}

func printDecision(w io.Writer, d policies.Decision) {
	fmt.Fprintf(w, "decision: %s\n", d.Effect)
	rule := d.Rule
	if rule == "" {
		rule = "(none)"
		if d.Frozen {
			rule = "(freeze)"
		}
	}
	fmt.Fprintf(w, "rule: %s\n", rule)
	fmt.Fprintf(w, "reason: %s\n", d.Reason)
	if d.Effect == policies.Approve {
		fmt.Fprintf(w, "approvers: %d of %s\n", d.Quorum, strings.Join(d.Approvers, ", "))
		if d.Expiry > 0 {
			fmt.Fprintf(w, "expires after: %s\n", shortDuration(d.Expiry))
		}
	}
	if d.NearMiss != "" {
		fmt.Fprintf(w, "near miss: %s\n", d.NearMiss)
	}
}

// shortDuration writes whole hours and minutes as a policy does: 30m, 2h,
// not 30m0s, 2h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// longestRate is how far back rate-limit uses matter for these rules.
func longestRate(rules []policies.Rule) time.Duration {
	var longest time.Duration
	for _, r := range rules {
		if r.Rate == "" {
			continue
		}
		if rt, err := policies.ParseRate(r.Rate); err == nil && rt.Per > longest {
			longest = rt.Per
		}
	}
	return longest
}
