package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/internal/human"
)

// LeaseOwner identifies who claims a workspace. The run id is the owner; host and pid are
// stored so that a refusal can say who holds the workspace.
type LeaseOwner struct {
	RunID int64
	Host  string
	PID   int
}

// ClaimResult is the outcome of ClaimLease.
type ClaimResult struct {
	Claimed bool
	// Reason says why the claim was refused, in a sentence fit for the run history, e.g.
	// "held by run 12 on host-b (pid 345) until 12:01:02" or "synced 3m ago by another
	// process". Empty when claimed.
	Reason string
}

// The claim is one statement, so exclusivity rests on the primary key alone: of any number of
// concurrent claimers, across hosts and poolers, one inserts or takes over the row and the
// others find it held.
//
// The registry row is read FOR SHARE first. A commit holds that row FOR NO KEY UPDATE until
// it has recorded its success and dropped its lease, so a claimer that races with it waits,
// then sees the new last_successful_sync_at (a locking read in READ COMMITTED sees the latest
// committed version) and, when staleFor is set, leaves the freshly synced workspace alone.
// Taking the registry row before the lease row, like the commit does, keeps the two from
// deadlocking.
const claimLeaseSQL = `
WITH ws AS (
    SELECT r.last_successful_sync_at
    FROM {registry} r
    WHERE r.workspace_name = $1::text
    FOR SHARE
), claimed AS (
    INSERT INTO {leases} AS l (workspace_name, run_id, host, pid, claimed_at, expires_at)
    SELECT $1::text, $2::bigint, $3::text, $4::integer, now(), now() + $5::bigint * interval '1 millisecond'
    FROM ws
    WHERE $6::bigint <= 0
       OR ws.last_successful_sync_at IS NULL
       OR ws.last_successful_sync_at < now() - $6::bigint * interval '1 millisecond'
    ON CONFLICT (workspace_name) DO UPDATE SET
        run_id = EXCLUDED.run_id,
        host = EXCLUDED.host,
        pid = EXCLUDED.pid,
        claimed_at = EXCLUDED.claimed_at,
        expires_at = EXCLUDED.expires_at
    -- Free again once expired; a run may re-claim its own lease (a retry).
    WHERE l.expires_at <= now() OR l.run_id = EXCLUDED.run_id
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM ws), EXISTS (SELECT 1 FROM claimed)`

// Read after a refused claim, in a fresh snapshot, to explain the refusal.
const leaseHolderSQL = `
SELECT l.run_id, l.host, l.pid, l.expires_at, l.expires_at > now(),
       r.last_successful_sync_at, now()
FROM (SELECT 1) AS one
LEFT JOIN {leases} l ON l.workspace_name = $1::text
LEFT JOIN {registry} r ON r.workspace_name = $1::text`

// ClaimLease claims workspace for the run o.RunID for ttl, if it is free or its lease has
// expired, and, when staleFor > 0, only if the workspace still has no successful sync within
// staleFor (another process may have synced it since the run was planned). All times are the
// database's. A workspace not in the registry is an error wrapping ErrNotFound.
func (s *Store) ClaimLease(ctx context.Context, workspace string, o LeaseOwner, ttl, staleFor time.Duration) (ClaimResult, error) {
	if ttl < time.Millisecond {
		return ClaimResult{}, fmt.Errorf("claim lease on workspace %s: ttl %v is too short", workspace, ttl)
	}
	var known, claimed bool
	err := s.pool.QueryRow(ctx, s.q.claimLease, workspace, o.RunID, o.Host, o.PID,
		ttl.Milliseconds(), staleFor.Milliseconds()).Scan(&known, &claimed)
	if err != nil {
		return ClaimResult{}, fmt.Errorf("claim lease on workspace %s: %w", workspace, err)
	}
	if !known {
		return ClaimResult{}, fmt.Errorf("claim lease on workspace %s: %w", workspace, ErrNotFound)
	}
	if claimed {
		return ClaimResult{Claimed: true}, nil
	}
	reason, err := s.refusalReason(ctx, workspace, o.RunID)
	if err != nil {
		return ClaimResult{}, fmt.Errorf("claim lease on workspace %s: %w", workspace, err)
	}
	return ClaimResult{Reason: reason}, nil
}

// refusalReason explains a refused claim from what the database shows now.
func (s *Store) refusalReason(ctx context.Context, workspace string, runID int64) (string, error) {
	var (
		holder        *int64
		host          *string
		pid           *int
		expiresAt     *time.Time
		live          *bool
		lastSuccessAt *time.Time
		now           time.Time
	)
	if err := s.pool.QueryRow(ctx, s.q.leaseHolder, workspace).Scan(
		&holder, &host, &pid, &expiresAt, &live, &lastSuccessAt, &now); err != nil {
		return "", fmt.Errorf("read lease holder: %w", err)
	}
	if holder != nil && *holder != runID && live != nil && *live {
		return fmt.Sprintf("held by run %d on %s (pid %d) until %s",
			*holder, *host, *pid, expiresAt.Local().Format("15:04:05")), nil
	}
	if lastSuccessAt != nil {
		return fmt.Sprintf("synced %s ago by another process", human.Age(now.Sub(*lastSuccessAt))), nil
	}
	// The holder finished between the claim and this read without a success.
	return "claimed by another process a moment ago", nil
}

const renewLeaseSQL = `
UPDATE {leases} SET expires_at = now() + $3::bigint * interval '1 millisecond'
WHERE workspace_name = $1::text AND run_id = $2::bigint`

// RenewLease extends runID's lease on workspace to ttl from now (database clock). It returns
// ErrLeaseLost when the run no longer holds it. An expired lease that nobody has taken over
// is still the run's and is renewed: a claim takes over the row atomically, so as long as the
// row names this run, nobody else is syncing the workspace.
func (s *Store) RenewLease(ctx context.Context, workspace string, runID int64, ttl time.Duration) error {
	tag, err := s.pool.Exec(ctx, s.q.renewLease, workspace, runID, ttl.Milliseconds())
	if err != nil {
		return fmt.Errorf("renew lease on workspace %s: %w", workspace, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("renew lease on workspace %s for run %d: %w", workspace, runID, ErrLeaseLost)
	}
	return nil
}

const releaseLeaseSQL = `DELETE FROM {leases} WHERE workspace_name = $1::text AND run_id = $2::bigint`

// ReleaseLease gives up runID's lease on workspace. Releasing a lease the run does not hold
// is not an error: the goal, the run not holding it, is reached.
func (s *Store) ReleaseLease(ctx context.Context, workspace string, runID int64) error {
	if _, err := s.pool.Exec(ctx, s.q.releaseLease, workspace, runID); err != nil {
		return fmt.Errorf("release lease on workspace %s: %w", workspace, err)
	}
	return nil
}

// isNoRows reports whether err is pgx's "no rows".
func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
