package sync_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
	"github.com/bisonsync/bisonsync/demo"
	"github.com/bisonsync/bisonsync/internal/fleettest"
	"github.com/bisonsync/bisonsync/sync"
)

// The database misbehaving during a run (issue 11): each case on a private cluster of the
// test's own, never the shared one. Whatever happens, a workspace's rows are all old or all
// new, and no run is left running.

// clusterEnv is the incident fleet registered in a private cluster, served with latency so
// that a run lasts long enough for the database to misbehave under it.
func clusterEnv(t *testing.T) (*env, *dbtest.Cluster) {
	t.Helper()
	c := dbtest.NewCluster(t)
	ctx := context.Background()
	store, err := db.Open(ctx, db.Config{URL: c.URL(), Schema: "bisonsync"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	fleet := sim.IncidentFleet()
	srv := sim.NewServer(fleet, sim.Options{Latency: 60 * time.Millisecond, Jitter: 20 * time.Millisecond})
	t.Cleanup(srv.Close)
	if err := demo.Register(ctx, store, srv, fleet); err != nil {
		t.Fatal(err)
	}
	v := newEnv(t, fleet, sim.Options{})
	v.Fixture = &fleettest.Fixture{T: t, Srv: srv, Fleet: fleet, Store: store}
	v.cfg.DatabaseOutage = 45 * time.Second
	return v, c
}

// startRun runs the engine in the background and returns when the first workspace has
// committed, with a channel for the summary.
func startRun(t *testing.T, v *env) <-chan runOutcome {
	t.Helper()
	first := make(chan struct{}, 64)
	out := make(chan runOutcome, 1)
	go func() {
		s, err := sync.New(v.Store, v.cfg).Run(context.Background(), sync.Request{Observer: func(e sync.Event) {
			if v.observe != nil {
				v.observe(e)
			}
			if f, ok := e.(sync.WorkspaceFinished); ok && f.Result.Status == db.WorkspaceSucceeded {
				first <- struct{}{}
			}
		}})
		out <- runOutcome{s, err}
	}()
	select {
	case <-first:
	case o := <-out:
		t.Fatalf("the run ended before any workspace committed: %s %v", o.s.Status, o.err)
	case <-time.After(30 * time.Second):
		t.Fatal("no workspace committed within 30s")
	}
	return out
}

type runOutcome struct {
	s   sync.Summary
	err error
}

func waitRun(t *testing.T, out <-chan runOutcome, within time.Duration) runOutcome {
	t.Helper()
	select {
	case o := <-out:
		return o
	case <-time.After(within):
		t.Fatalf("the run did not end within %s", within)
		return runOutcome{}
	}
}

// A restart of about five seconds in the middle of a run is ridden out: the run succeeds
// with exact data.
func TestDatabaseRestartMidRun(t *testing.T) {
	t.Parallel()
	v, c := clusterEnv(t)
	out := startRun(t, v)
	c.Restart(5 * time.Second)
	o := waitRun(t, out, 2*time.Minute)
	if o.err != nil || o.s.Status != db.RunSucceeded {
		t.Fatalf("run %s (%v): %+v", o.s.Status, o.err, o.s.Workspaces)
	}
	v.AssertExact()
	assertNoRunLeftRunning(t, v)
}

// Connections killed under the run (pg_terminate_backend, a failover) are replaced: the
// run succeeds with exact data.
func TestConnectionsKilledMidRun(t *testing.T) {
	t.Parallel()
	v, c := clusterEnv(t)
	out := startRun(t, v)
	// From a session of its own, which is not among those killed.
	killer, err := pgx.Connect(context.Background(), c.URL()+"&application_name=killer")
	if err != nil {
		t.Fatal(err)
	}
	defer killer.Close(context.Background())
	for range 3 {
		if _, err := killer.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = 'bisonsync'`); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	o := waitRun(t, out, 2*time.Minute)
	if o.err != nil || o.s.Status != db.RunSucceeded {
		t.Fatalf("run %s (%v): %+v", o.s.Status, o.err, o.s.Workspaces)
	}
	v.AssertExact()
	assertNoRunLeftRunning(t, v)
}

// A table lock held by another session for a few seconds delays commits, which say so while
// it lasts (the table, how long, the pid that holds it); it fails nothing, and nothing is
// mislabelled stalled.
func TestTableLockHeldMidRun(t *testing.T) {
	t.Parallel()
	v, _ := clusterEnv(t)
	v.cfg.StallTimeout = 2 * time.Second // shorter than the lock: a commit waiting is no stall
	notices := make(chan string, 256)
	var stalls atomic.Int32
	v.observe = func(e sync.Event) {
		if n, ok := e.(sync.Notice); ok && strings.Contains(n.Message, "waiting") {
			select {
			case notices <- n.Message:
			default:
			}
		}
		if r, ok := e.(sync.Retrying); ok && strings.Contains(r.Reason, "stalled") {
			stalls.Add(1)
		}
	}
	out := startRun(t, v)
	ctx := context.Background()
	tx, err := v.Store.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE `+v.Table("email_accounts_raw")+` IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	var holder int32
	if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&holder); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	o := waitRun(t, out, 2*time.Minute)
	if o.err != nil || o.s.Status != db.RunSucceeded {
		t.Fatalf("run %s (%v): %+v", o.s.Status, o.err, o.s.Workspaces)
	}
	v.AssertExact()
	close(notices)
	reported := false
	for msg := range notices {
		if strings.Contains(msg, "email_accounts_raw") && strings.Contains(msg, fmt.Sprintf("pid %d", holder)) {
			reported = true
		}
	}
	if !reported {
		t.Errorf("no commit said it waited for the lock on email_accounts_raw held by pid %d", holder)
	}
	if n := stalls.Load(); n > 0 {
		t.Errorf("%d workspaces waiting for the lock were retried as stalled", n)
	}
}

// A database that goes away and stays away: the run ends within a bounded time, its
// unfinished workspaces failed with a reason that names the database, an error that says
// the database is unreachable (exit code 3 in main), and their rows untouched. The next run,
// once the database is back, marks the old one abandoned and syncs exactly.
func TestDatabaseGoneForGood(t *testing.T) {
	t.Parallel()
	v, c := clusterEnv(t)
	v.cfg.DatabaseOutage = 3 * time.Second
	v.cfg.ProcessAlive = func(int) bool { return false } // the next run sees this one as dead
	out := startRun(t, v)
	c.Stop()
	start := time.Now()
	o := waitRun(t, out, time.Minute)
	t.Logf("the run ended %s after the database went away", time.Since(start).Round(100*time.Millisecond))
	if o.err == nil || !db.IsUnavailable(o.err) {
		t.Fatalf("the run's error %v, want one saying the database is unreachable", o.err)
	}
	failed := 0
	for _, w := range o.s.Workspaces {
		switch w.Status {
		case db.WorkspaceSucceeded:
		case db.WorkspaceFailed:
			failed++
			if !strings.Contains(w.Error, "unreachable") {
				t.Errorf("%s failed without naming the database: %s", w.Name, w.Error)
			}
		default:
			t.Errorf("%s ended %s: %s", w.Name, w.Status, w.Error)
		}
	}
	if failed == 0 {
		t.Fatal("no workspace failed: the database went away too late to test anything")
	}
	c.Start()
	s, _ := v.run(sync.Request{})
	if s.Status != db.RunSucceeded {
		t.Fatalf("the next run: %s %+v", s.Status, s.Workspaces)
	}
	v.AssertExact()
	if st := v.Text(`SELECT status FROM `+v.Table("sync_runs")+` WHERE id = $1`, o.s.RunID); st != string(db.RunAbandoned) {
		t.Errorf("the run cut off by the database is %s, want abandoned", st)
	}
	assertNoRunLeftRunning(t, v)
}

func assertNoRunLeftRunning(t *testing.T, v *env) {
	t.Helper()
	if n := v.Int(`SELECT count(*) FROM ` + v.Table("sync_runs") + ` WHERE status = 'running'`); n != 0 {
		t.Errorf("%d runs left running", n)
	}
	if n := v.Int(`SELECT count(*) FROM ` + v.Table("workspace_leases")); n != 0 {
		t.Errorf("%d leases left behind", n)
	}
}
