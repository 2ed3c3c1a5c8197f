// Command day2bot is the ChatOps bot for day-2 operations on AWS.
//
// This file is the composition root's entry: it builds the command tree and
// maps errors to exit codes. Each subcommand lives in its own file and gets
// the global options as a value; nothing else in the module reads flags or
// the environment.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // policy time windows and cron CRON_TZ must work in minimal images

	"github.com/spf13/cobra"

	"github.com/day2bot/day2bot/internal/errs"
)

// Exit codes. policy test uses 3 and 4 for needs-approval and deny.
const (
	exitOK       = 0
	exitInternal = 1
	exitUsage    = 2
)

// globals are the options every subcommand sees.
type globals struct {
	DBPath string
	Stdout io.Writer
	Stderr io.Writer
	Stdin  io.Reader
	Getenv func(string) string
}

// exitError carries a specific exit code out of a subcommand.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// usageError marks errors caused by how the command was invoked or the
// files it read: Invalid, whatever it wraps, so the exit code is 2.
func usageError(format string, args ...any) error {
	return &errs.Error{Kind: errs.Invalid, Err: fmt.Errorf(format, args...)}
}

// argsOrExample is cobra.ExactArgs(n) (cobra.MinimumNArgs(n) if atLeast)
// with a usage line that shows an example, for commands people meet
// before they know their arguments.
func argsOrExample(n int, atLeast bool, usage, example string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) == n || (atLeast && len(args) > n) {
			return nil
		}
		return usageError("usage: %s\n  e.g. %s", usage, example)
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &globals{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// run executes the command line and returns the process exit code. Tests
// call it in-process.
func run(ctx context.Context, args []string, g *globals) int {
	root := newRootCmd(g)
	root.SetArgs(args)
	root.SetOut(g.Stdout)
	root.SetErr(g.Stderr)
	root.SetIn(g.Stdin)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(g.Stderr, "day2bot:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(g.Stderr, "day2bot:", err)
	if isUsage(err) {
		return exitUsage
	}
	return exitInternal
}

// isUsage reports errors a person fixes by changing what they ran or the
// files it read, and what cobra raises for bad flags or arguments. A
// Transient error is not one: the same command may work in a minute.
func isUsage(err error) bool {
	switch errs.KindOf(err) {
	case errs.Invalid, errs.NotFound, errs.Conflict, errs.Permission:
		return true
	}
	return cobraUsage(err)
}

func newRootCmd(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:           "day2bot",
		Short:         "ChatOps bot for day-2 operations on AWS, with guardrail policies",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.DBPath, "db", "day2bot.db", "the database: a SQLite file path (one replica; local disk, not NFS/EFS) or postgres://… (several replicas)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: fmt.Errorf("%w\nrun '%s --help' for usage", err, c.CommandPath())}
	})
	root.AddCommand(
		newVersionCmd(g),
		newSandboxCmd(g),
		newShellCmd(g),
		newServeCmd(g),
		newPolicyCmd(g),
		newAuditCmd(g),
		newBlueprintsCmd(g),
		newIAMPolicyCmd(g),
		newSchedulesCmd(g),
	)
	return root
}
