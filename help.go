package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Command annotations that help reads: the usage lines, and text after the examples.
const (
	annotUsage  = "bisonsync_usage"
	annotFooter = "bisonsync_footer"
)

const rootUsage = `bisonsync [flags]                   the operator console (needs a terminal)
bisonsync sync [flags]              sync all active workspaces, no UI (for cron); or --headless
bisonsync check [--max-age 24h]     report stale, failing, never-synced workspaces; or --check
bisonsync migrate                   create or upgrade the schema, then exit
bisonsync register NAME... | --all  add workspaces found at the source to the registry
bisonsync keys mint|check           give workspaces keys of their own; verify every key's scope
bisonsync --demo [--headless]       the console (or a run) on a simulated Email Bison fleet
bisonsync help [COMMAND]            this help, or a command's (also COMMAND --help)`

const rootExamples = `  # every hour at :15, the JSON summary kept for the record
  bisonsync sync --json > /var/log/bisonsync/last.json
  # several hosts at once: each takes the workspaces not synced in the last hour
  bisonsync sync --stale 1h --deadline 50m
  # alert when anything is older than a day (exit code 1)
  bisonsync check --max-age 24h
  # as a service: a run every hour, metrics for Prometheus, a Slack message on failures
  bisonsync sync --every 1h --metrics-file /var/lib/node_exporter/bisonsync.prom --notify-url "$SLACK_WEBHOOK"
  # tab-completion of commands, flags and workspace names
  source <(bisonsync completion bash)`

const exitCodesText = `Exit codes:
  0    every selected workspace succeeded (or was skipped: another process had it)
  1    some failed or were cancelled; the registry has no active workspace; or check found
       stale, failing or never-synced workspaces
  2    bad usage or configuration (unknown flag, conflicting modes, unknown workspace name)
  3    database unreachable or not answering, or the schema could not be created or upgraded
  130  interrupted (SIGINT/SIGTERM): unfinished workspaces rolled back, recorded as cancelled`

const waitsText = `Waits at start are bounded: 30s to connect to PostgreSQL and get an answer, 2m to create or
upgrade the schema, 1m to read the registry and open the run. Past a bound bisonsync says
what it waited for, names the database host and exits 3.`

const rootFooter = waitsText + "\n\n" + exitCodesText

// writeHelp writes a command's help: what it does, usage, subcommands, flags by group,
// examples, then its footer (exit codes).
func writeHelp(w io.Writer, cmd *cobra.Command) {
	fmt.Fprintln(w, strings.TrimSpace(cmp.Or(cmd.Long, cmd.Short)))
	usage := cmp.Or(cmd.Annotations[annotUsage], cmd.UseLine())
	fmt.Fprintf(w, "\nUsage:\n%s\n", indent(usage, "  "))
	if subs := visibleCommands(cmd); len(subs) > 0 {
		fmt.Fprintln(w, "\nCommands:")
		for _, sub := range subs {
			fmt.Fprintf(w, "  %-11s %s\n", sub.Name(), sub.Short)
		}
	}
	writeFlagGroups(w, cmd)
	if cmd.Example != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", cmd.Example)
	}
	if footer := cmd.Annotations[annotFooter]; footer != "" {
		fmt.Fprintf(w, "\n%s\n", footer)
	}
}

// writeFlagGroups lists cmd's flags (its own and those it inherits) under their groups.
func writeFlagGroups(w io.Writer, cmd *cobra.Command) {
	groups := map[string][]*pflag.Flag{}
	add := func(f *pflag.Flag) {
		if f.Hidden || f.Name == "help" {
			return
		}
		g := "Other flags"
		if a := f.Annotations[groupAnnotation]; len(a) > 0 {
			g = a[0]
		}
		groups[g] = append(groups[g], f)
	}
	cmd.LocalFlags().VisitAll(add)
	cmd.InheritedFlags().VisitAll(add)
	for _, g := range append(flagGroups, "Other flags") {
		if len(groups[g]) > 0 {
			fmt.Fprintf(w, "\n%s:\n", g)
			writeFlags(w, groups[g])
		}
	}
	fmt.Fprintln(w, "\n  -h, --help   show this help")
}

// helpWidth is the width help is wrapped to.
const helpWidth = 96

// writeFlags writes one entry per flag: its name and value, then its usage and default,
// wrapped into a column.
func writeFlags(w io.Writer, flags []*pflag.Flag) {
	heads := make([]string, len(flags))
	width := 0
	for i, f := range flags {
		name, _ := pflag.UnquoteUsage(f)
		heads[i] = "  --" + f.Name
		if name != "" && f.Value.Type() != "bool" {
			heads[i] += " " + name
		}
		width = max(width, len(heads[i]))
	}
	for i, f := range flags {
		_, usage := pflag.UnquoteUsage(f)
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "0s" && d != "[]" {
			usage += " (default " + d + ")"
		}
		lines := wrap(usage, helpWidth-width-3)
		fmt.Fprintf(w, "%-*s   %s\n", width, heads[i], strings.Join(lines, "\n"+strings.Repeat(" ", width+3)))
	}
}

// wrap breaks text into lines of at most width characters, between words.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(lines, line)
}

// commandOrder is the order help lists the subcommands in: most used first.
var commandOrder = []string{"sync", "check", "migrate", "register", "keys", "version", "completion", "help"}

func visibleCommands(cmd *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() || sub.Name() == "help" {
			out = append(out, sub)
		}
	}
	rank := func(c *cobra.Command) int {
		if i := slices.Index(commandOrder, c.Name()); i >= 0 {
			return i
		}
		return len(commandOrder)
	}
	slices.SortStableFunc(out, func(a, b *cobra.Command) int { return cmp.Compare(rank(a), rank(b)) })
	return out
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
