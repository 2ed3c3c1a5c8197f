package main

// `day2bot schedules list`: the apps' schedules (bot/routines) with their
// next run and the last one recorded in the database.

import (
	"cmp"
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/day2bot/day2bot/bot/routines"
	"github.com/day2bot/day2bot/internal/clock"
)

func newSchedulesCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "schedules",
		Short: "Show the apps' schedules (routine tasks and digests)",
	}
	var configPath string
	list := &cobra.Command{
		Use:   "list",
		Short: "List every app's schedules with their next run and the last run recorded in the database",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dbPath := ""
			if cmd.Flags().Changed("db") {
				dbPath = g.DBPath
			}
			return listSchedules(cmd.Context(), g, configPath, dbPath)
		},
	}
	list.Flags().StringVar(&configPath, "config", "day2bot.yaml", "path of the config file")
	c.AddCommand(list)
	return c
}

// listSchedules prints KEY, SPEC, CATCH-UP, NEXT and LAST for every schedule.
func listSchedules(ctx context.Context, g *globals, configPath, dbPath string) error {
	cfg, err := loadConfig(configPath, g.Getenv)
	if err != nil {
		return usageError("%w", err)
	}
	cat := cfg.Catalog
	apps, err := resolvedApps(cat, cfg.Apps)
	if err != nil {
		return usageError("%w", err)
	}
	st, err := openStore(ctx, cmp.Or(dbPath, cfg.Database, "day2bot.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	// Resolving the apps refused bad cron specs: what fails here is
	// reading the database.
	infos, err := routines.List(ctx, apps, st, clock.Real{})
	if err != nil {
		return err
	}
	if len(infos) == 0 {
		fmt.Fprintln(g.Stdout, "no schedules")
		return nil
	}
	tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCHEDULE\tRUNS\tCRON\tCATCH-UP\tNEXT\tLAST")
	for _, in := range infos {
		last := "never"
		if !in.Last.IsZero() {
			last = in.Last.UTC().Format("2006-01-02 15:04 MST")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\n", in.Key, in.Runs, in.Spec, in.CatchUp, in.Next.UTC().Format("2006-01-02 15:04 MST"), last)
	}
	return tw.Flush()
}
