package main

// The `policy` command tree and the rule commands (list, add, remove). Import
// and export are in policy_io.go, `policy test` in policy_test_cmd.go and the
// group commands in policy_group.go.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
)

func newPolicyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "List, change, import, export and test the guardrail policy in the database",
		Long: `Guardrail policy: rules, users (a handle and its chat identities) and groups,
kept in the SQLite database (--db). Every change is recorded in the audit log
with the actor (--actor, default cli:$USER).`,
	}
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

func newPolicyListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the rules in source order",
		Long: `List the rules in source order. Order matters only among matching rules of
the same effect: the first one decides. Across effects a freeze wins, then
any deny, then approve, then allow (a used-up rate limit makes its rule not
match); default deny.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), g, true, func(s *store.Store) error {
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
			})
		},
	}
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
				if fs := ruleFlagsSet(cmd); len(fs) > 0 {
					return usageError("give the rule either with --file or with flags, not both (%s given)", strings.Join(fs, ", "))
				}
				b, err := readInput(g, file)
				if err != nil {
					return err
				}
				if r, err = policies.ParseRule(b); err != nil {
					return usageError("%s: %v", file, err)
				}
			} else {
				if r.ID == "" || effect == "" {
					return usageError("--id and --effect are required (or use --file)")
				}
				r.Effect = policies.Effect(effect)
				if r.Effect == policies.Approve && !cmd.Flags().Changed("quorum") {
					r.Quorum = 1 // as --help says; a policy file must say it
				}
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
			return withStore(cmd.Context(), g, false, func(s *store.Store) error {
				add := s.AddRule
				if replace {
					add = s.PutRule
				}
				if err := add(cmd.Context(), actor(cmd, g), r); err != nil {
					return err
				}
				fmt.Fprintf(g.Stdout, "added rule %s\n", r.ID)
				return nil
			})
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
	return withActorFlag(cmd)
}

// ruleFlagsSet lists the flags of `policy add` that describe a rule and were
// given, so that --file does not silently ignore them.
func ruleFlagsSet(cmd *cobra.Command) []string {
	var set []string
	cmd.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
		switch {
		case !f.Changed, f.Name == "file", f.Name == "replace", f.Name == "actor":
		default:
			set = append(set, "--"+f.Name)
		}
	})
	return set
}

func newPolicyRemoveCmd(g *globals) *cobra.Command {
	return withActorFlag(&cobra.Command{
		Use:   "remove ID...",
		Short: "Remove rules by id",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, ids []string) error {
			return withStore(cmd.Context(), g, true, func(s *store.Store) error {
				for _, id := range ids {
					if err := s.RemoveRule(cmd.Context(), actor(cmd, g), id); err != nil {
						return err
					}
					fmt.Fprintf(g.Stdout, "removed rule %s\n", id)
				}
				return nil
			})
		},
	})
}

// withStore opens the database, runs fn on it and closes it. Commands that
// only read or remove pass existing, so that a mistyped --db is an error
// instead of a new empty database.
func withStore(ctx context.Context, g *globals, existing bool, fn func(*store.Store) error) error {
	s, err := openPolicyStore(ctx, g, existing)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// openPolicyStore opens the database; see withStore for existing.
func openPolicyStore(ctx context.Context, g *globals, existing bool) (*store.Store, error) {
	if existing && !isPostgres(g.DBPath) {
		if _, err := os.Stat(g.DBPath); errors.Is(err, os.ErrNotExist) {
			return nil, usageError("no database at %s (set --db, or create it with 'day2bot policy import')", g.DBPath)
		}
	}
	s, err := openStore(ctx, g.DBPath)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return s, nil
}

// withActorFlag adds --actor to a command that changes the policy.
func withActorFlag(cmd *cobra.Command) *cobra.Command {
	cmd.Flags().String("actor", "", "who is making the change, for the audit log (default cli:$USER)")
	return cmd
}

// actor is who the audit log records for a change.
func actor(cmd *cobra.Command, g *globals) string {
	if a, _ := cmd.Flags().GetString("actor"); a != "" {
		return a
	}
	if u := g.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

func list(ss []string) string {
	if len(ss) == 0 {
		return "*"
	}
	return strings.Join(ss, ",")
}

// conditions summarises a rule's conditions on one line.
func conditions(r policies.Rule) string {
	cs := r.Conditions()
	if len(cs) == 0 {
		return "-"
	}
	return strings.Join(cs, "; ")
}
