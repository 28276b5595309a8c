package db_test

import (
	"context"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
)

// The dashboard's reads at a million accounts; loading them takes a minute, so it runs only
// when asked:
//
//	go test ./db -run '^$' -bench DashboardReads -db.dashboard -benchtime 20x
var dashboardBench = flag.Bool("db.dashboard", false, "run BenchmarkDashboardReads (1,000,000 accounts in 2,000 workspaces)")

// BenchmarkDashboardReads runs the dashboard's own queries (realtimeDataService.ts,
// EmailAccountsPage.tsx, SyncProgressBar.tsx) against its views over 1,000,000 live accounts
// in 2,000 workspaces, after a VACUUM ANALYZE (what autovacuum leaves).
func BenchmarkDashboardReads(b *testing.B) {
	if !*dashboardBench && !testing.Short() {
		b.Skip("run with -db.dashboard, or -short for 20,000 accounts")
	}
	accounts, workspaces := 1_000_000, 2_000
	if testing.Short() { // CI's form: it still works; its figures are not the README's
		accounts = 20_000
	}
	s := dbtest.NewStore(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	start := time.Now()
	exec(b, s, fmt.Sprintf(`INSERT INTO {schema}.email_accounts_raw (bison_instance, workspace_id, workspace_name,
		bison_account_id, email_address, status, account_type, tags, domain, price, price_source, volume_per_account)
		SELECT 'bison-' || (g %% 4 + 1), g %% %[2]d, 'Workspace ' || (g %% %[2]d), 1000 + 3 * g,
		       'sender' || g || '@domain' || (g %% 9000) || '.com', 'Connected', 'google_workspace_oauth',
		       ARRAY['CheapInboxes - 1'], 'domain' || (g %% 9000) || '.com', 3.00, 'CheapInboxes', 20
		FROM generate_series(1, %[1]d) g`, accounts, workspaces))
	exec(b, s, `INSERT INTO {schema}.sync_runs (status, finished_at, workspaces_total, workspaces_succeeded, accounts_synced)
		SELECT 'succeeded', now(), 2000, 2000, 1000000 FROM generate_series(1, 200)`)
	dash := dbtest.NewSchema(b)
	if _, err := s.InstallDashboard(ctx, db.DashboardOptions{Schema: dash}); err != nil {
		b.Fatal(err)
	}
	exec(b, s, `VACUUM ANALYZE {schema}.email_accounts_raw`)
	b.Logf("loaded %d accounts and installed the dashboard in %s", accounts, time.Since(start).Round(time.Second))

	v := pgx.Identifier{dash}.Sanitize()
	page := `SELECT * FROM ` + v + `.email_accounts_view ORDER BY bison_account_id ASC LIMIT 1000 OFFSET $1`
	for _, q := range []struct {
		name, sql string
		args      []any
	}{
		{"count_all", `SELECT count(*) FROM ` + v + `.email_accounts_view`, nil},
		{"page_first", page, []any{0}},
		{"page_middle", page, []any{accounts / 2}},
		{"page_last", page, []any{accounts - 1000}},
		{"page_keyset_middle", `SELECT * FROM ` + v + `.email_accounts_view WHERE bison_account_id > $1 ORDER BY bison_account_id LIMIT 1000`, []any{1000 + 3*accounts/2}},
		{"count_one_workspace", `SELECT count(*) FROM ` + v + `.email_accounts_view WHERE workspace_name = $1`, []any{"Workspace 1234"}},
		{"count_every_workspace", `SELECT workspace_name, count(*) FROM ` + v + `.email_accounts_view GROUP BY workspace_name`, nil},
		{"job_banner", `SELECT * FROM ` + v + `.polling_job_status WHERE job_name = 'poll-sender-emails' ORDER BY started_at DESC LIMIT 1`, nil},
		{"progress_by_job", `SELECT * FROM ` + v + `.sync_progress WHERE job_id = $1 ORDER BY started_at DESC LIMIT 1`, []any{100}},
		{"progress_running", `SELECT job_id, status, started_at FROM ` + v + `.sync_progress WHERE status = 'running' ORDER BY started_at DESC LIMIT 1`, nil},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				rows, err := s.Pool().Query(ctx, q.sql, q.args...)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
				}
				if err := rows.Err(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
}
