package db_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
)

// createPlainTable creates a table equivalent to email_accounts_raw (same columns, key,
// indexes, defaults and fillfactor, which LIKE does not copy) for the plain COPY baseline.
func createPlainTable(b *testing.B, s *db.Store) pgx.Identifier {
	exec(b, s, `CREATE TABLE IF NOT EXISTS {schema}.plain_copy (LIKE {schema}.email_accounts_raw INCLUDING ALL)`)
	var options string
	if err := s.Pool().QueryRow(testContext(b), `SELECT coalesce(array_to_string(reloptions, ','), '')
		FROM pg_catalog.pg_class WHERE oid = $1::regclass`,
		pgx.Identifier{s.Schema(), "email_accounts_raw"}.Sanitize()).Scan(&options); err != nil {
		b.Fatal(err)
	}
	if options != "" {
		exec(b, s, `ALTER TABLE {schema}.plain_copy SET (`+options+`)`)
	}
	return pgx.Identifier{s.Schema(), "plain_copy"}
}

// plainCopy COPYs accounts into table in one transaction: the rows a first commit writes.
func plainCopy(ctx context.Context, s *db.Store, table pgx.Identifier, instance string, wsID int, ws string, accounts []db.Account) error {
	columns, rows := db.AccountRows(instance, wsID, ws, time.Now(), accounts)
	return pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, table, columns, rows)
		return err
	})
}

func reportRows(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkCommitWorkspace commits one 20,000-account workspace: its first sync (no rows
// yet), a re-sync that finds every account changed (every row updated), one that finds
// nothing changed (no row written), and, for scale, a plain COPY of the same rows into an
// equivalent empty table.
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

	b.Run("resync_unchanged", func(b *testing.B) {
		seedWorkspace(b, s, "inst", "unchanged", 3)
		in := db.CommitInput{Workspace: "unchanged", Instance: "inst", WorkspaceID: 3, Accounts: accounts, Expected: n}
		if _, err := s.CommitWorkspace(ctx, in); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if res, err := s.CommitWorkspace(ctx, in); err != nil || res.Unchanged != n {
				b.Fatal(res, err)
			}
		}
		reportRows(b, n*b.N)
	})

	b.Run("resync_all_changed", func(b *testing.B) {
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

// BenchmarkChangeDetection compares the two ways a re-sync can find the accounts that changed
// in a 20,000-account workspace, with none and then 1% of them changed, interleaved: the
// commit's (compare each row's row_hash with the fetched values' hash, write only what
// differs) and comparing in SQL (COPY every account into a temporary table, then UPDATE
// only the rows whose columns are IS DISTINCT FROM the new ones).
//
//	go test ./db -run '^$' -bench ChangeDetection -benchtime 10x -count 3
func BenchmarkChangeDetection(b *testing.B) {
	const n = 20_000
	s := dbtest.NewStore(b)
	ctx := context.Background()
	seedWorkspace(b, s, "inst", "ws", 1)
	accounts := makeAccounts(n, 1, 10)
	in := db.CommitInput{Workspace: "ws", Instance: "inst", WorkspaceID: 1, Accounts: accounts, Expected: n}
	if _, err := s.CommitWorkspace(ctx, in); err != nil {
		b.Fatal(err)
	}
	raw := pgx.Identifier{s.Schema(), "email_accounts_raw"}.Sanitize()
	update := distinctUpdateSQL(raw)
	inSQL := func() error {
		return pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE incoming (LIKE `+raw+` INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
				return err
			}
			columns, rows := db.AccountRows("inst", 1, "ws", time.Now(), accounts)
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"incoming"}, columns, rows); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE UNIQUE INDEX ON pg_temp.incoming (bison_account_id)`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, update)
			return err
		})
	}
	var byHash, bySQL time.Duration
	for i := range b.N {
		for _, share := range []int64{0, 1} { // percent changed
			for _, way := range []struct {
				took *time.Duration
				do   func() error
			}{{&byHash, func() error { _, err := s.CommitWorkspace(ctx, in); return err }}, {&bySQL, inSQL}} {
				for k := range accounts {
					if share > 0 && accounts[k].ID%100 == int64(i%100) {
						accounts[k].EmailsSent++
					}
				}
				start := time.Now()
				if err := way.do(); err != nil {
					b.Fatal(err)
				}
				*way.took += time.Since(start)
			}
		}
	}
	b.ReportMetric(float64(byHash.Microseconds())/1000/float64(2*b.N), "row-hash-ms")
	b.ReportMetric(float64(bySQL.Microseconds())/1000/float64(2*b.N), "is-distinct-ms")
}

// distinctUpdateSQL rewrites the rows of workspace 1 whose account columns differ from
// pg_temp.incoming's.
func distinctUpdateSQL(raw string) string {
	cols := db.AccountColumns[1 : len(db.AccountColumns)-1] // not the key, not row_hash
	var set, old, next []string
	for _, c := range cols {
		set = append(set, c+" = t."+c)
		old = append(old, "r."+c)
		next = append(next, "t."+c)
	}
	return `UPDATE ` + raw + ` r SET ` + strings.Join(set, ", ") + `, last_synced_at = now()
FROM pg_temp.incoming t
WHERE r.bison_instance = 'inst' AND r.workspace_id = 1 AND r.bison_account_id = t.bison_account_id
  AND (` + strings.Join(old, ", ") + `) IS DISTINCT FROM (` + strings.Join(next, ", ") + `)`
}
