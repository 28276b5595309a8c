package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// DeletionGuard bounds how many of a workspace's accounts one commit may mark deleted: a sync
// that would delete more than Percent of them, and at least Min, is refused. A bad key or a
// broken source looks exactly like a workspace that lost its accounts; a person should look
// before thousands of rows go. The share is of the workspace's size, the larger of its live
// rows and its new complete list, so that churn in a growing workspace (73 gone while it grew
// from 360 to 433) is not mistaken for a loss.
type DeletionGuard struct {
	Percent float64
	Min     int
}

// trips reports whether deleting would accounts of a workspace of size accounts crosses the
// guard.
func (g DeletionGuard) trips(would, size int) bool {
	return would >= g.Min && size > 0 && float64(would)*100 > g.Percent*float64(size)
}

// MassDeletionError is CommitWorkspace refusing a list that would mark more of the
// workspace's accounts deleted than its guard allows. Nothing was written.
type MassDeletionError struct {
	Workspace string
	Would     int
	Size      int // the larger of the live rows and the new list
	Guard     DeletionGuard
	IDs       []int64 // the accounts that would be marked deleted
}

func (e *MassDeletionError) Error() string {
	return fmt.Sprintf("would delete %d of %d accounts (%.1f%% > %g%%)", e.Would, e.Size,
		float64(e.Would)*100/float64(e.Size), e.Guard.Percent)
}

// HeldDeletion is an account whose deletion the guard held back.
type HeldDeletion struct {
	AccountID int64
	Email     string
	RunID     int64
	HeldAt    time.Time
}

const clearHeldSQL = `DELETE FROM {held} WHERE workspace_name = $1::text`

const holdSQL = `
INSERT INTO {held} (workspace_name, bison_instance, workspace_id, bison_account_id, email_address, run_id)
SELECT $1::text, $2::text, $3::integer, r.bison_account_id, r.email_address, $4::bigint
FROM {raw} r
WHERE r.bison_instance = $2::text AND r.workspace_id = $3::integer AND r.bison_account_id = ANY ($5::bigint[])`

// HoldDeletions records, for review, the accounts a refused commit would have marked deleted
// (replacing any earlier list for the workspace).
func (s *Store) HoldDeletions(ctx context.Context, runID int64, workspace, instance string, workspaceID int, ids []int64) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(s.q.clearHeld, workspace)
		b.Queue(s.q.hold, workspace, instance, workspaceID, runID, ids)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("hold deletions of workspace %s: %w", workspace, err)
	}
	return nil
}

const heldSQL = `
SELECT bison_account_id, email_address, run_id, held_at FROM {held}
WHERE workspace_name = $1::text ORDER BY email_address, bison_account_id`

// HeldDeletions returns the deletions the guard holds for a workspace, by email.
func (s *Store) HeldDeletions(ctx context.Context, workspace string) ([]HeldDeletion, error) {
	rows, err := s.pool.Query(ctx, s.q.held, workspace)
	if err != nil {
		return nil, fmt.Errorf("read held deletions of %s: %w", workspace, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (HeldDeletion, error) {
		var h HeldDeletion
		err := r.Scan(&h.AccountID, &h.Email, &h.RunID, &h.HeldAt)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("read held deletions of %s: %w", workspace, err)
	}
	return out, nil
}

// Overlap is another workspace of the same instance that holds some of a workspace's
// accounts as live rows.
type Overlap struct {
	Workspace string
	Accounts  int
}

const overlapsSQL = `
SELECT me.workspace_name, o.workspace_name, count(*)::integer
FROM {raw} me
JOIN {raw} o ON o.bison_instance = me.bison_instance AND o.bison_account_id = me.bison_account_id
    AND o.workspace_id <> me.workspace_id AND o.deleted_at IS NULL
WHERE me.workspace_name = ANY ($1::text[]) AND me.deleted_at IS NULL
GROUP BY me.workspace_name, o.workspace_name
HAVING count(*) >= $2::integer
ORDER BY 1, 3 DESC, 2`

// Overlaps finds, for each of the given workspaces, the other workspaces of its instance
// that hold live rows for at least min of the same accounts, most shared first. An account
// lives in one workspace: sharing means one of the two keys serves the other's data. It is
// one query for a whole run, since statistics lag behind a run's bulk writes and a per-
// workspace lookup then gets a poor plan.
func (s *Store) Overlaps(ctx context.Context, workspaces []string, min int) (map[string][]Overlap, error) {
	rows, err := s.pool.Query(ctx, s.q.overlaps, workspaces, min)
	if err != nil {
		return nil, fmt.Errorf("find accounts shared between workspaces: %w", err)
	}
	defer rows.Close()
	out := map[string][]Overlap{}
	for rows.Next() {
		var ws string
		var o Overlap
		if err := rows.Scan(&ws, &o.Workspace, &o.Accounts); err != nil {
			return nil, fmt.Errorf("find accounts shared between workspaces: %w", err)
		}
		out[ws] = append(out[ws], o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find accounts shared between workspaces: %w", err)
	}
	return out, nil
}

const analyzeRawSQL = `ANALYZE {raw}`

// AnalyzeAccounts refreshes the planner's statistics of email_accounts_raw after a run's bulk
// writes (autovacuum gets there too, but later), so the queries that follow plan well.
func (s *Store) AnalyzeAccounts(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, s.q.analyzeRaw); err != nil {
		return fmt.Errorf("analyze email_accounts_raw: %w", err)
	}
	return nil
}

const setWarningRegistrySQL = `
UPDATE {registry} SET last_sync_warning = NULLIF($2::text, '') WHERE workspace_name = $1::text`

const setWarningRunSQL = `
UPDATE {run_ws} SET warning = NULLIF($3::text, '') WHERE run_id = $1::bigint AND workspace_name = $2::text`

// SetWarning records a warning found after a workspace's commit on its registry row and its
// row in the run.
func (s *Store) SetWarning(ctx context.Context, runID int64, workspace, warning string) error {
	b := &pgx.Batch{}
	b.Queue(s.q.setWarningRegistry, workspace, warning)
	b.Queue(s.q.setWarningRun, runID, workspace, warning)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("record warning of workspace %s: %w", workspace, err)
	}
	return nil
}
