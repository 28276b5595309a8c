package sync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/db"
)

// run is one run in progress.
type run struct {
	engine  *Engine
	id      int64
	req     Request
	emit    Observer
	started time.Time
	budget  *semaphore.Weighted // accounts held in memory by all workers
	queue   *queue
	disc    *runDiscovery
	plans   map[string]planned // by workspace name, as planned: never edited

	// dbDownSince is when the database was found unreachable (unix nanoseconds), 0 while it
	// answers: one outage for the whole run, so that its waits add up to DatabaseOutage.
	dbDownSince atomic.Int64

	mu       stdsync.Mutex
	results  map[string]WorkspaceResult
	changed  bool              // some workspace wrote rows: the view needs a refresh
	pageOnes map[string]string // instance + first page's ids → the workspace that served it
}

// samePageOne records a workspace's first page and returns the workspace of the same
// instance that served the very same page earlier in the run, if any: two workspaces do not
// share accounts, so one of their keys serves the other's data.
func (r *run) samePageOne(instance, workspace string, p *bison.Page) string {
	if len(p.Accounts) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(instance)
	for _, a := range p.Accounts {
		fmt.Fprintf(&b, ",%d", a.ID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if other, ok := r.pageOnes[b.String()]; ok && other != workspace {
		return other
	}
	r.pageOnes[b.String()] = workspace
	return ""
}

// How often a workspace waiting for a super-admin key held by another process, or for the
// database to come back, asks again.
const (
	keyPoll = 250 * time.Millisecond
	dbPoll  = time.Second
)

func waitPoll(err error) time.Duration {
	var down *errDatabaseDown
	if errors.As(err, &down) {
		return dbPoll
	}
	return keyPoll
}

// retryDB runs a write of the run's bookkeeping, again while the database is unreachable,
// for up to DatabaseOutage (and within ctx): a restart of the database must not lose a
// workspace's outcome or leave the run open.
func (r *run) retryDB(ctx context.Context, write func(context.Context) error) error {
	for {
		err := write(ctx)
		if err == nil {
			r.databaseUp()
			return nil
		}
		if !db.IsUnavailable(err) {
			return err
		}
		r.noteWait(nil, &errDatabaseDown{err: err})
		if r.databaseDown() >= r.engine.cfg.DatabaseOutage {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(dbPoll):
		}
	}
}

// recordTimeout bounds the database writes that record an outcome. They run on a context
// detached from the run's, so that an interrupted run still records why it stopped.
const recordTimeout = 30 * time.Second

func (r *run) execute(parent context.Context) (Summary, error) {
	cfg := r.engine.cfg
	ctx := parent
	if r.req.Deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadlineCause(parent, r.started.Add(r.req.Deadline), ErrDeadline)
		defer cancel()
	}

	discovered := r.reportDiscovery()
	hbCtx, stopHeartbeat := context.WithCancel(context.WithoutCancel(parent))
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		r.heartbeat(hbCtx)
	}()

	var wg stdsync.WaitGroup
	for range min(cfg.Workers, max(1, len(r.queue.jobs))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx)
		}()
	}
	wg.Wait()
	<-discovered

	// The heartbeat goes on until the run is closed: the overlap check and the view
	// refresh of a large fleet take long enough for another process to think it dead.
	defer func() {
		stopHeartbeat()
		<-hbDone
	}()
	// Each phase from here gets its own bounded context, detached from the run's so that an
	// interrupted run still records why it stopped.
	phase := func(d time.Duration) (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(parent), d)
	}
	reason := stopReason(ctx, r.req.Deadline)
	left := r.queue.drain()
	record, cancelRecord := phase(recordTimeout + time.Duration(len(left))*time.Second)
	for _, j := range left {
		// Never started, or waiting for another attempt when the run stopped.
		r.finish(record, j, WorkspaceResult{Status: db.WorkspaceCancelled, Error: reason, Attempts: j.attempt})
	}
	cancelRecord()

	interrupted := parent.Err() != nil
	var runErr []string
	if r.changed {
		check, cancel := phase(cfg.ViewRefreshTimeout)
		r.checkOverlaps(check)
		cancel()
		refresh, cancel := context.WithTimeout(context.WithoutCancel(parent), cfg.ViewRefreshTimeout+5*time.Second)
		took, err := r.engine.store.RefreshView(refresh, r.id, cfg.ViewRefreshTimeout)
		cancel()
		if err != nil {
			msg := fmt.Sprintf("email_accounts_view not refreshed: %v", err)
			runErr = append(runErr, msg)
			r.emit(Notice{Level: LevelWarn, Message: msg})
		} else {
			r.emit(Notice{Level: LevelInfo, Message: fmt.Sprintf("email_accounts_view refreshed in %s", took.Round(time.Millisecond))})
		}
	}
	if interrupted {
		runErr = append([]string{context.Cause(parent).Error()}, runErr...)
	}
	errText := joinNonEmpty(runErr)
	closeCtx, cancelClose := phase(recordTimeout + cfg.DatabaseOutage)
	defer cancelClose()
	var closed db.RunSummary
	err := r.retryDB(closeCtx, func(ctx context.Context) (err error) {
		closed, err = r.engine.store.CloseRun(ctx, r.id, interrupted, errText)
		return err
	})
	summary := r.summary(closed, interrupted, errText)
	if err != nil {
		summary.Error = joinNonEmpty([]string{summary.Error, fmt.Sprintf("closing the run failed: %v", err)})
		r.emit(RunFinished{Summary: summary})
		return summary, err
	}
	r.emit(RunFinished{Summary: summary})
	return summary, nil
}

// work is one worker: it takes the next workspace until the queue is empty or the run stops.
func (r *run) work(ctx context.Context) {
	for {
		j := r.queue.next(ctx)
		if j == nil {
			return
		}
		j.attempt++
		res, retryIn, err := r.attempt(ctx, j)
		if err != nil {
			j.attempt-- // it did not count
			r.noteWait(j, err)
			r.queue.requeue(j, waitPoll(err))
			continue
		}
		if retryIn > 0 && ctx.Err() == nil {
			r.emit(Retrying{Workspace: j.plan.ws.Name, Scope: ScopeWorkspace, Op: fmt.Sprintf("attempt %d", j.attempt),
				Attempt: j.attempt, Reason: res.Error, Wait: retryIn})
			r.queue.requeue(j, retryIn)
			continue
		}
		record, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout+r.engine.cfg.DatabaseOutage)
		r.finish(record, j, res)
		cancel()
		if r.queue.done(j) {
			j.plan.inst.Limiter().Reserve(0) // the chain is over: every slot to the rest
		}
	}
}

// noteWait tells the observers, once per wait, why a workspace waits without an attempt
// counted: another process holds its super-admin key, or the database is unreachable.
func (r *run) noteWait(j *job, err error) {
	var busy *errKeyBusy
	if errors.As(err, &busy) {
		if !j.waitNoted {
			j.waitNoted = true
			r.emit(Notice{Workspace: j.plan.ws.Name, Level: LevelInfo, Message: busy.Error()})
		}
		return
	}
	if r.dbDownSince.CompareAndSwap(0, time.Now().UnixNano()) {
		r.emit(Notice{Level: LevelWarn, Message: fmt.Sprintf("the database at %s is unreachable (%v); the run waits up to %s for it (not counted as attempts)",
			r.engine.store.Host(), err, r.engine.cfg.DatabaseOutage)})
	}
}

// databaseDown returns for how long the database has been unreachable, marking the outage's
// start if it had not been seen yet.
func (r *run) databaseDown() time.Duration {
	r.dbDownSince.CompareAndSwap(0, time.Now().UnixNano())
	return time.Since(time.Unix(0, r.dbDownSince.Load()))
}

// databaseUp ends an outage, saying so.
func (r *run) databaseUp() {
	if since := r.dbDownSince.Swap(0); since != 0 {
		r.emit(Notice{Level: LevelInfo, Message: fmt.Sprintf("the database at %s answers again, after %s",
			r.engine.store.Host(), time.Since(time.Unix(0, since)).Round(time.Second))})
	}
}

// finish records a workspace's final outcome (a success is already recorded by its commit)
// and tells the observers.
func (r *run) finish(ctx context.Context, j *job, res WorkspaceResult) {
	ws := j.plan.ws
	res.Name, res.Instance = ws.Name, ws.Instance
	res.DurationMS = res.Duration.Milliseconds()
	if res.Status != db.WorkspaceSucceeded {
		outcome := db.WorkspaceOutcome{
			RunID: r.id, Workspace: ws.Name, Status: res.Status, Error: res.Error,
			Warning: res.Warning, Attempts: res.Attempts, PagesFetched: res.PagesFetched, PagesTotal: res.PagesTotal,
			AccountsExpected: res.AccountsExpected, AccountsFetched: res.AccountsFetched,
			StartedAt: j.started,
		}
		err := r.retryDB(ctx, func(ctx context.Context) error { return r.engine.store.FinishWorkspace(ctx, outcome) })
		if err != nil {
			// The outcome stays in the summary and the exit code; the row is closed by CloseRun.
			res.Error = joinNonEmpty([]string{res.Error, fmt.Sprintf("recording this outcome failed: %v", err)})
		}
	}
	r.mu.Lock()
	r.results[ws.Name] = res
	if res.Status == db.WorkspaceSucceeded && (res.AccountsUpserted > 0 || res.AccountsDeleted > 0) {
		r.changed = true
	}
	r.mu.Unlock()
	r.emit(WorkspaceFinished{Result: res})
}

// checkOverlaps looks, once the workspaces are committed, for accounts of a workspace synced
// in this run that also live under another workspace of its instance: the trace of a key
// that serves another workspace's data (production saw 244 such accounts). Enough of them
// put a warning on the workspace, in the registry, the run history and the summary.
func (r *run) checkOverlaps(ctx context.Context) {
	var synced []string
	r.mu.Lock()
	for name, res := range r.results {
		if res.Status == db.WorkspaceSucceeded {
			synced = append(synced, name)
		}
	}
	r.mu.Unlock()
	start := time.Now()
	if err := r.engine.store.AnalyzeAccounts(ctx); err != nil {
		r.emit(Notice{Level: LevelWarn, Message: err.Error()})
	}
	overlaps, err := r.engine.store.Overlaps(ctx, synced, r.engine.cfg.OverlapWarnMin)
	if err != nil {
		r.emit(Notice{Level: LevelWarn, Message: fmt.Sprintf("could not check for accounts shared between workspaces: %v", err)})
		return
	}
	r.emit(Notice{Level: LevelInfo, Message: fmt.Sprintf("checked %d workspaces for accounts shared with another workspace in %s",
		len(synced), time.Since(start).Round(time.Millisecond))})
	for name, list := range overlaps {
		var warnings []string
		for _, o := range list {
			warnings = append(warnings, fmt.Sprintf("%d of its accounts also appear under %s: its API key may belong to another workspace", o.Accounts, o.Workspace))
		}
		r.mu.Lock()
		res := r.results[name]
		res.Warning = joinNonEmpty(append([]string{res.Warning}, warnings...))
		r.results[name] = res
		r.mu.Unlock()
		for _, w := range warnings {
			r.emit(Notice{Workspace: name, Level: LevelWarn, Message: w})
		}
		if err := r.engine.store.SetWarning(ctx, r.id, name, res.Warning); err != nil {
			r.emit(Notice{Workspace: name, Level: LevelWarn, Message: fmt.Sprintf("could not record the warning: %v", err)})
		}
	}
}

// heartbeat proves the run alive and renews its leases until ctx ends.
func (r *run) heartbeat(ctx context.Context) {
	t := time.NewTicker(r.engine.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.engine.store.Heartbeat(ctx, r.id, r.engine.cfg.LeaseTTL); err != nil && ctx.Err() == nil {
				r.emit(Notice{Level: LevelWarn, Message: fmt.Sprintf("heartbeat failed (leases not renewed): %v", err)})
			}
		}
	}
}

// summary assembles the caller's view of the run from the workspace results, in plan
// order, with the status the database computed from the same rows.
func (r *run) summary(closed db.RunSummary, interrupted bool, errText string) Summary {
	s := Summary{
		RunID: r.id, Status: closed.Status, Trigger: r.engine.cfg.Trigger,
		StartedAt: r.started, FinishedAt: time.Now(), Interrupted: interrupted, Error: errText,
		Workspaces: []WorkspaceResult{}, // a list in JSON even when empty
		Discovery:  r.discovered(),
	}
	s.DurationMS = s.FinishedAt.Sub(s.StartedAt).Milliseconds()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, name := range r.queue.order {
		res, ok := r.results[name]
		if !ok {
			// Defensive: CloseRun recorded it as cancelled; say so here as well.
			res = WorkspaceResult{Name: name, Status: db.WorkspaceCancelled, Error: "the run ended before this workspace finished"}
		}
		s.Workspaces = append(s.Workspaces, res)
		s.WorkspacesTotal++
		s.AccountsExpected += res.AccountsExpected
		switch res.Status {
		case db.WorkspaceSucceeded:
			s.WorkspacesSucceeded++
			s.AccountsSynced += res.AccountsUpserted
		case db.WorkspaceFailed:
			s.WorkspacesFailed++
		case db.WorkspaceCancelled:
			s.WorkspacesCancelled++
		case db.WorkspaceSkipped:
			s.WorkspacesSkipped++
		}
	}
	if s.Status == "" {
		// Closing the run failed: decide from the results, by the same rule.
		s.Status = db.DecideRunStatus(s.Tally(), interrupted)
	}
	return s
}

// stopReason explains why workspaces left in the queue did not run.
func stopReason(ctx context.Context, deadline time.Duration) string {
	cause := context.Cause(ctx)
	switch {
	case cause == nil:
		return "the run ended before this workspace finished"
	case errors.Is(cause, ErrDeadline):
		return fmt.Sprintf("cancelled: the run's --deadline of %s passed before this workspace finished", deadline)
	case errors.Is(cause, context.Canceled):
		return "cancelled: the run was interrupted before this workspace finished"
	default:
		return fmt.Sprintf("cancelled: %v before this workspace finished", cause)
	}
}

func joinNonEmpty(parts []string) string {
	out := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if out != "" {
			out += "; "
		}
		out += p
	}
	return out
}
