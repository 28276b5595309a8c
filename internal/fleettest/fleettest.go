// Package fleettest is the end-to-end test fixture shared by the engine, the command and the
// console tests: a simulated Email Bison fleet over loopback, registered in a fresh schema of
// the real PostgreSQL, and ways to compare the database with the simulator's ground truth.
package fleettest

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
	"github.com/bisonsync/bisonsync/demo"
)

// Fixture is one simulated fleet registered in its own schema.
type Fixture struct {
	T     testing.TB
	Srv   *sim.Server
	Fleet *sim.Fleet
	Store *db.Store
}

// New serves fleet with opts and registers it in a fresh schema; both go when the test ends.
func New(t testing.TB, fleet *sim.Fleet, opts sim.Options) *Fixture {
	t.Helper()
	srv := sim.NewServer(fleet, opts)
	t.Cleanup(srv.Close)
	store := dbtest.NewStore(t)
	if err := demo.Register(context.Background(), store, srv, fleet); err != nil {
		t.Fatal(err)
	}
	return &Fixture{T: t, Srv: srv, Fleet: fleet, Store: store}
}

// Table is the schema-qualified name of one of bisonsync's tables.
func (f *Fixture) Table(name string) string {
	return pgx.Identifier{f.Store.Schema(), name}.Sanitize()
}

// Strings runs a query whose rows are one text column each.
func (f *Fixture) Strings(sql string, args ...any) []string {
	f.T.Helper()
	rows, err := f.Store.Pool().Query(context.Background(), sql, args...)
	if err != nil {
		f.T.Fatalf("%s: %v", sql, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		f.T.Fatalf("%s: %v", sql, err)
	}
	return out
}

// Int runs a query returning one integer.
func (f *Fixture) Int(sql string, args ...any) int {
	f.T.Helper()
	var n int
	if err := f.Store.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		f.T.Fatalf("%s: %v", sql, err)
	}
	return n
}

// Text runs a query returning one text value.
func (f *Fixture) Text(sql string, args ...any) string {
	f.T.Helper()
	var s string
	if err := f.Store.Pool().QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		f.T.Fatalf("%s: %v", sql, err)
	}
	return s
}

// Exec runs a statement.
func (f *Fixture) Exec(sql string, args ...any) {
	f.T.Helper()
	if _, err := f.Store.Pool().Exec(context.Background(), sql, args...); err != nil {
		f.T.Fatalf("%s: %v", sql, err)
	}
}

// LiveRows reads a workspace's live rows as comparable lines, ordered by account id: every
// column the API gives (timestamps to the second).
func (f *Fixture) LiveRows(instance string, wsID int) []string {
	f.T.Helper()
	return f.Strings(`SELECT format('%s %s name=%s status=%s type=%s daily=%s sent=%s replied=%s/%s bounced=%s unsub=%s interested=%s opened=%s/%s contacted=%s tags=%s created=%s updated=%s',
		bison_account_id, email_address, account_name, status, account_type, daily_limit,
		emails_sent_count, total_replied_count, unique_replied_count, bounced_count, unsubscribed_count,
		interested_leads_count, total_opened_count, unique_opened_count, total_leads_contacted_count,
		coalesce(array_to_string(tags, ','), ''),
		coalesce(extract(epoch FROM bison_created_at)::bigint::text, '-'),
		coalesce(extract(epoch FROM bison_updated_at)::bigint::text, '-'))
		FROM `+f.Table("email_accounts_raw")+`
		WHERE bison_instance = $1 AND workspace_id = $2 AND deleted_at IS NULL ORDER BY bison_account_id`, instance, wsID)
}

// TruthRows is the simulator's ground truth in the form of LiveRows.
func (f *Fixture) TruthRows(instance string, wsID int) []string {
	accounts := f.Srv.Accounts(instance, wsID)
	sort.Slice(accounts, func(i, j int) bool { return accounts[i].ID < accounts[j].ID })
	out := make([]string, 0, len(accounts))
	for _, a := range accounts {
		tags := make([]string, len(a.Tags))
		for i, t := range a.Tags {
			tags[i] = t.Name
		}
		out = append(out, fmt.Sprintf("%d %s name=%s status=%s type=%s daily=%d sent=%d replied=%d/%d bounced=%d unsub=%d interested=%d opened=%d/%d contacted=%d tags=%s created=%s updated=%s",
			a.ID, a.Email, a.Name, a.Status, a.Type, a.DailyLimit,
			a.EmailsSentCount, a.TotalRepliedCount, a.UniqueRepliedCount, a.BouncedCount, a.UnsubscribedCount,
			a.InterestedLeadsCount, a.TotalOpenedCount, a.UniqueOpenedCount, a.TotalLeadsContactedCount,
			strings.Join(tags, ","), unixOrDash(a.CreatedAt), unixOrDash(a.UpdatedAt)))
	}
	return out
}

func unixOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return strconv.FormatInt(t.Unix(), 10)
}

// AssertExact checks that the named workspaces (all when none is named) hold exactly the
// source's accounts.
func (f *Fixture) AssertExact(names ...string) {
	f.T.Helper()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for _, in := range f.Fleet.Instances {
		for _, w := range in.Workspaces {
			if len(names) > 0 && !want[w.Name] {
				continue
			}
			got, truth := f.LiveRows(in.Name, w.ID), f.TruthRows(in.Name, w.ID)
			if len(got) != len(truth) {
				f.T.Fatalf("workspace %s: %d live rows, the source has %d", w.Name, len(got), len(truth))
			}
			for i := range got {
				if got[i] != truth[i] {
					f.T.Fatalf("workspace %s row %d:\n got %s\nwant %s", w.Name, i, got[i], truth[i])
				}
			}
		}
	}
}

// Snapshot returns every row of a workspace in email_accounts_raw, all columns, for
// "nothing changed" checks.
func (f *Fixture) Snapshot(instance string, wsID int) string {
	f.T.Helper()
	return strings.Join(f.Strings(`SELECT r::text FROM `+f.Table("email_accounts_raw")+` r
		WHERE bison_instance = $1 AND workspace_id = $2 ORDER BY bison_account_id`, instance, wsID), "\n")
}

// Keys returns every token of the fleet, minted ones included: what must never appear in
// any output.
func (f *Fixture) Keys() []string {
	keys := f.Srv.MintedKeys()
	for _, in := range f.Fleet.Instances {
		keys = append(keys, in.SuperAdminKey)
		for _, w := range in.Workspaces {
			if w.Key != "" {
				keys = append(keys, w.Key)
			}
		}
	}
	return keys
}

// AssertNoToken fails when any 8-character piece of any of the fleet's tokens (minted ones
// included, and extra) appears in text: bison.Scrub's rule, since a token leaks in pieces
// as well as whole.
func (f *Fixture) AssertNoToken(what, text string, extra ...string) {
	f.T.Helper()
	for _, k := range append(f.Keys(), extra...) {
		for i := 0; i+8 <= len(k); i++ {
			if strings.Contains(text, k[i:i+8]) {
				f.T.Fatalf("%s contains a piece of a token (…%s): %q", what, k[len(k)-4:], k[i:i+8])
			}
		}
	}
}

// HistoryText is every free-text column of the run history, the registry (its keys
// apart), the instances and discovery, for token checks.
func (f *Fixture) HistoryText() string {
	f.T.Helper()
	var parts []string
	for _, q := range []string{
		`SELECT coalesce(r::text, '') FROM ` + f.Table("sync_runs") + ` r`,
		`SELECT coalesce(w::text, '') FROM ` + f.Table("sync_run_workspaces") + ` w`,
		`SELECT coalesce(last_sync_error, '') || coalesce(last_sync_warning, '') || coalesce(key_detail, '') FROM ` + f.Table("client_registry"),
		`SELECT coalesce(list_error, '') FROM ` + f.Table("bison_instances"),
		`SELECT d::text FROM ` + f.Table("discovered_workspaces") + ` d`,
	} {
		parts = append(parts, f.Strings(q)...)
	}
	return strings.Join(parts, "\n")
}

// AssertPricedByTheRules checks that every stored row carries the prices the commit wrote
// from the rules in force (db/price.go over the workspace's complete list, issue 13):
// Store.Reprice, which applies the same rules to the stored rows, finds nothing to change.
func (f *Fixture) AssertPricedByTheRules() {
	f.T.Helper()
	res, err := f.Store.Reprice(context.Background(), "")
	if err != nil {
		f.T.Fatalf("reprice: %v", err)
	}
	if res.Changed != 0 {
		f.T.Errorf("the commit's prices differ from the rules' on %d of %d rows", res.Changed, res.Accounts)
	}
}
