package sync_test

import (
	"context"
	"fmt"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/demo"
	"github.com/bisonsync/bisonsync/internal/fleettest"
	"github.com/bisonsync/bisonsync/sync"
)

// BenchmarkFleetScale syncs a generated fleet (500 accounts a workspace on average, skewed,
// the largest at least 2% of the fleet: 20,000 of a million) at zero latency, end to end into
// PostgreSQL: its first sync, then a re-sync after under 1% of the accounts changed at the
// source (0.4% with a new counter, 0.02% gone, 0.3% new). Each is printed next to a plain
// COPY of the same rows into an equivalent table in the same run; the rows the re-sync wrote
// (PostgreSQL's own counters) next to the changes; and the process's peak RSS, which must
// stay flat as the fleet grows (memory is bounded by the workers' share of the largest
// workspaces, not by the fleet).
func BenchmarkFleetScale(b *testing.B) {
	for _, accounts := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("accounts=%d", accounts), func(b *testing.B) {
			f := fleettest.New(b, scaleFleet(accounts), sim.Options{RequestLogLimit: -1})
			grow(b, f, accounts/50)
			total := 0
			for _, w := range fleetWorkspaces(f) {
				total += f.Srv.NumAccounts(w.inst, w.id)
			}
			for range b.N { // the figures come from one iteration: -benchtime 1x
				first := timedRun(b, f, total)
				// The engine's own peak: what follows holds workspaces of the benchmark's.
				b.ReportMetric(peakRSSMB(), "sync-peak-RSS-MB")
				copied := plainCopyFleet(b, f)
				changes := changeFleet(b, f)
				ins0, upd0 := rawWrites(b, f.Store)
				resync := timedRun(b, f, total+changes.inserted-changes.removed)
				ins1, upd1 := rawWrites(b, f.Store)
				if ins1-ins0 != int64(changes.inserted) || upd1-upd0 != int64(changes.updated+changes.removed) {
					b.Errorf("re-sync wrote %d inserts and %d updates, want %d and %d", ins1-ins0, upd1-upd0,
						changes.inserted, changes.updated+changes.removed)
				}
				b.ReportMetric(float64(total), "accounts")
				b.ReportMetric(float64(total)/copied.Seconds(), "copy-accounts/s")
				b.ReportMetric(float64(total)/first.Seconds(), "first-accounts/s")
				b.ReportMetric(first.Seconds()/copied.Seconds(), "first-x-copy")
				b.ReportMetric(float64(total)/resync.Seconds(), "resync-accounts/s")
				b.ReportMetric(resync.Seconds()/copied.Seconds(), "resync-x-copy")
				b.ReportMetric(float64(ins1-ins0+upd1-upd0), "resync-rows-written")
				b.ReportMetric(float64(changes.inserted+changes.updated+changes.removed), "resync-rows-changed")
			}
			b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
		})
	}
}

// scaleFleet is a generated fleet of about n accounts whose largest workspace can grow to
// n/50 while the fleet stays at n (to within the rounding of the simulator's shares).
func scaleFleet(n int) *sim.Fleet {
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

type fleetWS struct {
	inst string
	id   int
	name string
}

func fleetWorkspaces(f *fleettest.Fixture) []fleetWS {
	var out []fleetWS
	for _, in := range f.Fleet.Instances {
		for _, w := range in.Workspaces {
			out = append(out, fleetWS{inst: in.Name, id: w.ID, name: w.Name})
		}
	}
	return out
}

// grow adds accounts to the fleet's largest workspace until it holds size.
func grow(b *testing.B, f *fleettest.Fixture, size int) {
	var big fleetWS
	most := 0
	for _, w := range fleetWorkspaces(f) {
		if n := f.Srv.NumAccounts(w.inst, w.id); n > most {
			big, most = w, n
		}
	}
	if size > most && f.Srv.AddAccounts(big.inst, big.id, size-most) == nil {
		b.Fatalf("grow %s", big.name)
	}
}

// timedRun syncs the whole fleet and returns how long it took.
func timedRun(b *testing.B, f *fleettest.Fixture, accounts int) time.Duration {
	start := time.Now()
	s, err := sync.New(f.Store, sync.Config{Trigger: "bench"}).Run(context.Background(), sync.Request{
		Observer: func(e sync.Event) {
			if n, ok := e.(sync.Notice); ok && n.Workspace == "" {
				b.Logf("%6.1fs %s", time.Since(start).Seconds(), n.Message)
			}
		},
	})
	took := time.Since(start)
	if err != nil || !s.OK() || s.AccountsSynced != accounts {
		b.Fatalf("run: %v %s, %d accounts synced, want %d", err, s.Status, s.AccountsSynced, accounts)
	}
	b.Logf("%6.1fs run %d: %d accounts, %.0f/s", took.Seconds(), s.RunID, accounts, float64(accounts)/took.Seconds())
	return took
}

// plainCopyFleet COPYs the source's accounts, as the first commit writes them, into an empty
// table like email_accounts_raw (columns, indexes, fillfactor), a workspace per transaction
// with four workers, and returns how long it took.
func plainCopyFleet(b *testing.B, f *fleettest.Fixture) time.Duration {
	ctx := context.Background()
	f.Exec(`CREATE TABLE ` + f.Table("plain_copy") + ` (LIKE ` + f.Table("email_accounts_raw") + ` INCLUDING ALL)`)
	ff := f.Strings(`SELECT coalesce(array_to_string(reloptions, ','), '') FROM pg_catalog.pg_class WHERE oid = $1::regclass`,
		f.Table("email_accounts_raw"))[0]
	if ff != "" {
		f.Exec(`ALTER TABLE ` + f.Table("plain_copy") + ` SET (` + ff + `)`)
	}
	table := pgx.Identifier{f.Store.Schema(), "plain_copy"}
	list := fleetWorkspaces(f)
	var next atomic.Int64
	var wg stdsync.WaitGroup
	start := time.Now()
	for range 4 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(list); i = int(next.Add(1)) - 1 {
				w := list[i]
				src := f.Srv.Accounts(w.inst, w.id)
				accounts := make([]db.Account, len(src))
				for k, a := range src {
					accounts[k] = demo.FromSim(a)
				}
				columns, rows := db.AccountRows(w.inst, w.id, w.name, start, accounts)
				if _, err := f.Store.Pool().CopyFrom(ctx, table, columns, rows); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	b.Logf("plain COPY: %.1fs", took.Seconds())
	f.Exec(`DROP TABLE ` + f.Table("plain_copy"))
	return took
}

type fleetChanges struct{ updated, removed, inserted int }

// changeFleet changes under 1% of the fleet's accounts at the source: new accounts in every
// workspace of 300 or more (0.3%); in ten workspaces of 1,000 to 3,000 accounts, one account
// in five with a new counter (about 0.4%) and 20 accounts gone (0.02%). The changes are kept
// to a few workspaces because the simulator holds a changed workspace's accounts in memory.
func changeFleet(b *testing.B, f *fleettest.Fixture) fleetChanges {
	var c fleetChanges
	touched := 0
	for _, w := range fleetWorkspaces(f) {
		n := f.Srv.NumAccounts(w.inst, w.id)
		if n >= 300 {
			c.inserted += len(f.Srv.AddAccounts(w.inst, w.id, n/300))
		}
		if touched == 10 || n < 1000 || n > 3000 {
			continue
		}
		touched++
		accounts := f.Srv.Accounts(w.inst, w.id)
		var gone []int64
		for k, a := range accounts[:n] { // not the accounts just added
			switch {
			case k%5 == 0:
				a.EmailsSentCount++
				if _, ok := f.Srv.SetAccount(w.inst, w.id, a); !ok {
					b.Fatalf("change %s", w.name)
				}
				c.updated++
			case k%5 == 1 && len(gone) < 20:
				gone = append(gone, a.ID)
			}
		}
		c.removed += f.Srv.RemoveAccounts(w.inst, w.id, gone...)
	}
	b.Logf("changed at the source: %d counters, %d gone, %d new", c.updated, c.removed, c.inserted)
	return c
}

// rawWrites returns the rows inserted and updated in email_accounts_raw so far, by the
// statistics every backend reports. Each pooled connection is made to report first (a
// backend reports when idle, at most once a second).
func rawWrites(b *testing.B, s *db.Store) (inserted, updated int64) {
	b.Helper()
	ctx := context.Background()
	for _, c := range s.Pool().AcquireAllIdle(ctx) {
		if _, err := c.Exec(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
			b.Fatal(err)
		}
		c.Release()
	}
	time.Sleep(100 * time.Millisecond) // the flush happens as each backend goes idle
	err := s.Pool().QueryRow(ctx, `SELECT n_tup_ins, n_tup_upd FROM pg_catalog.pg_stat_user_tables
		WHERE schemaname = $1 AND relname = 'email_accounts_raw'`, s.Schema()).Scan(&inserted, &updated)
	if err != nil {
		b.Fatal(err)
	}
	return inserted, updated
}
