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
	var runIDs []int64
	for range 2 {
		sum := <-done
		if !sum.OK() || sum.Status != db.RunSucceeded {
			t.Fatalf("run %d through the pooler: %s %+v", sum.RunID, sum.Status, sum.Workspaces)
		}
		runIDs = append(runIDs, sum.RunID)
	}
	// Verify directly, not through the pooler.
	direct := dbtest.OpenStore(t, schema)
	assertNoOverlap(t, direct, runIDs)
	v := &fleettest.Fixture{T: t, Srv: srv, Fleet: fleet, Store: direct}
	v.AssertExact()
	if n := v.Int(`SELECT count(*) FROM ` + v.Table("email_accounts_raw") + ` WHERE deleted_at IS NOT NULL`); n != demo.IncidentVanished {
		t.Fatalf("%d rows marked deleted, want the %d vanished", n, demo.IncidentVanished)
	}
}

// assertNoOverlap checks that every workspace was synced by at least one of the runs, and
// that no two runs held one workspace at the same time: a workspace synced by both was synced
// one after the other (the first commit's finish before the second's start), never together.
func assertNoOverlap(t *testing.T, store *db.Store, runIDs []int64) {
	t.Helper()
	type span struct{ start, end time.Time }
	synced := map[string][]span{}
	for _, id := range runIDs {
		rows, err := store.RunWorkspaces(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range rows {
			switch w.Status {
			case db.WorkspaceSucceeded:
				synced[w.Workspace] = append(synced[w.Workspace], span{*w.StartedAt, *w.FinishedAt})
			case db.WorkspaceSkipped:
			default:
				t.Errorf("run %d: %s ended %s: %s", id, w.Workspace, w.Status, w.Error)
			}
		}
	}
	if len(synced) != sim.IncidentWorkspaces {
		t.Errorf("%d workspaces synced by either run, want all %d", len(synced), sim.IncidentWorkspaces)
	}
	for ws, spans := range synced {
		if len(spans) == 2 && spans[0].start.Before(spans[1].end) && spans[1].start.Before(spans[0].end) {
			t.Errorf("%s was synced by both runs at once: %v–%v and %v–%v", ws,
				spans[0].start, spans[0].end, spans[1].start, spans[1].end)
		}
	}
}
