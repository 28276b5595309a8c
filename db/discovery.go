package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/internal/human"
)

// DiscoveryState is how a workspace an instance lists (or no longer lists) stands against
// the registry (discovered_workspaces.state). The sync package decides it; this package
// stores and reads it.
type DiscoveryState string

// Discovery states.
const (
	DiscoveredRegistered   DiscoveryState = "registered"   // at the source and in the registry
	DiscoveredUnregistered DiscoveryState = "unregistered" // at the source, not in the registry
	DiscoveredGone         DiscoveryState = "gone"         // in the registry, no longer at the source
)

// DiscoveredWorkspace is one row of discovered_workspaces.
type DiscoveredWorkspace struct {
	Instance string
	BisonID  int
	// Name is the name at the source; for a gone workspace, its registry name.
	Name  string
	State DiscoveryState
	// Since is when it entered State (unregistered since, gone since).
	Since time.Time
	// FirstSeenAt and LastSeenAt are the first and the latest listing that showed it; nil
	// when none did.
	FirstSeenAt, LastSeenAt *time.Time
}

// Listing is what one listing of an instance found: every workspace it showed, with its
// state, and every registry row of the instance it no longer shows (state gone).
type Listing struct {
	Instance   string
	Workspaces []DiscoveredWorkspace // Since and the seen times are set by RecordListing
}

// NewWorkspace is a workspace to add to the registry, as the listing shows it.
type NewWorkspace struct {
	Name     string // its workspace_name, unique in the registry
	Instance string
	BisonID  int
	Active   bool
}

type discoveryQueries struct {
	instances, recordListing, pruneListing, listed, listFailed, discovered, register,
	recordKey, storeKey string
}

func buildDiscoveryQueries(r *strings.Replacer) discoveryQueries {
	return discoveryQueries{
		instances:     r.Replace(instancesSQL),
		recordListing: r.Replace(recordListingSQL),
		pruneListing:  r.Replace(pruneListingSQL),
		listed:        r.Replace(listedSQL),
		listFailed:    r.Replace(listFailedSQL),
		discovered:    r.Replace(discoveredSQL),
		register:      r.Replace(registerSQL),
		recordKey:     r.Replace(recordKeySQL),
		storeKey:      r.Replace(storeKeySQL),
	}
}

const instancesSQL = `
SELECT name, base_url, api_key, requests_per_second::float8, max_concurrency, auto_register,
       listed_at, coalesce(list_error, ''), learned_requests_per_second::float8, learned_max_in_flight,
       EXISTS (SELECT 1 FROM {registry} r WHERE r.bison_instance = i.name AND r.is_active)
FROM {instances} i ORDER BY name`

// Instances returns every instance, ordered by name, with whether an active workspace uses
// it.
func (s *Store) Instances(ctx context.Context) ([]Instance, error) {
	rows, err := s.pool.Query(ctx, s.q.disc.instances)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	var out []Instance
	var in Instance
	_, err = pgx.ForEachRow(rows, []any{&in.Name, &in.BaseURL, &in.APIKey, &in.RequestsPerSecond,
		&in.MaxConcurrency, &in.AutoRegister, &in.ListedAt, &in.ListError, &in.LearnedRequestsPerSecond,
		&in.LearnedInFlight, &in.InUse}, func() error {
		out = append(out, in)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	return out, nil
}

// A state that does not change keeps its start; the seen times move only with a listing
// that showed the workspace.
const recordListingSQL = `
INSERT INTO {discovered} AS d (bison_instance, bison_workspace_id, name, state, state_since, first_seen_at, last_seen_at)
SELECT $1::text, w.id, w.name, w.state, now(),
       CASE WHEN w.state <> 'gone' THEN now() END, CASE WHEN w.state <> 'gone' THEN now() END
FROM unnest($2::integer[], $3::text[], $4::text[]) AS w (id, name, state)
ON CONFLICT (bison_instance, bison_workspace_id) DO UPDATE SET
    name = EXCLUDED.name,
    state_since = CASE WHEN d.state = EXCLUDED.state THEN d.state_since ELSE now() END,
    state = EXCLUDED.state,
    first_seen_at = coalesce(d.first_seen_at, EXCLUDED.first_seen_at),
    last_seen_at = coalesce(EXCLUDED.last_seen_at, d.last_seen_at)`

const pruneListingSQL = `
DELETE FROM {discovered} WHERE bison_instance = $1::text AND bison_workspace_id <> ALL ($2::integer[])`

const listedSQL = `UPDATE {instances} SET listed_at = now(), list_error = NULL WHERE name = $1::text`

// RecordListing replaces what is known of the instance's workspaces with l, in one
// transaction: rows it no longer mentions go (a workspace deleted at the source that was
// never registered, a gone row removed from the registry), and the instance is marked
// listed now.
func (s *Store) RecordListing(ctx context.Context, l Listing) error {
	ids := make([]int32, len(l.Workspaces))
	names := make([]string, len(l.Workspaces))
	states := make([]string, len(l.Workspaces))
	for i, w := range l.Workspaces {
		ids[i], names[i], states[i] = int32(w.BisonID), w.Name, string(w.State)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, s.q.disc.recordListing, l.Instance, ids, names, states); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, s.q.disc.pruneListing, l.Instance, ids); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, s.q.disc.listed, l.Instance)
		return err
	})
	if err != nil {
		return fmt.Errorf("record the workspaces of instance %s: %w", l.Instance, err)
	}
	return nil
}

const listFailedSQL = `UPDATE {instances} SET list_error = $2::text WHERE name = $1::text`

// RecordListingFailure notes why the instance's workspaces could not be listed; what an
// earlier listing found is kept.
func (s *Store) RecordListingFailure(ctx context.Context, instance, problem string) error {
	if _, err := s.pool.Exec(ctx, s.q.disc.listFailed, instance, problem); err != nil {
		return fmt.Errorf("record the failed listing of instance %s: %w", instance, err)
	}
	return nil
}

// An unregistered row is left out once the registry holds its workspace (added by hand
// since the listing); a gone row once the registry no longer does.
const discoveredSQL = `
SELECT d.bison_instance, d.bison_workspace_id, d.name, d.state, d.state_since, d.first_seen_at, d.last_seen_at
FROM {discovered} d
WHERE d.state = ANY ($1::text[])
  AND CASE d.state
        WHEN 'unregistered' THEN NOT EXISTS (SELECT 1 FROM {registry} r
            WHERE r.bison_instance = d.bison_instance AND r.bison_workspace_id = d.bison_workspace_id)
        WHEN 'gone' THEN EXISTS (SELECT 1 FROM {registry} r
            WHERE r.bison_instance = d.bison_instance AND r.bison_workspace_id = d.bison_workspace_id)
        ELSE true
      END
ORDER BY d.bison_instance, d.name, d.bison_workspace_id`

// Discovered returns the rows of discovered_workspaces in the given states, by instance
// and name.
func (s *Store) Discovered(ctx context.Context, states ...DiscoveryState) ([]DiscoveredWorkspace, error) {
	want := make([]string, len(states))
	for i, st := range states {
		want[i] = string(st)
	}
	rows, err := s.pool.Query(ctx, s.q.disc.discovered, want)
	if err != nil {
		return nil, fmt.Errorf("read discovered workspaces: %w", err)
	}
	var out []DiscoveredWorkspace
	var d DiscoveredWorkspace
	_, err = pgx.ForEachRow(rows, []any{&d.Instance, &d.BisonID, &d.Name, &d.State, &d.Since, &d.FirstSeenAt, &d.LastSeenAt}, func() error {
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read discovered workspaces: %w", err)
	}
	return out, nil
}

// A workspace already in the registry (by name, or by instance and Bison id) is left as it
// is: ON CONFLICT without a target covers both unique keys.
const registerSQL = `
WITH added AS (
    INSERT INTO {registry} (workspace_name, bison_instance, bison_workspace_id, is_active)
    SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::boolean[])
    ON CONFLICT DO NOTHING
    RETURNING workspace_name, bison_instance, bison_workspace_id
), seen AS (
    UPDATE {discovered} d SET state = 'registered', state_since = now()
    FROM added a
    WHERE d.bison_instance = a.bison_instance AND d.bison_workspace_id = a.bison_workspace_id
)
SELECT workspace_name FROM added`

// RegisterWorkspaces adds the workspaces to client_registry, without a key of their own (the
// instance's super-admin key serves them until one is minted), and returns the names it
// added. A workspace whose name, or instance and Bison id, the registry already holds is
// not added.
func (s *Store) RegisterWorkspaces(ctx context.Context, ws []NewWorkspace) ([]string, error) {
	names := make([]string, len(ws))
	insts := make([]string, len(ws))
	ids := make([]int32, len(ws))
	active := make([]bool, len(ws))
	for i, w := range ws {
		names[i], insts[i], ids[i], active[i] = w.Name, w.Instance, int32(w.BisonID), w.Active
	}
	rows, err := s.pool.Query(ctx, s.q.disc.register, names, insts, ids, active)
	if err != nil {
		return nil, fmt.Errorf("register workspaces: %w", err)
	}
	added, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("register workspaces: %w", err)
	}
	return added, nil
}

// UnregisteredHealth is a workspace at the source that the registry lacks, as --check, the
// metrics file and the notifications show it: in state unregistered, with what to do.
func UnregisteredHealth(d DiscoveredWorkspace, now time.Time) Health {
	return Health{Workspace: d.Name, Instance: d.Instance, BisonID: d.BisonID, State: HealthUnregistered,
		Reason: fmt.Sprintf("instance %s lists it (id %d) since %s (%s ago) but client_registry lacks it, so nothing syncs it: "+
			"bisonsync register %q (--inactive to leave it out of runs)", d.Instance, d.BisonID, stamp(d.Since),
			human.Age(now.Sub(d.Since)), d.Name)}
}

// CheckDiscovery returns the workspaces the latest listings found at the source and not in
// the registry, as UnregisteredHealth shows them. (A registered workspace the source no
// longer lists is CheckHealth's: it is a registry row, state gone.)
func (s *Store) CheckDiscovery(ctx context.Context) ([]Health, error) {
	found, err := s.Discovered(ctx, DiscoveredUnregistered)
	if err != nil {
		return nil, err
	}
	out := make([]Health, 0, len(found))
	now := time.Now()
	for _, d := range found {
		out = append(out, UnregisteredHealth(d, now))
	}
	return out, nil
}
