package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/db"
)

// errKeyBusy: another process is using the instance's super-admin key; the workspace waits
// for it (it is neither failed nor skipped: it is another workspace that holds the key).
type errKeyBusy struct{ reason string }

func (e *errKeyBusy) Error() string { return "waiting for the super-admin key: " + e.reason }

// errDatabaseDown: the database could not be reached during the attempt. The attempt is not
// counted: the workspace waits for the database, up to Config.DatabaseOutage.
type errDatabaseDown struct{ err error }

func (e *errDatabaseDown) Error() string { return "the database is unreachable: " + e.err.Error() }

// attempt makes one attempt at a workspace: lease, switch, fetch, reconcile, commit. It
// returns the result and, when the failure is worth another attempt, how long to wait first
// (0: the result is final). A *errKeyBusy or *errDatabaseDown error means the attempt did not
// count: the workspace waits and tries again.
func (r *run) attempt(ctx context.Context, j *job) (WorkspaceResult, time.Duration, error) {
	if j.started.IsZero() {
		j.started = time.Now()
	}
	res := WorkspaceResult{Attempts: j.attempt}
	if done, err := r.begin(ctx, j, &res); done || err != nil {
		return res, 0, err
	}
	p := j.plan
	w := &workspaceSync{run: r, plan: p}
	if p.superAdmin {
		var once stdsync.Once
		w.fetched = func() { once.Do(func() { r.releaseKey(ctx, j) }) }
		defer w.fetched()
	} else {
		w.fetched = func() {}
	}
	r.emit(WorkspaceStarted{Workspace: p.ws.Name, Attempt: j.attempt, At: time.Now()})
	wctx, stop := w.watch(ctx)
	commit, err := w.sync(wctx, j.started, j.attempt)
	stop()
	res.PagesFetched = int(w.pagesFetched.Load())
	res.PagesTotal = int(w.pagesTotal.Load())
	res.AccountsExpected = w.expected
	res.AccountsFetched = w.accounts
	res.Warning = w.warning()
	r.noteKeyHealth(ctx, p, err)
	if err == nil {
		res.AccountsUpserted, res.AccountsUnchanged, res.AccountsDeleted = commit.Upserted, commit.Unchanged, commit.Deleted
		res.checkShared = commit.Inserted+commit.Deleted+commit.Restored > 0 || p.ws.LastWarning != ""
		r.settle(j, &res, db.WorkspaceSucceeded, "")
		return res, 0, nil
	}
	return r.failedAttempt(ctx, j, res, wctx, err)
}

// begin does what precedes the fetch: the lease, the super-admin key, the record of the
// start. done means res is final (cancelled, failed or skipped); an error means the attempt
// did not start and is not counted.
func (r *run) begin(ctx context.Context, j *job, res *WorkspaceResult) (done bool, err error) {
	p := j.plan
	cfg := r.engine.cfg
	owner := db.LeaseOwner{RunID: r.id, Host: cfg.Host, PID: cfg.PID}
	if ctx.Err() != nil {
		return r.settle(j, res, db.WorkspaceCancelled, stopReason(ctx, r.req.Deadline)), nil
	}
	if p.keyErr != nil {
		return r.settle(j, res, db.WorkspaceFailed, p.keyErr.Error()), nil
	}
	if !j.leased {
		claim, err := r.engine.store.ClaimLease(ctx, p.ws.Name, owner, cfg.LeaseTTL, r.req.StaleFor)
		if err != nil {
			return r.databaseFailure(ctx, j, res, "could not claim the workspace", err)
		}
		if !claim.Claimed {
			return r.settle(j, res, db.WorkspaceSkipped, claim.Reason), nil
		}
		j.leased = true
	}
	if p.superAdmin {
		// The key's selected workspace is server-side state shared by every process that
		// uses it: hold the key, across processes, from the switch to the last request.
		claim, err := r.engine.store.ClaimKeyLease(ctx, p.ws.Instance, p.ws.Name, owner, cfg.LeaseTTL)
		switch {
		case err != nil:
			return r.databaseFailure(ctx, j, res, "could not claim the super-admin key", err)
		case !claim.Claimed:
			return false, &errKeyBusy{reason: claim.Reason}
		}
	}
	if err := r.engine.store.StartWorkspace(ctx, r.id, p.ws.Name, j.attempt); err != nil {
		if p.superAdmin {
			r.releaseKey(ctx, j)
		}
		return r.databaseFailure(ctx, j, res, "could not record the start", err)
	}
	r.databaseUp()
	return false, nil
}

// databaseFailure settles an attempt whose database call failed: cancelled when the run
// stopped, a wait (not counted) while the database is unreachable and has been for less than
// DatabaseOutage, failed otherwise.
func (r *run) databaseFailure(ctx context.Context, j *job, res *WorkspaceResult, what string, err error) (bool, error) {
	switch {
	case ctx.Err() != nil:
		return r.settle(j, res, db.WorkspaceCancelled, stopReason(ctx, r.req.Deadline)), nil
	case !db.IsUnavailable(err):
		return r.settle(j, res, db.WorkspaceFailed, fmt.Sprintf("%s: %v", what, err)), nil
	}
	if down := r.databaseDown(); down >= r.engine.cfg.DatabaseOutage {
		return r.settle(j, res, db.WorkspaceFailed, fmt.Sprintf("%s: the database at %s has been unreachable for %s: %v",
			what, r.engine.store.Host(), down.Round(time.Second), err)), nil
	}
	return false, &errDatabaseDown{err: err}
}

// settle makes res final with status and reason; a workspace's duration runs from its first
// attempt, retries and waits included. It returns true, for begin's callers.
func (r *run) settle(j *job, res *WorkspaceResult, status db.WorkspaceStatus, msg string) bool {
	res.Status, res.Error, res.Duration = status, msg, time.Since(j.started)
	return true
}

// releaseKey lets the next workspace on the super-admin key go: this one's requests are done.
func (r *run) releaseKey(ctx context.Context, j *job) {
	release, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	_ = r.engine.store.ReleaseKeyLease(release, j.plan.ws.Instance, r.id) // else freed with the run
	r.queue.releaseKey(j)
}

// failedAttempt settles an attempt whose fetch or commit failed: cancelled when the run
// stopped, a wait while the database is away, another attempt after a backoff when one could
// help, failed otherwise.
func (r *run) failedAttempt(ctx context.Context, j *job, res WorkspaceResult, wctx context.Context, err error) (WorkspaceResult, time.Duration, error) {
	if ctx.Err() != nil {
		// Interrupted or out of time: whatever the attempt was doing, nothing was committed.
		r.settle(j, &res, db.WorkspaceCancelled, stopReason(ctx, r.req.Deadline))
		return res, 0, nil
	}
	if db.IsUnavailable(err) {
		// A commit cut off by the database may have been applied or not; either way the
		// lease is not to be trusted: claim it again.
		j.leased = false
		done, werr := r.databaseFailure(ctx, j, &res, "database", err)
		if done || werr != nil {
			return res, 0, werr
		}
	}
	if stall := (*stallError)(nil); errors.As(context.Cause(wctx), &stall) {
		err = stall
	}
	msg, retryable := r.explain(j.plan, err)
	if retryable && j.attempt < r.engine.cfg.Attempts {
		res.Error = msg
		return res, r.engine.cfg.RetryBackoff << (j.attempt - 1), nil
	}
	if retryable && j.attempt > 1 {
		msg = fmt.Sprintf("%s (gave up after %d attempts)", msg, j.attempt)
	}
	r.settle(j, &res, db.WorkspaceFailed, msg)
	return res, 0, nil
}

// explain turns an attempt's error into what an operator reads, and says whether another
// attempt could help.
func (r *run) explain(p planned, err error) (msg string, retryable bool) {
	var auth *bison.AuthError
	var notFound *bison.NotFoundError
	var stall *stallError
	var incomplete *incompleteError
	var mass *db.MassDeletionError
	var limited *bison.RateLimitedError
	var unreachable *bison.UnreachableError
	switch {
	case errors.As(err, &unreachable):
		// The instance's breaker is open: every request of the instance fails at once until
		// a probe gets through, and another attempt now would only repeat this.
		r.noteUnreachable(unreachable)
		return unreachable.Error() + "; nothing was written", false
	case errors.As(err, &limited) && (limited.MaxRetryAfter > 0 || limited.Stalled > 0):
		// What the server asked for is longer than the run can wait, or the instance
		// answered nothing but 429 for the whole stall window: another attempt would too.
		return fmt.Sprintf("%v; nothing was written", err), false
	case bison.IsPermanent(err) && !errors.As(err, &auth) && !errors.As(err, &notFound):
		return fmt.Sprintf("%v; nothing was written", err), false // a redirect, or a bad base_url
	case errors.As(err, &mass):
		return fmt.Sprintf("%v: nothing was written; the %d accounts are held for review (console, or table held_deletions); to apply them run with --allow-deletions %q",
			mass, mass.Would, p.ws.Name), false
	case errors.As(err, &auth) && p.superAdmin:
		return fmt.Sprintf("the super-admin key %s of instance %q was rejected (HTTP %d): fix bison_instances.api_key for %q; nothing was written (%v)",
			p.key.Hint(), p.ws.Instance, auth.Status, p.ws.Instance, err), false
	case errors.As(err, &auth):
		return fmt.Sprintf("the API key %s of workspace %q was rejected (HTTP %d): fix client_registry.bison_api_key for it; nothing was written (%v)",
			p.key.Hint(), p.ws.Name, auth.Status, err), false
	case errors.As(err, &notFound) && notFound.Req.Op == "switch workspace":
		return fmt.Sprintf("instance %q has no workspace with id %d (switch-workspace answered 404): fix client_registry.bison_workspace_id; nothing was written",
			p.ws.Instance, p.ws.BisonID), false
	case errors.As(err, &notFound):
		return fmt.Sprintf("%v; nothing was written", err), false
	case errors.Is(err, db.ErrLeaseLost):
		return "lost its lease to another process before committing; nothing was written", false
	case errors.As(err, &stall):
		return stall.Error() + "; nothing was written", true
	case errors.As(err, &incomplete):
		return incomplete.Error() + "; nothing was written", true
	default:
		return fmt.Sprintf("%v; nothing was written", err), true
	}
}

// commitTimeout bounds one workspace commit (one transaction).
const commitTimeout = 2 * time.Minute

// workspaceSync is the state of one attempt at one workspace.
type workspaceSync struct {
	run  *run
	plan planned
	src  source

	lastProgress atomic.Int64 // unix nanoseconds: the watchdog's clock
	committing   atomic.Bool  // the list is complete and being written
	lastLockWait atomic.Pointer[db.LockWait]
	pagesFetched atomic.Int64
	lastPage     atomic.Int64 // the most recent page number, for the stall message
	pagesTotal   atomic.Int64 // last_page as known so far
	reserved     int64        // accounts held from the run's budget

	// fetched is called once every request of the attempt is done: the super-admin key can
	// go to the next workspace while this one commits.
	fetched func()

	// Figures for the result, written once the list is complete.
	expected, accounts int

	warnMu   stdsync.Mutex
	warnings []string
	noted    map[string]bool // notices said once per attempt
}

// warn records a warning for the workspace (shown in the console, --check and the summary)
// and tells the observers at once.
func (w *workspaceSync) warn(msg string) {
	w.warnMu.Lock()
	w.warnings = append(w.warnings, msg)
	w.warnMu.Unlock()
	w.run.emit(Notice{Workspace: w.plan.ws.Name, Level: LevelWarn, Message: msg})
}

func (w *workspaceSync) warning() string {
	w.warnMu.Lock()
	defer w.warnMu.Unlock()
	return strings.Join(w.warnings, "; ")
}

// guard is the mass-deletion guard for this workspace, nil when the operator accepted its
// deletions for this run.
func (w *workspaceSync) guard() *db.DeletionGuard {
	if slices.Contains(w.run.req.AllowDeletions, w.plan.ws.Name) {
		return nil
	}
	g := &db.DeletionGuard{Percent: w.run.engine.cfg.DeletionGuardPercent, Min: w.run.engine.cfg.DeletionGuardMin}
	if pct := w.plan.ws.DeletionGuardPercent; pct != nil && *pct > 0 {
		g.Percent = *pct
	}
	return g
}

// stallError is the watchdog's cause: no page and no answer for too long.
type stallError struct {
	idle     time.Duration
	lastPage int64
	pages    int64
}

func (e *stallError) Error() string {
	return fmt.Sprintf("stalled: no progress for %s (last page fetched: %d of %d)", e.idle.Round(time.Second), e.lastPage, e.pages)
}

func (w *workspaceSync) progress() { w.lastProgress.Store(time.Now().UnixNano()) }

// watch starts the watchdog: a context cancelled with a *stallError when the attempt makes no
// progress for StallTimeout. There is no deadline on the attempt as a whole: a large
// workspace that keeps moving is never cut off.
func (w *workspaceSync) watch(ctx context.Context) (context.Context, func()) {
	limit := w.run.engine.cfg.StallTimeout
	wctx, cancel := context.WithCancelCause(ctx)
	w.progress()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(max(min(limit/4, time.Second), 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-wctx.Done():
				return
			case <-t.C:
				if w.knownWait() {
					w.progress() // a pause the server asked for, or a commit: not a stall
				}
				idle := time.Since(time.Unix(0, w.lastProgress.Load()))
				if idle >= limit {
					cancel(&stallError{idle: idle, lastPage: w.lastPage.Load(), pages: w.pagesTotal.Load()})
					return
				}
			}
		}
	}()
	return wctx, func() { close(done); cancel(nil) }
}

// lockWait tells, while it lasts, that the commit waits for a lock another session holds.
func (w *workspaceSync) lockWait(lw db.LockWait) {
	w.lastLockWait.Store(&lw)
	w.run.emit(Notice{Workspace: w.plan.ws.Name, Level: LevelWarn, Message: "commit " + lw.String()})
}

// knownWait reports whether the attempt is waiting for a reason it knows: its instance's
// limiter holds requests back (a Retry-After pause, or the pace the server accepts; the
// client fails a request that meets nothing but 429s for its stall window), the run's
// sessions wait for a table lock (reported as it lasts), or the attempt is committing
// (bounded by commitTimeout, its lock waits reported too).
func (w *workspaceSync) knownWait() bool {
	return w.committing.Load() || w.run.lockWaiting.Load() || (w.plan.inst != nil && w.plan.inst.Limiter().Throttled())
}

// onRetry hears of every request of the attempt that is tried again.
func (w *workspaceSync) onRetry(rt bison.Retry) {
	w.progress() // an answer, even a 429, shows the instance is alive
	if rt.Cause == bison.Cause429 {
		// Back-pressure: the pace change is told once, not every request it slows, and a
		// Retry-After pause once per pause.
		w.run.notePause(w.plan.ws.Name, w.plan.inst, rt.Reason)
		return
	}
	w.run.emit(Retrying{Workspace: w.plan.ws.Name, Scope: ScopeRequest, Op: rt.Op, Attempt: rt.Attempt, Reason: rt.Reason, Wait: rt.Wait})
}

// sync fetches the complete list, confirms absences and commits, in that order.
func (w *workspaceSync) sync(ctx context.Context, start time.Time, attempt int) (db.CommitResult, error) {
	p := w.plan
	w.src = w.run.engine.openSource(p, w.onRetry)
	if p.superAdmin {
		// The key's selected workspace is server-side state: switch before every attempt,
		// since another process or an earlier attempt may have moved it.
		if err := w.src.SwitchWorkspace(ctx); err != nil {
			return db.CommitResult{}, err
		}
		w.progress()
	}
	defer func() {
		if w.reserved > 0 {
			w.run.budget.Release(w.reserved)
		}
	}()
	list, err := w.completeList(ctx)
	w.fetched()
	if err != nil {
		return db.CommitResult{}, err
	}
	w.expected, w.accounts = list.total, len(list.accounts)
	accounts := make([]db.Account, 0, len(list.accounts))
	for _, a := range list.accounts {
		accounts = append(accounts, a)
	}
	// Once the list is complete the commit runs to its end even if the run is cancelled
	// meanwhile: cancelling a COMMIT already sent leaves its outcome unknown (it may have
	// taken effect), and the workspace's recorded status must say what really happened.
	if err := ctx.Err(); err != nil {
		return db.CommitResult{}, err
	}
	commitCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	w.committing.Store(true)
	defer w.committing.Store(false)
	res, err := w.run.engine.store.CommitWorkspace(commitCtx, db.CommitInput{
		RunID: w.run.id, Workspace: p.ws.Name, Instance: p.ws.Instance, WorkspaceID: p.ws.BisonID,
		Accounts: accounts, Expected: list.total, ConfirmedAbsent: list.confirmedAbsent,
		Attempts: attempt, PagesFetched: int(w.pagesFetched.Load()), PagesTotal: list.lastPage,
		StartedAt: start, Warning: w.warning(), Guard: w.guard(), OnLockWait: w.lockWait,
	})
	var mass *db.MassDeletionError
	if errors.As(err, &mass) {
		if herr := w.run.engine.store.HoldDeletions(commitCtx, w.run.id, p.ws.Name, p.ws.Instance, p.ws.BisonID, mass.IDs); herr != nil {
			return res, fmt.Errorf("%w (and keeping the list for review failed: %v)", err, herr)
		}
		return res, err
	}
	if lw := w.lastLockWait.Load(); err != nil && lw != nil {
		err = fmt.Errorf("%w (the commit was %s)", err, lw)
	}
	return res, err
}
