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

// Health states of a registered workspace, by precedence: one the source no longer lists is
// "gone" whatever else is true; otherwise one whose key serves another workspace is
// "wrong-key"; otherwise one never synced is "never"; otherwise one whose last attempt
// failed is "failing"; otherwise one whose last success is too old is "stale"; otherwise one
// whose last sync left a warning is "warning"; otherwise "ok". "unregistered" is a workspace
// at the source that the registry lacks: discovery's, never JudgeHealth's.
const (
	HealthOK           HealthState = "ok"
	HealthWarning      HealthState = "warning"
	HealthStale        HealthState = "stale"
	HealthFailing      HealthState = "failing"
	HealthNever        HealthState = "never"
	HealthUnregistered HealthState = "unregistered"
	HealthGone         HealthState = "gone"
	HealthWrongKey     HealthState = "wrong-key"
)

// NeedsAttention reports whether the state makes --check exit 1. A warning is shown but,
// as the contract ties the exit code to the other states, does not.
func (h HealthState) NeedsAttention() bool {
	switch h {
	case HealthStale, HealthFailing, HealthNever, HealthUnregistered, HealthGone, HealthWrongKey:
		return true
	}
	return false
}

// Health is one active workspace that needs attention (or carries a warning), as --check
// reports it.
type Health struct {
	Workspace string
	Instance  string
	// BisonID is the workspace's id at its instance (shown for unregistered workspaces).
	BisonID int
	State   HealthState
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
	if w.GoneSince != nil {
		return HealthGone, fmt.Sprintf("instance %s no longer lists workspace id %d (gone since %s, %s ago): "+
			"remove it from client_registry, or set is_active = false", w.Instance, w.BisonID,
			stamp(*w.GoneSince), human.Age(now.Sub(*w.GoneSince)))
	}
	if w.KeyStatus == KeyWrong {
		return HealthWrongKey, wrongKeyReason(w, now)
	}
	failure := failureReason(w, now)
	failing := w.LastStatus == WorkspaceFailed
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

// failureReason says how the last attempt failed: when, how many times in a row, and why.
// A key rejected on consecutive attempts is named with the start of its streak rather than
// only the latest error.
func failureReason(w Workspace, now time.Time) string {
	if w.LastStatus != WorkspaceFailed {
		return ""
	}
	failure := "last attempt failed"
	if w.LastAttemptAt != nil {
		failure = fmt.Sprintf("last attempt %s ago failed", human.Age(now.Sub(*w.LastAttemptAt)))
	}
	if w.ConsecutiveFailures > 1 {
		failure += fmt.Sprintf(" (%d failures in a row)", w.ConsecutiveFailures)
	}
	if w.KeyStatus == KeyRejected && w.KeyRejectedSince != nil && w.ConsecutiveFailures > 1 {
		return fmt.Sprintf("API key %s rejected since %s (%s ago); %s", w.APIKey.Hint(),
			stamp(*w.KeyRejectedSince), human.Age(now.Sub(*w.KeyRejectedSince)), failure)
	}
	if w.LastError != "" {
		failure += ": " + oneLine(w.LastError)
	}
	return failure
}

// wrongKeyReason says what is known of a key that serves another workspace.
func wrongKeyReason(w Workspace, now time.Time) string {
	msg := fmt.Sprintf("its API key %s serves another workspace's accounts", w.APIKey.Hint())
	if w.KeyDetail != "" {
		msg += " (" + oneLine(w.KeyDetail) + ")"
	}
	if w.KeyCheckedAt != nil {
		msg += fmt.Sprintf(", found %s ago", human.Age(now.Sub(*w.KeyCheckedAt)))
	}
	return msg + fmt.Sprintf("; nothing is synced for it until its key is replaced (bisonsync keys mint --replace --workspace %q)", w.Name)
}

// stamp writes a moment for --check and the console: 2026-05-01 06:15 UTC.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// The WHERE clause only narrows the rows to those JudgeHealth could find wanting; it decides
// nothing.
const healthSQL = `
SELECT r.workspace_name, r.bison_instance, r.bison_workspace_id, r.bison_api_key, r.last_successful_sync_at,
       r.last_sync_attempt_at, coalesce(r.last_sync_status, ''), coalesce(r.last_sync_error, ''),
       coalesce(r.last_sync_warning, ''), r.consecutive_failures,
       coalesce(r.key_status, ''), r.key_checked_at, r.key_rejected_since, coalesce(r.key_detail, ''),
       d.state_since, now()
FROM {registry} r
LEFT JOIN {discovered} d ON d.bison_instance = r.bison_instance
     AND d.bison_workspace_id = r.bison_workspace_id AND d.state = 'gone'
WHERE r.is_active
  AND (r.last_successful_sync_at IS NULL
       OR r.last_sync_status = 'failed'
       OR r.last_sync_warning IS NOT NULL
       OR r.key_status = 'wrong-key'
       OR d.state_since IS NOT NULL
       OR r.last_successful_sync_at < now() - $1::bigint * interval '1 millisecond')
ORDER BY r.last_successful_sync_at ASC NULLS FIRST, r.workspace_name`

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
	_, err = pgx.ForEachRow(rows, []any{&w.Name, &w.Instance, &w.BisonID, &w.APIKey, &w.LastSuccessAt, &w.LastAttemptAt,
		&w.LastStatus, &w.LastError, &w.LastWarning, &w.ConsecutiveFailures,
		&w.KeyStatus, &w.KeyCheckedAt, &w.KeyRejectedSince, &w.KeyDetail, &w.GoneSince, &now}, func() error {
		h := Health{Workspace: w.Name, Instance: w.Instance, BisonID: w.BisonID, LastSuccessAt: w.LastSuccessAt,
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
