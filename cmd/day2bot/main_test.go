package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/internal/errs"
)

// runCLI runs the command line in-process and returns exit code and output.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	g := &globals{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(stdin), Getenv: func(string) string { return "" }}
	code := run(context.Background(), args, g)
	return code, out.String(), errb.String()
}

func TestRootExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"--help"}, 0, "day2bot"},
		{"version", []string{"version"}, 0, "day2bot "},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"unknown flag", []string{"version", "--nope"}, 2, "unknown flag"},
		{"extra args", []string{"version", "x"}, 2, "unknown command"},
		{"iam-policy without app", []string{"iam-policy"}, 2, "e.g. day2bot iam-policy shop"},
		{"validate without files", []string{"blueprints", "validate"}, 2, "e.g. day2bot blueprints validate"},
		{"sandbox with --db", []string{"sandbox", "--db", "mine.db"}, 2, "sandbox keeps its own temporary database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit = %d, want %d (stdout %q, stderr %q)", code, tt.code, out, errs)
			}
			if !strings.Contains(out+errs, tt.want) {
				t.Fatalf("output %q does not contain %q", out+errs, tt.want)
			}
		})
	}
}

// The exit code follows the error's kind: what the person fixes in what
// they ran is 2, what may pass by itself or is ours is 1.
func TestExitCodeByKind(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{errs.E("look up blueprint", errs.NotFound, "unknown blueprint %q", "x"), true},
		{errs.E("vote", errs.Conflict, "approval a-1 is already approved"), true},
		{errs.E("check permission", errs.Permission, "only admins may do that"), true},
		{usageError("--as %q: use a lowercase name like alice", "Bob"), true},
		{usageError("%w", errs.E("call DescribeInstances", errs.Transient, "AWS is throttling")), true},
		{fmt.Errorf("load config: %w", errs.E("call DescribeInstances", errs.Transient, "AWS is throttling")), false},
		{errs.E("call GetFoo", errs.Internal, "the endpoint does not implement GetFoo"), false},
		{errors.New("disk full"), false},
	}
	for _, tt := range tests {
		if got := isUsage(tt.err); got != tt.want {
			t.Errorf("isUsage(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
