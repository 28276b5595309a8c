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
	dbWaitTold  atomic.Bool // the outage under way was told (noteWait)
	lockWaiting atomic.Bool // some of the run's sessions wait for a lock (watchLocks)

	instances []InstanceResult // each instance's figures, once the workers are done
	progress  *progressWriter  // the run's figures in the database for other processes

	mu          stdsync.Mutex
	results     map[string]WorkspaceResult
	pageOnes    map[string]string    // instance + first page's ids → the workspace that served it
	unreachable map[string]bool      // instances found unreachable in this run: said once
	paused      map[string]time.Time // the end of each instance's last pause told (notePause)
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
	stopProgress := r.startProgress(parent)
	discovered := r.reportDiscovery()
	// The heartbeat goes on until the run is closed: the overlap check of a large fleet
	// can take long enough for another process to think it dead.
	stopHeartbeat := r.background(parent, r.heartbeat)
	defer stopHeartbeat()
	stopLockWatch := r.background(parent, r.watchLocks)
	defer stopLockWatch()

	var wg stdsync.WaitGroup
	for range min(r.engine.cfg.Workers, max(1, len(r.queue.jobs))) {
		wg.Go(func() { r.work(ctx) })
	}
	wg.Wait()
	<-discovered
	r.wrapUp(parent, ctx)
	stopProgress() // its last write lands before the run is closed, never after
	return r.close(parent)
}

// background runs task on a context detached from the run's (it must outlive an
// interruption) until the returned function stops it and waits for it.
func (r *run) background(parent context.Context, task func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	done := make(chan struct{})
	go func() {
		defer close(done)
		task(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// phase is a bounded context for one step after the workers stopped, detached from the run's
// so that an interrupted run still records why it stopped.
func phase(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(parent), d)
}

// wrapUp records what never got its turn as cancelled, keeps the pace each instance was
// found to accept, and checks the workspaces whose accounts changed for accounts shared
// with another.
func (r *run) wrapUp(parent, ctx context.Context) {
	reason := stopReason(ctx, r.req.Deadline)
	left := r.queue.drain()
	record, cancel := phase(parent, recordTimeout+time.Duration(len(left))*time.Second)
	for _, j := range left {
		// Never started, or waiting for another attempt when the run stopped.
		r.finish(record, j, WorkspaceResult{Status: db.WorkspaceCancelled, Error: reason, Attempts: j.attempt})
	}
	r.savePaces(record)
	cancel()
	check, cancel := phase(parent, overlapCheckTimeout)
	r.checkOverlaps(check)
	cancel()
}

// close closes the run in the database, riding out an outage, and tells the observers.
func (r *run) close(parent context.Context) (Summary, error) {
	interrupted := parent.Err() != nil
	errText := ""
	if interrupted {
		errText = context.Cause(parent).Error()
	}
	closeCtx, cancel := phase(parent, recordTimeout+r.engine.cfg.DatabaseOutage)
	defer cancel()
	var closed db.RunSummary
	err := r.retryDB(closeCtx, func(ctx context.Context) (err error) {
		closed, err = r.engine.store.CloseRun(ctx, r.id, interrupted, errText)
		return err
	})
	summary := r.summary(closed, interrupted, errText)
	if err != nil {
		summary.Error = joinNonEmpty([]string{summary.Error, fmt.Sprintf("closing the run failed: %v", err)})
	}
	r.emit(RunFinished{Summary: summary})
	return summary, err
}

// savePaces keeps the pace each instance of the run was found to accept, where the next run
// will start, and puts each instance's figures in the summary.
func (r *run) savePaces(ctx context.Context) {
	seen := map[*bison.Instance]bool{}
	for _, name := range r.queue.order {
		inst := r.plans[name].inst
		if inst == nil || seen[inst] {
			continue
		}
		seen[inst] = true
		st := inst.Stats()
		r.instances = append(r.instances, instanceResult(inst.Name(), st))
		if err := r.engine.store.SavePace(ctx, inst.Name(), st.Pace.RequestsPerSecond, st.Pace.InFlight); err != nil {
			r.emit(Notice{Level: LevelWarn, Message: fmt.Sprintf("the pace learnt for instance %q was not kept: %v", inst.Name(), err)})
		}
	}
}

// startProgress starts the run's progress writer, fed by every event the run emits, and
// returns what stops it after a last write.
func (r *run) startProgress(parent context.Context) (stop func()) {
	return r.background(parent, func(ctx context.Context) { r.progress.loop(ctx, r.engine.cfg.ProgressInterval) })
}

// observeProgress makes the run's progress writer one of its observers. It is done when the
// run is made, before any goroutine can emit: emit is never changed after.
func (r *run) observeProgress() {
	r.progress = newProgressWriter(r.engine.store, r.id, r.emit)
	emit, pw := r.emit, r.progress
	r.emit = func(ev Event) {
		pw.observe(ev)
		emit(ev)
	}
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
// counted: another process holds its super-admin key, or the database is unreachable (one
// wait for the whole run, however many workspaces meet it).
func (r *run) noteWait(j *job, err error) {
	var busy *errKeyBusy
	if errors.As(err, &busy) {
		if !j.waitNoted {
			j.waitNoted = true
			r.emit(Waiting{Workspace: j.plan.ws.Name, Instance: j.plan.ws.Instance, For: WaitKeyBusy, Detail: busy.reason})
		}
		return
	}
	// Told once per outage, whichever noticed it first (databaseFailure marks its start).
	r.databaseDown()
	if r.dbWaitTold.CompareAndSwap(false, true) {
		cause := err
		var down *errDatabaseDown
		if errors.As(err, &down) {
			cause = down.err
		}
		since := time.Unix(0, r.dbDownSince.Load())
		r.emit(Waiting{For: WaitDatabase, Detail: fmt.Sprintf("%s: %v", r.engine.store.Host(), cause),
			Until: since.Add(r.engine.cfg.DatabaseOutage)})
	}
}

// notePause tells the observers, once per pause of an instance, that a 429 with Retry-After
// holds every request to it until the pause ends: every workspace of the instance waits.
func (r *run) notePause(workspace string, inst *bison.Instance, reason string) {
	if inst == nil {
		return
	}
	until := inst.Limiter().PausedUntil()
	if until.IsZero() {
		return
	}
	r.mu.Lock()
	if r.paused == nil {
		r.paused = map[string]time.Time{}
	}
	told := r.paused[inst.Name()]
	fresh := until.After(told.Add(100 * time.Millisecond)) // a pause extended by less is the same pause
	if fresh {
		r.paused[inst.Name()] = until
	}
	r.mu.Unlock()
	if fresh {
		r.emit(Waiting{Workspace: workspace, Instance: inst.Name(), For: WaitInstancePaused, Detail: reason, Until: until})
	}
}

// noteUnreachable says once per instance and run that an instance cannot be reached: its
// workspaces then fail with the same words, without a line each of retries.
func (r *run) noteUnreachable(e *bison.UnreachableError) {
	r.mu.Lock()
	seen := r.unreachable[e.Instance]
	if r.unreachable == nil {
		r.unreachable = map[string]bool{}
	}
	r.unreachable[e.Instance] = true
	r.mu.Unlock()
	if !seen {
		r.emit(Notice{Level: LevelWarn, Message: e.Error() + ": its workspaces fail now; the others go on"})
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
		r.dbWaitTold.Store(false)
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
		if res.Status == db.WorkspaceSucceeded {
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
		r.emit(Notice{Level: LevelWarn, Message: err.Error()})
	}
	overlaps, err := r.engine.store.Overlaps(ctx, check, r.engine.cfg.OverlapWarnMin)
	if err != nil {
		r.emit(Notice{Level: LevelWarn, Message: fmt.Sprintf("could not check for accounts shared between workspaces: %v", err)})
		return
	}
	r.emit(Notice{Level: LevelInfo, Message: fmt.Sprintf("checked %d of %d workspaces (those whose accounts changed) for accounts shared with another workspace in %s",
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
		r.emit(Notice{Workspace: name, Level: LevelWarn, Message: w})
	}
	if err := r.engine.store.SetWarning(ctx, r.id, name, res.Warning); err != nil {
		r.emit(Notice{Workspace: name, Level: LevelWarn, Message: fmt.Sprintf("could not record the warning: %v", err)})
	}
}

// Lock waits: looked for every lockPoll, told after lockFirst and every lockEvery after.
const (
	lockPoll  = time.Second
	lockFirst = 2 * time.Second
	lockEvery = 5 * time.Second
)

// watchLocks looks, while the run lasts, for its sessions waiting for a table lock another
// session holds: it says so while it lasts (which table, for how long, held by which pid),
// and the stall watchdog counts the wait as known rather than as a stall.
func (r *run) watchLocks(ctx context.Context) {
	t := time.NewTicker(lockPoll)
	defer t.Stop()
	var told time.Duration
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		waits, err := r.engine.store.LockWaits(ctx)
		if err != nil {
			continue // the heartbeat reports a database that does not answer
		}
		r.lockWaiting.Store(len(waits) > 0)
		switch {
		case len(waits) == 0:
			told = 0
		case waits[0].Waited >= lockFirst && (told == 0 || waits[0].Waited-told >= lockEvery):
			told = waits[0].Waited
			r.emit(Notice{Level: LevelWarn, Message: fmt.Sprintf("the database: %d session(s) of this run %s",
				len(waits), waits[0])})
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
		RunID: r.id, Status: closed.Status, Trigger: r.engine.trigger(r.req),
		StartedAt: r.started, FinishedAt: time.Now(), Interrupted: interrupted, Error: errText,
		Workspaces: []WorkspaceResult{}, // lists in JSON even when empty
		Instances:  append([]InstanceResult{}, r.instances...),
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
			s.AccountsSynced += res.AccountsFetched
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
