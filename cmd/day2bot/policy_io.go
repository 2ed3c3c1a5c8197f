package main

// `policy import` and `policy export`, and the strict YAML reading that
// `policy add --file` shares with import.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
)

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
			return withStore(cmd.Context(), g, false, func(s *store.Store) error {
				if err := s.ImportFile(cmd.Context(), actor(cmd, g), f); err != nil {
					var ue *store.UserError
					if errors.As(err, &ue) {
						return usageError("%s: nothing imported:\n%s", args[0], ue.UserMessage())
					}
					return err
				}
				fmt.Fprintf(g.Stdout, "imported %d rules, %d users, %d groups\n", len(f.Rules), len(f.Users), len(f.Groups))
				return nil
			})
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
			return withStore(cmd.Context(), g, true, func(s *store.Store) error {
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
			})
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
	err := decodeStrict(b, &f, "empty policy file")
	return f, err
}

// decodeRule parses the single rule of `policy add --file`, as strictly.
func decodeRule(b []byte) (policies.Rule, error) {
	var r policies.Rule
	err := decodeStrict(b, &r, "empty rule file")
	return r, err
}

func decodeStrict(b []byte, v any, empty string) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New(empty)
		}
		return err
	}
	return nil
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
