package db

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Live progress of a run, for other processes and the dashboard's progress bar: the run's
// counters and each workspace's pages and accounts, written by the run's progress writer
// about once a second (sync/progress.go) rather than only at the end.

// WorkspaceProgress is one workspace's figures so far in a run.
type WorkspaceProgress struct {
	Workspace        string
	PagesFetched     int
	PagesTotal       int // last_page as known so far
	AccountsExpected int // the API's meta.total on the latest page
	AccountsFetched  int // distinct accounts so far in the current pass
}

// RunProgress is what one write of a run's progress carries.
type RunProgress struct {
	RunID int64
	// CurrentWorkspace is the workspace the dashboard names as being synced ("" when none).
	CurrentWorkspace string
	// Workspaces are the workspaces whose figures changed since the last write.
	Workspaces []WorkspaceProgress
}

// The run's counters come from its workspace rows, as CloseRun's do, so that the two can
// never disagree; accounts_expected counts the workspaces still under way too.
const progressRunSQL = `
UPDATE {runs} r SET
    workspaces_succeeded = t.succeeded, workspaces_failed = t.failed,
    workspaces_cancelled = t.cancelled, workspaces_skipped = t.skipped,
    accounts_expected = t.expected, accounts_synced = t.synced,
    current_workspace = NULLIF($2::text, ''), progress_at = now()
FROM (
    SELECT count(*) FILTER (WHERE status = 'succeeded')::integer AS succeeded,
           count(*) FILTER (WHERE status = 'failed')::integer AS failed,
           count(*) FILTER (WHERE status = 'cancelled')::integer AS cancelled,
           count(*) FILTER (WHERE status = 'skipped')::integer AS skipped,
           coalesce(sum(accounts_expected), 0)::bigint AS expected,
           coalesce(sum(accounts_fetched) FILTER (WHERE status = 'succeeded'), 0)::bigint AS synced
    FROM {run_ws} WHERE run_id = $1::bigint
) t
WHERE r.id = $1::bigint AND r.status = 'running'`

// A workspace that has finished keeps the figures its commit (or FinishWorkspace) wrote; a
// row that a commit holds right now is skipped rather than waited for: it is about to be
// final.
const progressWorkspacesSQL = `
UPDATE {run_ws} w SET pages_fetched = t.pages_fetched, pages_total = t.pages_total,
    accounts_expected = t.expected, accounts_fetched = t.fetched
FROM (
    SELECT l.workspace_name, u.pages_fetched, u.pages_total, u.expected, u.fetched
    FROM unnest($2::text[], $3::integer[], $4::integer[], $5::integer[], $6::integer[])
        AS u(name, pages_fetched, pages_total, expected, fetched)
    CROSS JOIN LATERAL (
        SELECT workspace_name FROM {run_ws}
        WHERE run_id = $1::bigint AND workspace_name = u.name AND status IN ('queued', 'running')
        FOR UPDATE SKIP LOCKED
    ) l
) t
WHERE w.run_id = $1::bigint AND w.workspace_name = t.workspace_name`

// WriteProgress writes a run's progress in one transaction: the run row first, then its
// workspace rows (the lock order every writer follows), without waiting for the disk. A run
// that is no longer running is left alone.
func (s *Store) WriteProgress(ctx context.Context, p RunProgress) error {
	n := len(p.Workspaces)
	names := make([]string, n)
	fetched, total, expected, accounts := make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n)
	for i, w := range p.Workspaces {
		names[i] = w.Workspace
		fetched[i], total[i] = int32(w.PagesFetched), int32(w.PagesTotal)
		expected[i], accounts[i] = int32(w.AccountsExpected), int32(w.AccountsFetched)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		// Progress is superseded a second later: a crash may lose the last write, so the
		// commit need not wait for the disk (a flush took 60 ms on a busy machine, the
		// statements under one).
		b.Queue(`SET LOCAL synchronous_commit = off`)
		b.Queue(s.q.dash.progressRun, p.RunID, p.CurrentWorkspace)
		if n > 0 {
			b.Queue(s.q.dash.progressWorkspaces, p.RunID, names, fetched, total, expected, accounts)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("write the progress of run %d: %w", p.RunID, err)
	}
	return nil
}
