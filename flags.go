package main

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/bisonsync/bisonsync/db"
)

// version and commit are stamped at build time by scripts/build.sh
// (go build -ldflags "-X main.version=... -X main.commit=..."); a plain build falls back to
// the VCS information Go records, when it records any.
var (
	version = "dev"
	commit  = ""
)

// options are the parsed command line. The flag forms (--headless, --check, --demo, migrate)
// and the subcommands (sync, check, migrate) fill the same fields, so both go through the
// same validation and the same modes.
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
	// command names a subcommand that is not a mode of a run: "register", "keys mint",
	// "keys check"; "" for the modes above.
	command string
	keyOpts keyOptions
}

// Flag groups, in the order help lists them. A flag's group is a pflag annotation, so a
// command's help shows whichever of them the command has.
const (
	groupAnnotation = "bisonsync_group"

	groupMode     = "Modes (flag forms of the commands)"
	groupDatabase = "Database (every command)"
	groupSync     = "What a run syncs (sync, --headless)"
	groupCheck    = "Health (check, --check; the metrics file)"
	groupOutput   = "Output"
	groupMonitor  = "Monitoring (sync, check)"
	groupDash     = "The agency's dashboard (migrate)"
)

var flagGroups = []string{groupMode, groupDatabase, groupSync, groupCheck, groupOutput, groupMonitor, groupDash}

// inGroup files the named flags of fs under group, for help, which lists them in the order
// they were defined.
func inGroup(fs *pflag.FlagSet, group string, names ...string) {
	fs.SortFlags = false
	for _, n := range names {
		if err := fs.SetAnnotation(n, groupAnnotation, []string{group}); err != nil {
			panic(err) // a flag named here that was not defined: a programming error
		}
	}
}

// addDatabaseFlags: where the tables are. Every command has them (persistent on the root).
func addDatabaseFlags(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.databaseURL, "database-url", "", "PostgreSQL `URL` (default: $DATABASE_URL, else the libpq PG* variables)")
	fs.StringVar(&o.schema, "schema", db.DefaultSchema, "`NAME` of the schema holding bisonsync's tables (created when missing)")
	inGroup(fs, groupDatabase, "database-url", "schema")
}

// addModeFlags: the flag forms of the commands, kept for the cron lines and scripts that use
// them.
func addModeFlags(fs *pflag.FlagSet, o *options) {
	fs.BoolVar(&o.headless, "headless", false, "sync without a UI, as the sync command does")
	fs.BoolVar(&o.check, "check", false, "no sync: report stale, failing and never-synced workspaces, as the check command does")
	addDemoFlag(fs, o, groupMode)
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	inGroup(fs, groupMode, "headless", "check", "demo", "version")
}

// addDemoFlag: the simulated fleet, for the console and the flag forms (groupMode) or for a
// sync (groupSync).
func addDemoFlag(fs *pflag.FlagSet, o *options, group string) {
	fs.BoolVar(&o.demo, "demo", false, "run against the built-in simulated fleet, in schema bisonsync_demo or the one --schema names (reset on start; never public)")
	inGroup(fs, group, "demo")
}

// addSyncFlags: what a run syncs and how hard it pushes.
func addSyncFlags(fs *pflag.FlagSet, o *options) {
	fs.StringArrayVar(&o.workspaces, "workspace", nil, "sync only workspace `NAME` (repeatable; case and accents may differ)")
	fs.DurationVar(&o.stale, "stale", 0, "sync only workspaces with no successful sync within `DURATION`, e.g. 6h")
	fs.DurationVar(&o.deadline, "deadline", 0, "stop after `DURATION`: unfinished workspaces are recorded as cancelled, exit 1 (default: none)")
	fs.IntVar(&o.workers, "workers", 0, "`N` workspaces in progress at once (default 32)")
	fs.IntVar(&o.inFlight, "max-in-flight", 0, "`N` requests in flight per instance when bison_instances.max_concurrency is null (default 32)")
	fs.StringArrayVar(&o.allowDeletions, "allow-deletions", nil, "apply the held mass deletions of workspace `NAME` (repeatable; review them first in the console or in held_deletions)")
	fs.Float64Var(&o.deletionGuard, "deletion-guard", 20, "hold a workspace's sync that would delete more than this `PERCENT` of its accounts (and at least 10)")
	fs.DurationVar(&o.every, "every", 0, "keep running, one run every `DURATION` (±10%), until SIGTERM")
	inGroup(fs, groupSync, "workspace", "stale", "deadline", "workers", "max-in-flight", "allow-deletions", "deletion-guard", "every")
}

// addCheckFlags: how health is judged.
func addCheckFlags(fs *pflag.FlagSet, o *options) {
	fs.DurationVar(&o.maxAge, "max-age", 24*time.Hour, "a workspace with no successful sync within `DURATION` is stale")
	fs.Lookup("max-age").DefValue = "24h" // as an operator writes it, not 24h0m0s
	inGroup(fs, groupCheck, "max-age")
}

// addOutputFlags: what goes to stdout and stderr.
func addOutputFlags(fs *pflag.FlagSet, o *options) {
	fs.BoolVar(&o.jsonOut, "json", false, "print one JSON object on stdout: the run summary, or the check result")
	fs.StringVar(&o.logFormat, "log-format", "text", "`FORMAT` of the progress and events on stderr: text or json")
	inGroup(fs, groupOutput, "json", "log-format")
}

// addMonitorFlags: what is written or sent after a run or a check.
func addMonitorFlags(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.metricsFile, "metrics-file", "", "after each run (or check), write Prometheus metrics to `PATH` for node_exporter's textfile collector")
	fs.StringVar(&o.notifyURL, "notify-url", "", "POST a JSON message (Slack-webhook compatible) to `URL` when a run has failures or warnings, or a check finds problems")
	inGroup(fs, groupMonitor, "metrics-file", "notify-url")
}

// validate rejects combinations that cannot mean what the operator hoped.
func (o options) validate() error {
	modes := 0
	for _, on := range []bool{o.check, o.migrate, o.headless && !o.demo, o.demo} {
		if on {
			modes++
		}
	}
	switch {
	case modes > 1:
		return errors.New("choose one mode: --headless (sync), --check (check), migrate or --demo (--demo may add --headless)")
	case o.logFormat != "text" && o.logFormat != "json":
		return fmt.Errorf("--log-format must be text or json, not %q", o.logFormat)
	case o.stale < 0 || o.deadline < 0 || o.maxAge <= 0:
		return errors.New("durations must be positive (e.g. 90s, 30m, 6h)")
	case (len(o.workspaces) > 0 || o.stale > 0 || o.deadline > 0) && !o.headless:
		return errors.New("--workspace, --stale and --deadline choose what a run (sync, or --headless) syncs; in the console, select workspaces with space and press s")
	case o.jsonOut && !o.headless && !o.check:
		return errors.New("--json goes with --headless or --check (sync or check)")
	case o.deletionGuard <= 0 || o.deletionGuard > 100:
		return errors.New("--deletion-guard is a percentage between 0 and 100")
	case len(o.allowDeletions) > 0 && !o.headless:
		return errors.New("--allow-deletions goes with --headless (sync); in the console, review a held workspace and accept it there")
	case o.every < 0 || (o.every > 0 && !o.headless):
		return errors.New("--every goes with --headless (sync) and takes a positive duration, e.g. 1h")
	case (o.metricsFile != "" || o.notifyURL != "") && !o.headless && !o.check:
		return errors.New("--metrics-file and --notify-url go with --headless or --check (sync or check)")
	case o.workers < 0 || o.inFlight < 0:
		return errors.New("--workers and --max-in-flight must be positive")
	}
	if err := o.dash.validate(o.migrate); err != nil {
		return err
	}
	return validNames(o.workspaces, o.allowDeletions)
}

// validNames rejects an empty workspace name, which can only be a quoting mistake.
func validNames(lists ...[]string) error {
	for _, list := range lists {
		for _, n := range list {
			if strings.TrimSpace(n) == "" {
				return errors.New("a workspace name cannot be empty")
			}
		}
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
