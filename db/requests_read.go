package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RequestRecord is a sync_requests row as a reader sees it (the console): who asked for
// what, where it stands, and the run that served it.
type RequestRecord struct {
	ID          int64
	RequestedAt *time.Time
	RequestedBy string
	// Workspace is the workspace asked for, "" for every active workspace.
	Workspace  string
	Status     RequestStatus
	RunID      int64 // 0: no run (yet)
	FinishedAt *time.Time
	Error      string
	ClaimedBy  string // host:pid of the process serving it, "" while pending
}

const recentRequestsSQL = `
SELECT id, requested_at, coalesce(requested_by, ''), coalesce(` + requestWorkspace + `, ''), status,
       coalesce(run_id, 0), finished_at, coalesce(error, ''), coalesce(claimed_by, '')
FROM {requests}
ORDER BY id DESC
LIMIT $1::integer`

// RecentRequests returns the latest limit requests, newest first.
func (s *Store) RecentRequests(ctx context.Context, limit int) ([]RequestRecord, error) {
	rows, err := s.pool.Query(ctx, s.q.dash.recentRequests, limit)
	if err != nil {
		return nil, fmt.Errorf("list sync requests: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (RequestRecord, error) {
		var r RequestRecord
		err := row.Scan(&r.ID, &r.RequestedAt, &r.RequestedBy, &r.Workspace, &r.Status, &r.RunID, &r.FinishedAt, &r.Error, &r.ClaimedBy)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list sync requests: %w", err)
	}
	return out, nil
}
