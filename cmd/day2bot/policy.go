package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
)

// Exit codes of `policy test`.
const (
	exitNeedsApproval = 3
	exitDenied        = 4
)

func newPolicyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "List, change, import, export and test the guardrail policy in the database",
		Long: `Guardrail policy: rules, users (a handle and its chat identities) and groups,
kept in the SQLite database (--db). Every change is recorded in the audit log
with the actor (--actor, default cli:$USER).`,
	}
	cmd.PersistentFlags().String("actor", "", "who is making the change, for the audit log (default cli:$USER)")
	cmd.AddCommand(
		newPolicyListCmd(g),
		newPolicyAddCmd(g),
		newPolicyRemoveCmd(g),
		newPolicyImportCmd(g),
		newPolicyExportCmd(g),
		newPolicyTestCmd(g),
		newPolicyGroupCmd(g),
	)
	return cmd
}

// openStore opens the database. Read-only commands pass existing, so that a
// mistyped --db is an error instead of a new empty database.
func openStore(ctx context.Context, g *globals, existing bool) (*store.Store, error) {
	if existing {
		if _, err := os.Stat(g.DBPath); errors.Is(err, os.ErrNotExist) {
			return nil, usageError("no database at %s (set --db, or create it with 'day2bot policy import')", g.DBPath)
		}
	}
	s, err := store.Open(ctx, g.DBPath)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return s, nil
}

func actor(cmd *cobra.Command, g *globals) string {
	if a, _ := cmd.Flags().GetString("actor"); a != "" {
		return a
	}
	if u := g.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

func newPolicyListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the rules in evaluation order",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openStore(cmd.Context(), g, true)
			if err != nil {
				return err
			}
			defer s.Close()
			rules, err := s.Rules(cmd.Context())
			if err != nil {
				return err
			}
			if len(rules) == 0 {
				fmt.Fprintln(g.Stdout, "no rules: everything is denied")
				return nil
			}
			tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tEFFECT\tSUBJECTS\tAPPS\tTASKS\tCONDITIONS")
			for _, r := range rules {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Effect, list(r.Subjects), list(r.Apps), list(r.Tasks), conditions(r))
			}
			return tw.Flush()
		},
	}
}

func list(ss []string) string {
	if len(ss) == 0 {
		return "*"
	}
	return strings.Join(ss, ",")
}

// conditions summarises a rule's conditions on one line.
func conditions(r policies.Rule) string {
	var cs []string
	if r.Mutating != nil {
		cs = append(cs, "mutating="+strconv.FormatBool(*r.Mutating))
	}
	for _, k := range sortedKeys(r.Params) {
		cs = append(cs, k+" "+r.Params[k])
	}
	if len(r.Channels) > 0 {
		cs = append(cs, "in "+strings.Join(r.Channels, ","))
	}
	if r.Window != "" {
		cs = append(cs, r.Window)
	}
	if r.Rate != "" {
		cs = append(cs, "rate "+r.Rate)
	}
	if r.Effect == policies.Approve {
		q := r.Quorum
		if q == 0 {
			q = 1
		}
		cs = append(cs, fmt.Sprintf("%d of %s", q, strings.Join(r.Approvers, ",")))
	}
	if len(cs) == 0 {
		return "-"
	}
	return strings.Join(cs, "; ")
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func newPolicyAddCmd(g *globals) *cobra.Command {
	var (
		file     string
		replace  bool
		r        policies.Rule
		effect   string
		params   []string
		mutating string
	)
	cmd := &cobra.Command{
		Use:   "add [--file RULE.yaml | --id ID --effect E --subject S ...]",
		Short: "Add one rule, from flags or from a single-rule YAML file",
		Long: `Add one rule at the end of the rule list.

The rule comes either from --file (a YAML document holding one rule, the same
fields as an entry of 'rules:' in a policy file; '-' reads stdin) or from
flags. --replace replaces a rule with the same id in place instead of failing.

Examples:
  day2bot policy add --id ops-restart --effect allow --subject group:ops \
      --task restart-web --param 'batch=<= 2'
  day2bot policy add --id scale --effect approve --subject '*' --app shop \
      --task scale --approver group:ops --quorum 2 --expiry 2h
  day2bot policy add --file rule.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file != "" {
				if cmd.Flags().Changed("id") || cmd.Flags().Changed("effect") || len(r.Subjects) > 0 {
					return usageError("give the rule either with --file or with flags, not both")
				}
				b, err := readInput(g, file)
				if err != nil {
					return err
				}
				if r, err = decodeRule(b); err != nil {
					return usageError("%s: %v", file, err)
				}
			} else {
				if r.ID == "" || effect == "" {
					return usageError("--id and --effect are required (or use --file)")
				}
				r.Effect = policies.Effect(effect)
				if len(params) > 0 {
					r.Params = map[string]string{}
				}
				for _, p := range params {
					k, v, ok := strings.Cut(p, "=")
					if !ok || k == "" {
						return usageError("--param %q: want NAME=CONSTRAINT, such as 'batch=<= 2'", p)
					}
					r.Params[k] = strings.TrimSpace(v)
				}
				switch mutating {
				case "":
				case "true", "false":
					b := mutating == "true"
					r.Mutating = &b
				default:
					return usageError("--mutating must be true or false")
				}
			}
			s, err := openStore(cmd.Context(), g, false)
			if err != nil {
				return err
			}
			defer s.Close()
			if replace {
				err = s.PutRule(cmd.Context(), actor(cmd, g), r)
			} else {
				err = s.AddRule(cmd.Context(), actor(cmd, g), r)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "added rule %s\n", r.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "read the rule from this YAML file ('-' for stdin)")
	f.BoolVar(&replace, "replace", false, "replace the rule with the same id instead of failing")
	f.StringVar(&r.ID, "id", "", "rule id")
	f.StringVar(&r.Description, "description", "", "what the rule is for")
	f.StringVar(&effect, "effect", "", "allow, approve or deny")
	f.StringArrayVar(&r.Subjects, "subject", nil, "who: user:HANDLE, user:PLATFORM:ID, group:NAME, owner or * (repeatable)")
	f.StringArrayVar(&r.Apps, "app", nil, "app glob (repeatable; none: any app)")
	f.StringArrayVar(&r.Tasks, "task", nil, "task glob (repeatable; none: any task)")
	f.StringVar(&mutating, "mutating", "", "restrict to mutating (true) or read-only (false) tasks")
	f.StringArrayVar(&params, "param", nil, "parameter constraint NAME=CONSTRAINT, e.g. 'desired=between 1 10' (repeatable)")
	f.StringArrayVar(&r.Channels, "channel", nil, "channel id or glob the rule applies in (repeatable)")
	f.StringVar(&r.Window, "window", "", "time window, e.g. 'Mon-Fri 08:00-18:00 Europe/Berlin'")
	f.StringVar(&r.Rate, "rate", "", "per-user rate limit, e.g. 5/1h")
	f.StringArrayVar(&r.Approvers, "approver", nil, "for approve: who may approve (repeatable)")
	f.IntVar(&r.Quorum, "quorum", 0, "for approve: how many approvals are needed (default 1)")
	f.StringVar(&r.Expiry, "expiry", "", "for approve: how long the request stays open, e.g. 2h")
	return cmd
}

func newPolicyRemoveCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "remove ID...",
		Short: "Remove rules by id",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, ids []string) error {
			s, err := openStore(cmd.Context(), g, true)
			if err != nil {
				return err
			}
			defer s.Close()
			for _, id := range ids {
				if err := s.RemoveRule(cmd.Context(), actor(cmd, g), id); err != nil {
					return err
				}
				fmt.Fprintf(g.Stdout, "removed rule %s\n", id)
			}
			return nil
		},
	}
}

func newPolicyImportCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Replace all rules, users and groups with those of a policy file",
		Long: `Replace all rules, users and groups with those of a YAML policy file
('-' reads stdin). The whole file is checked first; if anything is wrong the
command names the rule and field and the database is left unchanged.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := readInput(g, args[0])
			if err != nil {
				return err
			}
			f, err := decodeFile(b)
			if err != nil {
				return usageError("%s: %v", args[0], err)
			}
			s, err := openStore(cmd.Context(), g, false)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.ImportFile(cmd.Context(), actor(cmd, g), f); err != nil {
				var ue *store.UserError
				if errors.As(err, &ue) {
					return usageError("%s: nothing imported:\n%s", args[0], ue.UserMessage())
				}
				return err
			}
			fmt.Fprintf(g.Stdout, "imported %d rules, %d users, %d groups\n", len(f.Rules), len(f.Users), len(f.Groups))
			return nil
		},
	}
}

func newPolicyExportCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export [-o FILE]",
		Short: "Write the rules, users and groups as a policy file (import reads it back unchanged)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openStore(cmd.Context(), g, true)
			if err != nil {
				return err
			}
			defer s.Close()
			f, err := s.ExportFile(cmd.Context())
			if err != nil {
				return err
			}
			b, err := encodeFile(f)
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err = g.Stdout.Write(b)
				return err
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout")
	return cmd
}

// readInput reads a named file, or stdin for "-".
func readInput(g *globals, name string) ([]byte, error) {
	if name == "-" {
		b, err := io.ReadAll(g.Stdin)
		if err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, usageError("read policy: %v", err)
	}
	return b, nil
}

// decodeFile parses a policy file strictly: an unknown field (a typo such as
// "subject:") is an error with its line, not a silently ignored condition.
func decodeFile(b []byte) (policies.File, error) {
	var f policies.File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return f, errors.New("empty policy file")
		}
		return f, err
	}
	return f, nil
}

func decodeRule(b []byte) (policies.Rule, error) {
	var r policies.Rule
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		if errors.Is(err, io.EOF) {
			return r, errors.New("empty rule file")
		}
		return r, err
	}
	return r, nil
}

func encodeFile(f policies.File) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encode policy: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode policy: %w", err)
	}
	return buf.Bytes(), nil
}

func newPolicyGroupCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Add, remove and list group members",
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "add GROUP MEMBER",
			Short: "Add a member (a handle or a PLATFORM:ID principal) to a group, creating it if needed",
			Args:  cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				s, err := openStore(cmd.Context(), g, false)
				if err != nil {
					return err
				}
				defer s.Close()
				if err := s.AddMember(cmd.Context(), actor(cmd, g), args[0], args[1]); err != nil {
					return err
				}
				fmt.Fprintf(g.Stdout, "added %s to group %s\n", args[1], args[0])
				return nil
			},
		},
		&cobra.Command{
			Use:   "remove GROUP MEMBER",
			Short: "Remove a member from a group",
			Args:  cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				s, err := openStore(cmd.Context(), g, true)
				if err != nil {
					return err
				}
				defer s.Close()
				if err := s.RemoveMember(cmd.Context(), actor(cmd, g), args[0], args[1]); err != nil {
					return err
				}
				fmt.Fprintf(g.Stdout, "removed %s from group %s\n", args[1], args[0])
				return nil
			},
		},
		&cobra.Command{
			Use:   "list",
			Short: "List groups and their members",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				s, err := openStore(cmd.Context(), g, true)
				if err != nil {
					return err
				}
				defer s.Close()
				groups, err := s.Groups(cmd.Context())
				if err != nil {
					return err
				}
				names := make([]string, 0, len(groups))
				for n := range groups {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					fmt.Fprintf(g.Stdout, "%s: %s\n", n, strings.Join(groups[n], ", "))
				}
				return nil
			},
		},
	)
	return cmd
}

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
rate limits count the uses recorded in the database.

Exit status: 0 allow, 3 needs approval, 4 deny, 2 usage error, 1 other error.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPolicyTest(cmd.Context(), g, pt, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&pt.user, "user", "", "principal (slack:U123) or handle (carol) of the caller")
	f.StringArrayVar(&pt.groups, "group", nil, "extra group of the caller (repeatable)")
	f.StringArrayVar(&pt.owners, "owner", nil, "an owner of the app, for rules with subject owner (repeatable)")
	f.StringVar(&pt.app, "app", "", "app")
	f.StringVar(&pt.task, "task", "", "task")
	f.StringVar(&pt.channel, "channel", "", "channel the command is typed in")
	f.BoolVar(&pt.mutating, "mutating", true, "whether the task changes anything")
	f.StringVar(&pt.at, "time", "", "evaluate at this RFC 3339 time instead of now")
	return cmd
}

func runPolicyTest(ctx context.Context, g *globals, pt policyTest, args []string) error {
	if pt.user == "" || pt.app == "" || pt.task == "" {
		return usageError("--user, --app and --task are required")
	}
	req := policies.Request{App: pt.app, Task: pt.task, Channel: pt.channel, Mutating: pt.mutating,
		Owners: pt.owners, Time: time.Now()}
	if pt.at != "" {
		t, err := time.Parse(time.RFC3339, pt.at)
		if err != nil {
			return usageError("--time %q: want RFC 3339, such as 2026-03-02T10:00:00Z", pt.at)
		}
		req.Time = t
	}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return usageError("argument %q: want NAME=VALUE", a)
		}
		if req.Params == nil {
			req.Params = map[string]string{}
		}
		req.Params[k] = v
	}
	s, err := openStore(ctx, g, true)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := identify(ctx, s, &req, pt.user); err != nil {
		return err
	}
	groups, err := s.GroupsOf(ctx, req.Principal, req.Handle)
	if err != nil {
		return err
	}
	req.Groups = dedupe(append(groups, pt.groups...))
	if req.Freeze, err = s.FreezeOf(ctx, req.App); err != nil {
		return err
	}
	rs, err := s.RuleSet(ctx)
	if err != nil {
		return err
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return err
	}
	usage, err := s.UsageFor(ctx, req.Principal, req.Time.Add(-longestRate(rules)))
	if err != nil {
		return err
	}
	d := policies.Evaluate(rs, req, usage)
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

// identify fills Principal and Handle from --user, which may be either.
func identify(ctx context.Context, s *store.Store, req *policies.Request, user string) error {
	if strings.Contains(user, ":") {
		h, err := s.Handle(ctx, user)
		if err != nil {
			return err
		}
		req.Principal, req.Handle = user, h
		return nil
	}
	if !policies.ValidHandle(user) {
		return usageError("--user %q: want a principal such as slack:U123 or a handle such as carol", user)
	}
	users, err := s.Users(ctx)
	if err != nil {
		return err
	}
	req.Handle = user
	if ps := users[user]; len(ps) > 0 {
		req.Principal = ps[0]
	} else {
		req.Principal = "cli:" + user
	}
	return nil
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
			fmt.Fprintf(w, "expires after: %s\n", d.Expiry)
		}
	}
	if d.NearMiss != "" {
		fmt.Fprintf(w, "near miss: %s\n", d.NearMiss)
	}
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

func dedupe(ss []string) []string {
	sort.Strings(ss)
	out := ss[:0]
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}
