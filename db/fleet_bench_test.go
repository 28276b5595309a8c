package db_test

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
	"github.com/bisonsync/bisonsync/internal/fleettest"
)

// The fleet benchmark writes a million rows several times; it runs only when asked:
//
//	go test ./db -run '^$' -bench Fleet -db.fleet -benchtime 1x -timeout 30m
var (
	fleetBench     = flag.Bool("db.fleet", false, "run BenchmarkCommitFleet (1,000,000 accounts in 2,000 workspaces)")
	fleetFill      = flag.Int("db.fillfactor", 0, "BenchmarkCommitFleet: set email_accounts_raw's fillfactor first (0: as migrated)")
	fleetResyncAll = flag.Bool("db.resync-all", false, "BenchmarkCommitFleet: also re-sync with every account changed")
)

const fleetWorkers = 4

// fleetShape is the benchmark fleet's size: a million accounts, or a fiftieth of it under
// -short (CI's form, which shows the benchmark still works; its figures are not the README's).
type fleetShape struct{ workspaces, accounts, largest int }

func benchShape() fleetShape {
	if testing.Short() {
		return fleetShape{workspaces: 200, accounts: 20_000, largest: 400}
	}
	return fleetShape{workspaces: 2_000, accounts: 1_000_000, largest: 20_000}
}

// fleetSizes splits the shape's accounts into its workspaces' log-normal shares (as the
// simulator's generated fleets do), the largest exactly the shape's largest.
func fleetSizes(shape fleetShape) []int {
	fleetWorkspaces, fleetAccounts, fleetLargest := shape.workspaces, shape.accounts, shape.largest
	r := rand.New(rand.NewPCG(16, 10))
	sizes := make([]int, fleetWorkspaces)
	sizes[0] = fleetLargest
	weights := make([]float64, fleetWorkspaces)
	sum := 0.0
	for i := 1; i < fleetWorkspaces; i++ {
		weights[i] = math.Exp(1.2 * r.NormFloat64())
		sum += weights[i]
	}
	rest := fleetAccounts - fleetLargest
	given := fleetLargest
	for i := 1; i < fleetWorkspaces; i++ {
		sizes[i] = min(fleetLargest, max(1, int(float64(rest)*weights[i]/sum)))
		given += sizes[i]
	}
	for i := 1; given != fleetAccounts; i = i%(fleetWorkspaces-1) + 1 {
		switch {
		case given < fleetAccounts && sizes[i] < fleetLargest:
			sizes[i]++
			given++
		case given > fleetAccounts && sizes[i] > 1:
			sizes[i]--
			given--
		}
	}
	return sizes
}

// fleetWorkspace is one workspace of the benchmark's fleet: its accounts are generated when
// needed, so the benchmark holds a few workspaces at a time, as the engine does.
type fleetWorkspace struct {
	name    string
	id      int
	firstID int64
	size    int
}

func benchFleet(shape fleetShape) []fleetWorkspace {
	sizes := fleetSizes(shape)
	out := make([]fleetWorkspace, len(sizes))
	next := int64(1)
	for i, n := range sizes {
		out[i] = fleetWorkspace{name: fmt.Sprintf("ws-%04d", i), id: i + 1, firstID: next, size: n}
		next += int64(n)
	}
	return out
}

// The re-sync's changes, under 1% of the fleet: 0.7% of accounts with a new counter, 0.1%
// gone (confirmed), and one new account per thousand in each workspace (417 in all).
func changed(id int64) bool { return id%1000 < 7 }
func gone(id int64) bool    { return id%1000 == 7 }

// input is the workspace's commit: its first sync, or a re-sync with the changes above (all:
// every account's counter changed as well).
func (w fleetWorkspace) input(resync, all bool) db.CommitInput {
	in := db.CommitInput{Workspace: w.name, Instance: "inst", WorkspaceID: w.id}
	in.Accounts = makeAccounts(w.size, w.firstID, 10)
	if !resync {
		in.Expected = len(in.Accounts)
		return in
	}
	kept := in.Accounts[:0]
	for _, a := range in.Accounts {
		switch {
		case gone(a.ID):
			in.ConfirmedAbsent = append(in.ConfirmedAbsent, a.ID)
			continue
		case all || changed(a.ID):
			a.EmailsSent++
		}
		kept = append(kept, a)
	}
	in.Accounts = append(kept, makeAccounts(w.size/1000, 100_000_000+w.firstID, 0)...)
	in.Expected = len(in.Accounts)
	in.Guard = &db.DeletionGuard{Percent: 20, Min: 10}
	return in
}

// expectedWrites is what the re-sync must write: updates (changed counters, accounts marked
// deleted) and inserts (new accounts).
func expectedWrites(fleet []fleetWorkspace) (updates, inserts int) {
	for _, w := range fleet {
		for id := w.firstID; id < w.firstID+int64(w.size); id++ {
			if changed(id) || gone(id) {
				updates++
			}
		}
		inserts += w.size / 1000
	}
	return updates, inserts
}

// eachWorkspace runs do for every workspace with fleetWorkers workers, largest first, as
// the engine schedules them.
func eachWorkspace(fleet []fleetWorkspace, do func(w fleetWorkspace) error) error {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range fleetWorkers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(fleet) {
					return
				}
				if err := do(fleet[i]); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// rawWrites is fleettest.RawWrites, ending the benchmark on an error.
func rawWrites(b *testing.B, s *db.Store) fleettest.Writes {
	b.Helper()
	w, err := fleettest.RawWrites(testContext(b), s)
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// BenchmarkCommitFleet commits 1,000,000 accounts in 2,000 workspaces (the largest 20,000)
// with 4 workers, as the engine would: a plain COPY of the same rows into an equivalent table
// (same columns, indexes and fillfactor) for scale, the first sync, a re-sync with under 1%
// of the accounts changed, and the dashboard's reads of email_accounts_view at that size.
// Every figure of one run is printed next to its bound: rows/s, the time against the COPY's,
// the rows the re-sync wrote against the changes, reads in milliseconds.
func BenchmarkCommitFleet(b *testing.B) {
	if !*fleetBench && !testing.Short() {
		b.Skip("pass -db.fleet to run (writes 1,000,000 rows several times), or -short for a small fleet")
	}
	s := dbtest.NewStore(b)
	fleet := benchFleet(benchShape())
	for _, w := range fleet {
		seedWorkspace(b, s, "inst", w.name, w.id)
	}
	table := createPlainTable(b, s)
	if *fleetFill > 0 {
		exec(b, s, fmt.Sprintf(`ALTER TABLE {schema}.email_accounts_raw SET (fillfactor = %d)`, *fleetFill))
		exec(b, s, fmt.Sprintf(`ALTER TABLE {schema}.plain_copy SET (fillfactor = %d)`, *fleetFill))
	}
	// The figures are timed phase by phase inside one iteration; run it with -benchtime 1x.
	for range b.N {
		runFleet(b, s, fleet, table)
	}
}

func runFleet(b *testing.B, s *db.Store, fleet []fleetWorkspace, table pgx.Identifier) {
	ctx := context.Background()
	fleetAccounts := 0.0
	for _, w := range fleet {
		fleetAccounts += float64(w.size)
	}
	exec(b, s, `TRUNCATE {schema}.plain_copy, {schema}.email_accounts_raw, {schema}.workspace_confirmations`)
	phase := func(name string, do func(w fleetWorkspace) error) time.Duration {
		start := time.Now()
		if err := eachWorkspace(fleet, do); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		took := time.Since(start)
		b.Logf("%-12s %6.2fs  %9.0f accounts/s", name, took.Seconds(), fleetAccounts/took.Seconds())
		return took
	}
	copied := phase("plain COPY", func(w fleetWorkspace) error {
		return plainCopy(ctx, s, table, "inst", w.id, w.name, w.input(false, false).Accounts)
	})
	first := phase("first sync", func(w fleetWorkspace) error {
		_, err := s.CommitWorkspace(ctx, w.input(false, false))
		return err
	})
	before := rawWrites(b, s)
	resync := phase("re-sync", func(w fleetWorkspace) error {
		_, err := s.CommitWorkspace(ctx, w.input(true, false))
		return err
	})
	written := rawWrites(b, s).Since(before)
	wantUpd, wantIns := expectedWrites(fleet)
	if written.Inserted != int64(wantIns) || written.Updated != int64(wantUpd) {
		b.Errorf("re-sync wrote %d inserts and %d updates, want %d and %d", written.Inserted, written.Updated, wantIns, wantUpd)
	}
	b.ReportMetric(fleetAccounts/copied.Seconds(), "copy-accounts/s")
	b.ReportMetric(fleetAccounts/first.Seconds(), "first-accounts/s")
	b.ReportMetric(first.Seconds()/copied.Seconds(), "first-x-copy")
	b.ReportMetric(fleetAccounts/resync.Seconds(), "resync-accounts/s")
	b.ReportMetric(resync.Seconds()/copied.Seconds(), "resync-x-copy")
	b.ReportMetric(float64(written.Rows()), "resync-rows-written")
	b.ReportMetric(float64(wantIns+wantUpd), "resync-rows-changed")
	if *fleetResyncAll {
		all := phase("re-sync all", func(w fleetWorkspace) error {
			_, err := s.CommitWorkspace(ctx, w.input(true, true))
			return err
		})
		b.ReportMetric(fleetAccounts/all.Seconds(), "resync-all-accounts/s")
	}
	// The steady state the dashboard reads: autovacuum has been by after the bulk writes
	// (statistics current, pages marked all-visible, so counts scan the index alone).
	exec(b, s, `VACUUM ANALYZE {schema}.email_accounts_raw`)
	reportDashboard(b, s, fleet, int64(fleetAccounts))
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	b.ReportMetric(float64(mem.HeapSys)/(1<<20), "heap-sys-MB")
}

// reportDashboard times the dashboard's reads (median of 5): the first page of 1,000 rows of
// email_accounts_view by bison_account_id, a page further on (keyset: after a given id), the
// count of the largest workspace's live accounts, and the counts of every workspace, kept
// by the commits in client_registry.live_account_count and counted from the view.
func reportDashboard(b *testing.B, s *db.Store, fleet []fleetWorkspace, accounts int64) {
	ctx := testContext(b)
	view := pgx.Identifier{s.Schema(), "email_accounts_view"}.Sanitize()
	registry := pgx.Identifier{s.Schema(), "client_registry"}.Sanitize()
	for _, q := range []struct {
		metric, sql string
		args        []any
	}{
		{"page-ms", `SELECT * FROM ` + view + ` ORDER BY bison_account_id LIMIT 1000`, nil},
		{"page-after-ms", `SELECT * FROM ` + view + ` WHERE bison_account_id > $1 ORDER BY bison_account_id LIMIT 1000`,
			[]any{accounts / 2}},
		{"count-largest-ms", `SELECT count(*) FROM ` + view + ` WHERE workspace_name = $1`, []any{fleet[0].name}},
		{"counts-registry-ms", `SELECT workspace_name, live_account_count FROM ` + registry, nil},
		{"counts-view-ms", `SELECT workspace_name, count(*) FROM ` + view + ` GROUP BY workspace_name`, nil},
	} {
		var took []time.Duration
		for range 5 {
			start := time.Now()
			rows, err := s.Pool().Query(ctx, q.sql, q.args...)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if err := rows.Err(); err != nil || n == 0 {
				b.Fatalf("%s: %d rows, %v", q.metric, n, err)
			}
			took = append(took, time.Since(start))
		}
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, q.metric)
	}
	var size int64
	if err := s.Pool().QueryRow(ctx, `SELECT pg_total_relation_size($1::regclass)`,
		pgx.Identifier{s.Schema(), "email_accounts_raw"}.Sanitize()).Scan(&size); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(size)/(1<<20), "table-MB")
}
