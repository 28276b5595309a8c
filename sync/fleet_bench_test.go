package sync_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison/sim"
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
	sizes := []int{100_000, 1_000_000}
	if testing.Short() { // CI's form: it still works; its figures are not the README's
		sizes = []int{10_000}
	}
	for _, accounts := range sizes {
		b.Run(fmt.Sprintf("accounts=%d", accounts), func(b *testing.B) {
			f := fleettest.New(b, fleettest.ScaleFleet(accounts), sim.Options{RequestLogLimit: -1})
			if err := fleettest.Grow(f.Srv, f.Fleet, accounts/50); err != nil {
				b.Fatal(err)
			}
			total := fleettest.NumAccounts(f.Srv, f.Fleet)
			for range b.N { // the figures come from one iteration: -benchtime 1x
				first := timedRun(b, f, total)
				// The engine's own peak: what follows holds workspaces of the benchmark's.
				b.ReportMetric(peakRSSMB(), "sync-peak-RSS-MB")
				copied, resync, changed, written := changedResync(b, f, total)
				b.ReportMetric(float64(total), "accounts")
				b.ReportMetric(float64(total)/copied.Seconds(), "copy-accounts/s")
				b.ReportMetric(float64(total)/first.Seconds(), "first-accounts/s")
				b.ReportMetric(first.Seconds()/copied.Seconds(), "first-x-copy")
				b.ReportMetric(float64(total)/resync.Seconds(), "resync-accounts/s")
				b.ReportMetric(resync.Seconds()/copied.Seconds(), "resync-x-copy")
				b.ReportMetric(float64(written.Rows()), "resync-rows-written")
				b.ReportMetric(float64(changed.Rows()), "resync-rows-changed")
			}
			b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
		})
	}
}

// changedResync times a plain COPY of the synced fleet's rows, changes the fleet at the
// source, and times the re-sync that follows; it returns both times, the rows that changed
// (new, changed or gone, prices that moved with a domain included), and the rows the re-sync
// wrote, which must be those.
func changedResync(b *testing.B, f *fleettest.Fixture, total int) (copied, resync time.Duration,
	changed, written fleettest.Writes) {
	ctx := context.Background()
	copied, err := fleettest.PlainCopy(ctx, f.Store, f.Srv, f.Fleet)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("plain COPY: %.1fs", copied.Seconds())
	c, err := fleettest.ChangeFleet(f.Srv, f.Fleet)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("changed at the source: %s", c)
	if err := fleettest.SnapshotRows(ctx, f.Store); err != nil {
		b.Fatal(err)
	}
	before, err := fleettest.RawWrites(ctx, f.Store)
	if err != nil {
		b.Fatal(err)
	}
	resync = timedRun(b, f, total+c.Inserted-c.Removed)
	after, err := fleettest.RawWrites(ctx, f.Store)
	if err != nil {
		b.Fatal(err)
	}
	written = after.Since(before)
	changed, err = fleettest.ChangedRows(ctx, f.Store)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Check(written, changed); err != nil {
		b.Error(err)
	}
	return copied, resync, changed, written
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
