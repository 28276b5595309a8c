package sync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	stdsync "sync"
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

	mu       stdsync.Mutex
	results  map[string]WorkspaceResult
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

// keyPoll is how often a workspace waiting for a super-admin key held by another process
// asks again.
const keyPoll = 250 * time.Millisecond

// overlapCheckTimeout bounds the shared-accounts check after the workspaces are committed.
const overlapCheckTimeout = 5 * time.Minute

// recordTimeout bounds the database writes that record an outcome. They run on a context
// detached from the run's, so that an interrupted run still records why it stopped.
const recordTimeout = 30 * time.Second

func (r *run) execute(parent context.Context) (Summary, error) {
	ctx := parent
	if r.req.Deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadlineCause(parent, r.started.Add(r.req.Deadline), ErrDeadline)
		defer cancel()
	}
	// The heartbeat goes on until the run is closed: the shared-accounts check of a large
	// fleet can take long enough for another process to think it dead.
	defer r.startHeartbeat(parent)()

	var wg stdsync.WaitGroup
	for range min(r.engine.cfg.Workers, max(1, len(r.queue.jobs))) {
		wg.Go(func() { r.work(ctx) })
	}
	wg.Wait()

	r.cancelLeft(parent, stopReason(ctx, r.req.Deadline))
	check, cancel := detached(parent, overlapCheckTimeout)
	r.checkOverlaps(check)
	cancel()
	return r.close(parent)
}

// detached is a bounded context for a phase after the workers, detached from the run's so
// that an interrupted run still records why it stopped.
func detached(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(parent), d)
}

// startHeartbeat starts the run's heartbeat and returns what stops it.
func (r *run) startHeartbeat(parent context.Context) (stop func()) {
	hbCtx, cancel := context.WithCancel(context.WithoutCancel(parent))
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.heartbeat(hbCtx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// cancelLeft records as cancelled the workspaces the workers left in the queue: never
// started, or waiting for another attempt when the run stopped.
func (r *run) cancelLeft(parent context.Context, reason string) {
	left := r.queue.drain()
	record, cancel := detached(parent, recordTimeout+time.Duration(len(left))*time.Second)
	defer cancel()
	for _, j := range left {
		r.finish(record, j, WorkspaceResult{Status: StatusCancelled, Error: reason, Attempts: j.attempt})
	}
}

// close closes the run with the totals of its workspace rows and tells the observers.
func (r *run) close(parent context.Context) (Summary, error) {
	interrupted := parent.Err() != nil
	errText := ""
	if interrupted {
		errText = context.Cause(parent).Error()
	}
	closeCtx, cancel := detached(parent, recordTimeout)
	defer cancel()
	closed, err := r.engine.store.CloseRun(closeCtx, r.id, interrupted, errText)
	summary := r.summary(closed, interrupted, errText)
	if err != nil {
		summary.Error = joinNonEmpty([]string{summary.Error, fmt.Sprintf("closing the run failed: %v", err)})
	}
	r.emit(RunFinished{Summary: summary})
	return summary, err
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
		var busy *errKeyBusy
		if errors.As(err, &busy) {
			j.attempt-- // it did not start
			if !j.waitNoted {
				j.waitNoted = true
				r.emit(Notice{Workspace: j.plan.ws.Name, Level: "info", Message: busy.Error()})
			}
			r.queue.requeue(j, keyPoll)
			continue
		}
		if retryIn > 0 && ctx.Err() == nil {
			r.emit(Retrying{Workspace: j.plan.ws.Name, Scope: "workspace", Op: fmt.Sprintf("attempt %d", j.attempt),
				Attempt: j.attempt, Reason: res.Error, Wait: retryIn})
			r.queue.requeue(j, retryIn)
			continue
		}
		record, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		r.finish(record, j, res)
		cancel()
		if r.queue.done(j) {
			j.plan.inst.Limiter().Reserve(0) // the chain is over: every slot to the rest
		}
	}
}

// finish records a workspace's final outcome (a success is already recorded by its commit)
// and tells the observers.
func (r *run) finish(ctx context.Context, j *job, res WorkspaceResult) {
	ws := j.plan.ws
	res.Name, res.Instance = ws.Name, ws.Instance
	res.DurationMS = res.Duration.Milliseconds()
	if res.Status != StatusSucceeded {
		err := r.engine.store.FinishWorkspace(ctx, db.WorkspaceOutcome{
			RunID: r.id, Workspace: ws.Name, Status: db.WorkspaceStatus(res.Status), Error: res.Error,
			Warning: res.Warning, Attempts: res.Attempts, PagesFetched: res.PagesFetched, PagesTotal: res.PagesTotal,
			AccountsExpected: res.AccountsExpected, AccountsFetched: res.AccountsFetched,
			StartedAt: j.started,
		})
		if err != nil {
			// The outcome stays in the summary and the exit code; the row is closed by CloseRun.
			res.Error = joinNonEmpty([]string{res.Error, fmt.Sprintf("recording this outcome failed: %v", err)})
		}
	}
	r.mu.Lock()
	r.results[ws.Name] = res
	r.mu.Unlock()
	r.emit(WorkspaceFinished{Result: res})
}

// checkOverlaps looks, once the workspaces are committed, for accounts of a workspace synced
// in this run that also live under another workspace of its instance: the trace of a key
// that serves another workspace's data (production saw 244 such accounts). Enough of them
// put a warning on the workspace, in the registry, the run history and the summary.
//
// Only workspaces whose live accounts changed in this run (new, deleted or returned ones)
// are looked at, and those that carried a warning before it: the others share exactly what
// they shared at their last check. Their commit cleared their warning, so the check must
// find it again (checkShared). A pair found from one side warns the other side too when it
// succeeded in this run.
func (r *run) checkOverlaps(ctx context.Context) {
	var check []string
	synced := map[string]bool{}
	r.mu.Lock()
	for name, res := range r.results {
		if res.Status == StatusSucceeded {
			synced[name] = true
			if res.checkShared {
				check = append(check, name)
			}
		}
	}
	r.mu.Unlock()
	if len(check) == 0 {
		return
	}
	start := time.Now()
	if err := r.engine.store.AnalyzeAccounts(ctx); err != nil {
		r.emit(Notice{Level: "warn", Message: err.Error()})
	}
	overlaps, err := r.engine.store.Overlaps(ctx, check, r.engine.cfg.OverlapWarnMin)
	if err != nil {
		r.emit(Notice{Level: "warn", Message: fmt.Sprintf("could not check for accounts shared between workspaces: %v", err)})
		return
	}
	r.emit(Notice{Level: "info", Message: fmt.Sprintf("checked %d of %d workspaces (those whose accounts changed) for accounts shared with another workspace in %s",
		len(check), len(synced), time.Since(start).Round(time.Millisecond))})
	for name, list := range bothSides(overlaps, synced) {
		r.warnShared(ctx, name, list)
	}
}

// bothSides adds to overlaps, found from the workspaces checked, the same pairs seen from
// the other side, for the other workspaces synced in this run.
func bothSides(overlaps map[string][]db.Overlap, synced map[string]bool) map[string][]db.Overlap {
	out := make(map[string][]db.Overlap, len(overlaps))
	for name, list := range overlaps {
		out[name] = append(out[name], list...)
	}
	for name, list := range overlaps {
		for _, o := range list {
			if _, checked := overlaps[o.Workspace]; !checked && synced[o.Workspace] {
				out[o.Workspace] = append(out[o.Workspace], db.Overlap{Workspace: name, Accounts: o.Accounts})
			}
		}
	}
	return out
}

// warnShared records a workspace's shared accounts as warnings.
func (r *run) warnShared(ctx context.Context, name string, list []db.Overlap) {
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
		r.emit(Notice{Workspace: name, Level: "warn", Message: w})
	}
	if err := r.engine.store.SetWarning(ctx, r.id, name, res.Warning); err != nil {
		r.emit(Notice{Workspace: name, Level: "warn", Message: fmt.Sprintf("could not record the warning: %v", err)})
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
				r.emit(Notice{Level: "warn", Message: fmt.Sprintf("heartbeat failed (leases not renewed): %v", err)})
			}
		}
	}
}

// summary assembles the caller's view of the run from the workspace results, in plan
// order, with the status the database computed from the same rows.
func (r *run) summary(closed db.RunSummary, interrupted bool, errText string) Summary {
	s := Summary{
		RunID: r.id, Status: string(closed.Status), Trigger: r.engine.cfg.Trigger,
		StartedAt: r.started, FinishedAt: time.Now(), Interrupted: interrupted, Error: errText,
		Workspaces: []WorkspaceResult{}, // a list in JSON even when empty
	}
	s.DurationMS = s.FinishedAt.Sub(s.StartedAt).Milliseconds()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, name := range r.queue.order {
		res, ok := r.results[name]
		if !ok {
			// Defensive: CloseRun recorded it as cancelled; say so here as well.
			res = WorkspaceResult{Name: name, Status: StatusCancelled, Error: "the run ended before this workspace finished"}
		}
		s.Workspaces = append(s.Workspaces, res)
		s.WorkspacesTotal++
		s.AccountsExpected += res.AccountsExpected
		switch res.Status {
		case StatusSucceeded:
			s.WorkspacesSucceeded++
			s.AccountsSynced += res.AccountsFetched
		case StatusFailed:
			s.WorkspacesFailed++
		case StatusCancelled:
			s.WorkspacesCancelled++
		case StatusSkipped:
			s.WorkspacesSkipped++
		}
	}
	if s.Status == "" {
		s.Status = runStatus(s, interrupted)
	}
	return s
}

// runStatus is CONTRACT.md §4.1, for when the database could not say.
func runStatus(s Summary, interrupted bool) string {
	switch {
	case interrupted:
		return "cancelled"
	case s.WorkspacesFailed+s.WorkspacesCancelled == 0:
		return "succeeded"
	case s.WorkspacesSucceeded > 0:
		return "partial"
	default:
		return "failed"
	}
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
