package db_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
)

func TestOpenRunAndHeartbeat(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	seedWorkspace(t, s, "inst", "a", 1)
	seedWorkspace(t, s, "inst", "b", 2)
	ctx := testContext(t)

	if _, err := s.OpenRun(ctx, db.RunSpec{Trigger: "test", Workspaces: []string{"a", "a"}}); err == nil {
		t.Error("OpenRun accepted a workspace listed twice")
	}
	runID, err := s.OpenRun(ctx, db.RunSpec{Trigger: "headless", Host: "h", PID: 9, Workspaces: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.Run(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != db.RunRunning || run.WorkspacesTotal != 2 || run.Trigger != "headless" || run.PID != 9 {
		t.Errorf("run %+v", run)
	}
	rws, err := s.RunWorkspaces(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rws) != 2 || rws[0].Status != db.WorkspaceQueued || rws[1].Workspace != "b" {
		t.Errorf("run workspaces %+v", rws)
	}

	owner := db.LeaseOwner{RunID: runID, Host: "h", PID: 9}
	if res, err := s.ClaimLease(ctx, "a", owner, time.Second, 0); err != nil || !res.Claimed {
		t.Fatal(res, err)
	}
	if err := s.Heartbeat(ctx, runID, time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.workspace_leases WHERE expires_at > now() + interval '50 minutes'`); n != 1 {
		t.Error("heartbeat did not extend the run's lease")
	}
	if err := s.StartWorkspace(ctx, runID, "a", 1); err != nil {
		t.Fatal(err)
	}
	if err := s.StartWorkspace(ctx, runID, "zzz", 1); err == nil {
		t.Error("StartWorkspace accepted a workspace outside the run")
	}
	if _, err := s.CloseRun(ctx, runID, false, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Heartbeat(ctx, runID, time.Hour); !errors.Is(err, db.ErrRunNotRunning) {
		t.Errorf("heartbeat of a closed run: %v, want ErrRunNotRunning", err)
	}
	if _, err := s.CloseRun(ctx, runID, false, ""); err == nil {
		t.Error("a run was closed twice")
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.workspace_leases`); n != 0 {
		t.Error("CloseRun left the run's leases")
	}
}

func TestAbandonDeadRuns(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	for i, w := range []string{"a", "b", "c"} {
		seedWorkspace(t, s, "inst", w, i+1)
	}
	ctx := testContext(t)
	open := func(host string, pid int, ws string) int64 {
		t.Helper()
		id, err := s.OpenRun(ctx, db.RunSpec{Trigger: "test", Host: host, PID: pid, Workspaces: []string{ws}})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := s.ClaimLease(ctx, ws, db.LeaseOwner{RunID: id, Host: host, PID: pid}, time.Hour, 0); err != nil || !res.Claimed {
			t.Fatal(res, err)
		}
		return id
	}
	deadHere := open("host-a", 111, "a")  // this host, process gone
	aliveHere := open("host-a", 222, "b") // this host, process alive
	otherHost := open("host-b", 111, "c") // another host: its pid means nothing here
	alive := func(pid int) bool { return pid == 222 }

	got, err := s.AbandonDeadRuns(ctx, "host-a", alive, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int64{deadHere}) {
		t.Fatalf("abandoned %v, want only %d", got, deadHere)
	}
	run, _ := s.Run(ctx, deadHere)
	if run.Status != db.RunAbandoned || run.FinishedAt == nil || !strings.Contains(run.Error, "process 111 on host-a is gone") {
		t.Errorf("abandoned run: %+v", run)
	}
	rws, _ := s.RunWorkspaces(ctx, deadHere)
	if rws[0].Status != db.WorkspaceCancelled || !strings.Contains(rws[0].Error, "gone") {
		t.Errorf("its workspace: %+v", rws[0])
	}
	// Its lease is free at once, without waiting for expiry.
	if res, err := s.ClaimLease(ctx, "a", db.LeaseOwner{RunID: 999, Host: "host-a", PID: 333}, time.Minute, 0); err != nil || !res.Claimed {
		t.Errorf("lease of the dead run not freed: %+v, %v", res, err)
	}

	// The other host's run goes only once its heartbeat is old, by the database clock.
	exec(t, s, `UPDATE {schema}.sync_runs SET heartbeat_at = now() - interval '2 minutes' WHERE id = $1`, otherHost)
	// Two processes sweeping at once: exactly one marks it.
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		marked []int64
	)
	for range 2 {
		wg.Go(func() {
			got, err := s.AbandonDeadRuns(ctx, "host-a", alive, time.Minute)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			marked = append(marked, got...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if !slices.Equal(marked, []int64{otherHost}) {
		t.Errorf("concurrent sweeps marked %v, want %d once", marked, otherHost)
	}
	run, _ = s.Run(ctx, otherHost)
	if !strings.Contains(run.Error, "no heartbeat from host-b (pid 111)") {
		t.Errorf("error %q", run.Error)
	}
	if run, _ := s.Run(ctx, aliveHere); run.Status != db.RunRunning {
		t.Errorf("live run became %s", run.Status)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.workspace_leases WHERE run_id = $1`, otherHost); n != 0 {
		t.Error("the stale run's lease survived")
	}
	// A dead run's late heartbeat is refused: its process must stop.
	if err := s.Heartbeat(ctx, deadHere, time.Minute); !errors.Is(err, db.ErrRunNotRunning) {
		t.Errorf("heartbeat of an abandoned run: %v", err)
	}
}

func TestCloseRunStatus(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := testContext(t)
	const (
		q  = db.WorkspaceQueued
		r  = db.WorkspaceRunning
		ok = db.WorkspaceSucceeded
		f  = db.WorkspaceFailed
		c  = db.WorkspaceCancelled
		sk = db.WorkspaceSkipped
	)
	tests := []struct {
		name        string
		statuses    []db.WorkspaceStatus
		interrupted bool
		want        db.RunStatus
	}{
		{"all succeeded", []db.WorkspaceStatus{ok, ok}, false, db.RunSucceeded},
		{"succeeded and skipped", []db.WorkspaceStatus{ok, sk}, false, db.RunSucceeded},
		{"all skipped", []db.WorkspaceStatus{sk, sk}, false, db.RunSucceeded},
		{"no workspaces", nil, false, db.RunSucceeded},
		{"some failed", []db.WorkspaceStatus{ok, f, sk}, false, db.RunPartial},
		{"some cancelled", []db.WorkspaceStatus{ok, c}, false, db.RunPartial},
		{"left queued and running", []db.WorkspaceStatus{ok, q, r}, false, db.RunPartial},
		{"all failed", []db.WorkspaceStatus{f, f}, false, db.RunFailed},
		{"failed and skipped", []db.WorkspaceStatus{f, sk}, false, db.RunFailed},
		{"only cancelled", []db.WorkspaceStatus{c}, false, db.RunFailed},
		{"never started", []db.WorkspaceStatus{q, q}, false, db.RunFailed},
		{"interrupted", []db.WorkspaceStatus{ok, ok}, true, db.RunCancelled},
		{"interrupted midway", []db.WorkspaceStatus{ok, r, q}, true, db.RunCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names := make([]string, len(tt.statuses))
			for i := range names {
				names[i] = string(rune('a' + i))
			}
			runID, err := s.OpenRun(ctx, db.RunSpec{Trigger: "test", Host: "h", PID: 1, Workspaces: names})
			if err != nil {
				t.Fatal(err)
			}
			for i, st := range tt.statuses {
				exec(t, s, `UPDATE {schema}.sync_run_workspaces SET status = $3, accounts_expected = 10,
					accounts_fetched = CASE WHEN $3 = 'succeeded' THEN 10 ELSE 0 END
					WHERE run_id = $1 AND workspace_name = $2`, runID, names[i], string(st))
			}
			sum, err := s.CloseRun(ctx, runID, tt.interrupted, "")
			if err != nil {
				t.Fatal(err)
			}
			if sum.Status != tt.want {
				t.Errorf("status %s, want %s", sum.Status, tt.want)
			}
			count := func(st ...db.WorkspaceStatus) int {
				n := 0
				for _, x := range tt.statuses {
					if slices.Contains(st, x) {
						n++
					}
				}
				return n
			}
			if sum.WorkspacesTotal != len(tt.statuses) || sum.WorkspacesSucceeded != count(ok) ||
				sum.WorkspacesFailed != count(f) || sum.WorkspacesCancelled != count(c, q, r) ||
				sum.WorkspacesSkipped != count(sk) || sum.AccountsExpected != 10*len(tt.statuses) ||
				sum.AccountsSynced != 10*count(ok) {
				t.Errorf("totals %+v", sum.Run)
			}
			for i, w := range sum.Workspaces {
				switch {
				case w.Status == q || w.Status == r:
					t.Errorf("workspace %s left %s", w.Workspace, w.Status)
				case tt.statuses[i] == q || tt.statuses[i] == r:
					if w.Status != c || !strings.Contains(w.Error, "run ended before this workspace finished") {
						t.Errorf("unfinished workspace %s became %s with reason %q", w.Workspace, w.Status, w.Error)
					}
				}
			}
		})
	}
}

func TestFinishWorkspace(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	seedWorkspace(t, s, "inst", "a", 1)
	seedWorkspace(t, s, "inst", "b", 2)
	ctx := testContext(t)
	if _, err := s.CommitWorkspace(ctx, db.CommitInput{Workspace: "a", Instance: "inst", WorkspaceID: 1,
		Accounts: makeAccounts(5, 1, 1), Expected: 5}); err != nil {
		t.Fatal(err)
	}
	rawBefore := dumpRaw(t, s)
	runID, err := s.OpenRun(ctx, db.RunSpec{Trigger: "test", Host: "h", PID: 1, Workspaces: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := s.ClaimLease(ctx, "a", db.LeaseOwner{RunID: runID, Host: "h", PID: 1}, time.Minute, 0); err != nil || !res.Claimed {
		t.Fatal(res, err)
	}
	if err := s.StartWorkspace(ctx, runID, "a", 1); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 2; attempt++ {
		if err := s.FinishWorkspace(ctx, db.WorkspaceOutcome{RunID: runID, Workspace: "a", Status: db.WorkspaceFailed,
			Error: "401 Unauthorized: the workspace key was refused", Attempts: attempt, PagesFetched: 3,
			PagesTotal: 7, AccountsExpected: 100, StartedAt: time.Now().Add(-time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FinishWorkspace(ctx, db.WorkspaceOutcome{RunID: runID, Workspace: "b", Status: db.WorkspaceSkipped,
		Error: "held by run 3 on other (pid 4) until 12:00:00"}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishWorkspace(ctx, db.WorkspaceOutcome{RunID: runID, Workspace: "b", Status: db.WorkspaceSucceeded, Error: "x"}); err == nil {
		t.Error("FinishWorkspace accepted succeeded")
	}
	if err := s.FinishWorkspace(ctx, db.WorkspaceOutcome{RunID: runID, Workspace: "b", Status: db.WorkspaceFailed}); err == nil {
		t.Error("FinishWorkspace accepted a failure without a reason")
	}

	if !equalStrings(rawBefore, dumpRaw(t, s)) {
		t.Error("FinishWorkspace touched email_accounts_raw")
	}
	ws, err := s.Workspaces(ctx, db.Selection{Names: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	a, b := ws[0], ws[1]
	if a.LastStatus != "failed" || a.ConsecutiveFailures != 2 || !strings.Contains(a.LastError, "401") ||
		a.LastSuccessAt == nil || a.LiveAccounts != 5 || a.LastDuration == nil {
		t.Errorf("a: %+v", a)
	}
	if b.LastStatus != "" || b.LastAttemptAt != nil || b.ConsecutiveFailures != 0 {
		t.Errorf("skipped b touched the registry: %+v", b)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.workspace_leases`); n != 0 {
		t.Error("FinishWorkspace did not release the lease")
	}
	sum, err := s.CloseRun(ctx, runID, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Status != db.RunFailed || sum.Workspaces[0].Attempts != 2 || sum.Workspaces[0].PagesFetched != 3 ||
		sum.Workspaces[1].Status != db.WorkspaceSkipped || sum.Workspaces[0].StartedAt == nil {
		t.Errorf("summary %+v", sum)
	}
	// A later success resets the failure count.
	if _, err := s.CommitWorkspace(ctx, db.CommitInput{Workspace: "a", Instance: "inst", WorkspaceID: 1,
		Accounts: makeAccounts(5, 1, 1), Expected: 5}); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, s, `SELECT consecutive_failures FROM {schema}.client_registry WHERE workspace_name = 'a'`); n != 0 {
		t.Errorf("consecutive_failures = %d after a success", n)
	}
}

func TestRunHistory(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	seedWorkspace(t, s, "inst", "a", 1)
	ctx := testContext(t)
	var runIDs []int64
	for range 3 {
		id, err := s.OpenRun(ctx, db.RunSpec{Trigger: "test", Host: "h", PID: 1, Workspaces: []string{"a"}})
		if err != nil {
			t.Fatal(err)
		}
		runIDs = append(runIDs, id)
	}
	runs, err := s.Runs(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].ID != runIDs[2] || runs[1].ID != runIDs[1] {
		t.Errorf("runs %v", runs)
	}
	if runs[0].WorkspacesTotal != 1 { // computed live while running
		t.Errorf("running run totals %+v", runs[0])
	}
	wr, err := s.WorkspaceRuns(ctx, "a", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(wr) != 3 || wr[0].RunID != runIDs[2] {
		t.Errorf("workspace runs %v", wr)
	}
	if _, err := s.Run(ctx, 123456); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("Run(missing) = %v", err)
	}
}

// email_accounts_view is a plain view: a commit's rows are in it the moment the commit is,
// deleted ones out, with nothing to refresh.
func TestViewIsCurrent(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	seedWorkspace(t, s, "inst", "a", 1)
	ctx := testContext(t)
	if _, err := s.CommitWorkspace(ctx, db.CommitInput{Workspace: "a", Instance: "inst", WorkspaceID: 1,
		Accounts: makeAccounts(5, 1, 1), Expected: 5}); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.email_accounts_view`); n != 5 {
		t.Errorf("view holds %d rows after the first commit, want 5", n)
	}
	if _, err := s.CommitWorkspace(ctx, db.CommitInput{Workspace: "a", Instance: "inst", WorkspaceID: 1,
		Accounts: makeAccounts(3, 1, 7), Expected: 3, ConfirmedAbsent: []int64{4, 5}}); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.email_accounts_view`); n != 3 {
		t.Errorf("view holds %d rows, want the 3 live ones", n)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.email_accounts_view WHERE emails_sent_count = 7`); n != 3 {
		t.Errorf("view shows %d rows with the new counter, want 3", n)
	}
}
