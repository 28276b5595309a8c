package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// DeletionGuard bounds how many of a workspace's live accounts one commit may mark deleted:
// a sync that would delete more than Percent of them, and at least Min, is refused. A bad
// key or a broken source looks exactly like a workspace that lost its accounts; a person
// should look before thousands of rows go.
type DeletionGuard struct {
	Percent float64
	Min     int
}

// trips reports whether deleting would of live accounts crosses the guard.
func (g DeletionGuard) trips(would, live int) bool {
	return would >= g.Min && live > 0 && float64(would)*100 > g.Percent*float64(live)
}

// MassDeletionError is CommitWorkspace refusing a list that would mark more of the
// workspace's accounts deleted than its guard allows. Nothing was written.
type MassDeletionError struct {
	Workspace string
	Would     int
	Live      int
	Guard     DeletionGuard
	IDs       []int64 // the accounts that would be marked deleted
}

func (e *MassDeletionError) Error() string {
	return fmt.Sprintf("would delete %d of %d accounts (%.0f%% > %g%%)", e.Would, e.Live,
		float64(e.Would)*100/float64(e.Live), e.Guard.Percent)
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
SELECT o.workspace_name, count(*)::integer
FROM {raw} me
JOIN {raw} o ON o.bison_instance = me.bison_instance AND o.bison_account_id = me.bison_account_id
    AND o.workspace_id <> me.workspace_id AND o.deleted_at IS NULL
WHERE me.bison_instance = $1::text AND me.workspace_id = $2::integer AND me.deleted_at IS NULL
GROUP BY o.workspace_name
ORDER BY 2 DESC, 1`

// Overlaps lists the other workspaces of the instance that hold live rows for the same
// accounts as this one, most shared first. An account lives in one workspace: sharing means
// one of the two keys serves the other's data.
func (s *Store) Overlaps(ctx context.Context, instance string, workspaceID int) ([]Overlap, error) {
	rows, err := s.pool.Query(ctx, s.q.overlaps, instance, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("find accounts shared with other workspaces: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Overlap, error) {
		var o Overlap
		err := r.Scan(&o.Workspace, &o.Accounts)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("find accounts shared with other workspaces: %w", err)
	}
	return out, nil
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
