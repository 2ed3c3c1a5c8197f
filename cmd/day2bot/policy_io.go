package main

// `policy import` and `policy export`. Reading the YAML strictly, with
// errors that name the rule and field, is in policy_decode.go.

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
)

func newPolicyImportCmd(g *globals) *cobra.Command {
	return withActorFlag(&cobra.Command{
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
			f, err := policies.ParseFile(b)
			if err != nil {
				return usageError("%s: %v", args[0], err)
			}
			return withStore(cmd.Context(), g, false, func(s *store.Store) error {
				if err := s.ImportFile(cmd.Context(), actor(cmd, g), f); err != nil {
					if msg, ok := errs.Render(err); ok {
						return usageError("%s: nothing imported:\n%s", args[0], msg)
					}
					return err
				}
				fmt.Fprintf(g.Stdout, "imported %s\n", summary(f))
				return nil
			})
		},
	})
}

func newPolicyExportCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export [-o FILE]",
		Short: "Write the rules, users and groups as a policy file (import reads it back unchanged)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), g, true, func(s *store.Store) error {
				f, err := s.ExportFile(cmd.Context())
				if err != nil {
					return err
				}
				b, err := policies.FormatFile(f)
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
				fmt.Fprintf(g.Stdout, "exported %s to %s\n", summary(f), out)
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout")
	return cmd
}

// summary counts what a policy file holds.
func summary(f policies.File) string {
	return fmt.Sprintf("%d rules, %d users, %d groups", len(f.Rules), len(f.Users), len(f.Groups))
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
