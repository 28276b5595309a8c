package db

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/internal/human"
)

// HealthState is how a registered workspace stands, as --check, the console, the metrics
// file and notifications show it.
type HealthState string

// Health states, by precedence: a workspace never synced is "never" whatever else is true;
// otherwise one whose last attempt failed is "failing"; otherwise one whose last success is
// too old is "stale"; otherwise one whose last sync left a warning is "warning"; otherwise
// "ok".
const (
	HealthOK      HealthState = "ok"
	HealthWarning HealthState = "warning"
	HealthStale   HealthState = "stale"
	HealthFailing HealthState = "failing"
	HealthNever   HealthState = "never"
)

// NeedsAttention reports whether the state makes --check exit 1. A warning is shown but,
// as the contract ties the exit code to stale, failing and never-synced workspaces, does not.
func (h HealthState) NeedsAttention() bool {
	switch h {
	case HealthStale, HealthFailing, HealthNever:
		return true
	}
	return false
}

// Health is one active workspace that needs attention (or carries a warning), as --check
// reports it.
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

// JudgeHealth decides how a workspace stands at now, with maxAge as the staleness bound, and
// says why in a sentence. It is the one place the rule lives: SQL only prefilters, and the
// faces render what it returns.
func JudgeHealth(w Workspace, maxAge time.Duration, now time.Time) (HealthState, string) {
	var failure string
	failing := w.LastStatus == WorkspaceFailed
	if failing {
		failure = "last attempt failed"
		if w.LastAttemptAt != nil {
			failure = fmt.Sprintf("last attempt %s ago failed", human.Age(now.Sub(*w.LastAttemptAt)))
		}
		if w.ConsecutiveFailures > 1 {
			failure += fmt.Sprintf(" (%d failures in a row)", w.ConsecutiveFailures)
		}
		if w.LastError != "" {
			failure += ": " + oneLine(w.LastError)
		}
	}
	switch {
	case w.LastSuccessAt == nil && failing:
		return HealthNever, "never synced successfully; " + failure
	case w.LastSuccessAt == nil && w.LastAttemptAt == nil:
		return HealthNever, "never synced"
	case w.LastSuccessAt == nil:
		return HealthNever, "never synced successfully"
	case failing:
		return HealthFailing, fmt.Sprintf("%s; last success %s ago", failure, human.Age(now.Sub(*w.LastSuccessAt)))
	case now.Sub(*w.LastSuccessAt) > maxAge:
		return HealthStale, fmt.Sprintf("last successful sync %s ago, older than %s",
			human.Age(now.Sub(*w.LastSuccessAt)), human.Age(maxAge))
	case w.LastWarning != "":
		return HealthWarning, oneLine(w.LastWarning)
	}
	return HealthOK, ""
}

// The WHERE clause only narrows the rows to those JudgeHealth could find wanting; it decides
// nothing.
const healthSQL = `
SELECT workspace_name, bison_instance, last_successful_sync_at, last_sync_attempt_at,
       coalesce(last_sync_status, ''), coalesce(last_sync_error, ''), coalesce(last_sync_warning, ''),
       consecutive_failures, now()
FROM {registry}
WHERE is_active
  AND (last_successful_sync_at IS NULL
       OR last_sync_status = 'failed'
       OR last_sync_warning IS NOT NULL
       OR last_successful_sync_at < now() - $1::bigint * interval '1 millisecond')
ORDER BY last_successful_sync_at ASC NULLS FIRST, workspace_name`

// CheckHealth returns the active workspaces that are not ok, as JudgeHealth sees them by the
// database clock: those that need attention first (unhealthy for longest first), then those
// that only carry a warning.
func (s *Store) CheckHealth(ctx context.Context, maxAge time.Duration) ([]Health, error) {
	rows, err := s.pool.Query(ctx, s.q.health, maxAge.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("check health: %w", err)
	}
	var out []Health
	var w Workspace
	var now time.Time
	_, err = pgx.ForEachRow(rows, []any{&w.Name, &w.Instance, &w.LastSuccessAt, &w.LastAttemptAt,
		&w.LastStatus, &w.LastError, &w.LastWarning, &w.ConsecutiveFailures, &now}, func() error {
		h := Health{Workspace: w.Name, Instance: w.Instance, LastSuccessAt: w.LastSuccessAt,
			LastAttemptAt: w.LastAttemptAt, LastError: w.LastError, ConsecutiveFailures: w.ConsecutiveFailures}
		h.State, h.Reason = JudgeHealth(w, maxAge, now)
		if h.LastSuccessAt != nil {
			h.Age = now.Sub(*h.LastSuccessAt)
		}
		if h.State != HealthOK {
			out = append(out, h)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("check health: %w", err)
	}
	slices.SortStableFunc(out, func(a, b Health) int {
		return cmp.Compare(boolRank(!a.State.NeedsAttention()), boolRank(!b.State.NeedsAttention()))
	})
	return out, nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// oneLine keeps an error message on one line of --check output.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
