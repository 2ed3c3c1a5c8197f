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
			_, err := fmt.Fprintf(g.Stdout, "day2bot %s\n", buildVersion())
			return err
		},
	}
}

// buildVersion is the module version of a release build (go install
// …@v1.2.3), else what the build knows of the commit it was built from
// (go build in a clone stamps it): "devel 3f2a9c1d0b7e (2026-12-05T21:00:00Z, modified)".
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return versionOf(bi)
}

func versionOf(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, at, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if rev == "" {
		return "devel (no VCS information: built with go run or -buildvcs=false)"
	}
	return fmt.Sprintf("devel %.12s (%s%s)", rev, at, modified)
}

// cobraUsage recognises cobra's argument-count errors, which it returns as
// plain errors.
func cobraUsage(err error) bool {
	s := err.Error()
	return strings.Contains(s, "unknown command") || strings.Contains(s, "accepts ") ||
		strings.Contains(s, "requires at least") || strings.Contains(s, "unknown flag") ||
		strings.Contains(s, "unknown shorthand flag")
}
