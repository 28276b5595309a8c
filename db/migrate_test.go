package db_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
)

func TestMigrateFromEmptyAndAgain(t *testing.T) {
	t.Parallel()
	schema := dbtest.NewSchema(t)
	s := dbtest.OpenStore(t, schema)
	ctx := testContext(t)

	for i := range 2 { // the second run finds nothing to do
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate #%d: %v", i+1, err)
		}
	}
	n := queryInt(t, s, `SELECT count(*) FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = ANY ($2::text[])`, schema,
		[]string{"bison_instances", "client_registry", "email_accounts_raw", "email_accounts_view",
			"sync_runs", "sync_run_workspaces", "workspace_leases"})
	if n != 7 {
		t.Errorf("found %d of the 7 relations in schema %s", n, schema)
	}
	if v := queryInt(t, s, `SELECT max(version_id) FROM {schema}.bisonsync_goose_version`); v < 1 {
		t.Errorf("goose version = %d, want >= 1", v)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.bisonsync_goose_version WHERE version_id = 1`); n != 1 {
		t.Errorf("version 1 recorded %d times, want once", n)
	}
}

// A migration writes only into its schema: in a database of its own, public stays empty.
func TestMigrateLeavesPublicAlone(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s, err := db.Open(ctx, db.Config{URL: dbtest.NewDatabase(t), Schema: "bisonsync_here"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public'`); n != 0 {
		t.Errorf("%d relations landed in public", n)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'bisonsync_here' AND c.relname = 'email_accounts_raw'`); n != 1 {
		t.Errorf("the tables are not in the chosen schema")
	}
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	schema := dbtest.NewSchema(t)
	const migrators = 8
	stores := make([]*db.Store, migrators)
	for i := range stores {
		stores[i] = dbtest.OpenStore(t, schema)
	}
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make([]error, migrators)
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
	}
	if n := queryInt(t, stores[0], `SELECT count(*) FROM {schema}.bisonsync_goose_version WHERE version_id = 1`); n != 1 {
		t.Errorf("version 1 recorded %d times, want once", n)
	}
}

func TestOpenReportsWhereItFailedWithoutPassword(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := db.Open(ctx, db.Config{URL: "postgres://alice:s3cretpw@127.0.0.1:1/ledger?sslmode=disable&connect_timeout=5"})
	var ce *db.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *db.ConnectError", err)
	}
	msg := err.Error()
	for _, want := range []string{"127.0.0.1:1", `"ledger"`, `"alice"`, "ping"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not mention %s", msg, want)
		}
	}
	if strings.Contains(msg, "s3cretpw") {
		t.Errorf("message %q contains the password", msg)
	}

	_, err = db.Open(ctx, db.Config{URL: "postgres://alice:s3cretpw@127.0.0.1:notaport/ledger"})
	if err == nil || strings.Contains(err.Error(), "s3cretpw") {
		t.Errorf("bad URL: err = %v, want an error without the password", err)
	}
}

func TestOpenRejectsBadSchema(t *testing.T) {
	t.Parallel()
	_, err := db.Open(context.Background(), db.Config{URL: dbtest.URL(), Schema: "Robert'); DROP TABLE students;--"})
	if err == nil {
		t.Fatal("Open accepted a hostile schema name")
	}
}

func TestValidSchemaName(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"public", "bisonsync", "demo_2", "_x", strings.Repeat("a", 63)} {
		if err := db.ValidSchemaName(ok); err != nil {
			t.Errorf("ValidSchemaName(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "Demo", "2fast", "a-b", "a.b", `a"b`, "pg_temp", "select",
		"user", "information_schema", strings.Repeat("a", 64), "café"} {
		if err := db.ValidSchemaName(bad); err == nil {
			t.Errorf("ValidSchemaName(%q) = nil, want an error", bad)
		}
	}
}

func TestHostHasNoCredentials(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	if h := s.Host(); !strings.Contains(h, ":") || !strings.Contains(h, "/") || strings.Contains(h, "@") || strings.HasSuffix(h, "/") {
		t.Errorf("Host() = %q, want host:port/dbname", h)
	}
	for _, tc := range []struct {
		host string
		port uint16
		db   string
		want string
	}{
		{"db.example", 6543, "bison", "db.example:6543/bison"},
		{"::1", 5432, "bison", "[::1]:5432/bison"},
		{"/var/run/postgresql", 5432, "alice", "/var/run/postgresql:5432/alice (Unix socket)"},
	} {
		if got := db.DisplayHost(tc.host, tc.port, tc.db); got != tc.want {
			t.Errorf("displayHost(%q, %d, %q) = %q, want %q", tc.host, tc.port, tc.db, got, tc.want)
		}
	}
}

// email_accounts_view keeps the columns its readers know, in order, with their types,
// whatever it is built from (a materialized view until schema version 6, a plain view
// since). The counters and daily_limit are bigint since version 8 (issue 11).
func TestViewColumns(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	rows, err := s.Pool().Query(testContext(t), `
SELECT a.attname::text || ' ' || format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`, pgx.Identifier{s.Schema(), "email_accounts_view"}.Sanitize())
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"bison_instance text", "workspace_id integer", "bison_account_id bigint",
		"workspace_name text", "email_address text", "account_name text", "status text",
		"account_type text", "daily_limit bigint", "emails_sent_count bigint",
		"total_replied_count bigint", "unique_replied_count bigint", "bounced_count bigint",
		"unsubscribed_count bigint", "interested_leads_count bigint",
		"total_opened_count bigint", "unique_opened_count bigint",
		"total_leads_contacted_count bigint", "tags text[]", "domain text",
		"email_provider text", "reseller text", "reply_rate_percentage numeric(7,2)",
		"bison_created_at timestamp with time zone", "bison_updated_at timestamp with time zone",
		"first_seen_at timestamp with time zone", "last_synced_at timestamp with time zone",
	}
	if !slices.Equal(got, want) {
		t.Errorf("email_accounts_view columns:\n got %v\nwant %v", got, want)
	}
}
