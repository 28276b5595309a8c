package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Run is a sync_runs row. While a run is running its totals are computed from its workspace
// rows, so the console can show progress; once closed they are the stored ones.
type Run struct {
	ID          int64
	StartedAt   time.Time
	FinishedAt  *time.Time
	Status      RunStatus
	Trigger     string
	Host        string
	PID         int
	HeartbeatAt *time.Time

	WorkspacesTotal     int
	WorkspacesSucceeded int
	WorkspacesFailed    int
	WorkspacesCancelled int
	WorkspacesSkipped   int
	AccountsExpected    int
	AccountsSynced      int

	// ViewRefresh and ViewRefreshError are the materialized view's refresh, set only on runs
	// made before email_accounts_view became a plain view (schema version 6).
	ViewRefresh      *time.Duration
	ViewRefreshError string
	Error            string
}

// RunWorkspace is a sync_run_workspaces row: one workspace in one run.
type RunWorkspace struct {
	RunID            int64
	Workspace        string
	Status           WorkspaceStatus
	Attempts         int
	PagesFetched     int
	PagesTotal       int
	AccountsExpected int
	AccountsFetched  int
	AccountsUpserted int // rows written: new, changed or restored accounts
	AccountsDeleted  int
	AccountsRestored int
	StartedAt        *time.Time
	FinishedAt       *time.Time
	Duration         *time.Duration
	Error            string
	Warning          string
}

const runColumns = `
    r.id, r.started_at, r.finished_at, r.status, r.trigger, r.host, coalesce(r.pid, 0), r.heartbeat_at,
    CASE WHEN r.status = 'running' THEN p.total ELSE r.workspaces_total END,
    CASE WHEN r.status = 'running' THEN p.succeeded ELSE r.workspaces_succeeded END,
    CASE WHEN r.status = 'running' THEN p.failed ELSE r.workspaces_failed END,
    CASE WHEN r.status = 'running' THEN p.cancelled ELSE r.workspaces_cancelled END,
    CASE WHEN r.status = 'running' THEN p.skipped ELSE r.workspaces_skipped END,
    CASE WHEN r.status = 'running' THEN p.expected ELSE r.accounts_expected END,
    CASE WHEN r.status = 'running' THEN p.synced ELSE r.accounts_synced END,
    r.view_refresh_ms, coalesce(r.view_refresh_error, ''), coalesce(r.error, '')
FROM {runs} r
LEFT JOIN LATERAL (
    SELECT count(*)::integer AS total,
           count(*) FILTER (WHERE w.status = 'succeeded')::integer AS succeeded,
           count(*) FILTER (WHERE w.status = 'failed')::integer AS failed,
           count(*) FILTER (WHERE w.status = 'cancelled')::integer AS cancelled,
           count(*) FILTER (WHERE w.status = 'skipped')::integer AS skipped,
           coalesce(sum(w.accounts_expected), 0)::integer AS expected,
           coalesce(sum(w.accounts_fetched) FILTER (WHERE w.status = 'succeeded'), 0)::integer AS synced
    FROM {run_ws} w
    WHERE w.run_id = r.id AND r.status = 'running'
) p ON true`

const runsSQL = `SELECT` + runColumns + `
ORDER BY r.started_at DESC, r.id DESC
LIMIT $1::integer`

const runSQL = `SELECT` + runColumns + `
WHERE r.id = $1::bigint`

func scanRun(row pgx.Row) (Run, error) {
	var (
		r         Run
		refreshMS *int64
	)
	err := row.Scan(&r.ID, &r.StartedAt, &r.FinishedAt, &r.Status, &r.Trigger, &r.Host, &r.PID,
		&r.HeartbeatAt, &r.WorkspacesTotal, &r.WorkspacesSucceeded, &r.WorkspacesFailed,
		&r.WorkspacesCancelled, &r.WorkspacesSkipped, &r.AccountsExpected, &r.AccountsSynced,
		&refreshMS, &r.ViewRefreshError, &r.Error)
	r.ViewRefresh = millis(refreshMS)
	return r, err
}

// Runs returns the latest limit runs, newest first.
func (s *Store) Runs(ctx context.Context, limit int) ([]Run, error) {
	rows, err := s.pool.Query(ctx, s.q.runs, limit)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Run, error) { return scanRun(row) })
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return runs, nil
}

// Run returns one run; a missing one is an error wrapping ErrNotFound.
func (s *Store) Run(ctx context.Context, id int64) (Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, s.q.run, id))
	if isNoRows(err) {
		return Run{}, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Run{}, fmt.Errorf("read run %d: %w", id, err)
	}
	return r, nil
}

const runWorkspaceColumns = `
SELECT run_id, workspace_name, status, attempts, pages_fetched, pages_total, accounts_expected,
       accounts_fetched, accounts_upserted, accounts_deleted, accounts_restored, started_at,
       finished_at, duration_ms, coalesce(error, ''), coalesce(warning, '')
FROM {run_ws}`

const runWorkspacesSQL = runWorkspaceColumns + `
WHERE run_id = $1::bigint
ORDER BY workspace_name`

const workspaceRunsSQL = runWorkspaceColumns + `
WHERE workspace_name = $1::text
ORDER BY run_id DESC
LIMIT $2::integer`

func collectRunWorkspaces(rows pgx.Rows) ([]RunWorkspace, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (RunWorkspace, error) {
		var (
			w          RunWorkspace
			durationMS *int64
		)
		err := row.Scan(&w.RunID, &w.Workspace, &w.Status, &w.Attempts, &w.PagesFetched,
			&w.PagesTotal, &w.AccountsExpected, &w.AccountsFetched, &w.AccountsUpserted,
			&w.AccountsDeleted, &w.AccountsRestored, &w.StartedAt, &w.FinishedAt, &durationMS,
			&w.Error, &w.Warning)
		w.Duration = millis(durationMS)
		return w, err
	})
}

// RunWorkspaces returns the workspaces of a run, ordered by name.
func (s *Store) RunWorkspaces(ctx context.Context, runID int64) ([]RunWorkspace, error) {
	rows, err := s.pool.Query(ctx, s.q.runWorkspaces, runID)
	if err != nil {
		return nil, fmt.Errorf("list workspaces of run %d: %w", runID, err)
	}
	out, err := collectRunWorkspaces(rows)
	if err != nil {
		return nil, fmt.Errorf("list workspaces of run %d: %w", runID, err)
	}
	return out, nil
}

// WorkspaceRuns returns the latest limit runs of one workspace, newest first.
func (s *Store) WorkspaceRuns(ctx context.Context, workspace string, limit int) ([]RunWorkspace, error) {
	rows, err := s.pool.Query(ctx, s.q.workspaceRuns, workspace, limit)
	if err != nil {
		return nil, fmt.Errorf("list runs of workspace %s: %w", workspace, err)
	}
	out, err := collectRunWorkspaces(rows)
	if err != nil {
		return nil, fmt.Errorf("list runs of workspace %s: %w", workspace, err)
	}
	return out, nil
}

const runCountsSQL = `SELECT status, count(*)::bigint FROM {runs} WHERE status <> 'running' GROUP BY status`

// RunCounts counts the finished runs of the whole history by status.
func (s *Store) RunCounts(ctx context.Context) (map[RunStatus]int64, error) {
	rows, err := s.pool.Query(ctx, s.q.runCounts)
	if err != nil {
		return nil, fmt.Errorf("count runs: %w", err)
	}
	defer rows.Close()
	out := map[RunStatus]int64{}
	for rows.Next() {
		var st RunStatus
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count runs: %w", err)
		}
		out[st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count runs: %w", err)
	}
	return out, nil
}
