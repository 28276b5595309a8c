package db

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// HealthState classifies a workspace that needs attention.
type HealthState string

// Health states, by precedence: a workspace never synced is "never" whatever else is true;
// otherwise one whose last attempt failed is "failing"; otherwise one whose last success is
// too old is "stale".
const (
	HealthNever   HealthState = "never"
	HealthFailing HealthState = "failing"
	HealthStale   HealthState = "stale"
)

// Health is one active workspace that needs attention, as --check reports it.
type Health struct {
	Workspace string
	Instance  string
	State     HealthState
	// LastSuccessAt is nil when the workspace never synced successfully.
	LastSuccessAt *time.Time
	// Age is the time since the last success, by the database clock; zero when never.
	Age                 time.Duration
	LastAttemptAt       *time.Time
	LastError           string
	ConsecutiveFailures int
	// Reason says what is wrong in a plain sentence.
	Reason string
}

const healthSQL = `
SELECT workspace_name, bison_instance, last_successful_sync_at, last_sync_attempt_at,
       coalesce(last_sync_status, ''), coalesce(last_sync_error, ''), consecutive_failures, now()
FROM {registry}
WHERE is_active
  AND (last_successful_sync_at IS NULL
       OR last_sync_status = 'failed'
       OR last_successful_sync_at < now() - $1::bigint * interval '1 millisecond')
ORDER BY last_successful_sync_at ASC NULLS FIRST, workspace_name`

// CheckHealth returns the active workspaces that are stale (no success within maxAge),
// failing (their last attempt failed) or never synced, the ones unhealthy for longest first.
// All ages use the database clock.
func (s *Store) CheckHealth(ctx context.Context, maxAge time.Duration) ([]Health, error) {
	rows, err := s.pool.Query(ctx, s.q.health, maxAge.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("check health: %w", err)
	}
	defer rows.Close()
	var out []Health
	for rows.Next() {
		var (
			h          Health
			lastStatus string
			now        time.Time
		)
		if err := rows.Scan(&h.Workspace, &h.Instance, &h.LastSuccessAt, &h.LastAttemptAt,
			&lastStatus, &h.LastError, &h.ConsecutiveFailures, &now); err != nil {
			return nil, fmt.Errorf("check health: %w", err)
		}
		failing := lastStatus == string(WorkspaceFailed)
		if h.LastSuccessAt != nil {
			h.Age = now.Sub(*h.LastSuccessAt)
		}
		h.State, h.Reason = judgeHealth(h, failing, maxAge, now)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("check health: %w", err)
	}
	return out, nil
}

// judgeHealth picks the state and writes the reason.
func judgeHealth(h Health, failing bool, maxAge time.Duration, now time.Time) (HealthState, string) {
	var failure string
	if failing {
		failure = "last attempt failed"
		if h.LastAttemptAt != nil {
			failure = fmt.Sprintf("last attempt %s ago failed", roundAge(now.Sub(*h.LastAttemptAt)))
		}
		if h.ConsecutiveFailures > 1 {
			failure += fmt.Sprintf(" (%d failures in a row)", h.ConsecutiveFailures)
		}
		if h.LastError != "" {
			failure += ": " + oneLine(h.LastError)
		}
	}
	switch {
	case h.LastSuccessAt == nil:
		if failing {
			return HealthNever, "never synced successfully; " + failure
		}
		if h.LastAttemptAt == nil {
			return HealthNever, "never synced"
		}
		return HealthNever, "never synced successfully"
	case failing:
		return HealthFailing, fmt.Sprintf("%s; last success %s ago", failure, roundAge(h.Age))
	default:
		return HealthStale, fmt.Sprintf("last successful sync %s ago, older than %s", roundAge(h.Age), roundAge(maxAge))
	}
}

// oneLine keeps an error message on one line of --check output.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
