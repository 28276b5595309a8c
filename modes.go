package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/demo"
	"github.com/bisonsync/bisonsync/monitor"
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
		return runMigrate(ctx, store, o.dash, stdout)
	case o.check:
		return runCheck(ctx, store, o, stdout, stderr)
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

// runHeadless runs the engine with the log on stderr and, with --json, the summary on stdout;
// with --every it keeps doing so until a signal ends it.
func runHeadless(ctx context.Context, store *db.Store, o options, cfg sync.Config, stdout, stderr io.Writer) (int, error) {
	logger, err := report.NewLogger(stderr, o.logFormat, time.Second)
	if err != nil {
		return 0, &usageError{msg: err.Error()}
	}
	engine := sync.New(store, cfg)
	for {
		code, err := headlessRun(ctx, engine, store, o, logger, stdout)
		if err != nil || o.every == 0 || code == exitInterrupted {
			return code, err
		}
		wait := jitter(o.every)
		logger.Info("next run", "in", wait.Round(time.Second).String())
		// Meanwhile, runs other programs ask for in sync_requests (dashboard.go).
		if interrupted, err := serveUntil(ctx, engine, store, o, logger, stdout, time.Now().Add(wait)); interrupted {
			return exitInterrupted, err
		}
		if ctx.Err() != nil {
			logger.Info("stopping between runs", "cause", context.Cause(ctx).Error())
			return exitOK, nil
		}
	}
}

// jitter spreads d by ±10%, so that several hosts started together drift apart.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

// headlessRun is one run with its outputs: the summary, the metrics file, the notification.
func headlessRun(ctx context.Context, engine *sync.Engine, store *db.Store, o options, logger *report.Logger, stdout io.Writer) (int, error) {
	summary, err := engine.Run(ctx, sync.Request{
		Names: o.workspaces, StaleFor: o.stale, Deadline: o.deadline, AllowDeletions: o.allowDeletions,
		Observer: logger.Observe,
	})
	var unknown *db.UnknownWorkspacesError
	var notStarted *sync.NotStartedError
	switch {
	case errors.As(err, &unknown):
		return 0, &usageError{msg: fmt.Sprintf("%v: --workspace takes names from client_registry.workspace_name", unknown)}
	case errors.As(err, &notStarted):
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
	code := exitOK
	switch {
	case summary.Interrupted:
		code = exitInterrupted
	case err != nil || !summary.OK():
		code = exitFailed
	}
	// The outputs are written even for an interrupted run: monitoring should see it.
	outputs := context.WithoutCancel(ctx)
	if !monitorOutputs(outputs, store, o, &summary, nil, logger) && code == exitOK {
		code = exitFailed
	}
	return code, nil
}

// monitorOutputs writes the metrics file and sends the notification, when configured, after
// a run (summary) or a check (health). A failure is logged and reported as false: the exit
// code then says so, never silently.
func monitorOutputs(ctx context.Context, store *db.Store, o options, summary *sync.Summary, health []db.Health, logger *report.Logger) bool {
	ok := true
	if o.metricsFile != "" {
		if err := monitor.WriteMetrics(ctx, o.metricsFile, store, summary, o.maxAge); err != nil {
			logger.Error("metrics file not written", "path", o.metricsFile, "error", err.Error())
			ok = false
		}
	}
	if o.notifyURL == "" {
		return ok
	}
	var msg monitor.Message
	var send bool
	if summary != nil {
		msg, send = monitor.RunMessage(*summary)
	} else {
		msg, send = monitor.CheckMessage(health, o.maxAge)
	}
	if !send {
		return ok
	}
	nctx, cancel := context.WithTimeout(ctx, notifyTimeout)
	defer cancel()
	if err := monitor.Notify(nctx, nil, o.notifyURL, msg); err != nil {
		logger.Error("notification not sent", "error", err.Error())
		return false
	}
	logger.Info("notification sent", "workspaces", len(msg.Workspaces))
	return ok
}

// notifyTimeout bounds the POST of a notification.
const notifyTimeout = 15 * time.Second

// runCheck prints the workspaces that need attention and exits 1 when there are any.
func runCheck(ctx context.Context, store *db.Store, o options, stdout, stderr io.Writer) (int, error) {
	health, err := store.CheckHealth(ctx, o.maxAge)
	if err != nil {
		return 0, &dbError{err: err}
	}
	if o.jsonOut {
		if err := report.CheckJSON(stdout, health, o.maxAge); err != nil {
			return 0, err
		}
	} else {
		report.CheckText(stdout, health)
	}
	code := exitOK
	if report.NeedsAttention(health) {
		code = exitFailed
	}
	if o.metricsFile != "" || o.notifyURL != "" {
		logger, err := report.NewLogger(stderr, o.logFormat, time.Second)
		if err != nil {
			return 0, &usageError{msg: err.Error()}
		}
		if !monitorOutputs(ctx, store, o, nil, health, logger) {
			code = exitFailed
		}
	}
	return code, nil
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
