package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/db"
)

// With no run of its own, the console follows a run of another process from the database,
// poll after poll, says whose it is, refuses to cancel it, and sees it end.
func TestFollowsARunOfAnotherProcess(t *testing.T) {
	b := &fakeBackend{workspaces: fleetRegistry(), runRows: map[int64][]db.RunWorkspace{}}
	start := testNow.Add(-10 * time.Second)
	run := db.Run{ID: 70, StartedAt: start, Status: db.RunRunning, Trigger: "headless", Host: "cron-1", PID: 4711,
		HeartbeatAt: ptr(testNow.Add(-time.Second)), WorkspacesTotal: 2}
	b.runs = []db.Run{run}
	b.runRows[70] = []db.RunWorkspace{
		{RunID: 70, Workspace: "Apex Growth", Status: db.WorkspaceRunning, Attempts: 1, PagesFetched: 3, PagesTotal: 8,
			AccountsExpected: 120, AccountsFetched: 45, StartedAt: ptr(start)},
		{RunID: 70, Workspace: "Blue Ridge", Status: db.WorkspaceQueued},
	}
	h := newHarness(t, b, 120, 30)
	h.mustShow("following run #70 (cron-1) 0/2", "» following run #70 of host cron-1 (trigger headless)")
	h.key("2")
	h.mustShow("Run #70 · trigger headless · host cron-1 (pid 4711) · heartbeat 1s ago", "» running",
		"1 fetching, 1 queued", "accounts 0 synced + 45 in flight of ~312", "3/8", "45 acc", "following run #70 of headless on cron-1")

	// The other process goes on: the next poll shows it.
	b.mu.Lock()
	b.runRows[70] = []db.RunWorkspace{
		{RunID: 70, Workspace: "Apex Growth", Status: db.WorkspaceSucceeded, Attempts: 1, PagesFetched: 8, PagesTotal: 8,
			AccountsExpected: 120, AccountsFetched: 120, AccountsUpserted: 120, StartedAt: ptr(start), FinishedAt: ptr(testNow.Add(-2 * time.Second)),
			Duration: ptr(8 * time.Second)},
		{RunID: 70, Workspace: "Blue Ridge", Status: db.WorkspaceRunning, Attempts: 1, PagesFetched: 2, PagesTotal: 13,
			AccountsExpected: 192, AccountsFetched: 30, StartedAt: ptr(testNow.Add(-2 * time.Second))},
	}
	b.mu.Unlock()
	h.send(pollMsg{})
	h.mustShow("workspaces 1/2 done: 1 ok", "accounts 120 synced + 30 in flight of 312", "2/13", "120 accounts · 8 pages · 8s")
	h.key("1")
	if line := h.line("Blue Ridge"); !strings.Contains(line, "» 2/13") {
		t.Errorf("Blue Ridge's row while another process syncs it: %q", line)
	}

	// It cannot be cancelled from here, and the console says so.
	h.key("x")
	h.mustShow("run #70 belongs to another process (trigger headless, host cron-1, pid 4711): it cannot be cancelled")
	if h.m.confirm != nil {
		t.Fatal("x offered to cancel another process's run")
	}

	// It ends: the console says so and reads the registry again.
	reads := h.b.reads
	b.mu.Lock()
	rows := b.runRows[70]
	rows[1].Status, rows[1].PagesFetched, rows[1].AccountsFetched, rows[1].FinishedAt = db.WorkspaceSucceeded, 13, 192, ptr(testNow)
	run.Status, run.FinishedAt, run.WorkspacesSucceeded, run.AccountsSynced = db.RunSucceeded, ptr(testNow), 2, 312
	b.runs = []db.Run{run}
	b.mu.Unlock()
	h.send(pollMsg{})
	h.mustShow("run #70 (headless on cron-1) finished: ✓ succeeded")
	if h.b.reads <= reads {
		t.Error("the registry was not read again after the followed run ended")
	}
	h.key("2")
	h.mustShow("Run #70", "✓ succeeded", "accounts 312 synced of 312", "run #70 finished: ✓ succeeded")
}

// The console's own run is not followed as another process's, and a finished followed run
// stays on screen until the next one.
func TestOwnRunIsNotFollowed(t *testing.T) {
	h := newFleetHarness(t)
	h.b.script = scriptedRun(71, "", "")
	h.key("enter")
	h.b.mu.Lock()
	h.b.runs = []db.Run{{ID: 71, StartedAt: testNow, Status: db.RunRunning, Trigger: "tui", Host: "here"}}
	h.b.runRows = map[int64][]db.RunWorkspace{71: {{RunID: 71, Workspace: "Apex Growth", Status: db.WorkspaceRunning}}}
	h.b.mu.Unlock()
	h.send(pollMsg{})
	if h.m.run.foreign != nil {
		t.Fatal("the console followed its own run as another process's")
	}
}
