package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/day2bot/day2bot/internal/suggest"
	"github.com/day2bot/day2bot/policies/store"
)

func newAuditCmd(g *globals) *cobra.Command {
	var f store.AuditFilter
	cmd := &cobra.Command{
		Use:   "audit [--app A] [--kind K] [--actor WHO] [--run ID] [--limit N]",
		Short: "Show the audit log: every decision and every change, newest first",
		Long: `Show the append-only audit log, newest first: every policy decision, every
change to rules, users, groups and freezes (with who made it), approvals and
votes, and run state changes. Kinds: decision, policy, approval, run, freeze.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.Limit < 1 {
				return usageError("--limit must be at least 1")
			}
			if f.Kind != "" && !slices.Contains(auditKinds, f.Kind) {
				return usageError("--kind %q: want one of %s%s", f.Kind, strings.Join(auditKinds, ", "), suggest.DidYouMean(f.Kind, auditKinds))
			}
			return withStore(cmd.Context(), g, true, func(s *store.Store) error {
				es, err := s.AuditLog(cmd.Context(), f)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TIME\tACTOR\tKIND\tAPP/TASK\tRUN\tDETAIL")
				for _, e := range es {
					what := e.App
					if e.Task != "" {
						what += "/" + e.Task
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.At.UTC().Format(time.RFC3339), dash(e.Actor), e.Kind,
						dash(what), dash(e.RunID), strings.ReplaceAll(e.Detail, "\n", " "))
				}
				return tw.Flush()
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.App, "app", "", "only entries about this app")
	fl.StringVar(&f.Kind, "kind", "", "only entries of this kind")
	fl.StringVar(&f.Actor, "actor", "", "only entries by this actor")
	fl.StringVar(&f.RunID, "run", "", "only entries about this run (r-123)")
	fl.IntVar(&f.Limit, "limit", 50, "show at most N entries")
	return cmd
}

// auditKinds are the kinds --kind accepts: a misspelt kind would otherwise
// show an empty log.
var auditKinds = []string{store.KindDecision, store.KindPolicy, store.KindApproval, store.KindRun, store.KindFreeze, store.KindRefused}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
