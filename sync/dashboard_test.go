package sync_test

import (
	"context"
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// The acceptance of issue 13: after a demo-like sync, the agency's dashboard, running its
// own queries (realtimeDataService.ts, EmailAccountsPage.tsx, SyncProgressBar.tsx of
// perf-spotlight-portal) against the views bisonsync installed, reads what it read from
// poll-sender-emails' tables, with prices and capacities from the agency's rules.

// The dashboard's queries, as PostgREST sends them.
const (
	dashCount    = `SELECT count(*) FROM %[1]s.email_accounts_view`
	dashPage     = `SELECT * FROM %[1]s.email_accounts_view ORDER BY bison_account_id ASC LIMIT 1000 OFFSET $1`
	dashBanner   = `SELECT * FROM %[1]s.polling_job_status WHERE job_name = 'poll-sender-emails' ORDER BY started_at DESC LIMIT 1`
	dashProgress = `SELECT * FROM %[1]s.sync_progress WHERE job_id = $1 ORDER BY started_at DESC LIMIT 1`
	dashRunning  = `SELECT job_id, status, started_at FROM %[1]s.sync_progress WHERE status = 'running' ORDER BY started_at DESC LIMIT 1`
)

// dashRow is one row as the dashboard's JavaScript gets it: column name → value as text.
type dashRow map[string]string

func (v *env) dashQuery(dash, query string, args ...any) ([]string, []dashRow) {
	v.t.Helper()
	rows, err := v.Store.Pool().Query(context.Background(), fmt.Sprintf(query, pgx.Identifier{dash}.Sanitize()), args...)
	if err != nil {
		v.t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var cols []string
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	var out []dashRow
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			v.t.Fatal(err)
		}
		row := dashRow{}
		for i, c := range cols {
			row[c] = textOf(vals[i])
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		v.t.Fatal(err)
	}
	return cols, out
}

func textOf(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case driver.Valuer:
		s, _ := x.Value()
		return fmt.Sprint(s)
	case [16]byte:
		return fmt.Sprintf("%x", x)
	}
	return fmt.Sprint(v)
}

// allAccounts pages through email_accounts_view as the dashboard does: the count, then pages
// of 1,000 ordered by bison_account_id.
func (v *env) allAccounts(dash string) ([]string, []dashRow) {
	v.t.Helper()
	_, count := v.dashQuery(dash, dashCount)
	total := 0
	fmt.Sscan(count[0]["count"], &total)
	var cols []string
	var all []dashRow
	for offset := 0; offset < total; offset += 1000 {
		c, page := v.dashQuery(dash, dashPage, offset)
		cols = c
		all = append(all, page...)
	}
	if len(all) != total {
		v.t.Fatalf("paged %d rows, count said %d", len(all), total)
	}
	return cols, all
}

// expectation is what the agency's rules say of an account, for the kinds the acceptance
// names; kind "" is an account of another kind, not checked here.
type expectation struct {
	kind, price, reseller, provider, review string
	volume                                  int
}

// expect applies the agency's rules, as CONTRACT.md §6 words them, to an account of the
// simulator's truth on a domain with n of its workspace's mailboxes.
func expect(tags []string, n int) expectation {
	var trimmed []string
	for _, t := range tags {
		trimmed = append(trimmed, strings.TrimSpace(t))
	}
	has := func(name string) bool {
		return slices.ContainsFunc(trimmed, func(t string) bool { return strings.EqualFold(t, name) })
	}
	provider, volume := "", 15
	if has("Google") || has("Microsoft") {
		provider, volume = trimmed[len(trimmed)-1], 20 // the sim puts a provider tag last
	}
	switch {
	case len(trimmed) == 0:
		return expectation{kind: "untagged", price: "0.00", volume: 15, review: "false"}
	case has("ScaledMail"):
		cents := (2*5000 + n) / (2 * n)
		vol := 5
		if n >= 25 && n <= 48 {
			vol = 8
		}
		return expectation{kind: fmt.Sprintf("ScaledMail (%d on the domain)", n), price: fmt.Sprintf("%d.%02d", cents/100, cents%100),
			reseller: trimmed[0], provider: provider, volume: vol, review: "false"}
	case strings.Contains(strings.ToLower(trimmed[0]), "cheapinboxes"):
		return expectation{kind: "CheapInboxes", price: "3.00", reseller: trimmed[0], provider: provider, volume: volume, review: "false"}
	case has("Mailr"):
		return expectation{kind: "Mailr", price: "0.91", reseller: "Mailr", provider: provider, volume: 495 / n, review: "false"}
	case len(trimmed) == 1 && trimmed[0] == "Google":
		return expectation{kind: "Google without reseller", price: "3.00", provider: "Google", volume: 20, review: "false"}
	}
	return expectation{}
}

// truthExpectations are the expectations for every account of the fleet, by instance,
// workspace id and account id, with the domain counts of each workspace's complete list.
func (v *env) truthExpectations() map[string]expectation {
	out := map[string]expectation{}
	for _, in := range v.Fleet.Instances {
		for _, w := range in.Workspaces {
			accounts := v.Srv.Accounts(in.Name, w.ID)
			domains := map[string]int{}
			for _, a := range accounts {
				domains[strings.ToLower(a.Email[strings.LastIndexByte(a.Email, '@')+1:])]++
			}
			for _, a := range accounts {
				var tags []string
				for _, t := range a.Tags {
					tags = append(tags, t.Name)
				}
				n := domains[strings.ToLower(a.Email[strings.LastIndexByte(a.Email, '@')+1:])]
				out[fmt.Sprintf("%s/%d/%d", in.Name, w.ID, a.ID)] = expect(tags, n)
			}
		}
	}
	return out
}

func TestDashboardReadsTheDemoSync(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{Latency: 40 * time.Millisecond})
	v.cfg.DefaultMaxInFlight = 4
	dash := "d" + v.Store.Schema()[len(v.Store.Schema())-12:] // beside ours, as public would be
	t.Cleanup(func() { v.Exec(`DROP SCHEMA IF EXISTS ` + pgx.Identifier{dash}.Sanitize() + ` CASCADE`) })
	if _, err := v.Store.InstallDashboard(context.Background(), db.DashboardOptions{Schema: dash}); err != nil {
		t.Fatal(err)
	}

	summary := v.watchProgress(t, dash)
	v.AssertPricedByTheRules()

	cols, rows := v.allAccounts(dash)
	if want := strings.Fields(`id bison_account_id email_address workspace_name workspace_id bison_instance status
		account_type emails_sent_count total_replied_count unique_replied_count bounced_count unsubscribed_count
		interested_leads_count total_opened_count unique_opened_count total_leads_contacted_count daily_limit
		warmup_enabled reply_rate_percentage email_provider reseller domain price price_source pricing_needs_review
		volume_per_account notes created_at updated_at last_synced_at`); !slices.Equal(cols, want) {
		t.Errorf("columns:\n got %v\nwant %v", cols, want)
	}
	if len(rows) != sim.IncidentAccounts {
		t.Fatalf("%d accounts paged, want %d", len(rows), sim.IncidentAccounts)
	}
	v.checkPrices(t, rows)
	v.checkJobRows(t, dash, summary)

	// A second sync: the same ids, and the agency's notes kept.
	ids := map[string]string{}
	for _, r := range rows {
		ids[r["bison_instance"]+"/"+r["workspace_id"]+"/"+r["bison_account_id"]] = r["id"]
	}
	v.Exec(`UPDATE ` + v.Table("email_accounts_raw") + ` SET notes = 'warm up again in May' WHERE email_address = '` + sim.IncidentEmail + `'`)
	v.run(sync.Request{})
	v.AssertPricedByTheRules()
	_, again := v.allAccounts(dash)
	for _, r := range again {
		if ids[r["bison_instance"]+"/"+r["workspace_id"]+"/"+r["bison_account_id"]] != r["id"] {
			t.Fatalf("account %s changed id on a re-sync", r["bison_account_id"])
		}
		if r["email_address"] == sim.IncidentEmail && r["notes"] != "warm up again in May" {
			t.Errorf("the agency's notes after a re-sync: %q", r["notes"])
		}
	}
}

// checkPrices compares every account of the kinds the acceptance names with the rules.
func (v *env) checkPrices(t *testing.T, rows []dashRow) {
	want := v.truthExpectations()
	seen := map[string]int{}
	for _, r := range rows {
		e := want[r["bison_instance"]+"/"+r["workspace_id"]+"/"+r["bison_account_id"]]
		if e.kind == "" {
			continue
		}
		kind := e.kind
		if strings.HasPrefix(kind, "ScaledMail") {
			kind = "ScaledMail"
			if e.volume == 8 {
				kind = "ScaledMail on 25 to 48"
			}
		}
		seen[kind]++
		got := expectation{kind: e.kind, price: r["price"], reseller: r["reseller"], provider: r["email_provider"],
			review: r["pricing_needs_review"]}
		fmt.Sscan(r["volume_per_account"], &got.volume)
		if got != e {
			t.Errorf("%s (%s):\n got %+v\nwant %+v", r["email_address"], r["workspace_name"], got, e)
		}
	}
	for _, kind := range []string{"ScaledMail", "ScaledMail on 25 to 48", "CheapInboxes", "Mailr", "untagged", "Google without reseller"} {
		if seen[kind] == 0 {
			t.Errorf("the demo fleet has no %s account to check", kind)
		}
	}
	t.Logf("checked %v", seen)
}

// watchProgress runs a full sync while reading the dashboard's progress queries, and checks
// that the progress bar moved: a running job, 0 < completed < total, a workspace named.
func (v *env) watchProgress(t *testing.T, dash string) sync.Summary {
	done := make(chan sync.Summary)
	go func() {
		s, _ := v.run(sync.Request{})
		done <- s
	}()
	var moving, named bool
	for {
		select {
		case s := <-done:
			if !moving || !named {
				t.Errorf("sync_progress while the run went: moving %v, a workspace named %v", moving, named)
			}
			return s
		case <-time.After(150 * time.Millisecond):
		}
		_, running := v.dashQuery(dash, dashRunning)
		if len(running) == 0 {
			continue
		}
		_, p := v.dashQuery(dash, dashProgress, running[0]["job_id"])
		var completed, total int
		fmt.Sscan(p[0]["workspaces_completed"], &completed)
		fmt.Sscan(p[0]["total_workspaces"], &total)
		moving = moving || (completed > 0 && completed < total)
		named = named || p[0]["current_workspace"] != ""
	}
}

// checkJobRows reads the job banner and the progress row of the finished run.
func (v *env) checkJobRows(t *testing.T, dash string, s sync.Summary) {
	_, banner := v.dashQuery(dash, dashBanner)
	b := banner[0]
	id := fmt.Sprint(s.RunID)
	if b["id"] != id || b["status"] != "completed" || b["total_workspaces"] != "26" || b["workspaces_processed"] != "26" ||
		b["workspaces_skipped"] != "0" || b["total_accounts_synced"] != fmt.Sprint(sim.IncidentAccounts) ||
		b["completed_at"] == "" || b["duration_ms"] == "0" || b["job_name"] != "poll-sender-emails" {
		t.Errorf("job banner: %v", b)
	}
	_, progress := v.dashQuery(dash, dashProgress, s.RunID)
	p := progress[0]
	if p["job_id"] != id || p["status"] != "completed" || p["workspaces_completed"] != "26" || p["total_workspaces"] != "26" ||
		p["total_accounts"] != fmt.Sprint(sim.IncidentAccounts) || p["current_workspace"] != "" || p["completed_at"] == "" {
		t.Errorf("progress row: %v", p)
	}
	if _, running := v.dashQuery(dash, dashRunning); len(running) != 0 {
		t.Errorf("a job still running after the run: %v", running)
	}
}
