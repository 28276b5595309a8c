package db_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
)

// theDashboardsColumns are email_accounts_view's 31 columns as poll-sender-emails made them
// (supabase/migrations/20251026000003_add_volume_per_account_column.sql), in order.
var theDashboardsColumns = strings.Fields(`id bison_account_id email_address workspace_name workspace_id
	bison_instance status account_type emails_sent_count total_replied_count unique_replied_count
	bounced_count unsubscribed_count interested_leads_count total_opened_count unique_opened_count
	total_leads_contacted_count daily_limit warmup_enabled reply_rate_percentage email_provider reseller
	domain price price_source pricing_needs_review volume_per_account notes created_at updated_at
	last_synced_at`)

// columns lists a relation's columns in order.
func columns(t *testing.T, s *db.Store, schema, rel string) []string {
	t.Helper()
	rows, err := s.Pool().Query(testContext(t), `SELECT a.attname::text FROM pg_catalog.pg_attribute a
		WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
		pgx.Identifier{schema, rel}.Sanitize())
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// relkind is a relation's kind in schema, "" when there is none of that name.
func relkind(t *testing.T, s *db.Store, schema, rel string) string {
	t.Helper()
	var k string
	err := s.Pool().QueryRow(testContext(t), `SELECT coalesce((SELECT c.relkind::text FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2), '')`,
		schema, rel).Scan(&k)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// seedAccounts registers workspace Acme and commits accounts to it, then prices them.
func seedAccounts(t *testing.T, s *db.Store) []db.Account {
	t.Helper()
	seedWorkspace(t, s, "main", "Acme", 7)
	accounts := makeAccounts(40, 1000, 12)
	accounts[3].Status = "" // the API gave none
	if _, err := s.CommitWorkspace(testContext(t), db.CommitInput{Workspace: "Acme", Instance: "main", WorkspaceID: 7,
		Accounts: accounts, Expected: len(accounts)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reprice(testContext(t), ""); err != nil {
		t.Fatal(err)
	}
	return accounts
}

func TestDashboardColumnsAreTheOldJobs(t *testing.T) {
	t.Parallel()
	if got := db.DashboardAccountColumns(); !slices.Equal(got, theDashboardsColumns) || len(got) != 31 {
		t.Errorf("dashboard columns:\n got %v\nwant %v", got, theDashboardsColumns)
	}
}

func TestInstallDashboardInAnotherSchema(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := testContext(t)
	accounts := seedAccounts(t, s)
	dash := dbtest.NewSchema(t)
	reader := "bisonsync_reader_" + dash[len(dash)-12:] // roles are cluster-wide: one per test
	exec(t, s, "CREATE ROLE "+reader+" NOLOGIN")
	t.Cleanup(func() { _, _ = s.Pool().Exec(ctx, "DROP OWNED BY "+reader+"; DROP ROLE IF EXISTS "+reader) })

	res, err := s.InstallDashboard(ctx, db.DashboardOptions{Schema: dash, Grants: []string{reader, "no_such_role_13"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Granted, []string{reader}) || !slices.Equal(res.MissingRoles, []string{"no_such_role_13"}) ||
		len(res.Views) != 4 || res.Materialized || len(res.Kept) != 0 {
		t.Errorf("result: %+v", res)
	}
	if got := columns(t, s, dash, "email_accounts_view"); !slices.Equal(got, theDashboardsColumns) {
		t.Errorf("email_accounts_view columns:\n got %v\nwant %v", got, theDashboardsColumns)
	}
	q := func(sql string) string { return strings.ReplaceAll(sql, "{dash}", pgx.Identifier{dash}.Sanitize()) }
	if n := queryInt(t, s, q(`SELECT count(*) FROM {dash}.email_accounts_view`)); n != len(accounts) {
		t.Errorf("%d rows, want %d", n, len(accounts))
	}
	if n := queryInt(t, s, q(`SELECT count(*) FROM {dash}.email_accounts_view WHERE status = 'Not connected' AND bison_account_id = $1`), accounts[3].ID); n != 1 {
		t.Errorf("an account without status is not shown as 'Not connected'")
	}
	before := idsByAccount(t, s, dash)
	if _, err := s.InstallDashboard(ctx, db.DashboardOptions{Schema: dash, Grants: []string{reader}}); err != nil {
		t.Fatalf("installing again: %v", err)
	}
	if after := idsByAccount(t, s, dash); !equalStrings(before, after) || len(after) != len(accounts) {
		t.Errorf("ids changed when the views were created again")
	}
	// The role reads the views, though it has no privilege on bisonsync's tables.
	err = pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+reader); err != nil {
			return err
		}
		var n int
		return tx.QueryRow(ctx, q(`SELECT (SELECT count(*) FROM {dash}.email_accounts_view) +
			(SELECT count(*) FROM {dash}.polling_job_status) + (SELECT count(*) FROM {dash}.sync_progress)`)).Scan(&n)
	})
	if err != nil {
		t.Errorf("reading as %s: %v", reader, err)
	}
	// Given INSERT on the sync_requests view, the role asks for a run where it reads.
	exec(t, s, q("GRANT INSERT ON {dash}.sync_requests TO "+reader))
	err = pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+reader); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, q(`INSERT INTO {dash}.sync_requests (requested_by, workspace_name) VALUES ('dashboard', 'Acme')`))
		return err
	})
	if err != nil {
		t.Errorf("asking for a run as %s: %v", reader, err)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.sync_requests WHERE status = 'pending' AND requested_at IS NOT NULL AND workspace_name = 'Acme'`); n != 1 {
		t.Errorf("the request through the view: %d pending rows in sync_requests, want 1", n)
	}
}

// idsByAccount maps each account to its dashboard id, as sortable lines.
func idsByAccount(t *testing.T, s *db.Store, dash string) []string {
	t.Helper()
	rows, err := s.Pool().Query(testContext(t), fmt.Sprintf(
		`SELECT bison_account_id || ' ' || id FROM %s.email_accounts_view ORDER BY bison_account_id`, pgx.Identifier{dash}.Sanitize()))
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// oldJobsObjects creates, in schema, what poll-sender-emails left there: a materialized
// email_accounts_view and a polling_job_status table with a row.
func oldJobsObjects(t *testing.T, s *db.Store, schema string) {
	t.Helper()
	sch := pgx.Identifier{schema}.Sanitize()
	for _, stmt := range []string{
		"CREATE SCHEMA IF NOT EXISTS " + sch,
		"CREATE MATERIALIZED VIEW " + sch + ".email_accounts_view AS SELECT 1 AS id, 'old@example.com'::text AS email_address",
		"CREATE TABLE " + sch + ".polling_job_status (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), job_name text, status text)",
		"INSERT INTO " + sch + ".polling_job_status (job_name, status) VALUES ('poll-sender-emails', 'completed')",
	} {
		exec(t, s, stmt)
	}
}

func TestInstallDashboardRefusesObjectsNotOurs(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := testContext(t)
	seedAccounts(t, s)
	dash := dbtest.NewSchema(t)
	oldJobsObjects(t, s, dash)

	_, err := s.InstallDashboard(ctx, db.DashboardOptions{Schema: dash})
	var existing *db.ExistingObjectsError
	if !errors.As(err, &existing) {
		t.Fatalf("err = %v, want *db.ExistingObjectsError", err)
	}
	msg := err.Error()
	for _, want := range []string{"materialized view " + dash + ".email_accounts_view", "table " + dash + ".polling_job_status", "--replace-existing"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	if k := relkind(t, s, dash, "email_accounts_view"); k != "m" {
		t.Errorf("email_accounts_view is now %q, want the old materialized view untouched", k)
	}
	if k := relkind(t, s, dash, "sync_progress"); k != "" {
		t.Errorf("sync_progress was created (%q) although the install was refused", k)
	}

	res, err := s.InstallDashboard(ctx, db.DashboardOptions{Schema: dash, ReplaceExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []db.KeptObject{
		{Kind: "materialized view", Name: "email_accounts_view", KeptAs: "email_accounts_view_before_bisonsync"},
		{Kind: "table", Name: "polling_job_status", KeptAs: "polling_job_status_before_bisonsync"},
	}
	if !slices.Equal(res.Kept, want) {
		t.Errorf("kept %+v, want %+v", res.Kept, want)
	}
	for rel, kind := range map[string]string{"email_accounts_view": "v", "polling_job_status": "v", "sync_progress": "v",
		"email_accounts_view_before_bisonsync": "m", "polling_job_status_before_bisonsync": "r"} {
		if k := relkind(t, s, dash, rel); k != kind {
			t.Errorf("%s is %q, want %q", rel, k, kind)
		}
	}
	sch := pgx.Identifier{dash}.Sanitize()
	if n := queryInt(t, s, "SELECT count(*) FROM "+sch+".polling_job_status_before_bisonsync"); n != 1 {
		t.Errorf("the kept table has %d rows, want its 1", n)
	}
	if _, err := s.InstallDashboard(ctx, db.DashboardOptions{Schema: dash}); err != nil {
		t.Errorf("installing again, over our own views: %v", err)
	}
}

// The dashboard in bisonsync's own schema: our email_accounts_view becomes the dashboard's
// (31 columns, then ours), and keeps its kind: materialized today (refreshed after runs),
// plain once a migration makes it so. An upgrade puts ours back for the migrations and the
// dashboard's again afterwards; views elsewhere are dropped and re-created around it.
func TestDashboardInOwnSchemaAcrossAnUpgrade(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := testContext(t)
	accounts := seedAccounts(t, s)
	own := s.Schema()
	other := dbtest.NewSchema(t)
	original := columns(t, s, own, "email_accounts_view")
	kind := relkind(t, s, own, "email_accounts_view")

	res, err := s.InstallDashboard(ctx, db.DashboardOptions{Schema: own})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.InstallDashboard(ctx, db.DashboardOptions{Schema: other}); err != nil {
		t.Fatal(err)
	}
	wantCols := append(slices.Clone(theDashboardsColumns), db.OwnViewExtraColumns...)
	if got := columns(t, s, own, "email_accounts_view"); !slices.Equal(got, wantCols) {
		t.Errorf("own view columns:\n got %v\nwant %v", got, wantCols)
	}
	if k := relkind(t, s, own, "email_accounts_view"); k != kind || res.Materialized != (kind == "m") {
		t.Errorf("own view kind %q (materialized reported %v), want it to stay %q", k, res.Materialized, kind)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.email_accounts_view`); n != len(accounts) {
		t.Errorf("own view: %d rows, want %d", n, len(accounts))
	}

	// An upgrade: the views step aside, ours is back as the migrations made it.
	if err := s.DashboardsBeforeUpgrade(ctx); err != nil {
		t.Fatal(err)
	}
	if got := columns(t, s, own, "email_accounts_view"); !slices.Equal(got, original) {
		t.Errorf("before the upgrade, own view columns %v, want the original %v", got, original)
	}
	if k := relkind(t, s, other, "email_accounts_view"); k != "" {
		t.Errorf("before the upgrade the other schema's view is still there (%q)", k)
	}
	// A migration of the kind that needs them gone: our view becomes plain, a counter bigint.
	exec(t, s, fmt.Sprintf(`DROP %s {schema}.email_accounts_view;
		ALTER TABLE {schema}.email_accounts_raw ALTER COLUMN emails_sent_count TYPE bigint;
		CREATE VIEW {schema}.email_accounts_view AS SELECT * FROM {schema}.email_accounts_raw WHERE deleted_at IS NULL`,
		map[string]string{"m": "MATERIALIZED VIEW", "v": "VIEW"}[kind]))
	if err := s.DashboardsAfterUpgrade(ctx); err != nil {
		t.Fatal(err)
	}
	if got := columns(t, s, own, "email_accounts_view"); !slices.Equal(got, wantCols) {
		t.Errorf("after the upgrade, own view columns:\n got %v\nwant %v", got, wantCols)
	}
	if k := relkind(t, s, own, "email_accounts_view"); k != "v" {
		t.Errorf("after the upgrade own view is %q, want plain (as the migration made it)", k)
	}
	if got := columns(t, s, other, "email_accounts_view"); !slices.Equal(got, theDashboardsColumns) {
		t.Errorf("after the upgrade, the other schema's view columns: %v", got)
	}
	var typ string
	if err := s.Pool().QueryRow(ctx, `SELECT format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = $1::regclass AND attname = 'emails_sent_count'`,
		pgx.Identifier{other, "email_accounts_view"}.Sanitize()).Scan(&typ); err != nil || typ != "bigint" {
		t.Errorf("emails_sent_count in the re-created view: %q, %v; want bigint", typ, err)
	}
	// Migrate with nothing pending leaves them be.
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := columns(t, s, other, "email_accounts_view"); !slices.Equal(got, theDashboardsColumns) {
		t.Errorf("after Migrate, the other schema's view columns: %v", got)
	}
}

// Through a transaction-mode pooler: no session state survives between statements.
func TestInstallDashboardThroughPooler(t *testing.T) {
	t.Parallel()
	direct := dbtest.NewStore(t)
	seedAccounts(t, direct)
	ctx := testContext(t)
	pooled, err := db.Open(ctx, db.Config{URL: dbtest.PgBouncer(t), Schema: direct.Schema()})
	if err != nil {
		t.Fatal(err)
	}
	defer pooled.Close()
	dash := dbtest.NewSchema(t)
	oldJobsObjects(t, direct, dash)
	if _, err := pooled.InstallDashboard(ctx, db.DashboardOptions{Schema: dash}); err == nil {
		t.Fatal("the install over the old job's objects was not refused")
	}
	if _, err := pooled.InstallDashboard(ctx, db.DashboardOptions{Schema: dash, ReplaceExisting: true}); err != nil {
		t.Fatal(err)
	}
	if err := pooled.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, pooled, `SELECT count(*) FROM `+pgx.Identifier{dash}.Sanitize()+`.email_accounts_view`); n != 40 {
		t.Errorf("through the pooler: %d rows, want 40", n)
	}
}

func TestDashboardStatusWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status        db.RunStatus
		succeeded     int
		job, progress string
	}{
		{db.RunRunning, 0, "running", "running"},
		{db.RunRunning, 3, "running", "running"},
		{db.RunSucceeded, 3, "completed", "completed"},
		{db.RunPartial, 2, "partial", "completed"},
		{db.RunFailed, 0, "failed", "failed"},
		{db.RunCancelled, 2, "partial", "completed"},
		{db.RunCancelled, 0, "failed", "failed"},
		{db.RunAbandoned, 1, "partial", "completed"},
		{db.RunAbandoned, 0, "failed", "failed"},
	}
	s := dbtest.NewStore(t)
	ctx := testContext(t)
	dash := dbtest.NewSchema(t)
	if _, err := s.InstallDashboard(ctx, db.DashboardOptions{Schema: dash}); err != nil {
		t.Fatal(err)
	}
	sch := pgx.Identifier{dash}.Sanitize()
	for _, tt := range tests {
		if got := db.DashboardJobStatus(tt.status, tt.succeeded); got != tt.job {
			t.Errorf("DashboardJobStatus(%s, %d) = %s, want %s", tt.status, tt.succeeded, got, tt.job)
		}
		if got := db.DashboardProgressStatus(tt.status, tt.succeeded); got != tt.progress {
			t.Errorf("DashboardProgressStatus(%s, %d) = %s, want %s", tt.status, tt.succeeded, got, tt.progress)
		}
		// The views say the same.
		var id int64
		if err := s.Pool().QueryRow(ctx, `INSERT INTO `+pgx.Identifier{s.Schema(), "sync_runs"}.Sanitize()+
			` (status, workspaces_succeeded, workspaces_total) VALUES ($1, $2, 5) RETURNING id`, string(tt.status), tt.succeeded).Scan(&id); err != nil {
			t.Fatal(err)
		}
		var job, progress string
		if err := s.Pool().QueryRow(ctx, `SELECT j.status, p.status FROM `+sch+`.polling_job_status j
			JOIN `+sch+`.sync_progress p ON p.job_id = j.id WHERE j.id = $1`, id).Scan(&job, &progress); err != nil {
			t.Fatal(err)
		}
		if job != tt.job || progress != tt.progress {
			t.Errorf("views for %s with %d succeeded: %s / %s, want %s / %s", tt.status, tt.succeeded, job, progress, tt.job, tt.progress)
		}
	}
}
