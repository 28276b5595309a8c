package fleettest

// The scale measurements' fleet, for BenchmarkFleetScale (the engine in-process) and
// scripts/fleetbench (the built binary in its own process): its generation, the changes at
// the source before a re-sync, the plain COPY it is compared with, and the rows PostgreSQL
// counts as written. Nothing here needs a test: errors are returned, not reported.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/demo"
)

// ScaleFleet is a generated fleet of about n accounts (500 a workspace on average, skewed)
// whose largest workspace can grow to n/50 with Grow while the fleet stays at n (to within
// the rounding of the simulator's shares).
func ScaleFleet(n int) *sim.Fleet {
	largest := func(f *sim.Fleet) int {
		m := 0
		for _, in := range f.Instances {
			for _, w := range in.Workspaces {
				m = max(m, w.NumAccounts())
			}
		}
		return m
	}
	probe := sim.GenerateFleet(1, n/500, n)
	return sim.GenerateFleet(1, n/500, n-max(0, n/50-largest(probe)))
}

// Workspace is one workspace of a fleet, as the scale measurements walk it.
type Workspace struct {
	Instance string
	ID       int
	Name     string
}

// Workspaces lists the fleet's workspaces, instance by instance.
func Workspaces(fleet *sim.Fleet) []Workspace {
	var out []Workspace
	for _, in := range fleet.Instances {
		for _, w := range in.Workspaces {
			out = append(out, Workspace{Instance: in.Name, ID: w.ID, Name: w.Name})
		}
	}
	return out
}

// NumAccounts is how many accounts srv holds now in the fleet's workspaces.
func NumAccounts(srv *sim.Server, fleet *sim.Fleet) int {
	n := 0
	for _, w := range Workspaces(fleet) {
		n += srv.NumAccounts(w.Instance, w.ID)
	}
	return n
}

// Grow adds accounts to the fleet's largest workspace until it holds size.
func Grow(srv *sim.Server, fleet *sim.Fleet, size int) error {
	var big Workspace
	most := 0
	for _, w := range Workspaces(fleet) {
		if n := srv.NumAccounts(w.Instance, w.ID); n > most {
			big, most = w, n
		}
	}
	if size > most && srv.AddAccounts(big.Instance, big.ID, size-most) == nil {
		return fmt.Errorf("grow workspace %s to %d accounts", big.Name, size)
	}
	return nil
}

// Changes counts what ChangeFleet changed at the source.
type Changes struct{ Updated, Removed, Inserted int }

// String says what changed, for a log line.
func (c Changes) String() string {
	return fmt.Sprintf("%d counters, %d gone, %d new", c.Updated, c.Removed, c.Inserted)
}

// Check reports an error unless the rows a re-sync wrote (PostgreSQL's count) are exactly
// the rows whose stored values changed (ChangedRows), and those account for c: every new
// account inserted, every new counter and every account gone an update, at the least.
func (c Changes) Check(written, changed Writes) error {
	if written != changed {
		return fmt.Errorf("re-sync wrote %d inserts and %d updates, but %d rows were new and %d changed",
			written.Inserted, written.Updated, changed.Inserted, changed.Updated)
	}
	// More rows than the source changed may change: a price follows its domain's mailbox
	// count, which an account gone or added moves.
	if changed.Inserted != int64(c.Inserted) || changed.Updated < int64(c.Updated+c.Removed) {
		return fmt.Errorf("%d rows new and %d changed do not account for the source's changes (%s)",
			changed.Inserted, changed.Updated, c)
	}
	return nil
}

// snapshotTable holds each account row's hash and deletion as they were before a re-sync.
const snapshotTable = "fleettest_rows_before"

// SnapshotRows keeps each row of email_accounts_raw's row_hash and whether it is deleted, so
// that ChangedRows can tell, after a re-sync, which rows it had to write.
func SnapshotRows(ctx context.Context, store *db.Store) error {
	raw, snap := pgx.Identifier{store.Schema(), "email_accounts_raw"}.Sanitize(), pgx.Identifier{store.Schema(), snapshotTable}.Sanitize()
	_, err := store.Pool().Exec(ctx, `DROP TABLE IF EXISTS `+snap+`;
		CREATE TABLE `+snap+` AS SELECT bison_instance, bison_account_id, row_hash, deleted_at IS NOT NULL AS deleted FROM `+raw)
	if err != nil {
		return fmt.Errorf("snapshot the account rows: %w", err)
	}
	return nil
}

// ChangedRows is what a re-sync since SnapshotRows had to write: the rows that are new, and
// those whose values (row_hash, prices included) or deletion changed.
func ChangedRows(ctx context.Context, store *db.Store) (Writes, error) {
	raw, snap := pgx.Identifier{store.Schema(), "email_accounts_raw"}.Sanitize(), pgx.Identifier{store.Schema(), snapshotTable}.Sanitize()
	var w Writes
	err := store.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE b.bison_account_id IS NULL),
		count(*) FILTER (WHERE b.bison_account_id IS NOT NULL
			AND (a.row_hash IS DISTINCT FROM b.row_hash OR (a.deleted_at IS NOT NULL) <> b.deleted))
		FROM `+raw+` a LEFT JOIN `+snap+` b USING (bison_instance, bison_account_id)`).Scan(&w.Inserted, &w.Updated)
	if err != nil {
		return Writes{}, fmt.Errorf("compare the account rows with their snapshot: %w", err)
	}
	return w, nil
}

// ChangeFleet changes under 1% of the fleet's accounts at the source: new accounts in every
// workspace of 300 or more (0.3%); in ten workspaces of 1,000 to 3,000 accounts, one account
// in five with a new counter (about 0.4%) and 20 accounts gone (0.02%). The changes are kept
// to a few workspaces because the simulator holds a changed workspace's accounts in memory.
func ChangeFleet(srv *sim.Server, fleet *sim.Fleet) (Changes, error) {
	var c Changes
	touched := 0
	for _, w := range Workspaces(fleet) {
		n := srv.NumAccounts(w.Instance, w.ID)
		if n >= 300 {
			c.Inserted += len(srv.AddAccounts(w.Instance, w.ID, n/300))
		}
		if touched == 10 || n < 1000 || n > 3000 {
			continue
		}
		touched++
		accounts := srv.Accounts(w.Instance, w.ID)
		var gone []int64
		for k, a := range accounts[:n] { // not the accounts just added
			switch {
			case k%5 == 0:
				a.EmailsSentCount++
				if _, ok := srv.SetAccount(w.Instance, w.ID, a); !ok {
					return c, fmt.Errorf("change an account of workspace %s", w.Name)
				}
				c.Updated++
			case k%5 == 1 && len(gone) < 20:
				gone = append(gone, a.ID)
			}
		}
		c.Removed += srv.RemoveAccounts(w.Instance, w.ID, gone...)
	}
	return c, nil
}

// PlainCopy COPYs the source's accounts, as the first commit writes them, into an empty
// table like email_accounts_raw (columns, indexes, fillfactor), a workspace per transaction
// with four workers, and returns how long it took. The table is dropped afterwards.
func PlainCopy(ctx context.Context, store *db.Store, srv *sim.Server, fleet *sim.Fleet) (time.Duration, error) {
	table := pgx.Identifier{store.Schema(), "plain_copy"}
	if err := createLikeRaw(ctx, store, table); err != nil {
		return 0, err
	}
	list := Workspaces(fleet)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, 4)
	start := time.Now()
	for i := range errs {
		wg.Go(func() {
			for k := int(next.Add(1)) - 1; k < len(list) && errs[i] == nil; k = int(next.Add(1)) - 1 {
				errs[i] = copyWorkspace(ctx, store, srv, table, list[k], start)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	if _, err := store.Pool().Exec(ctx, `DROP TABLE `+table.Sanitize()); err != nil {
		return 0, fmt.Errorf("drop the plain COPY's table: %w", err)
	}
	return took, nil
}

// createLikeRaw creates table empty, like email_accounts_raw: columns, indexes, fillfactor.
func createLikeRaw(ctx context.Context, store *db.Store, table pgx.Identifier) error {
	raw := pgx.Identifier{store.Schema(), "email_accounts_raw"}.Sanitize()
	if _, err := store.Pool().Exec(ctx, `CREATE TABLE `+table.Sanitize()+` (LIKE `+raw+` INCLUDING ALL)`); err != nil {
		return fmt.Errorf("create the plain COPY's table: %w", err)
	}
	var options string
	err := store.Pool().QueryRow(ctx, `SELECT coalesce(array_to_string(reloptions, ','), '')
		FROM pg_catalog.pg_class WHERE oid = $1::regclass`, raw).Scan(&options)
	if err != nil {
		return fmt.Errorf("read email_accounts_raw's storage options: %w", err)
	}
	if options != "" {
		if _, err := store.Pool().Exec(ctx, `ALTER TABLE `+table.Sanitize()+` SET (`+options+`)`); err != nil {
			return fmt.Errorf("set the plain COPY's storage options: %w", err)
		}
	}
	return nil
}

// copyWorkspace COPYs one workspace's accounts at the source into table.
func copyWorkspace(ctx context.Context, store *db.Store, srv *sim.Server, table pgx.Identifier, w Workspace, at time.Time) error {
	src := srv.Accounts(w.Instance, w.ID)
	accounts := make([]db.Account, len(src))
	for k, a := range src {
		accounts[k] = demo.FromSim(a)
	}
	columns, rows := db.AccountRows(w.Instance, w.ID, w.Name, at, accounts)
	if _, err := store.Pool().CopyFrom(ctx, table, columns, rows); err != nil {
		return fmt.Errorf("plain COPY of workspace %s: %w", w.Name, err)
	}
	return nil
}

// Writes are rows inserted and updated in email_accounts_raw, by PostgreSQL's statistics.
type Writes struct{ Inserted, Updated int64 }

// Since is what was written between before and w.
func (w Writes) Since(before Writes) Writes {
	return Writes{Inserted: w.Inserted - before.Inserted, Updated: w.Updated - before.Updated}
}

// Rows is every row written.
func (w Writes) Rows() int64 { return w.Inserted + w.Updated }

// RawWrites returns the rows inserted and updated in email_accounts_raw so far, by the
// statistics every backend reports. Each idle connection of store's pool is made to report
// first (a backend reports when idle, at most once a second; other processes' backends
// report on their own, at the latest when they exit).
func RawWrites(ctx context.Context, store *db.Store) (Writes, error) {
	var errs []error
	for _, c := range store.Pool().AcquireAllIdle(ctx) {
		_, err := c.Exec(ctx, `SELECT pg_stat_force_next_flush()`)
		c.Release()
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Writes{}, fmt.Errorf("flush the statistics: %w", err)
	}
	time.Sleep(100 * time.Millisecond) // the flush happens as each backend goes idle
	var w Writes
	err := store.Pool().QueryRow(ctx, `SELECT n_tup_ins, n_tup_upd FROM pg_catalog.pg_stat_user_tables
		WHERE schemaname = $1 AND relname = 'email_accounts_raw'`, store.Schema()).Scan(&w.Inserted, &w.Updated)
	if err != nil {
		return Writes{}, fmt.Errorf("read email_accounts_raw's statistics: %w", err)
	}
	return w, nil
}
