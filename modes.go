package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/demo"
	"github.com/bisonsync/bisonsync/report"
	"github.com/bisonsync/bisonsync/sync"
	"github.com/bisonsync/bisonsync/tui"
)

// dispatch opens the database and runs the chosen mode.
func dispatch(ctx context.Context, o options, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	url := o.databaseURL
	if url == "" {
		url = os.Getenv("DATABASE_URL")
	}
	if o.demo {
		return runDemo(ctx, o, url, stdin, stdout, stderr)
	}
	store, err := openStore(ctx, url, o.schema)
	if err != nil {
		return 0, err
	}
	defer store.Close()
	switch {
	case o.migrate:
		fmt.Fprintf(stdout, "schema %q on %s is up to date\n", store.Schema(), store.Host())
		return exitOK, nil
	case o.check:
		return runCheck(ctx, store, o, stdout)
	case o.headless:
		return runHeadless(ctx, store, o, engineConfig(o, "headless"), stdout, stderr)
	default:
		return runConsole(ctx, store, o, engineConfig(o, "tui"), "", stdin, stdout)
	}
}

// openStore connects and creates or upgrades the schema. Failures are exit code 3, with
// what to do about them.
func openStore(ctx context.Context, url, schema string) (*db.Store, error) {
	if err := db.ValidSchemaName(schema); err != nil {
		return nil, &usageError{msg: fmt.Sprintf("--schema: %v", err)}
	}
	store, err := db.Open(ctx, db.Config{URL: url, Schema: schema})
	if err != nil {
		return nil, &dbError{err: fmt.Errorf("%w\n%s", err, dbHint)}
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, &dbError{err: fmt.Errorf("create or upgrade schema %q: %w", schema, err)}
	}
	return store, nil
}

const dbHint = `Point bisonsync at PostgreSQL with --database-url or DATABASE_URL, for example
    export DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'
or with the libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGSSLMODE).
To start a local PostgreSQL on Debian or Ubuntu: sudo pg_ctlcluster 15 main start`

func engineConfig(o options, trigger string) sync.Config {
	return sync.Config{Trigger: trigger, Workers: o.workers, DefaultMaxInFlight: o.inFlight, DeletionGuardPercent: o.deletionGuard}
}

// runHeadless runs the engine with the log on stderr and, with --json, the summary on stdout.
func runHeadless(ctx context.Context, store *db.Store, o options, cfg sync.Config, stdout, stderr io.Writer) (int, error) {
	logger, err := report.NewLogger(stderr, o.logFormat, time.Second)
	if err != nil {
		return 0, &usageError{msg: err.Error()}
	}
	summary, err := sync.New(store, cfg).Run(ctx, sync.Request{
		Names: o.workspaces, StaleFor: o.stale, Deadline: o.deadline, AllowDeletions: o.allowDeletions,
		Observer: logger.Observe,
	})
	var unknown *db.UnknownWorkspacesError
	switch {
	case errors.As(err, &unknown):
		return 0, &usageError{msg: fmt.Sprintf("%v: --workspace takes names from client_registry.workspace_name", err)}
	case err != nil && summary.RunID == 0:
		if ctx.Err() != nil {
			return 0, err
		}
		return 0, &dbError{err: err}
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(summary); err != nil {
			return 0, fmt.Errorf("write the summary: %w", err)
		}
	}
	switch {
	case summary.Interrupted:
		return exitInterrupted, nil
	case err != nil || !summary.OK():
		return exitFailed, nil
	default:
		return exitOK, nil
	}
}

// runCheck prints the workspaces that need attention and exits 1 when there are any.
func runCheck(ctx context.Context, store *db.Store, o options, stdout io.Writer) (int, error) {
	health, err := store.CheckHealth(ctx, o.maxAge)
	if err != nil {
		return 0, &dbError{err: err}
	}
	warnings, err := report.Warnings(ctx, store, health)
	if err != nil {
		return 0, &dbError{err: err}
	}
	if o.jsonOut {
		if err := report.CheckJSON(stdout, health, warnings, o.maxAge); err != nil {
			return 0, err
		}
	} else {
		report.CheckText(stdout, health, warnings)
	}
	if len(health) > 0 {
		return exitFailed, nil
	}
	return exitOK, nil
}

// runConsole opens the console; it needs a terminal on both ends.
func runConsole(ctx context.Context, store *db.Store, o options, cfg sync.Config, banner string, stdin io.Reader, stdout io.Writer) (int, error) {
	if !isTerminal(stdin) || !isTerminal(stdout) {
		return 0, &usageError{msg: "the console needs a terminal; for cron and scripts use --headless (or --check)"}
	}
	err := tui.Run(ctx, tui.Options{Store: store, Engine: sync.New(store, cfg), StaleAfter: o.maxAge, Banner: banner})
	if err != nil {
		return 0, err
	}
	if ctx.Err() != nil {
		return exitInterrupted, nil
	}
	return exitOK, nil
}

// runDemo sets up the simulated fleet in its own schema, then runs the console or a
// headless run against it.
func runDemo(ctx context.Context, o options, url string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	d, err := demo.Start(ctx, url)
	if err != nil {
		var ce *db.ConnectError
		if errors.As(err, &ce) {
			return 0, &dbError{err: fmt.Errorf("%w\n%s", err, dbHint)}
		}
		return 0, &dbError{err: err}
	}
	defer d.Close()
	cfg := engineConfig(o, "demo")
	cfg.Client = bison.Options{RequestTimeout: 10 * time.Second}
	if o.headless {
		return runHeadless(ctx, d.Store, o, cfg, stdout, stderr)
	}
	return runConsole(ctx, d.Store, o, cfg, demo.Banner, stdin, stdout)
}

func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	info, err := file.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0 && !strings.Contains(os.Getenv("TERM"), "dumb")
}
