package sync_test

import (
	"context"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
	"github.com/bisonsync/bisonsync/demo"
	"github.com/bisonsync/bisonsync/internal/fleettest"
	"github.com/bisonsync/bisonsync/sync"
)

// Everything through a transaction-mode PgBouncer, as production runs behind Supabase's
// pooler: the schema created by several processes at once, and two engines syncing the
// incident fleet together, with exact data and no overlap. Session state (search_path,
// prepared statements, advisory locks) would break here.
func TestThroughTransactionPooler(t *testing.T) {
	t.Parallel()
	pooler := dbtest.PgBouncer(t)
	schema := dbtest.NewSchema(t)
	ctx := context.Background()
	fleet := sim.IncidentFleet()
	srv := sim.NewServer(fleet, sim.Options{Latency: 2 * time.Millisecond})
	t.Cleanup(srv.Close)

	stores := make([]*db.Store, 3)
	errs := make(chan error, len(stores))
	for i := range stores {
		s, err := db.Open(ctx, db.Config{URL: pooler, Schema: schema, MaxConns: 6})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		stores[i] = s
		go func() { errs <- s.Migrate(ctx) }()
	}
	for range stores {
		if err := <-errs; err != nil {
			t.Fatalf("migrate through the pooler: %v", err)
		}
	}
	if err := demo.Register(ctx, stores[0], srv, fleet); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.SeedIncident(ctx, stores[0], srv); err != nil {
		t.Fatal(err)
	}
	done := make(chan sync.Summary, 2)
	for i, s := range stores[:2] {
		cfg := sync.Config{Trigger: "test", Host: []string{"host-a", "host-b"}[i], RetryBackoff: 10 * time.Millisecond}
		go func() {
			sum, err := sync.New(s, cfg).Run(ctx, sync.Request{})
			if err != nil {
				t.Error(err)
			}
			done <- sum
		}()
	}
	total := 0
	for range 2 {
		sum := <-done
		if !sum.OK() {
			t.Fatalf("run %d through the pooler: %s %+v", sum.RunID, sum.Status, sum.Workspaces)
		}
		total += sum.WorkspacesSucceeded
	}
	if total < sim.IncidentWorkspaces {
		t.Fatalf("%d workspace syncs, want at least %d", total, sim.IncidentWorkspaces)
	}
	// Verify directly, not through the pooler.
	direct := dbtest.OpenStore(t, schema)
	v := &fleettest.Fixture{T: t, Srv: srv, Fleet: fleet, Store: direct}
	v.AssertExact()
	if n := v.Int(`SELECT count(*) FROM ` + v.Table("email_accounts_raw") + ` WHERE deleted_at IS NOT NULL`); n != demo.IncidentVanished {
		t.Fatalf("%d rows marked deleted, want the %d vanished", n, demo.IncidentVanished)
	}
}
