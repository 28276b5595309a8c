package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Instance is one Email Bison installation (a bison_instances row).
type Instance struct {
	Name    string
	BaseURL string
	// APIKey is the super-admin key as stored; zero when null.
	APIKey Secret
	// RequestsPerSecond is nil when the instance has no client-side limit.
	RequestsPerSecond *float64
	// MaxConcurrency is nil when the program's default applies.
	MaxConcurrency *int
	// LearnedRequestsPerSecond and LearnedInFlight are the pace the engine last found the
	// instance to accept (SavePace); nil when nothing was learnt. The ceilings above still
	// bound them.
	LearnedRequestsPerSecond *float64
	LearnedInFlight          *int
	// AutoRegister: runs register the workspaces the listing finds that the registry lacks.
	AutoRegister bool
	// InUse: an active workspace of the registry is on this instance (filled by Instances).
	InUse bool
	// ListedAt is when the instance's workspaces were last listed; nil when never. ListError
	// is why the latest listing failed, "" when it succeeded.
	ListedAt  *time.Time
	ListError string
}

// Workspace is one workspace to keep in sync (a client_registry row) with its instance.
type Workspace struct {
	Name     string
	Instance string
	BisonID  int
	// APIKey is the workspace key as stored; zero when null (then the instance's super-admin
	// key is used with switch-workspace).
	APIKey   Secret
	IsActive bool

	LastSuccessAt *time.Time
	LastAttemptAt *time.Time
	LastStatus    WorkspaceStatus
	LastError     string
	LastWarning   string
	LastDuration  *time.Duration
	// EstimatedAccounts is meta.total of the last complete fetch; nil when never fetched.
	EstimatedAccounts   *int
	LiveAccounts        int
	ConsecutiveFailures int
	// DeletionGuardPercent overrides the run's mass-deletion guard for this workspace; nil
	// when it has no override.
	DeletionGuardPercent *float64

	// Key health: how its key was last judged (by keys check, keys mint or a sync), when,
	// since when it has been rejected without a break, and what was found.
	KeyStatus        KeyStatus
	KeyCheckedAt     *time.Time
	KeyRejectedSince *time.Time
	KeyDetail        string
	// GoneSince is when the instance's listing stopped showing the workspace; nil while it
	// shows it (or was never listed).
	GoneSince *time.Time

	// Inst is the workspace's instance, joined. Filled by Workspaces, ignored by
	// UpsertWorkspace.
	Inst Instance
}

// Selection chooses workspaces for a run or a listing.
type Selection struct {
	// Names limits the selection to these workspaces. A name not in the registry makes
	// Workspaces fail with *UnknownWorkspacesError. Named workspaces are returned even when
	// inactive: naming one is an explicit request, and dropping it would be a silent skip.
	Names []string
	// StaleFor, when positive, keeps only workspaces with no successful sync within it
	// (never synced included), judged by the database clock.
	StaleFor time.Duration
	// IncludeInactive also returns workspaces with is_active = false when Names is empty.
	IncludeInactive bool
}

const upsertInstanceSQL = `
INSERT INTO {instances} (name, base_url, api_key, requests_per_second, max_concurrency)
VALUES ($1::text, $2::text, $3::text, $4::real, $5::integer)
ON CONFLICT (name) DO UPDATE SET
    base_url = EXCLUDED.base_url,
    api_key = EXCLUDED.api_key,
    requests_per_second = EXCLUDED.requests_per_second,
    max_concurrency = EXCLUDED.max_concurrency`

// UpsertInstance creates or updates an instance. It exists for setup, the demo and tests;
// operators usually edit the table directly.
func (s *Store) UpsertInstance(ctx context.Context, in Instance) error {
	if _, err := s.pool.Exec(ctx, s.q.upsertInstance,
		in.Name, in.BaseURL, in.APIKey, in.RequestsPerSecond, in.MaxConcurrency); err != nil {
		return fmt.Errorf("upsert instance %s: %w", in.Name, err)
	}
	return nil
}

const upsertWorkspaceSQL = `
INSERT INTO {registry} (workspace_name, bison_instance, bison_workspace_id, bison_api_key, is_active)
VALUES ($1::text, $2::text, $3::integer, $4::text, $5::boolean)
ON CONFLICT (workspace_name) DO UPDATE SET
    bison_instance = EXCLUDED.bison_instance,
    bison_workspace_id = EXCLUDED.bison_workspace_id,
    bison_api_key = EXCLUDED.bison_api_key,
    is_active = EXCLUDED.is_active`

// UpsertWorkspace creates or updates a workspace's identity (instance, Bison id, key, active
// flag). The sync figures are left alone: only sync attempts write those.
func (s *Store) UpsertWorkspace(ctx context.Context, w Workspace) error {
	if _, err := s.pool.Exec(ctx, s.q.upsertWorkspace,
		w.Name, w.Instance, w.BisonID, w.APIKey, w.IsActive); err != nil {
		return fmt.Errorf("upsert workspace %s: %w", w.Name, err)
	}
	return nil
}

// The stale flag is computed here, with the database clock, so every host agrees on it.
const workspacesSQL = `
SELECT r.workspace_name, r.bison_instance, r.bison_workspace_id, r.bison_api_key,
       r.is_active, r.last_successful_sync_at, r.last_sync_attempt_at,
       coalesce(r.last_sync_status, ''), coalesce(r.last_sync_error, ''),
       coalesce(r.last_sync_warning, ''), r.last_sync_duration_ms, r.estimated_account_count,
       r.live_account_count, r.consecutive_failures, r.deletion_guard_percent::float8,
       coalesce(r.key_status, ''), r.key_checked_at, r.key_rejected_since, coalesce(r.key_detail, ''),
       (SELECT d.state_since FROM {discovered} d WHERE d.bison_instance = r.bison_instance
            AND d.bison_workspace_id = r.bison_workspace_id AND d.state = 'gone') AS gone_since,
       i.name, i.base_url, i.api_key, i.requests_per_second::float8, i.max_concurrency, i.auto_register,
       i.learned_requests_per_second::float8, i.learned_max_in_flight,
       ($3::bigint > 0 AND (r.last_successful_sync_at IS NULL
            OR r.last_successful_sync_at < now() - $3::bigint * interval '1 millisecond')) AS stale
FROM {registry} r
JOIN {instances} i ON i.name = r.bison_instance
WHERE ($1::text[] IS NULL OR r.workspace_name = ANY ($1::text[]))
  AND ($1::text[] IS NOT NULL OR $2::boolean OR r.is_active)
ORDER BY r.workspace_name`

const savePaceSQL = `
UPDATE {instances} SET learned_requests_per_second = NULLIF($2::real, 0),
    learned_max_in_flight = NULLIF($3::integer, 0), pace_learned_at = now()
WHERE name = $1::text`

// SavePace records the pace an instance was found to accept: requests per second (0: no
// limit was needed) and requests in flight. The next run starts there.
func (s *Store) SavePace(ctx context.Context, instance string, requestsPerSecond float64, inFlight int) error {
	if _, err := s.pool.Exec(ctx, s.q.savePace, instance, requestsPerSecond, inFlight); err != nil {
		return fmt.Errorf("save the pace of instance %s: %w", instance, err)
	}
	return nil
}

const unknownWorkspacesSQL = `
SELECT n FROM unnest($1::text[]) AS n
WHERE NOT EXISTS (SELECT 1 FROM {registry} r WHERE r.workspace_name = n)
ORDER BY n`

// Workspaces returns the selected workspaces with their instances, ordered by name.
func (s *Store) Workspaces(ctx context.Context, sel Selection) ([]Workspace, error) {
	var names []string // nil: all
	if len(sel.Names) > 0 {
		names = sel.Names
		unknown, err := s.unknownWorkspaces(ctx, names)
		if err != nil {
			return nil, err
		}
		if len(unknown) > 0 {
			return nil, &UnknownWorkspacesError{Names: unknown}
		}
	}

	rows, err := s.pool.Query(ctx, s.q.workspaces, names, sel.IncludeInactive, sel.StaleFor.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	var out []Workspace
	for rows.Next() {
		w, stale, err := scanWorkspace(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list workspaces: %w", err)
		}
		if sel.StaleFor > 0 && !stale {
			continue
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	return out, nil
}

// scanWorkspace reads one row of workspacesSQL, and whether it is stale.
func scanWorkspace(rows pgx.Rows) (Workspace, bool, error) {
	var (
		w          Workspace
		durationMS *int64
		stale      bool
	)
	err := rows.Scan(&w.Name, &w.Instance, &w.BisonID, &w.APIKey, &w.IsActive,
		&w.LastSuccessAt, &w.LastAttemptAt, &w.LastStatus, &w.LastError, &w.LastWarning,
		&durationMS, &w.EstimatedAccounts, &w.LiveAccounts, &w.ConsecutiveFailures, &w.DeletionGuardPercent,
		&w.KeyStatus, &w.KeyCheckedAt, &w.KeyRejectedSince, &w.KeyDetail, &w.GoneSince,
		&w.Inst.Name, &w.Inst.BaseURL, &w.Inst.APIKey, &w.Inst.RequestsPerSecond,
		&w.Inst.MaxConcurrency, &w.Inst.AutoRegister, &w.Inst.LearnedRequestsPerSecond, &w.Inst.LearnedInFlight, &stale)
	w.LastDuration = millis(durationMS)
	return w, stale, err
}

func (s *Store) unknownWorkspaces(ctx context.Context, names []string) ([]string, error) {
	rows, err := s.pool.Query(ctx, s.q.unknownWorkspaces, names)
	if err != nil {
		return nil, fmt.Errorf("check workspace names: %w", err)
	}
	unknown, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("check workspace names: %w", err)
	}
	return unknown, nil
}

// millis converts a nullable millisecond column into a duration.
func millis(ms *int64) *time.Duration {
	if ms == nil {
		return nil
	}
	d := time.Duration(*ms) * time.Millisecond
	return &d
}
