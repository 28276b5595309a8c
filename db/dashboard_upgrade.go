package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Keeping the dashboard's views current across upgrades. A view pins the columns it reads:
// a migration that changes one (a counter becoming bigint) would fail, or a migration that
// replaces our own email_accounts_view would find the dashboard's instead. So Migrate, when
// migrations are pending, first drops the dashboard's views of every recorded schema (and
// puts our own view back as the migrations know it), and afterwards creates them again from
// the current definitions. It also re-creates them when this binary's definitions are newer
// than those installed.

// ownView is bisonsync's own email_accounts_view as its migrations defined it, saved when the
// dashboard's view took its place.
type ownView struct {
	kind       string // relView or relMatview
	definition string // pg_get_viewdef, every name qualified; "" when there was none
	indexes    []string
}

// ownViewBefore returns what our own email_accounts_view is as the migrations made it: read
// from the catalog when it is still theirs, else as saved when the dashboard's replaced it.
func (s *Store) ownViewBefore(ctx context.Context, tx pgx.Tx, current dashObject) (*ownView, error) {
	v := &ownView{kind: relView}
	switch {
	case current.name == "":
		return v, nil
	case current.ours:
		err := tx.QueryRow(ctx, s.q.dash.ownViewSaved, s.schema).Scan(&v.kind, &v.definition, &v.indexes)
		if isNoRows(err) {
			return &ownView{kind: current.kind}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read the saved definition of %s: %w", qualify(s.schema, dashAccounts), err)
		}
		return v, nil
	}
	v.kind = current.kind
	if err := tx.QueryRow(ctx, `SELECT pg_catalog.pg_get_viewdef($1::regclass, true)`,
		qualify(s.schema, dashAccounts)).Scan(&v.definition); err != nil {
		return nil, fmt.Errorf("read the definition of %s: %w", qualify(s.schema, dashAccounts), err)
	}
	rows, err := tx.Query(ctx, `SELECT pg_catalog.pg_get_indexdef(indexrelid) FROM pg_catalog.pg_index
		WHERE indrelid = $1::regclass ORDER BY indexrelid`, qualify(s.schema, dashAccounts))
	if err != nil {
		return nil, fmt.Errorf("read the indexes of %s: %w", qualify(s.schema, dashAccounts), err)
	}
	if v.indexes, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return nil, fmt.Errorf("read the indexes of %s: %w", qualify(s.schema, dashAccounts), err)
	}
	return v, nil
}

const ownViewSavedSQL = `
SELECT own_view_kind, own_view_definition, coalesce(own_view_indexes, '{}') FROM {dashboards}
WHERE schema_name = $1::text AND own_view_kind IS NOT NULL`

const recordDashboardSQL = `
INSERT INTO {dashboards} (schema_name, grants, definition_version, schema_version, own_view_kind,
    own_view_definition, own_view_indexes)
VALUES ($1::text, $2::text[], $3::integer, $4::bigint, $5::text, $6::text, $7::text[])
ON CONFLICT (schema_name) DO UPDATE SET
    grants = EXCLUDED.grants,
    definition_version = EXCLUDED.definition_version,
    schema_version = EXCLUDED.schema_version,
    own_view_kind = EXCLUDED.own_view_kind,
    own_view_definition = EXCLUDED.own_view_definition,
    own_view_indexes = EXCLUDED.own_view_indexes,
    updated_at = now()`

// recordDashboard remembers the schema, its grants (all that were asked, so a role created
// later is granted at the next re-creation) and the versions the views match.
func (s *Store) recordDashboard(ctx context.Context, tx pgx.Tx, opts DashboardOptions, before *ownView) error {
	version, err := s.appliedVersion(ctx, tx)
	if err != nil {
		return err
	}
	grants := opts.Grants
	if grants == nil {
		grants = []string{}
	}
	var kind, def *string
	var indexes []string
	if before != nil && before.definition != "" {
		kind, def, indexes = &before.kind, &before.definition, before.indexes
	}
	if _, err := tx.Exec(ctx, s.q.dash.recordDashboard, opts.Schema, grants, dashboardVersion, version,
		kind, def, indexes); err != nil {
		return fmt.Errorf("record the dashboard schema: %w", err)
	}
	return nil
}

// appliedVersion is this schema's migration version; 0 before the first migration.
func (s *Store) appliedVersion(ctx context.Context, q pgx.Tx) (int64, error) {
	var v int64
	table := qualify(s.schema, tableGooseVersion)
	var exists bool
	if err := q.QueryRow(ctx, `SELECT pg_catalog.to_regclass($1::text) IS NOT NULL`, table).Scan(&exists); err != nil || !exists {
		return 0, err
	}
	if err := q.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM `+table+` WHERE is_applied`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read the schema version: %w", err)
	}
	return v, nil
}

// dashboardRecord is a dashboard_installs row, as the upgrade steps need it.
type dashboardRecord struct {
	schema                string
	grants                []string
	definition, installed int64
}

const dashboardRecordsSQL = `
SELECT schema_name, grants, definition_version, schema_version FROM {dashboards} ORDER BY schema_name`

// withDashboards runs f in a transaction holding the dashboards' lock, with the recorded
// dashboard schemas; it does nothing before the migration that records them.
func (s *Store) withDashboards(ctx context.Context, f func(tx pgx.Tx, records []dashboardRecord) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT pg_catalog.to_regclass($1::text) IS NOT NULL`,
			qualify(s.schema, tableDashboards)).Scan(&exists); err != nil || !exists {
			return err
		}
		if err := s.lockDashboards(ctx, tx); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, s.q.dash.dashboardRecords)
		if err != nil {
			return fmt.Errorf("read %s: %w", tableDashboards, err)
		}
		var records []dashboardRecord
		var r dashboardRecord
		if _, err := pgx.ForEachRow(rows, []any{&r.schema, &r.grants, &r.definition, &r.installed}, func() error {
			records = append(records, r)
			return nil
		}); err != nil {
			return fmt.Errorf("read %s: %w", tableDashboards, err)
		}
		return f(tx, records)
	})
}

// dashboardsBeforeUpgrade drops the dashboard's views of every recorded schema and puts our
// own email_accounts_view back as the migrations know it. A view another object depends on
// is left in place (never dropped with CASCADE): a migration that needs it gone says so.
func (s *Store) dashboardsBeforeUpgrade(ctx context.Context) error {
	err := s.withDashboards(ctx, func(tx pgx.Tx, records []dashboardRecord) error {
		for _, rec := range records {
			if err := s.dropDashboard(ctx, tx, rec.schema); err != nil {
				return fmt.Errorf("schema %s: %w", rec.schema, err)
			}
		}
		_, err := tx.Exec(ctx, s.q.dash.dashboardsDropped)
		return err
	})
	if err != nil {
		return fmt.Errorf("drop the dashboard's views before the upgrade: %w", err)
	}
	return nil
}

const dashboardsDroppedSQL = `UPDATE {dashboards} SET schema_version = 0, updated_at = now()`

// dropDashboard drops the views bisonsync made in schema; in our own schema it restores our
// email_accounts_view instead.
func (s *Store) dropDashboard(ctx context.Context, tx pgx.Tx, schema string) error {
	existing, err := dashboardObjects(ctx, tx, schema)
	if err != nil {
		return err
	}
	for _, name := range dashboardRelations {
		o, ok := existing[name]
		if !ok || !o.ours {
			continue
		}
		if schema == s.schema && name == dashAccounts {
			if err := s.restoreOwnView(ctx, tx, o); err != nil {
				return err
			}
			continue
		}
		err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
			_, err := sp.Exec(ctx, fmt.Sprintf("DROP %s %s", o.alterKeyword(), qualify(schema, name)))
			return err
		})
		if err != nil && !isDependentObjects(err) {
			return fmt.Errorf("drop %s.%s: %w", schema, name, err)
		}
	}
	return nil
}

// restoreOwnView replaces the dashboard's email_accounts_view in our schema by ours as saved.
func (s *Store) restoreOwnView(ctx context.Context, tx pgx.Tx, current dashObject) error {
	saved, err := s.ownViewBefore(ctx, tx, current)
	if err != nil || saved.definition == "" {
		return err
	}
	view := qualify(s.schema, dashAccounts)
	kind := "VIEW"
	if saved.kind == relMatview {
		kind = "MATERIALIZED VIEW"
	}
	stmts := append([]string{fmt.Sprintf("DROP %s %s", current.alterKeyword(), view),
		fmt.Sprintf("CREATE %s %s AS %s", kind, view, saved.definition)}, saved.indexes...)
	for _, stmt := range stmts {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("put back %s as the migrations defined it: %w", view, err)
		}
	}
	return nil
}

// dashboardsAfterUpgrade creates the dashboard's views again wherever they are older than
// this binary's definitions or than the schema (dropped for an upgrade). A dashboard
// installed by a newer binary is left to it.
func (s *Store) dashboardsAfterUpgrade(ctx context.Context) error {
	return s.withDashboards(ctx, func(tx pgx.Tx, records []dashboardRecord) error {
		version, err := s.appliedVersion(ctx, tx)
		if err != nil {
			return err
		}
		for _, rec := range records {
			if rec.definition > dashboardVersion || (rec.definition == dashboardVersion && rec.installed == version) {
				continue
			}
			if _, err := s.installDashboard(ctx, tx, DashboardOptions{Schema: rec.schema, Grants: rec.grants}); err != nil {
				return fmt.Errorf("re-create the dashboard's views in schema %s: %w", rec.schema, err)
			}
		}
		return nil
	})
}

// isDependentObjects reports PostgreSQL refusing a DROP because other objects depend on it.
func isDependentObjects(err error) bool {
	var pgErr interface{ SQLState() string }
	return errors.As(err, &pgErr) && pgErr.SQLState() == "2BP01"
}

// dashboardsBeforeMigrations drops the dashboard's views when migrations up to newest are
// pending; otherwise it leaves them alone (the usual start of a process).
func (s *Store) dashboardsBeforeMigrations(ctx context.Context, newest int64) error {
	var applied int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		applied, err = s.appliedVersion(ctx, tx)
		return err
	})
	if err != nil || applied >= newest {
		return err
	}
	return s.dashboardsBeforeUpgrade(ctx)
}
