package db

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The agency's dashboard's read layer (CONTRACT.md §6): `bisonsync migrate --dashboard-schema
// NAME` creates, in schema NAME, views with the names and columns poll-sender-emails' tables
// had, over bisonsync's tables, and Migrate keeps them current at every upgrade.

// DashboardOptions says where to install the dashboard's views and who may read them.
type DashboardOptions struct {
	// Schema receives the views; created when missing. It may be bisonsync's own schema: its
	// email_accounts_view then becomes the dashboard's (its 31 columns first, ours after).
	Schema string
	// Grants are roles given SELECT on the views (and USAGE on the schema). A role that does
	// not exist is skipped and reported in DashboardResult.MissingRoles.
	Grants []string
	// ReplaceExisting lets an object of the same name that bisonsync did not create be
	// renamed NAME_before_bisonsync (kept, never dropped). Without it such an object makes
	// InstallDashboard refuse with an *ExistingObjectsError, changing nothing.
	ReplaceExisting bool
}

// DashboardResult says what InstallDashboard did.
type DashboardResult struct {
	Schema string
	// Views are the names (schema.name) of the views created or replaced.
	Views []string
	// Kept are existing objects renamed out of the way (ReplaceExisting).
	Kept []KeptObject
	// Granted and MissingRoles split DashboardOptions.Grants.
	Granted, MissingRoles []string
	// Materialized: the dashboard's email_accounts_view is bisonsync's own materialized view
	// (the dashboard is in bisonsync's schema, whose view is materialized): it is current
	// after each run's refresh, not at each commit.
	Materialized bool
}

// KeptObject is an existing object renamed so the dashboard's view could take its name.
type KeptObject struct {
	Kind, Name, KeptAs string
}

// ExistingObject is an object in the dashboard's schema with the name of one of its views.
type ExistingObject struct {
	Kind string // table, view, materialized view, …
	Name string
}

// ExistingObjectsError is InstallDashboard refusing to take names that objects bisonsync did
// not create already hold. Nothing was changed.
type ExistingObjectsError struct {
	Schema  string
	Objects []ExistingObject
}

// Error names every object in the way and says how to go on.
func (e *ExistingObjectsError) Error() string {
	var names, kept []string
	for _, o := range e.Objects {
		names = append(names, fmt.Sprintf("%s %s.%s", o.Kind, e.Schema, o.Name))
		kept = append(kept, o.Name+keptSuffix)
	}
	return fmt.Sprintf("schema %s already has %s, which bisonsync did not create; nothing was changed. "+
		"Rerun with --replace-existing to keep them renamed (%s) and create the dashboard's views in their place",
		e.Schema, strings.Join(names, ", "), strings.Join(kept, ", "))
}

// InstallDashboard creates (or brings up to date) the dashboard's views in opts.Schema, in one
// transaction: email_accounts_view, polling_job_status, sync_progress and (outside
// bisonsync's own schema) sync_requests; grants SELECT on them; records the schema so that Migrate re-creates them after every upgrade. It works
// through a transaction-mode pooler: no session state is used.
func (s *Store) InstallDashboard(ctx context.Context, opts DashboardOptions) (DashboardResult, error) {
	if err := ValidSchemaName(opts.Schema); err != nil {
		return DashboardResult{}, fmt.Errorf("dashboard schema: %w", err)
	}
	var res DashboardResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.lockDashboards(ctx, tx); err != nil {
			return err
		}
		var err error
		res, err = s.installDashboard(ctx, tx, opts)
		return err
	})
	if err != nil {
		return DashboardResult{}, fmt.Errorf("install the dashboard's views in schema %s: %w", opts.Schema, err)
	}
	return res, nil
}

// lockDashboards serialises every change to the dashboard's views of this bisonsync schema
// (installs, and Migrate's drop and re-create), with a transaction-level lock that a pooler
// cannot strand. It also makes every name in the transaction's catalog output qualified.
func (s *Store) lockDashboards(ctx context.Context, tx pgx.Tx) error {
	h := fnv.New64a()
	h.Write([]byte("bisonsync dashboards " + s.schema))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::bigint)`, int64(h.Sum64())); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	// pg_get_viewdef and pg_get_indexdef qualify every name not on the search path: with
	// only pg_catalog on it, a saved definition means the same whatever path reads it back.
	_, err := tx.Exec(ctx, `SET LOCAL search_path TO pg_catalog`)
	return err
}

func (s *Store) installDashboard(ctx context.Context, tx pgx.Tx, opts DashboardOptions) (DashboardResult, error) {
	res := DashboardResult{Schema: opts.Schema}
	if err := ensureSchemaTx(ctx, tx, opts.Schema); err != nil {
		return res, err
	}
	existing, err := dashboardObjects(ctx, tx, opts.Schema)
	if err != nil {
		return res, err
	}
	own := opts.Schema == s.schema
	var foreign []ExistingObject
	for _, name := range relationsFor(opts.Schema, s.schema) {
		o, ok := existing[name]
		if ok && !o.ours && !(own && name == dashAccounts) {
			foreign = append(foreign, ExistingObject{Kind: o.kindName(), Name: name})
		}
	}
	if len(foreign) > 0 && !opts.ReplaceExisting {
		return res, &ExistingObjectsError{Schema: opts.Schema, Objects: foreign}
	}
	for _, o := range foreign {
		kept, err := keepObject(ctx, tx, opts.Schema, existing[o.Name])
		if err != nil {
			return res, err
		}
		res.Kept = append(res.Kept, kept)
		delete(existing, o.Name)
	}
	var before *ownView
	if own {
		if before, err = s.ownViewBefore(ctx, tx, existing[dashAccounts]); err != nil {
			return res, err
		}
		res.Materialized = before.kind == relMatview
	}
	for _, name := range relationsFor(opts.Schema, s.schema) {
		if err := s.createDashboardView(ctx, tx, opts.Schema, name, existing, res.Materialized); err != nil {
			return res, err
		}
		res.Views = append(res.Views, opts.Schema+"."+name)
	}
	if res.Granted, res.MissingRoles, err = grantDashboard(ctx, tx, opts.Schema, res.Views, opts.Grants); err != nil {
		return res, err
	}
	return res, s.recordDashboard(ctx, tx, opts, before)
}

// ensureSchemaTx creates schema when it does not exist (checking first: CREATE needs a
// privilege on the database even when the schema is there).
func ensureSchemaTx(ctx context.Context, tx pgx.Tx, schema string) error {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1::text)`,
		schema).Scan(&exists); err != nil {
		return fmt.Errorf("check schema %s: %w", schema, err)
	}
	if exists {
		return nil
	}
	if _, err := tx.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	return nil
}

// Relation kinds (pg_class.relkind) the dashboard's names may find.
const (
	relView    = "v"
	relMatview = "m"
)

// dashObject is a relation found under one of the dashboard's names.
type dashObject struct {
	name, kind string
	ours       bool // its comment carries dashboardMarker
}

func (o dashObject) kindName() string {
	switch o.kind {
	case "r", "p":
		return "table"
	case relView:
		return "view"
	case relMatview:
		return "materialized view"
	case "f":
		return "foreign table"
	case "S":
		return "sequence"
	case "i", "I":
		return "index"
	}
	return "relation"
}

// alterKeyword is what ALTER … RENAME calls the object.
func (o dashObject) alterKeyword() string {
	switch o.kind {
	case relView:
		return "VIEW"
	case relMatview:
		return "MATERIALIZED VIEW"
	case "f":
		return "FOREIGN TABLE"
	case "S":
		return "SEQUENCE"
	case "i", "I":
		return "INDEX"
	}
	return "TABLE"
}

// dashboardObjects finds the relations of schema that bear the dashboard's names, or the
// names they would be kept under.
func dashboardObjects(ctx context.Context, tx pgx.Tx, schema string) (map[string]dashObject, error) {
	names := slices.Clone(dashboardRelations)
	for _, n := range dashboardRelations {
		names = append(names, n+keptSuffix)
	}
	rows, err := tx.Query(ctx, `
SELECT c.relname, c.relkind::text, coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), '') LIKE $3::text
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1::text AND c.relname = ANY ($2::text[])`, schema, names, dashboardMarker+"%")
	if err != nil {
		return nil, fmt.Errorf("look for existing objects in schema %s: %w", schema, err)
	}
	out := map[string]dashObject{}
	var o dashObject
	if _, err := pgx.ForEachRow(rows, []any{&o.name, &o.kind, &o.ours}, func() error {
		out[o.name] = o
		return nil
	}); err != nil {
		return nil, fmt.Errorf("look for existing objects in schema %s: %w", schema, err)
	}
	return out, nil
}

// keepObject renames an object that bisonsync did not create out of the dashboard's way.
func keepObject(ctx context.Context, tx pgx.Tx, schema string, o dashObject) (KeptObject, error) {
	kept := KeptObject{Kind: o.kindName(), Name: o.name, KeptAs: o.name + keptSuffix}
	existing, err := dashboardObjects(ctx, tx, schema)
	if err != nil {
		return kept, err
	}
	if other, taken := existing[kept.KeptAs]; taken {
		return kept, fmt.Errorf("cannot keep %s %s.%s as %s: a %s of that name exists (rename or drop it first)",
			kept.Kind, schema, o.name, kept.KeptAs, other.kindName())
	}
	stmt := fmt.Sprintf("ALTER %s %s RENAME TO %s", o.alterKeyword(), qualify(schema, o.name), pgx.Identifier{kept.KeptAs}.Sanitize())
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return kept, fmt.Errorf("keep %s %s.%s as %s: %w", kept.Kind, schema, o.name, kept.KeptAs, err)
	}
	return kept, nil
}

// createDashboardView creates one of the dashboard's views in schema, replacing the one of
// ours already there. matview: our own email_accounts_view is materialized and stays so.
func (s *Store) createDashboardView(ctx context.Context, tx pgx.Tx, schema, name string, existing map[string]dashObject, matview bool) error {
	own := schema == s.schema && name == dashAccounts
	target := qualify(schema, name)
	body := dashboardViewSQL(name, s.schema, own)
	o, exists := existing[name]
	var stmts []string
	switch {
	case own && matview:
		stmts = append([]string{"DROP MATERIALIZED VIEW " + target,
			"CREATE MATERIALIZED VIEW " + target + " AS\n" + body}, ownMatviewIndexSQL(s.schema)...)
	case exists && (!o.ours || o.kind != relView):
		// Our own original view (other columns), or an old materialized version: replace.
		stmts = []string{fmt.Sprintf("DROP %s %s", o.alterKeyword(), target), "CREATE VIEW " + target + " AS\n" + body}
	default:
		stmts = []string{"CREATE OR REPLACE VIEW " + target + " AS\n" + body}
	}
	kind := "VIEW"
	if own && matview {
		kind = "MATERIALIZED VIEW"
	}
	stmts = append(stmts, fmt.Sprintf("COMMENT ON %s %s IS %s", kind, target, quoteLiteral(dashboardComment(name, s.schema))))
	for _, stmt := range stmts {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("create %s: %w", target, err)
		}
	}
	return nil
}

// quoteLiteral quotes a string as an SQL literal (standard_conforming_strings is on since
// PostgreSQL 9.1). For statements such as COMMENT that take no parameters.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// grantDashboard gives SELECT on the views, and USAGE on their schema, to each role that
// exists; it returns the roles granted and those that do not exist.
func grantDashboard(ctx context.Context, tx pgx.Tx, schema string, relations, roles []string) (granted, missing []string, err error) {
	if len(roles) == 0 {
		return nil, nil, nil
	}
	rows, err := tx.Query(ctx, `SELECT rolname::text FROM pg_catalog.pg_roles WHERE rolname = ANY ($1::text[])`, roles)
	if err != nil {
		return nil, nil, fmt.Errorf("look up roles: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, nil, fmt.Errorf("look up roles: %w", err)
	}
	views := make([]string, len(relations))
	for i, n := range relations {
		sch, name, _ := strings.Cut(n, ".")
		views[i] = qualify(sch, name)
	}
	for _, role := range roles {
		if !slices.Contains(found, role) {
			missing = append(missing, role)
			continue
		}
		r := pgx.Identifier{role}.Sanitize()
		for _, stmt := range []string{
			"GRANT USAGE ON SCHEMA " + pgx.Identifier{schema}.Sanitize() + " TO " + r,
			"GRANT SELECT ON " + strings.Join(views, ", ") + " TO " + r,
		} {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return granted, missing, fmt.Errorf("grant to %s: %w", role, err)
			}
		}
		granted = append(granted, role)
	}
	return granted, missing, nil
}
