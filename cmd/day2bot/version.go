package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the build version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := "devel"
			if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
				v = bi.Main.Version
			}
			_, err := fmt.Fprintf(g.Stdout, "day2bot %s\n", v)
			return err
		},
	}
}

// cobraUsage recognises cobra's argument-count errors, which it returns as
// plain errors.
func cobraUsage(err error) bool {
	s := err.Error()
	return strings.Contains(s, "unknown command") || strings.Contains(s, "accepts ") ||
		strings.Contains(s, "requires at least") || strings.Contains(s, "unknown flag") ||
		strings.Contains(s, "unknown shorthand flag")
}
