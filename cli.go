package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// cli is one invocation of the program: the options its command line sets, where its output
// goes, and how it ended. It replaces global flag state: each call of run builds its own.
type cli struct {
	opts   options
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string

	// started is set once a mode begins: errors before it (flags, arguments, unknown
	// commands, validation) are bad usage, exit 2; errors after it are the mode's own.
	started bool
	code    int
}

// subcommands lists the subcommands. A new one is a file cmd_NAME.go with its constructor
// and a line here.
func (c *cli) subcommands() []*cobra.Command {
	return []*cobra.Command{
		c.syncCommand(),
		c.checkCommand(),
		c.migrateCommand(),
		c.registerCommand(),
		c.keysCommand(),
		c.versionCommand(),
		c.completionCommand(),
	}
}

// rootCommand is bisonsync itself: the console, and the flag forms of the other modes.
func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "bisonsync",
		Short: "keep a PostgreSQL copy of every Email Bison workspace's sender accounts",
		Long: `bisonsync keeps a PostgreSQL copy of every Email Bison workspace's sender accounts
complete and fresh, and makes a stale or failing workspace impossible to miss.`,
		Annotations: map[string]string{annotUsage: rootUsage, annotFooter: rootFooter},
		Example:     rootExamples,
		Args:        c.unknownCommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if c.opts.version {
				fmt.Fprintln(c.stdout, versionLine())
				return nil
			}
			return c.runMode(cmd.Context(), nil)
		},
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	addDatabaseFlags(root.PersistentFlags(), &c.opts)
	fs := root.Flags()
	addModeFlags(fs, &c.opts)
	addSyncFlags(fs, &c.opts)
	addCheckFlags(fs, &c.opts)
	addOutputFlags(fs, &c.opts)
	addMonitorFlags(fs, &c.opts)
	addDashboardFlags(fs, &c.opts.dash)
	c.completeFlags(root)
	root.SetFlagErrorFunc(flagError)
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) { writeHelp(cmd.OutOrStdout(), cmd) })
	root.SetHelpCommand(c.helpCommand())
	root.AddCommand(c.subcommands()...)
	root.SetIn(c.stdin)
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	return root
}

// runMode validates the options, with set marking the subcommand's mode first, then runs
// the mode they choose.
func (c *cli) runMode(ctx context.Context, set func(*options)) error {
	if set != nil {
		set(&c.opts)
	}
	if err := c.opts.validate(); err != nil {
		return err
	}
	c.started = true
	code, err := c.dispatch(ctx)
	c.code = code
	return err
}

// unknownCommand is the root's argument check: a word that is not a subcommand is a
// mistake, named with the closest subcommands.
func (c *cli) unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return fmt.Errorf("unknown command %q%s", args[0], didYouMean(closest(args[0], commandNames(cmd), 3), asCommand))
}

// noArguments is the argument check of commands that take none.
func noArguments(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return fmt.Errorf("unexpected argument %q: %s takes none", args[0], cmd.CommandPath())
}

// commandNames are the subcommands an operator may type.
func commandNames(cmd *cobra.Command) []string {
	var names []string
	for _, sub := range cmd.Root().Commands() {
		if sub.IsAvailableCommand() || sub.Name() == "help" {
			names = append(names, sub.Name())
		}
	}
	return names
}

// flagError rewrites pflag's parse errors the way the README writes flags (two dashes),
// with the closest flag suggested for a misspelt one.
func flagError(cmd *cobra.Command, err error) error {
	var notExist *pflag.NotExistError
	var invalid *pflag.InvalidValueError
	var missing *pflag.ValueRequiredError
	switch {
	case errors.As(err, &notExist):
		name := notExist.GetSpecifiedName()
		if notExist.GetSpecifiedShortnames() != "" {
			return fmt.Errorf("unknown flag -%s", name)
		}
		if cmd.HasParent() && cmd.Root().Flags().Lookup(name) != nil {
			return fmt.Errorf("--%s does not go with %s", name, cmd.CommandPath())
		}
		return fmt.Errorf("unknown flag --%s%s", name, didYouMean(closest(name, flagNames(cmd), 3), asFlag))
	case errors.As(err, &invalid):
		return fmt.Errorf("invalid value %q for --%s: %v", invalid.GetValue(), invalid.GetFlag().Name, errors.Unwrap(invalid))
	case errors.As(err, &missing):
		return fmt.Errorf("--%s needs a value", missing.GetSpecifiedName())
	}
	return err
}

// flagNames are the flags cmd accepts.
func flagNames(cmd *cobra.Command) []string {
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	return names
}

// normalizeArgs keeps the single-dash spelling of the flag forms working (Go's flag package
// read -headless as --headless; cron lines written that way must not break): an argument
// -name, or -name=value, where name is longer than one letter, becomes --name. A value that
// follows a flag taking one is left alone, and so is everything after "--".
func normalizeArgs(root *cobra.Command, args []string) []string {
	takesValue := valueFlags(root)
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			a = "-" + a
		}
		out = append(out, a)
		name, hasValue := strings.CutPrefix(a, "--")
		if hasValue && !strings.Contains(name, "=") && takesValue[name] && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// valueFlags names every flag, of any command, that takes a value.
func valueFlags(root *cobra.Command) map[string]bool {
	m := map[string]bool{}
	var visit func(*cobra.Command)
	visit = func(cmd *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{cmd.Flags(), cmd.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) { m[f.Name] = m[f.Name] || f.NoOptDefVal == "" })
		}
		for _, sub := range cmd.Commands() {
			visit(sub)
		}
	}
	visit(root)
	return m
}
