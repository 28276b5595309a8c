package main

import (
	"context"
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

// session is one mode being run: its options, its streams, the log on stderr and the
// bounded waits at start.
type session struct {
	opts   options
	url    string // --database-url, else DATABASE_URL; "" leaves it to the libpq variables
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *report.Logger
	waits  waiter
}

// dispatch runs the mode the options choose.
func (c *cli) dispatch(ctx context.Context) (int, error) {
	bounds, err := boundsFrom(c.getenv)
	if err != nil {
		return 0, &usageError{msg: err.Error()}
	}
	logger, err := report.NewLogger(c.stderr, c.opts.logFormat, time.Second)
	if err != nil {
		return 0, &usageError{msg: err.Error()}
	}
	s := &session{opts: c.opts, url: c.databaseURL(), stdin: c.stdin, stdout: c.stdout, stderr: c.stderr, log: logger,
		waits: waiter{bounds: bounds, say: func(what string, bound time.Duration) {
			logger.Warn("still waiting", "for", what, logger.Duration("gives_up_after", bound))
		}}}
	return s.run(ctx)
}

// run opens the database and runs the mode.
func (s *session) run(ctx context.Context) (int, error) {
	o := s.opts
	console := !o.headless && !o.check && !o.migrate && o.command == ""
	if console && (!isTerminal(s.stdin) || !isTerminal(s.stdout)) {
		// Said before any wait for the database: it is true whatever the database does.
		return 0, &usageError{msg: "the console needs a terminal; for cron and scripts use sync (--headless) or check (--check)"}
	}
	if o.demo {
		return s.runDemo(ctx)
	}
	store, err := s.openStore(ctx, o.schema)
	if err != nil {
		return 0, err
	}
	defer store.Close()
	switch {
	case o.migrate:
		return runMigrate(ctx, store, o.dash, s.stdout)
	case o.command != "":
		return s.runCommand(ctx, store)
	case o.check:
		return s.runCheck(ctx, store)
	case o.headless:
		return s.runHeadless(ctx, store, engineConfig(o, "headless"))
	default:
		return s.runConsole(ctx, store, engineConfig(o, "tui"), "")
	}
}

// openStore connects and creates or upgrades the schema, each within its bound. Failures
// are exit code 3, with what to do about them.
func (s *session) openStore(ctx context.Context, schema string) (*db.Store, error) {
	if err := db.ValidSchemaName(schema); err != nil {
		return nil, &usageError{msg: fmt.Sprintf("--schema: %v", err)}
	}
	store, err := s.connect(ctx, schema)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("schema %q on %s to be created or upgraded", schema, store.Host())
	if err := s.waits.wait(ctx, what, s.waits.bounds.migrate, store.Migrate); err != nil {
		store.Close()
		var te *startTimeoutError
		if errors.As(err, &te) {
			return nil, &dbError{err: err}
		}
		return nil, &dbError{err: fmt.Errorf("create or upgrade schema %q on %s: %w", schema, store.Host(), err)}
	}
	return store, nil
}

// connect opens the pool and pings the database within the connect bound.
func (s *session) connect(ctx context.Context, schema string) (*db.Store, error) {
	var store *db.Store
	err := s.waits.wait(ctx, "PostgreSQL to accept a connection and answer", s.waits.bounds.connect, func(ctx context.Context) (err error) {
		store, err = db.Open(ctx, db.Config{URL: s.url, Schema: schema})
		return err
	})
	if err != nil {
		return nil, connectFailure(err)
	}
	return store, nil
}

// connectFailure is a failure to connect, with the hint that fits it.
func connectFailure(err error) error {
	var te *startTimeoutError
	if errors.As(err, &te) {
		return &dbError{err: fmt.Errorf("%w\n%s", err, noAnswerHint)}
	}
	return &dbError{err: fmt.Errorf("%w\n%s", err, dbHint)}
}

const dbHint = `Point bisonsync at PostgreSQL with --database-url or DATABASE_URL, for example
    export DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'
or with the libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGSSLMODE).
To start a local PostgreSQL on Debian or Ubuntu: sudo pg_ctlcluster 15 main start`

const noAnswerHint = `Something accepts connections at that address but does not answer as PostgreSQL would:
check that it is PostgreSQL (or the pooler in front of it), and that it is not overloaded.`

const lockHint = `Another session may hold a lock on sync_runs: see pg_locks and pg_stat_activity.`

func engineConfig(o options, trigger string) sync.Config {
	return sync.Config{Trigger: trigger, Workers: o.workers, DefaultMaxInFlight: o.inFlight, DeletionGuardPercent: o.deletionGuard}
}

// runHeadless runs the engine with the log on stderr and, with --json, the summary on stdout;
// with --every it keeps doing so until a signal ends it.
func (s *session) runHeadless(ctx context.Context, store *db.Store, cfg sync.Config) (int, error) {
	err := s.waits.wait(ctx, s.readingRegistry(store), s.waits.bounds.open, func(ctx context.Context) error {
		return resolveNameFlags(ctx, store, &s.opts)
	})
	if err != nil {
		return 0, err
	}
	engine := sync.New(store, cfg)
	for {
		code, err := s.headlessRun(ctx, engine, store)
		var empty *emptyRegistryError
		if errors.As(err, &empty) && s.opts.every > 0 {
			// A service keeps waiting: the registry may be filled before the next run.
			s.log.Error("no active workspace", "schema", store.Schema(), "problem", empty.problem)
			err = nil
		}
		if err != nil || s.opts.every == 0 || code == exitInterrupted {
			return code, err
		}
		wait := jitter(s.opts.every)
		s.log.Info("next run", s.log.Duration("in", wait.Round(time.Second)))
		// Meanwhile, runs other programs ask for in sync_requests (dashboard.go).
		if interrupted, err := s.serveUntil(ctx, engine, store, time.Now().Add(wait)); interrupted {
			return exitInterrupted, err
		}
		if ctx.Err() != nil {
			s.log.Info("stopping between runs", "cause", context.Cause(ctx).Error())
			return exitOK, nil
		}
	}
}

func (s *session) readingRegistry(store *db.Store) string {
	return fmt.Sprintf("the registry of schema %q on %s to be read", store.Schema(), store.Host())
}

// jitter spreads d by ±10%, so that several hosts started together drift apart.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

// headlessRun is one run with its outputs: the summary, the metrics file, the notification.
func (s *session) headlessRun(ctx context.Context, engine *sync.Engine, store *db.Store) (int, error) {
	if err := s.checkNotEmpty(ctx, store); err != nil {
		return exitFailed, err
	}
	summary, err := s.startRun(ctx, engine, store)
	var unknown *db.UnknownWorkspacesError
	var notStarted *sync.NotStartedError
	var timedOut *startTimeoutError
	switch {
	case errors.As(err, &timedOut):
		return 0, &dbError{err: err}
	case errors.As(err, &unknown):
		// The names were resolved before the run: one was removed from the registry since.
		return 0, &usageError{msg: fmt.Sprintf("%v: --workspace takes names from client_registry.workspace_name", unknown)}
	case errors.As(err, &notStarted):
		if ctx.Err() != nil {
			return 0, err
		}
		return 0, &dbError{err: err}
	}
	if s.opts.jsonOut {
		if err := report.SummaryJSON(s.stdout, summary); err != nil {
			return 0, err
		}
	}
	code := exitOK
	switch {
	case err != nil && db.IsUnavailable(err):
		code = exitDatabase // the run could not be closed: the next run marks it abandoned
	case summary.Interrupted:
		code = exitInterrupted
	case err != nil || !summary.OK():
		code = exitFailed
	}
	// The outputs are written even for an interrupted run: monitoring should see it.
	outputs := context.WithoutCancel(ctx)
	if !monitorOutputs(outputs, store, s.opts, &summary, nil, s.log) && code == exitOK {
		code = exitFailed
	}
	return code, nil
}

// checkNotEmpty refuses a run over a registry with no active workspace (issue 12), unless
// the run names its workspaces.
func (s *session) checkNotEmpty(ctx context.Context, store *db.Store) error {
	if len(s.opts.workspaces) > 0 {
		return nil
	}
	var st registryState
	err := s.waits.wait(ctx, s.readingRegistry(store), s.waits.bounds.open, func(ctx context.Context) (err error) {
		st, err = readRegistry(ctx, store)
		return err
	})
	if err != nil {
		return &dbError{err: err}
	}
	if problem := st.emptyProblem(); problem != "" {
		return &emptyRegistryError{problem: problem}
	}
	if err := errors.Join(st.badURLs...); err != nil {
		return &usageError{msg: fmt.Sprintf("%v\nFix bison_instances.base_url (e.g. https://send.example.com/api) in schema %q.", err, store.Schema())}
	}
	return nil
}

// startRun runs the engine, with the opening of the run (marking dead runs, selecting the
// workspaces, inserting into sync_runs) bounded: a lock on sync_runs held by another session
// used to hang the start without a word.
func (s *session) startRun(ctx context.Context, engine *sync.Engine, store *db.Store) (sync.Summary, error) {
	what := fmt.Sprintf("the run to open in %s.sync_runs on %s", store.Schema(), store.Host())
	runCtx, watch, stop := s.waits.watchStart(ctx, what)
	defer stop()
	o := s.opts
	summary, err := engine.Run(runCtx, sync.Request{
		Names: o.workspaces, StaleFor: o.stale, Deadline: o.deadline, AllowDeletions: o.allowDeletions,
		Observer: func(e sync.Event) {
			if _, ok := e.(sync.RunStarted); ok {
				watch.runStarted()
			}
			s.log.Observe(e)
		},
	})
	if watch.timedOut() && ctx.Err() == nil {
		if err == nil {
			err = fmt.Errorf("run %d opened too late and was cancelled", summary.RunID)
		}
		return summary, &startTimeoutError{what: what, bound: s.waits.bounds.open, err: err, hint: lockHint}
	}
	return summary, err
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

// runCheck prints how the registry's active workspaces stand and exits 1 when some need
// attention, or when there is none to check.
func (s *session) runCheck(ctx context.Context, store *db.Store) (int, error) {
	unlisted := s.listInstances(ctx, store)
	var st registryState
	var health []db.Health
	err := s.waits.wait(ctx, s.readingRegistry(store), s.waits.bounds.open, func(ctx context.Context) (err error) {
		if st, err = readRegistry(ctx, store); err != nil {
			return err
		}
		health, err = checkHealth(ctx, store, s.opts.maxAge)
		return err
	})
	if err != nil {
		return 0, &dbError{err: err}
	}
	check := report.Check{Schema: store.Schema(), Host: store.Host(), MaxAge: s.opts.maxAge, CheckedAt: time.Now(),
		Active: st.active, Health: health, Problem: st.emptyProblem(), Instances: unlisted}
	if s.opts.jsonOut {
		if err := report.CheckJSON(s.stdout, check); err != nil {
			return 0, err
		}
	} else {
		report.CheckText(s.stdout, check)
	}
	code := exitOK
	if check.NeedsAttention() {
		code = exitFailed
	}
	if (s.opts.metricsFile != "" || s.opts.notifyURL != "") && !monitorOutputs(ctx, store, s.opts, nil, health, s.log) {
		code = exitFailed
	}
	return code, nil
}

// runConsole opens the console.
func (s *session) runConsole(ctx context.Context, store *db.Store, cfg sync.Config, banner string) (int, error) {
	err := tui.Run(ctx, tui.Options{Store: store, Engine: sync.New(store, cfg), StaleAfter: s.opts.maxAge, Banner: banner})
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
func (s *session) runDemo(ctx context.Context) (int, error) {
	// demo.Start connects and sets the schema up in one call: connecting first gives each
	// wait its own bound and its own message.
	schema := s.demoSchema()
	probe, err := s.connect(ctx, schema)
	if err != nil {
		return 0, err
	}
	what := fmt.Sprintf("the demo schema %s on %s to be reset and seeded", schema, probe.Host())
	probe.Close()
	var d *demo.Demo
	err = s.waits.wait(ctx, what, s.waits.bounds.migrate, func(ctx context.Context) (err error) {
		d, err = demo.Start(ctx, s.url, schema)
		return err
	})
	if err != nil {
		return 0, &dbError{err: err}
	}
	defer d.Close()
	cfg := engineConfig(s.opts, "demo")
	cfg.Client = bison.Options{RequestTimeout: 10 * time.Second}
	if s.opts.headless {
		return s.runHeadless(ctx, d.Store, cfg)
	}
	return s.runConsole(ctx, d.Store, cfg, demo.Banner)
}

// demoSchema is where the demo runs: its own schema, or the one --schema names (never public,
// which validate refuses: the demo drops its schema on start).
func (s *session) demoSchema() string {
	if s.opts.schema != db.DefaultSchema {
		return s.opts.schema
	}
	return demo.Schema
}

func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	info, err := file.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0 && !strings.Contains(os.Getenv("TERM"), "dumb")
}
