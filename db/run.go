package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RunSpec describes a run about to start.
type RunSpec struct {
	Trigger    string // tui, headless, demo, …
	Host       string
	PID        int
	Workspaces []string
}

const openRunSQL = `
INSERT INTO {runs} (status, trigger, host, pid, heartbeat_at, workspaces_total)
VALUES ('running', $1::text, $2::text, $3::integer, now(), $4::integer)
RETURNING id`

const openRunWorkspacesSQL = `
INSERT INTO {run_ws} (run_id, workspace_name, status)
SELECT $1::bigint, n, 'queued' FROM unnest($2::text[]) AS n`

// OpenRun records a new running run and one queued row per workspace, in one transaction,
// and returns the run id. A workspace listed twice is an error.
func (s *Store) OpenRun(ctx context.Context, spec RunSpec) (int64, error) {
	seen := make(map[string]bool, len(spec.Workspaces))
	for _, w := range spec.Workspaces {
		if seen[w] {
			return 0, fmt.Errorf("open run: workspace %s listed twice", w)
		}
		seen[w] = true
	}
	names := spec.Workspaces
	if names == nil {
		names = []string{}
	}
	var runID int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, s.q.openRun, spec.Trigger, spec.Host, spec.PID, len(names)).Scan(&runID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, s.q.openRunWorkspaces, runID, names)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("open run: %w", err)
	}
	return runID, nil
}

// The run row is locked first, then its leases: the same order as AbandonDeadRuns and
// CloseRun, so none of them can deadlock with another.
const heartbeatSQL = `
WITH run AS (
    UPDATE {runs} SET heartbeat_at = now()
    WHERE id = $1::bigint AND status = 'running'
    RETURNING id
), extended AS (
    UPDATE {leases} SET expires_at = now() + $2::bigint * interval '1 millisecond'
    WHERE run_id IN (SELECT id FROM run)
    RETURNING 1
), keys AS (
    UPDATE {key_leases} SET expires_at = now() + $2::bigint * interval '1 millisecond'
    WHERE run_id IN (SELECT id FROM run)
)
SELECT EXISTS (SELECT 1 FROM run), (SELECT count(*) FROM extended)`

// Heartbeat tells other processes the run is alive: heartbeat_at = now() (database clock)
// and every lease the run holds is extended to leaseTTL from now. It returns ErrRunNotRunning
// when the run is no longer running (another process declared it abandoned): the caller
// should stop, its leases are gone.
func (s *Store) Heartbeat(ctx context.Context, runID int64, leaseTTL time.Duration) error {
	var running bool
	var extended int64
	if err := s.ctl.QueryRow(ctx, s.q.heartbeat, runID, leaseTTL.Milliseconds()).Scan(&running, &extended); err != nil {
		return fmt.Errorf("heartbeat run %d: %w", runID, err)
	}
	if !running {
		return fmt.Errorf("heartbeat run %d: %w", runID, ErrRunNotRunning)
	}
	return nil
}

const runningRunsSQL = `
SELECT id, host, coalesce(pid, 0), coalesce(heartbeat_at, started_at),
       coalesce(heartbeat_at, started_at) < now() - $1::bigint * interval '1 millisecond'
FROM {runs}
WHERE status = 'running'
ORDER BY id`

// The conditions are checked again under the row lock: a heartbeat that arrived after the
// candidate list was read saves the run, and a second process sweeping at the same time
// finds it no longer running.
const abandonRunSQL = `
UPDATE {runs} SET status = 'abandoned', finished_at = now(), error = $2::text
WHERE id = $1::bigint AND status = 'running'
  AND ($3::boolean OR coalesce(heartbeat_at, started_at) < now() - $4::bigint * interval '1 millisecond')
RETURNING id`

// Workspace leases and the super-admin key leases of a run go together.
const abandonLeasesSQL = `
WITH keys AS (DELETE FROM {key_leases} WHERE run_id = $1::bigint)
DELETE FROM {leases} WHERE run_id = $1::bigint`

const abandonWorkspacesSQL = `
UPDATE {run_ws} SET status = 'cancelled', finished_at = now(), error = $2::text
WHERE run_id = $1::bigint AND status IN ('queued', 'running')`

// A lease whose run is over (closed, abandoned or deleted) protects nothing.
const orphanLeasesSQL = `
WITH keys AS (
    DELETE FROM {key_leases} k
    WHERE NOT EXISTS (SELECT 1 FROM {runs} r WHERE r.id = k.run_id AND r.status = 'running')
)
DELETE FROM {leases} l
WHERE NOT EXISTS (SELECT 1 FROM {runs} r WHERE r.id = l.run_id AND r.status = 'running')`

// AbandonDeadRuns marks runs left 'running' by dead processes as abandoned and frees their
// leases at once. A run is dead when its host is host and alive(pid) is false (this machine
// can tell: at once), or when its heartbeat is older than staleAfter by the database clock
// (any host). Their queued or running workspaces become cancelled with the reason. It also
// drops leases whose run is no longer running. It returns the ids it marked, and is safe when
// several processes run it at once: each run is marked by exactly one of them.
func (s *Store) AbandonDeadRuns(ctx context.Context, host string, alive func(pid int) bool, staleAfter time.Duration) ([]int64, error) {
	type candidate struct {
		id          int64
		host        string
		pid         int
		heartbeatAt time.Time
		stale       bool
	}
	rows, err := s.pool.Query(ctx, s.q.runningRuns, staleAfter.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("find dead runs: %w", err)
	}
	var candidates []candidate
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.id, &c.host, &c.pid, &c.heartbeatAt, &c.stale); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find dead runs: %w", err)
		}
		candidates = append(candidates, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find dead runs: %w", err)
	}

	var abandoned []int64
	for _, c := range candidates {
		gone := c.host == host && alive != nil && !alive(c.pid)
		if !gone && !c.stale {
			continue
		}
		var reason string
		if gone {
			reason = fmt.Sprintf("abandoned: process %d on %s is gone", c.pid, c.host)
		} else {
			reason = fmt.Sprintf("abandoned: no heartbeat from %s (pid %d) since %s",
				c.host, c.pid, c.heartbeatAt.UTC().Format(time.RFC3339))
		}
		marked, err := s.abandonRun(ctx, c.id, gone, staleAfter, reason)
		if err != nil {
			return abandoned, err
		}
		if marked {
			abandoned = append(abandoned, c.id)
		}
	}

	if _, err := s.pool.Exec(ctx, s.q.orphanLeases); err != nil {
		return abandoned, fmt.Errorf("drop leases of finished runs: %w", err)
	}
	return abandoned, nil
}

// abandonRun marks one run abandoned, drops its leases and cancels its unfinished
// workspaces, in one transaction. It reports false when the run turned out to be alive or
// already handled.
func (s *Store) abandonRun(ctx context.Context, runID int64, gone bool, staleAfter time.Duration, reason string) (bool, error) {
	marked := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, s.q.abandonRun, runID, reason, gone, staleAfter.Milliseconds()).Scan(&id)
		if isNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		marked = true
		if _, err := tx.Exec(ctx, s.q.abandonLeases, runID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, s.q.abandonWorkspaces, runID, "cancelled: the run was "+reason)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("abandon run %d: %w", runID, err)
	}
	return marked, nil
}

// A retry starts the workspace again (failed → running); a final state other than failed
// means the workspace is done or was cancelled from outside, and must not be restarted.
const startWorkspaceSQL = `
UPDATE {run_ws} SET status = 'running', attempts = greatest(attempts, $3::integer),
    started_at = coalesce(started_at, now()), finished_at = NULL
WHERE run_id = $1::bigint AND workspace_name = $2::text AND status IN ('queued', 'running', 'failed')`

// StartWorkspace marks ws running in runID for its attempt-th attempt (1-based). started_at
// is set on the first attempt only. It fails when the workspace is not part of the run or
// has already finished (succeeded, cancelled or skipped).
func (s *Store) StartWorkspace(ctx context.Context, runID int64, ws string, attempt int) error {
	tag, err := s.pool.Exec(ctx, s.q.startWorkspace, runID, ws, attempt)
	if err != nil {
		return fmt.Errorf("start workspace %s in run %d: %w", ws, runID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("start workspace %s in run %d: not queued or running in that run", ws, runID)
	}
	return nil
}

// WorkspaceOutcome is how a workspace ended when it did not commit: failed, cancelled or
// skipped. (Success is recorded by CommitWorkspace.)
type WorkspaceOutcome struct {
	RunID     int64
	Workspace string
	Status    WorkspaceStatus // WorkspaceFailed, WorkspaceCancelled or WorkspaceSkipped
	// Error is the reason, in plain words: required for all three.
	Error   string
	Warning string

	Attempts         int
	PagesFetched     int
	PagesTotal       int
	AccountsExpected int // the API's meta.total, when known
	AccountsFetched  int // distinct accounts fetched before it ended
	// StartedAt is when the first attempt began (Go clock, used only for the duration);
	// zero when the workspace never started.
	StartedAt time.Time
}

// Registry figures change for a failed attempt and for a cancelled one that had started;
// skipped (another process is syncing it) and never-started cancellations are not attempts.
const finishRegistrySQL = `
UPDATE {registry} SET
    last_sync_attempt_at = now(),
    last_sync_status = $2::text,
    last_sync_error = $3::text,
    last_sync_duration_ms = $4::integer,
    last_sync_warning = NULLIF($5::text, ''),
    consecutive_failures = consecutive_failures + CASE WHEN $2::text = 'failed' THEN 1 ELSE 0 END
WHERE workspace_name = $1::text`

const finishLeaseSQL = `DELETE FROM {leases} WHERE workspace_name = $1::text AND run_id = $2::bigint`

const finishRunWorkspaceSQL = `
INSERT INTO {run_ws} AS w (run_id, workspace_name, status, attempts, pages_fetched, pages_total,
    accounts_expected, accounts_fetched, started_at, finished_at, duration_ms, error, warning)
VALUES ($1::bigint, $2::text, $3::text, $4::integer, $5::integer, $6::integer, $7::integer,
    $8::integer, CASE WHEN $9::boolean THEN now() END, now(), $10::integer, $11::text, NULLIF($12::text, ''))
ON CONFLICT (run_id, workspace_name) DO UPDATE SET
    status = EXCLUDED.status,
    attempts = greatest(w.attempts, EXCLUDED.attempts),
    pages_fetched = EXCLUDED.pages_fetched,
    pages_total = EXCLUDED.pages_total,
    accounts_expected = EXCLUDED.accounts_expected,
    accounts_fetched = EXCLUDED.accounts_fetched,
    finished_at = EXCLUDED.finished_at,
    duration_ms = EXCLUDED.duration_ms,
    error = EXCLUDED.error,
    warning = EXCLUDED.warning`

// FinishWorkspace records a workspace that ended without committing: its row in the run,
// and for failed attempts (and cancelled ones that had started) the registry's last-attempt
// figures, counting consecutive failures; skipped leaves the registry alone. It releases the
// run's lease on the workspace. It never touches email_accounts_raw: the previous rows stay
// exactly as they were.
func (s *Store) FinishWorkspace(ctx context.Context, o WorkspaceOutcome) error {
	switch o.Status {
	case WorkspaceFailed, WorkspaceCancelled, WorkspaceSkipped:
	default:
		return fmt.Errorf("finish workspace %s: status %q is not failed, cancelled or skipped (success is recorded by CommitWorkspace)", o.Workspace, o.Status)
	}
	if o.Error == "" {
		return fmt.Errorf("finish workspace %s as %s: a reason is required", o.Workspace, o.Status)
	}
	started := !o.StartedAt.IsZero()
	var durationMS *int64
	if started {
		ms := time.Since(o.StartedAt).Milliseconds()
		durationMS = &ms
	}
	touchRegistry := o.Status == WorkspaceFailed || (o.Status == WorkspaceCancelled && started)

	// One transaction, locking registry → lease → run row, the order every writer uses.
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		if touchRegistry {
			b.Queue(s.q.finishRegistry, o.Workspace, string(o.Status), o.Error, durationMS, o.Warning)
		}
		if o.RunID != 0 {
			b.Queue(s.q.finishLease, o.Workspace, o.RunID)
			b.Queue(s.q.finishRunWorkspace, o.RunID, o.Workspace, string(o.Status), o.Attempts,
				o.PagesFetched, o.PagesTotal, o.AccountsExpected, o.AccountsFetched, started,
				durationMS, o.Error, o.Warning)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("finish workspace %s as %s: %w", o.Workspace, o.Status, err)
	}
	return nil
}

const closeRunLockSQL = `SELECT status FROM {runs} WHERE id = $1::bigint FOR UPDATE`

const closeRunLeasesSQL = `
WITH keys AS (DELETE FROM {key_leases} WHERE run_id = $1::bigint)
DELETE FROM {leases} WHERE run_id = $1::bigint`

const closeRunWorkspacesSQL = `
UPDATE {run_ws} SET status = 'cancelled', finished_at = now(),
    error = coalesce(error || '; ', '') || 'run ended before this workspace finished'
WHERE run_id = $1::bigint AND status IN ('queued', 'running')`

// Totals come from the workspace rows, so the run row can never disagree with them; the
// status is decided from the same counts by DecideRunStatus.
const closeRunTallySQL = `
SELECT count(*) FILTER (WHERE status = 'succeeded')::integer,
       count(*) FILTER (WHERE status = 'failed')::integer,
       count(*) FILTER (WHERE status = 'cancelled')::integer,
       count(*) FILTER (WHERE status = 'skipped')::integer,
       coalesce(sum(accounts_expected), 0)::bigint,
       coalesce(sum(accounts_fetched) FILTER (WHERE status = 'succeeded'), 0)::bigint
FROM {run_ws} WHERE run_id = $1::bigint`

const closeRunSQL = `
UPDATE {runs} SET
    status = $2::text,
    finished_at = now(),
    heartbeat_at = now(),
    workspaces_total = $3::integer + $4::integer + $5::integer + $6::integer,
    workspaces_succeeded = $3::integer,
    workspaces_failed = $4::integer,
    workspaces_cancelled = $5::integer,
    workspaces_skipped = $6::integer,
    accounts_expected = $7::bigint,
    accounts_synced = $8::bigint,
    error = NULLIF($9::text, '')
WHERE id = $1::bigint`

// RunSummary is a closed run with its workspaces, as the headless reporter prints it.
type RunSummary struct {
	Run
	Workspaces []RunWorkspace
}

// CloseRun ends a run: workspaces still queued or running become cancelled ("run ended
// before this workspace finished"), the run's remaining leases are released, and the run
// gets its totals from the workspace rows and its status from DecideRunStatus. errText
// is the run-level error, if any. A run already declared abandoned by another process is
// closed all the same (this process is evidently alive, and its account is the true one); a
// run already closed is an error.
func (s *Store) CloseRun(ctx context.Context, runID int64, interrupted bool, errText string) (RunSummary, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var status RunStatus
		err := tx.QueryRow(ctx, s.q.closeRunLock, runID).Scan(&status)
		if isNoRows(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if status != RunRunning && status != RunAbandoned {
			return fmt.Errorf("already closed as %s", status)
		}
		b := &pgx.Batch{}
		b.Queue(s.q.closeRunLeases, runID)
		b.Queue(s.q.closeRunWorkspaces, runID)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		var t RunTally
		var expected, synced int64
		if err := tx.QueryRow(ctx, s.q.closeRunTally, runID).Scan(&t.Succeeded, &t.Failed, &t.Cancelled,
			&t.Skipped, &expected, &synced); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, s.q.closeRun, runID, string(DecideRunStatus(t, interrupted)), t.Succeeded,
			t.Failed, t.Cancelled, t.Skipped, expected, synced, errText)
		return err
	})
	if err != nil {
		return RunSummary{}, fmt.Errorf("close run %d: %w", runID, err)
	}
	run, err := s.Run(ctx, runID)
	if err != nil {
		return RunSummary{}, fmt.Errorf("close run %d: %w", runID, err)
	}
	workspaces, err := s.RunWorkspaces(ctx, runID)
	if err != nil {
		return RunSummary{}, fmt.Errorf("close run %d: %w", runID, err)
	}
	return RunSummary{Run: run, Workspaces: workspaces}, nil
}
