package db

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Runs asked for by other programs through sync_requests (CONTRACT.md §3). A request goes
// pending → running (claimed by one serving process) → done (with its run's id, and the
// run's problems in error) or refused (with the reason). Requests for work already pending
// or under way are merged into it: they are claimed with it and finish with the same run.
// Claims are rows, taken with FOR UPDATE SKIP LOCKED, so that several serving processes,
// through a transaction-mode pooler, never take the same request.

// RequestStatus is the state of a request (sync_requests.status).
type RequestStatus string

// Request states.
const (
	RequestPending RequestStatus = "pending"
	RequestRunning RequestStatus = "running"
	RequestDone    RequestStatus = "done"
	RequestRefused RequestStatus = "refused"
)

// SyncRequest is a claimed request.
type SyncRequest struct {
	ID          int64
	RequestedBy string
	// Workspace is the workspace asked for, "" for every active workspace.
	Workspace   string
	RequestedAt *time.Time
}

// requestWorkspace is a request's workspace as the serving loop reads it: trimmed, and null
// when blank (every active workspace).
const requestWorkspace = `nullif(btrim(workspace_name), '')`

// The oldest pending request, and every pending request that the same run serves: the same
// workspace, or any when the oldest is for every workspace.
const claimRequestsSQL = `
WITH first AS (
    SELECT id, ` + requestWorkspace + ` AS ws FROM {requests}
    WHERE status = 'pending' ORDER BY id LIMIT 1
    FOR UPDATE SKIP LOCKED
), batch AS (
    SELECT q.id FROM {requests} q, first f
    WHERE q.status = 'pending'
      AND (q.id = f.id OR f.ws IS NULL OR nullif(btrim(q.workspace_name), '') = f.ws)
    FOR UPDATE OF q SKIP LOCKED
)
UPDATE {requests} q SET status = 'running', claimed_by = $1::text, claimed_at = now(),
    run_id = NULL, finished_at = NULL, error = NULL
FROM batch b WHERE q.id = b.id
RETURNING q.id, coalesce(q.requested_by, ''), coalesce(` + requestWorkspace + `, ''), q.requested_at`

// ClaimRequests claims the oldest pending request and every pending request it covers (same
// workspace, or all of them when it is for every workspace): they are now running, claimed
// by owner. The oldest comes first. No pending request: an empty list.
func (s *Store) ClaimRequests(ctx context.Context, owner string) ([]SyncRequest, error) {
	rows, err := s.pool.Query(ctx, s.q.dash.claimRequests, owner)
	if err != nil {
		return nil, fmt.Errorf("claim a sync request: %w", err)
	}
	var out []SyncRequest
	var r SyncRequest
	if _, err := pgx.ForEachRow(rows, []any{&r.ID, &r.RequestedBy, &r.Workspace, &r.RequestedAt}, func() error {
		out = append(out, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("claim a sync request: %w", err)
	}
	// RETURNING gives no order; the oldest leads the batch.
	slices.SortFunc(out, func(a, b SyncRequest) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

const mergeRequestsSQL = `
UPDATE {requests} SET status = 'running', claimed_by = $1::text, claimed_at = now(),
    run_id = NULLIF($3::bigint, 0)
WHERE id IN (
    SELECT id FROM {requests}
    WHERE status = 'pending' AND ($2::text = '' OR ` + requestWorkspace + ` = $2::text)
    FOR UPDATE SKIP LOCKED
)
RETURNING id`

// MergeRequests claims, for a run under way (runID, 0 while not known yet) of workspace
// ("" for every active workspace), the pending requests it serves: they finish with it.
func (s *Store) MergeRequests(ctx context.Context, owner, workspace string, runID int64) ([]int64, error) {
	rows, err := s.pool.Query(ctx, s.q.dash.mergeRequests, owner, workspace, runID)
	if err != nil {
		return nil, fmt.Errorf("merge sync requests into run %d: %w", runID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("merge sync requests into run %d: %w", runID, err)
	}
	return ids, nil
}

const attachRequestsSQL = `
UPDATE {requests} SET run_id = $3::bigint
WHERE id = ANY ($2::bigint[]) AND claimed_by = $1::text AND status = 'running'`

// AttachRequests records the run that serves requests, once it is open.
func (s *Store) AttachRequests(ctx context.Context, owner string, ids []int64, runID int64) error {
	if _, err := s.pool.Exec(ctx, s.q.dash.attachRequests, owner, ids, runID); err != nil {
		return fmt.Errorf("record run %d on sync requests: %w", runID, err)
	}
	return nil
}

// RequestOutcome is how claimed requests end.
type RequestOutcome struct {
	// Status is RequestDone or RequestRefused, or RequestPending to give them back (this
	// process stops before it could serve them).
	Status RequestStatus
	RunID  int64  // 0: no run
	Error  string // the reason of a refusal, or what went wrong in the run
}

const finishRequestsSQL = `
UPDATE {requests} SET status = $3::text, run_id = NULLIF($4::bigint, 0), error = NULLIF($5::text, ''),
    finished_at = CASE WHEN $3::text = 'pending' THEN NULL ELSE now() END,
    claimed_by = CASE WHEN $3::text = 'pending' THEN NULL ELSE claimed_by END,
    claimed_at = CASE WHEN $3::text = 'pending' THEN NULL ELSE claimed_at END
WHERE id = ANY ($2::bigint[]) AND claimed_by = $1::text AND status = 'running'`

// FinishRequests records the outcome of requests this owner claimed and still holds.
func (s *Store) FinishRequests(ctx context.Context, owner string, ids []int64, o RequestOutcome) error {
	switch o.Status {
	case RequestDone, RequestRefused, RequestPending:
	default:
		return fmt.Errorf("finish sync requests: status %q is not done, refused or pending", o.Status)
	}
	if _, err := s.pool.Exec(ctx, s.q.dash.finishRequests, owner, ids, string(o.Status), o.RunID, o.Error); err != nil {
		return fmt.Errorf("finish sync requests %v: %w", ids, err)
	}
	return nil
}

// A claim whose run was abandoned (its process died), or that never got a run within
// staleAfter, goes back to pending for another process; one whose run closed while its
// process died before saying so is done with that run.
const recoverRequestsSQL = `
WITH back AS (
    UPDATE {requests} q SET status = 'pending', claimed_by = NULL, claimed_at = NULL, run_id = NULL
    WHERE q.status = 'running' AND (
        (q.run_id IS NULL AND q.claimed_at < now() - $1::bigint * interval '1 millisecond')
        OR EXISTS (SELECT 1 FROM {runs} r WHERE r.id = q.run_id AND r.status = 'abandoned'))
    RETURNING 1
)
UPDATE {requests} q SET status = 'done', finished_at = r.finished_at,
    error = 'the serving process stopped before recording this request; run ' || r.id || ' had ended ' || r.status
FROM {runs} r
WHERE q.status = 'running' AND r.id = q.run_id AND r.status NOT IN ('running', 'abandoned')
  AND r.finished_at < now() - $1::bigint * interval '1 millisecond'`

// RecoverRequests puts back, or closes, requests whose serving process died (see
// recoverRequestsSQL). staleAfter is how long a claim may wait for its run to open, and a
// closed run for its process to record its requests.
func (s *Store) RecoverRequests(ctx context.Context, staleAfter time.Duration) error {
	if _, err := s.pool.Exec(ctx, s.q.dash.recoverRequests, staleAfter.Milliseconds()); err != nil {
		return fmt.Errorf("recover sync requests of dead processes: %w", err)
	}
	return nil
}
