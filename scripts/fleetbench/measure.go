package main

import (
	"context"
	"time"

	"github.com/bisonsync/bisonsync/internal/fleettest"
)

// reportDelay lets the binary's database backends, which report their statistics when they
// exit, do so before the rows written are read.
const reportDelay = time.Second

// figures are one measurement of the fleet.
type figures struct {
	accounts, workspaces int
	first, resync        runResult
	copied               time.Duration     // the plain COPY of the first sync's rows
	changes              fleettest.Changes // at the source, before the re-sync
	written              fleettest.Writes  // by the re-sync
	changed              fleettest.Writes  // rows new, changed or gone: what the re-sync had to write
}

// measure syncs the fleet with the binary, COPYs the same rows plainly, changes the fleet at
// the source and re-syncs it, reading the rows the re-sync wrote.
func (b *bench) measure(ctx context.Context) (figures, error) {
	f := figures{accounts: fleettest.NumAccounts(b.srv, b.fleet), workspaces: len(fleettest.Workspaces(b.fleet))}
	var err error
	if f.first, err = b.sync(ctx, "first sync", f.accounts); err != nil {
		return f, err
	}
	if f.copied, err = fleettest.PlainCopy(ctx, b.store, b.srv, b.fleet); err != nil {
		return f, err
	}
	logf("plain COPY: %.1fs, %.0f accounts/s", f.copied.Seconds(), float64(f.accounts)/f.copied.Seconds())
	if f.changes, err = fleettest.ChangeFleet(b.srv, b.fleet); err != nil {
		return f, err
	}
	logf("changed at the source: %s", f.changes)
	if err := fleettest.SnapshotRows(ctx, b.store); err != nil {
		return f, err
	}
	before, err := fleettest.RawWrites(ctx, b.store)
	if err != nil {
		return f, err
	}
	if f.resync, err = b.sync(ctx, "re-sync", f.accounts+f.changes.Inserted-f.changes.Removed); err != nil {
		return f, err
	}
	after, err := fleettest.RawWrites(ctx, b.store)
	if err != nil {
		return f, err
	}
	f.written = after.Since(before)
	f.changed, err = fleettest.ChangedRows(ctx, b.store)
	return f, err
}

// sync runs the binary once, then waits for its backends' statistics.
func (b *bench) sync(ctx context.Context, name string, want int) (runResult, error) {
	logf("%s: %s --headless --json --schema %s", name, b.bin, b.store.Schema())
	r, err := syncOnce(ctx, b.bin, b.store.Schema(), b.tmp, name, want)
	if err != nil {
		return r, err
	}
	logf("%s: run %d, %d accounts in %.1fs (the run's own %.1fs), %.0f accounts/s, peak RSS %.0f MB",
		name, r.summary.RunID, r.summary.AccountsSynced, r.took.Seconds(), float64(r.summary.DurationMS)/1000,
		float64(want)/r.took.Seconds(), float64(r.peakKB)/1024)
	time.Sleep(reportDelay)
	return r, nil
}
