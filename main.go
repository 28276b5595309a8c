// Command bisonsync keeps a PostgreSQL copy of every Email Bison workspace's sender accounts
// complete and fresh, and makes a stale or failing workspace impossible to miss.
//
// This file holds signal handling and exit codes; cli.go and the cmd_*.go files the command
// line; modes.go the modes, which live in their packages (tui, sync with report, demo).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes (CONTRACT.md §5).
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitDatabase    = 3
	exitInterrupted = 130
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		// The engine stops claiming, cancels in-flight fetches, rolls back and records
		// every unfinished workspace as cancelled with this reason.
		cancel(fmt.Errorf("interrupted by %s", signalName(s)))
		<-sigs
		fmt.Fprintln(os.Stderr, "bisonsync: second signal: exiting at once (unfinished workspaces keep their previous rows)")
		os.Exit(exitInterrupted)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// usageError is bad usage or configuration: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// dbError is a database that cannot be reached or upgraded: exit code 3.
type dbError struct{ err error }

func (e *dbError) Error() string { return e.err.Error() }
func (e *dbError) Unwrap() error { return e.err }

// run parses args and runs the chosen mode, returning the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	root := c.rootCommand()
	root.SetArgs(normalizeArgs(root, args))
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		return c.exitCode(ctx, cmd, err)
	}
	return c.code
}

// exitCode reports err on stderr and returns the exit code it calls for.
func (c *cli) exitCode(ctx context.Context, cmd *cobra.Command, err error) int {
	var ue *usageError
	var de *dbError
	var te *startTimeoutError
	switch {
	case !c.started:
		path := "bisonsync"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(c.stderr, "bisonsync: %v\nRun '%s --help' for usage.\n", err, path)
		return exitUsage
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "bisonsync: %v\n", err)
		return exitUsage
	case errors.As(err, &de), errors.As(err, &te):
		fmt.Fprintf(c.stderr, "bisonsync: %v\n", err)
		return exitDatabase
	case ctx.Err() != nil:
		fmt.Fprintf(c.stderr, "bisonsync: %v\n", context.Cause(ctx))
		return exitInterrupted
	default:
		fmt.Fprintf(c.stderr, "bisonsync: %v\n", err)
		return exitFailed
	}
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}
