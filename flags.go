package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"time"
)

// version and commit are stamped at build time by scripts/build.sh
// (go build -ldflags "-X main.version=... -X main.commit=..."); a plain build falls back to
// the VCS information Go records, when it records any.
var (
	version = "dev"
	commit  = ""
)

// options are the parsed command line.
type options struct {
	databaseURL string
	schema      string

	headless, check, demo, migrate, version bool

	workspaces []string
	stale      time.Duration
	deadline   time.Duration
	jsonOut    bool
	logFormat  string
	maxAge     time.Duration
	workers    int
	inFlight   int

	allowDeletions []string
	deletionGuard  float64

	metricsFile string
	notifyURL   string
	every       time.Duration

	dash dashboardFlags // migrate's dashboard options (dashboard.go)
}

var errHelpShown = errors.New("help shown")

const usageText = `bisonsync keeps a PostgreSQL copy of every Email Bison workspace's sender accounts
complete and fresh, and makes a stale or failing workspace impossible to miss.

Usage:
  bisonsync [flags]                  the operator console (needs a terminal)
  bisonsync --headless [flags]       sync all active workspaces, no UI (for cron)
  bisonsync --check [--max-age 24h]  list stale, failing and never-synced workspaces
  bisonsync migrate                  create or upgrade the schema, then exit
      [--dashboard-schema NAME [--grant ROLE]... [--replace-existing]] [--reprice]
  bisonsync --demo [--headless]      the console (or a run) on a simulated Email Bison fleet

Flags:
`

const examplesText = `
Examples:
  # every night at 02:15, JSON summary kept for the record
  bisonsync --headless --json > /var/log/bisonsync/last.json
  # several hosts at once: each takes the workspaces not synced in the last hour
  bisonsync --headless --stale 1h --deadline 50m
  # alert when anything is older than a day (exit code 1)
  bisonsync --check --max-age 24h
  # as a service: a run every hour, metrics for Prometheus, a Slack message on failures
  bisonsync --headless --every 1h --metrics-file /var/lib/node_exporter/bisonsync.prom --notify-url "$SLACK_WEBHOOK"

Exit codes: 0 every selected workspace succeeded (or was skipped: another process had it);
1 some failed or were cancelled, or --check found stale/failing/never-synced workspaces;
2 bad usage or configuration; 3 database unreachable or schema upgrade failed;
130 interrupted (SIGINT/SIGTERM): unfinished workspaces rolled back, recorded as cancelled.
`

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("a workspace name cannot be empty")
	}
	*s = append(*s, v)
	return nil
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bisonsync", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by run, in one line
	fs.StringVar(&o.databaseURL, "database-url", "", "PostgreSQL `URL` (default: $DATABASE_URL, else the libpq PG* variables)")
	fs.StringVar(&o.schema, "schema", "public", "`NAME` of the schema holding bisonsync's tables (created when missing)")
	fs.BoolVar(&o.headless, "headless", false, "sync without a UI: progress on stderr, exit code says how it went")
	fs.BoolVar(&o.check, "check", false, "no sync: print workspaces that are stale, failing or never synced")
	fs.BoolVar(&o.demo, "demo", false, "run against the built-in simulated fleet, in schema bisonsync_demo (reset on start)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.Var((*stringList)(&o.workspaces), "workspace", "sync only workspace `NAME` (repeatable; with --headless)")
	fs.DurationVar(&o.stale, "stale", 0, "sync only workspaces with no successful sync within this duration, e.g. 6h (with --headless)")
	fs.DurationVar(&o.deadline, "deadline", 0, "stop after this long: unfinished workspaces are recorded as cancelled, exit 1 (default: none)")
	fs.BoolVar(&o.jsonOut, "json", false, "print one JSON object on stdout: the run summary, or the --check result")
	fs.StringVar(&o.logFormat, "log-format", "text", "format of the progress and events on stderr: text or json")
	fs.DurationVar(&o.maxAge, "max-age", 24*time.Hour, "with --check (and in the console): age past which a workspace is stale")
	fs.IntVar(&o.workers, "workers", 0, "workspaces in progress at once (default 32)")
	fs.IntVar(&o.inFlight, "max-in-flight", 0, "requests in flight per instance when bison_instances.max_concurrency is null (default 32)")
	fs.Var((*stringList)(&o.allowDeletions), "allow-deletions", "apply the held mass deletions of workspace `NAME` (repeatable; review them first in the console or in held_deletions)")
	fs.Float64Var(&o.deletionGuard, "deletion-guard", 20, "hold a workspace's sync that would delete more than this percent of its accounts (and at least 10)")
	fs.StringVar(&o.metricsFile, "metrics-file", "", "after each run (or --check), write Prometheus metrics to `PATH` for node_exporter's textfile collector")
	fs.StringVar(&o.notifyURL, "notify-url", "", "POST a JSON message (Slack-webhook compatible) to `URL` when a run has failures or warnings, or --check finds problems")
	fs.DurationVar(&o.every, "every", 0, "with --headless: keep running, one run every DURATION (±10%), until SIGTERM")
	o.dash.register(fs)
	help := fs.Bool("help", false, "show this help")
	fs.BoolVar(help, "h", false, "show this help")

	// "migrate" is a command word; accept it anywhere among the flags.
	var rest []string
	for _, a := range args {
		if a == "migrate" {
			o.migrate = true
			continue
		}
		rest = append(rest, a)
	}
	if err := fs.Parse(rest); err != nil {
		return o, err
	}
	if *help {
		fmt.Fprint(stderr, usageText)
		printFlags(stderr, fs)
		fmt.Fprint(stderr, examplesText)
		return o, errHelpShown
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, o.validate()
}

// printFlags lists the flags as they are written in the README: with two dashes.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "h" {
			return
		}
		kind, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if kind != "" {
			line += " " + kind
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" && f.DefValue != "[]" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n        %s%s\n", line, usage, def)
	})
}

// validate rejects combinations that cannot mean what the operator hoped.
func (o options) validate() error {
	if err := o.dash.validate(o.migrate); err != nil {
		return err
	}
	modes := 0
	for _, on := range []bool{o.check, o.migrate, o.headless && !o.demo, o.demo} {
		if on {
			modes++
		}
	}
	switch {
	case modes > 1:
		return errors.New("choose one mode: --headless, --check, migrate or --demo (--demo may add --headless)")
	case o.logFormat != "text" && o.logFormat != "json":
		return fmt.Errorf("--log-format must be text or json, not %q", o.logFormat)
	case o.stale < 0 || o.deadline < 0 || o.maxAge <= 0:
		return errors.New("durations must be positive (e.g. 90s, 30m, 6h)")
	case (len(o.workspaces) > 0 || o.stale > 0 || o.deadline > 0) && !o.headless:
		return errors.New("--workspace, --stale and --deadline choose what a --headless run syncs; in the console, select workspaces with space and press s")
	case o.jsonOut && !o.headless && !o.check:
		return errors.New("--json goes with --headless or --check")
	case o.deletionGuard <= 0 || o.deletionGuard > 100:
		return errors.New("--deletion-guard is a percentage between 0 and 100")
	case len(o.allowDeletions) > 0 && !o.headless:
		return errors.New("--allow-deletions goes with --headless; in the console, review a held workspace and accept it there")
	case o.every < 0 || (o.every > 0 && !o.headless):
		return errors.New("--every goes with --headless and takes a positive duration, e.g. 1h")
	case (o.metricsFile != "" || o.notifyURL != "") && !o.headless && !o.check:
		return errors.New("--metrics-file and --notify-url go with --headless or --check")
	case o.workers < 0 || o.inFlight < 0:
		return errors.New("--workers and --max-in-flight must be positive")
	}
	return nil
}

// versionLine is the version and the commit it was built from, when the build recorded it.
func versionLine() string {
	rev := commit
	if info, ok := debug.ReadBuildInfo(); ok && rev == "" {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = s.Value[:12]
			}
		}
	}
	if rev == "" {
		return fmt.Sprintf("bisonsync %s (commit unknown: build with scripts/build.sh to record it)", version)
	}
	return fmt.Sprintf("bisonsync %s (commit %s)", version, rev)
}
