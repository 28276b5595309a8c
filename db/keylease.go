package db

import (
	"context"
	"fmt"
	"time"
)

const claimKeyLeaseSQL = `
INSERT INTO {key_leases} AS l (instance, run_id, workspace_name, host, pid, claimed_at, expires_at)
VALUES ($1::text, $2::bigint, $3::text, $4::text, $5::integer, now(), now() + $6::bigint * interval '1 millisecond')
ON CONFLICT (instance) DO UPDATE SET
    run_id = EXCLUDED.run_id,
    workspace_name = EXCLUDED.workspace_name,
    host = EXCLUDED.host,
    pid = EXCLUDED.pid,
    claimed_at = EXCLUDED.claimed_at,
    expires_at = EXCLUDED.expires_at
WHERE l.expires_at <= now() OR l.run_id = EXCLUDED.run_id
RETURNING 1`

const keyLeaseHolderSQL = `
SELECT run_id, workspace_name, host, pid, expires_at FROM {key_leases} WHERE instance = $1::text`

// ClaimKeyLease claims the super-admin key of instance for the run o.RunID, to serve
// workspace, for ttl: one process at a time may use that key, since the workspace it serves
// is server-side state that another process's switch would change under it. A refusal says
// who holds the key. The run's heartbeat renews the lease; ReleaseKeyLease, CloseRun and the
// abandonment of a dead run free it.
func (s *Store) ClaimKeyLease(ctx context.Context, instance, workspace string, o LeaseOwner, ttl time.Duration) (ClaimResult, error) {
	tag, err := s.pool.Exec(ctx, s.q.claimKeyLease, instance, o.RunID, workspace, o.Host, o.PID, ttl.Milliseconds())
	if err != nil {
		return ClaimResult{}, fmt.Errorf("claim the super-admin key of instance %s: %w", instance, err)
	}
	if tag.RowsAffected() == 1 {
		return ClaimResult{Claimed: true}, nil
	}
	var (
		runID     int64
		ws, host  string
		pid       int
		expiresAt time.Time
	)
	if err := s.pool.QueryRow(ctx, s.q.keyLeaseHolder, instance).Scan(&runID, &ws, &host, &pid, &expiresAt); err != nil {
		if isNoRows(err) {
			return ClaimResult{Reason: "the key was in use a moment ago"}, nil
		}
		return ClaimResult{}, fmt.Errorf("read the holder of the super-admin key of instance %s: %w", instance, err)
	}
	return ClaimResult{Reason: fmt.Sprintf("in use by run %d on %s (pid %d) for workspace %q", runID, host, pid, ws)}, nil
}

const releaseKeyLeaseSQL = `DELETE FROM {key_leases} WHERE instance = $1::text AND run_id = $2::bigint`

// ReleaseKeyLease gives up runID's hold on the super-admin key of instance.
func (s *Store) ReleaseKeyLease(ctx context.Context, instance string, runID int64) error {
	if _, err := s.pool.Exec(ctx, s.q.releaseKeyLease, instance, runID); err != nil {
		return fmt.Errorf("release the super-admin key of instance %s: %w", instance, err)
	}
	return nil
}
