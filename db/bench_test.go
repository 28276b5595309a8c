package db_test

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
)

// The fleet benchmark writes a million rows per iteration; it runs only when asked:
//
//	go test ./db -run '^$' -bench Fleet -db.fleet -benchtime 1x
var fleetBench = flag.Bool("db.fleet", false, "run BenchmarkCommitFleet (1,000,000 accounts in 2,000 workspaces)")

// plainColumns is everything a commit writes into email_accounts_raw for an account.
var plainColumns = append(append([]string{"bison_instance", "workspace_id", "workspace_name"},
	db.AccountColumns...), "first_seen_at", "last_synced_at")

// createPlainTable creates a table equivalent to email_accounts_raw (same columns, key,
// indexes and defaults) for the plain COPY baseline.
func createPlainTable(b *testing.B, s *db.Store) pgx.Identifier {
	exec(b, s, `CREATE TABLE IF NOT EXISTS {schema}.plain_copy (LIKE {schema}.email_accounts_raw INCLUDING ALL)`)
	return pgx.Identifier{s.Schema(), "plain_copy"}
}

// plainCopy COPYs accounts into table in one transaction, with the same values a commit
// computes.
func plainCopy(ctx context.Context, s *db.Store, table pgx.Identifier, instance string, wsID int, ws string, accounts []db.Account) error {
	now := time.Now()
	row := make([]any, 0, len(plainColumns))
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(accounts) {
			return nil, nil
		}
		row = append(row[:0], instance, wsID, ws)
		row = db.AccountValues(row, ws, &accounts[i])
		row = append(row, now, now)
		i++
		return row, nil
	})
	return pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, table, plainColumns, src)
		return err
	})
}

func reportRows(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkCommitWorkspace commits one 20,000-account workspace: its first sync (no rows
// yet), a steady-state re-sync (every row updated), and, for scale, a plain COPY of the same
// rows into an equivalent empty table.
func BenchmarkCommitWorkspace(b *testing.B) {
	const n = 20_000
	s := dbtest.NewStore(b)
	ctx := testContext(b)
	accounts := makeAccounts(n, 1, 10)

	b.Run("plain_copy", func(b *testing.B) {
		table := createPlainTable(b, s)
		for b.Loop() {
			b.StopTimer()
			exec(b, s, `TRUNCATE {schema}.plain_copy`)
			b.StartTimer()
			if err := plainCopy(ctx, s, table, "inst", 1, "ws", accounts); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b, n*b.N)
	})

	b.Run("first_sync", func(b *testing.B) {
		seedWorkspace(b, s, "inst", "first", 2)
		for b.Loop() {
			b.StopTimer()
			exec(b, s, `TRUNCATE {schema}.email_accounts_raw`)
			b.StartTimer()
			if _, err := s.CommitWorkspace(ctx, db.CommitInput{Workspace: "first", Instance: "inst",
				WorkspaceID: 2, Accounts: accounts, Expected: n}); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b, n*b.N)
	})

	b.Run("resync", func(b *testing.B) {
		seedWorkspace(b, s, "inst", "steady", 1)
		exec(b, s, `TRUNCATE {schema}.email_accounts_raw`)
		in := db.CommitInput{Workspace: "steady", Instance: "inst", WorkspaceID: 1, Accounts: accounts, Expected: n}
		if _, err := s.CommitWorkspace(ctx, in); err != nil {
			b.Fatal(err)
		}
		sent := int64(10)
		for b.Loop() {
			b.StopTimer()
			sent++
			for i := range accounts {
				accounts[i].EmailsSent = sent
			}
			b.StartTimer()
			if _, err := s.CommitWorkspace(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b, n*b.N)
	})
}

// BenchmarkCommitFleet commits 1,000,000 accounts in 2,000 workspaces of 500 with 4 workers,
// as the engine would: first sync, then a re-sync of the whole fleet, next to plain COPYs of
// the same rows (the same 2,000 transactions, and one single COPY of all rows).
func BenchmarkCommitFleet(b *testing.B) {
	if !*fleetBench {
		b.Skip("pass -db.fleet to run (writes 1,000,000 rows per iteration)")
	}
	const (
		workspaces = 2_000
		perWS      = 500
		workers    = 4
		total      = workspaces * perWS
	)
	s := dbtest.NewStore(b)
	ctx := testContext(b)
	fleet := make([][]db.Account, workspaces)
	for i := range fleet {
		fleet[i] = makeAccounts(perWS, int64(i*perWS+1), 10)
		seedWorkspace(b, s, "inst", fmt.Sprintf("ws-%04d", i), i+1)
	}
	parallel := func(b *testing.B, do func(i int) error) {
		b.Helper()
		var (
			next atomic.Int64
			wg   sync.WaitGroup
			errs = make(chan error, workers)
		)
		for range workers {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= workspaces {
						return
					}
					if err := do(i); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
	}
	commit := func(i int) error {
		_, err := s.CommitWorkspace(ctx, db.CommitInput{Workspace: fmt.Sprintf("ws-%04d", i), Instance: "inst",
			WorkspaceID: i + 1, Accounts: fleet[i], Expected: perWS})
		return err
	}

	b.Run("plain_copy_per_workspace", func(b *testing.B) {
		table := createPlainTable(b, s)
		for b.Loop() {
			b.StopTimer()
			exec(b, s, `TRUNCATE {schema}.plain_copy`)
			b.StartTimer()
			parallel(b, func(i int) error {
				return plainCopy(ctx, s, table, "inst", i+1, fmt.Sprintf("ws-%04d", i), fleet[i])
			})
		}
		reportRows(b, total*b.N)
	})
	b.Run("plain_copy_single", func(b *testing.B) {
		all := make([]db.Account, 0, total)
		for _, f := range fleet {
			all = append(all, f...)
		}
		table := pgx.Identifier{s.Schema(), "plain_copy"}
		for b.Loop() {
			b.StopTimer()
			exec(b, s, `TRUNCATE {schema}.plain_copy`)
			b.StartTimer()
			if err := plainCopy(ctx, s, table, "inst", 1, "ws", all); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b, total*b.N)
	})
	b.Run("first_sync", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			exec(b, s, `TRUNCATE {schema}.email_accounts_raw`)
			b.StartTimer()
			parallel(b, commit)
		}
		reportRows(b, total*b.N)
	})
	b.Run("resync", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			for _, f := range fleet {
				for i := range f {
					f[i].EmailsSent++
				}
			}
			b.StartTimer()
			parallel(b, commit)
		}
		reportRows(b, total*b.N)
	})
}

// BenchmarkFillfactor weighs email_accounts_raw's fillfactor now that a re-sync writes only
// the rows that changed: 100,000 accounts in five workspaces of 20,000, their first sync, a
// re-sync with 1% of the accounts changed, two with every account changed (the second finds
// the first's old row versions dead, as a daily sync would), and the table's size. Interleave
// the settings on a machine whose speed varies:
//
//	for i in 1 2 3; do for ff in 50 90 100; do
//	    go test ./db -run '^$' -bench "Fillfactor/fillfactor=$ff\$" -benchtime 1x; done; done
func BenchmarkFillfactor(b *testing.B) {
	const workspaces, perWS = 5, 20_000
	s := dbtest.NewStore(b)
	ctx := context.Background() // several settings, several runs: longer than testContext

	for i := range workspaces {
		seedWorkspace(b, s, "inst", fmt.Sprintf("ws-%d", i), i+1)
	}
	syncAll := func(b *testing.B, sent func(id int64) int64) time.Duration {
		start := time.Now()
		for i := range workspaces {
			accounts := makeAccounts(perWS, int64(i*perWS+1), 0)
			for k := range accounts {
				accounts[k].EmailsSent = sent(accounts[k].ID)
			}
			if _, err := s.CommitWorkspace(ctx, db.CommitInput{Workspace: fmt.Sprintf("ws-%d", i), Instance: "inst",
				WorkspaceID: i + 1, Accounts: accounts, Expected: perWS}); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	for _, ff := range []int{50, 90, 100} {
		b.Run(fmt.Sprintf("fillfactor=%d", ff), func(b *testing.B) {
			for range b.N {
				exec(b, s, `TRUNCATE {schema}.email_accounts_raw, {schema}.workspace_confirmations`)
				exec(b, s, fmt.Sprintf(`ALTER TABLE {schema}.email_accounts_raw SET (fillfactor = %d)`, ff))
				b.ReportMetric(float64(syncAll(b, func(int64) int64 { return 10 }).Milliseconds()), "first-ms")
				b.ReportMetric(float64(syncAll(b, func(id int64) int64 { return 10 + id%100/99 }).Milliseconds()), "resync-1pct-ms")
				b.ReportMetric(float64(syncAll(b, func(int64) int64 { return 20 }).Milliseconds()), "resync-all-ms")
				b.ReportMetric(float64(syncAll(b, func(int64) int64 { return 30 }).Milliseconds()), "resync-all-again-ms")
				var size int64
				if err := s.Pool().QueryRow(ctx, `SELECT pg_table_size($1::regclass)`,
					pgx.Identifier{s.Schema(), "email_accounts_raw"}.Sanitize()).Scan(&size); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(size)/(1<<20), "table-MB")
			}
		})
	}
}
