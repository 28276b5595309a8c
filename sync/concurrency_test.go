package sync_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
	"github.com/bisonsync/bisonsync/sync"
)

// Two engines with their own pools on one schema, as two processes would be: no workspace is
// fetched by both at once, the data is exact, and every workspace ends succeeded or skipped.
func TestTwoProcessesNeverOverlap(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{Latency: 3 * time.Millisecond, Jitter: 3 * time.Millisecond})
	summaries := runConcurrently(t, v, 2, sync.Request{})
	for _, s := range summaries {
		if !s.OK() || s.Status != db.RunSucceeded {
			t.Fatalf("run %d: %s", s.RunID, s.Status)
		}
	}
	v.AssertExact()
	// Per workspace, the two runs' fetch windows never overlap.
	type window struct{ start, end time.Time }
	rows, err := v.Store.Pool().Query(context.Background(), `SELECT workspace_name, started_at, finished_at FROM `+
		v.Table("sync_run_workspaces")+` WHERE status = 'succeeded'`)
	if err != nil {
		t.Fatal(err)
	}
	windows := map[string][]window{}
	for rows.Next() {
		var name string
		var w window
		if err := rows.Scan(&name, &w.start, &w.end); err != nil {
			t.Fatal(err)
		}
		windows[name] = append(windows[name], w)
	}
	for name, ws := range windows {
		if len(ws) == 2 && ws[0].start.Before(ws[1].end) && ws[1].start.Before(ws[0].end) {
			t.Fatalf("%s was synced by both processes at once: %v", name, ws)
		}
	}
}

// Several processes started together with the same --stale split the fleet: every workspace
// is fetched exactly once in total.
func TestStaleSplitsTheFleet(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{Latency: 3 * time.Millisecond, Jitter: 3 * time.Millisecond})
	summaries := runConcurrently(t, v, 3, sync.Request{StaleFor: time.Hour})
	succeeded := 0
	for _, s := range summaries {
		if !s.OK() || s.Status != db.RunSucceeded || s.WorkspacesSucceeded+s.WorkspacesSkipped != sim.IncidentWorkspaces {
			t.Fatalf("run %d: %s, %d succeeded, %d skipped", s.RunID, s.Status, s.WorkspacesSucceeded, s.WorkspacesSkipped)
		}
		succeeded += s.WorkspacesSucceeded
	}
	if succeeded != sim.IncidentWorkspaces {
		t.Fatalf("%d workspace syncs in total, want each of the %d exactly once", succeeded, sim.IncidentWorkspaces)
	}
	firstPages := map[int]int{}
	for _, r := range v.Srv.Requests() {
		if r.Kind == sim.KindList && r.Page == 1 {
			firstPages[r.Workspace]++
		}
	}
	for id, n := range firstPages {
		if n != 1 {
			t.Fatalf("workspace %d was fetched %d times", id, n)
		}
	}
	v.AssertExact()
}

func runConcurrently(t *testing.T, v *env, n int, req sync.Request) []sync.Summary {
	t.Helper()
	out := make([]sync.Summary, n)
	var wg stdsync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		store := dbtest.OpenStore(t, v.Store.Schema())
		cfg := v.cfg
		cfg.Host = fmt.Sprintf("host-%d", i) // as if on different machines
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s, err := sync.New(store, cfg).Run(context.Background(), req)
			if err != nil {
				t.Error(err)
			}
			out[i] = s
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// Cancelling the run (what SIGTERM does) stops it promptly: workspaces not yet committed are
// recorded cancelled with their previous rows intact, and the run is cancelled.
func TestCancelledRunChangesNothingHalfway(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{})
	if s, _ := v.run(sync.Request{}); s.Status != db.RunSucceeded {
		t.Fatalf("first run %s", s.Status)
	}
	inst := v.Fleet.Instance(sim.IncidentInstance)
	before := map[int]string{}
	for _, w := range inst.Workspaces {
		v.Srv.AddAccounts(inst.Name, w.ID, 1) // so a half-done write would show
		before[w.ID] = v.Snapshot(inst.Name, w.ID)
	}
	v.Srv.SetLatency(inst.Name, 30*time.Millisecond, 10*time.Millisecond)

	ctx, cancel := context.WithCancelCause(context.Background())
	finished := make(chan struct{}, 64)
	obs := func(e sync.Event) {
		if f, ok := e.(sync.WorkspaceFinished); ok && f.Result.Status == db.WorkspaceSucceeded {
			finished <- struct{}{}
		}
	}
	done := make(chan sync.Summary)
	go func() {
		s, err := sync.New(v.Store, v.cfg).Run(ctx, sync.Request{Observer: obs})
		if err != nil {
			t.Error(err)
		}
		done <- s
	}()
	<-finished
	cancel(errors.New("interrupted by SIGTERM"))
	var s sync.Summary
	select {
	case s = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the run did not stop within 10s of being cancelled")
	}
	if s.Status != db.RunCancelled || !s.Interrupted || s.WorkspacesCancelled == 0 {
		t.Fatalf("run %s, %d cancelled", s.Status, s.WorkspacesCancelled)
	}
	for _, w := range inst.Workspaces {
		r := result(t, s, w.Name)
		switch r.Status {
		case db.WorkspaceSucceeded:
			v.AssertExact(w.Name)
		case db.WorkspaceCancelled:
			if !strings.Contains(r.Error, "SIGTERM") {
				t.Fatalf("%s cancelled without the reason: %q", w.Name, r.Error)
			}
			if v.Snapshot(inst.Name, w.ID) != before[w.ID] {
				t.Fatalf("%s was cancelled but its rows changed", w.Name)
			}
		default:
			t.Fatalf("%s ended %s", w.Name, r.Status)
		}
	}
	if n := v.Int(`SELECT count(*) FROM ` + v.Table("workspace_leases")); n != 0 {
		t.Fatalf("%d leases left behind", n)
	}
	if n := v.Int(`SELECT count(*) FROM ` + v.Table("sync_run_workspaces") + ` WHERE status IN ('queued', 'running')`); n != 0 {
		t.Fatalf("%d workspace rows left queued or running", n)
	}
}

// --deadline: what is left when it passes is cancelled with that reason; the run is not
// "interrupted" and its status says how much got done.
func TestDeadlineCancelsTheRest(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{Latency: 40 * time.Millisecond})
	v.cfg.Workers = 2
	s, _ := v.run(sync.Request{Deadline: 300 * time.Millisecond})
	if s.Interrupted || s.WorkspacesCancelled == 0 || s.OK() {
		t.Fatalf("run %s: %d cancelled, interrupted %v", s.Status, s.WorkspacesCancelled, s.Interrupted)
	}
	for _, w := range s.Workspaces {
		if w.Status == db.WorkspaceCancelled && !strings.Contains(w.Error, "--deadline of 300ms") {
			t.Fatalf("%s cancelled with %q", w.Name, w.Error)
		}
	}
	if s.WorkspacesSucceeded+s.WorkspacesCancelled != sim.IncidentWorkspaces {
		t.Fatalf("%d succeeded + %d cancelled != %d", s.WorkspacesSucceeded, s.WorkspacesCancelled, sim.IncidentWorkspaces)
	}
	// Not interrupted, so the status says how much got done: partial, or failed if nothing.
	want := db.RunPartial
	if s.WorkspacesSucceeded == 0 {
		want = db.RunFailed
	}
	stored := v.Text(`SELECT status FROM `+v.Table("sync_runs")+` WHERE id = $1`, s.RunID)
	if s.Status != want || stored != string(want) {
		t.Fatalf("run status %s (stored %s), want %s", s.Status, stored, want)
	}
}

// A run whose process died is marked abandoned by the next run on the same host at once
// (its pid is gone), and its leases are free: nothing stays stuck.
func TestDeadRunIsAbandonedAndItsLeasesFreed(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{})
	host := "same-host"
	v.cfg.Host = host
	deadPID := 999_999_999
	// A run "left running" by a dead process holding Jason Binyon's lease.
	var runID int64
	if err := v.Store.Pool().QueryRow(context.Background(), `INSERT INTO `+v.Table("sync_runs")+
		` (status, trigger, host, pid, heartbeat_at) VALUES ('running', 'headless', $1, $2, now()) RETURNING id`, host, deadPID).Scan(&runID); err != nil {
		t.Fatal(err)
	}
	v.Exec(`INSERT INTO `+v.Table("sync_run_workspaces")+` (run_id, workspace_name, status) VALUES ($1, $2, 'running')`, runID, sim.IncidentLargest)
	v.Exec(`INSERT INTO `+v.Table("workspace_leases")+` (workspace_name, run_id, host, pid, claimed_at, expires_at)
		VALUES ($1, $2, $3, $4, now(), now() + interval '1 hour')`, sim.IncidentLargest, runID, host, deadPID)

	s, ev := v.run(sync.Request{})
	if s.Status != "succeeded" || result(t, s, sim.IncidentLargest).Status != db.WorkspaceSucceeded {
		t.Fatalf("run %s; Jason Binyon %s", s.Status, result(t, s, sim.IncidentLargest).Status)
	}
	var status, errText string
	if err := v.Store.Pool().QueryRow(context.Background(), `SELECT status, error FROM `+v.Table("sync_runs")+` WHERE id = $1`, runID).Scan(&status, &errText); err != nil {
		t.Fatal(err)
	}
	if status != "abandoned" || errText == "" {
		t.Fatalf("the dead run is %s (%q), want abandoned with a reason", status, errText)
	}
	started := ev.list()[0].(sync.RunStarted)
	if len(started.Abandoned) != 1 || started.Abandoned[0] != runID {
		t.Fatalf("RunStarted.Abandoned = %v, want [%d]", started.Abandoned, runID)
	}
	if ws := v.Strings(`SELECT status::text FROM `+v.Table("sync_run_workspaces")+` WHERE run_id = $1`, runID); len(ws) != 1 || ws[0] != "cancelled" {
		t.Fatalf("the dead run's workspace rows: %v", ws)
	}
}

// A key kept in an environment variable that is not set fails only the workspaces that need
// it, naming the variable; no token appears anywhere in the history.
func TestMissingEnvKeyFailsOnlyItsWorkspace(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{})
	inst := v.Fleet.Instance(sim.IncidentInstance)
	var keyed []string
	for _, w := range inst.Workspaces {
		if w.Key != "" {
			keyed = append(keyed, w.Name)
		}
	}
	envKey, missing := keyed[0], keyed[1]
	v.Exec(`UPDATE `+v.Table("client_registry")+` SET bison_api_key = 'env:BISON_KEY_PRESENT' WHERE workspace_name = $1`, envKey)
	v.Exec(`UPDATE `+v.Table("client_registry")+` SET bison_api_key = 'env:BISON_KEY_MISSING' WHERE workspace_name = $1`, missing)
	tokens := map[string]string{"BISON_KEY_PRESENT": inst.WorkspaceNamed(envKey).Key}
	v.cfg.LookupEnv = func(name string) (string, bool) { tok, ok := tokens[name]; return tok, ok }

	s, ev := v.run(sync.Request{})
	if s.Status != "partial" {
		t.Fatalf("run %s", s.Status)
	}
	if r := result(t, s, envKey); r.Status != db.WorkspaceSucceeded {
		t.Fatalf("%s (key from env) %s: %s", envKey, r.Status, r.Error)
	}
	r := result(t, s, missing)
	if r.Status != db.WorkspaceFailed || !strings.Contains(r.Error, "BISON_KEY_MISSING") || r.Attempts != 1 {
		t.Fatalf("%s: %s %q", missing, r.Status, r.Error)
	}
	v.AssertNoToken("run history", v.HistoryText())
	v.AssertNoToken("events", fmt.Sprintf("%+v %#v", ev.list(), s))
}
