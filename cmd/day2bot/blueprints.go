package main

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/aws"
)

// exitInvalid is the exit code of `blueprints validate` when a file has
// problems: the files are wrong, not the invocation.
const exitInvalid = 1

func newBlueprintsCmd(g *globals) *cobra.Command {
	var dirs []string
	cmd := &cobra.Command{
		Use:   "blueprints",
		Short: "List, show and validate blueprints (templates of day-2 operations)",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	cmd.PersistentFlags().StringArrayVar(&dirs, "dir", nil, "also load user blueprints from this directory (repeatable)")

	catalog := func() (*blueprints.Catalog, error) {
		cat, err := blueprints.Library()
		if err != nil {
			return nil, fmt.Errorf("load blueprint library: %w", err)
		}
		for _, d := range dirs {
			bps, err := blueprints.LoadDir(d)
			if err != nil {
				return nil, &exitError{code: exitInvalid, err: err}
			}
			if cat, err = cat.With(bps...); err != nil {
				return nil, &exitError{code: exitInvalid, err: err}
			}
		}
		return cat, nil
	}

	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the available blueprints",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cat, err := catalog()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
			total := 0
			for _, n := range cat.Names() {
				b, _ := cat.Get(n)
				fmt.Fprintf(tw, "%s\t%d tasks\t%s\n", n, len(b.Tasks), b.Description)
				total += len(b.Tasks)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			_, err = fmt.Fprintf(g.Stdout, "\n%d blueprints, %d tasks\n", len(cat.Names()), total)
			return err
		},
	})

	cmd.AddCommand(&cobra.Command{
		Use:   "show NAME",
		Short: "Show a blueprint's resources, tasks and bounds, health, schedules and remediations",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cat, err := catalog()
			if err != nil {
				return err
			}
			b, err := cat.Lookup(args[0]) // NotFound: exit 2
			if err != nil {
				return err
			}
			return blueprints.Render(g.Stdout, b)
		},
	})

	cmd.AddCommand(&cobra.Command{
		Use:   "template NAME",
		Short: "Print the CloudFormation template a blueprint deploys its stack from",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cat, err := catalog()
			if err != nil {
				return err
			}
			b, err := cat.Lookup(args[0]) // NotFound: exit 2
			if err != nil {
				return err
			}
			if b.TemplateBody == nil {
				return errs.E("print template", errs.Invalid, "blueprint %s has no template: it operates resources made elsewhere", b.Name)
			}
			_, err = g.Stdout.Write(b.TemplateBody)
			return err
		},
	})

	cmd.AddCommand(&cobra.Command{
		Use:   "validate FILE...",
		Short: "Validate blueprint files against the schema and the actions; exit 1 listing every problem",
		Args: argsOrExample(1, true, "day2bot blueprints validate FILE...",
			"day2bot blueprints validate my-blueprints/*.yaml   (or blueprints/library/*.yaml, the embedded ones)"),
		RunE: func(c *cobra.Command, args []string) error {
			cat, err := catalog()
			if err != nil {
				return err
			}
			return validateBlueprintFiles(g, cat, args)
		},
	})
	return cmd
}

// validateBlueprintFiles checks each file on its own and against the
// catalog (a name already taken is an error), printing every problem with
// its file and path.
func validateBlueprintFiles(g *globals, cat *blueprints.Catalog, files []string) error {
	reg, err := tasks.NewRegistry(aws.All()...)
	if err != nil {
		return fmt.Errorf("build action registry: %w", err)
	}
	var problems blueprints.ValidationErrors
	report := func(err error) error {
		var ve blueprints.ValidationErrors
		if errors.As(err, &ve) {
			problems = append(problems, ve...)
			return nil
		}
		return err
	}
	var ok []*blueprints.Blueprint
	for _, f := range files {
		if blueprints.IsTemplate(f) {
			// A glob over a blueprint directory takes in its stack
			// templates too; each is checked with the blueprint that
			// names it.
			fmt.Fprintf(g.Stdout, "%s: skipped (a stack template, checked with its blueprint)\n", f)
			continue
		}
		b, err := blueprints.LoadFile(f)
		if err != nil {
			if err := report(err); err != nil {
				return err
			}
			continue
		}
		cat := cat
		if lib, found := cat.Get(b.Name); found && path.Base(lib.File) == filepath.Base(f) && path.Dir(lib.File) == "library" {
			// The library's own source (blueprints/library/NAME.yaml, an
			// edited copy of it): checked as the new version of that
			// blueprint, not as a second one of the same name.
			if cat, err = cat.Without(b.Name); err != nil {
				return err
			}
		}
		if err := b.Validate(reg); err != nil {
			if err := report(err); err != nil {
				return err
			}
			continue
		}
		if _, err := cat.With(b); err != nil {
			if err := report(err); err != nil {
				return err
			}
			continue
		}
		ok = append(ok, b)
	}
	if len(ok) > 1 {
		// Files that are fine alone may still clash with each other.
		names := make([]string, len(ok))
		for i, b := range ok {
			names[i] = b.Name
		}
		rest, err := cat.Without(names...)
		if err != nil {
			return err
		}
		if _, err := rest.With(ok...); err != nil {
			if err := report(err); err != nil {
				return err
			}
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(g.Stderr, p.Error())
		}
		return &exitError{code: exitInvalid, err: fmt.Errorf("%d problem(s) in %d file(s)", len(problems), len(files))}
	}
	for _, b := range ok {
		fmt.Fprintf(g.Stdout, "%s: ok (blueprint %s, %d tasks)\n", b.File, b.Name, len(b.Tasks))
	}
	return nil
}
