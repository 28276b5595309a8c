package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// instancesFixture are the fleet's two instances as bison_instances keeps them: bison-main
// capped at 8 in flight with a pace learnt by an earlier run, bison-two with neither.
func instancesFixture() []db.Instance {
	return []db.Instance{
		{Name: "bison-main", MaxConcurrency: ptr(8), LearnedRequestsPerSecond: ptr(4.5), LearnedInFlight: ptr(6), InUse: true},
		{Name: "bison-two", InUse: true},
		{Name: "retired"}, // no active workspace: not shown
	}
}

// pacedRun is a run whose engine slows bison-main after a 429 with Retry-After 2s, then
// waits for the test to let it speed up again (more) and to end (end).
func pacedRun(more, end <-chan struct{}) func(ctx context.Context, req sync.Request) (sync.Summary, error) {
	return func(ctx context.Context, req sync.Request) (sync.Summary, error) {
		emit := req.Observer
		emit(sync.RunStarted{RunID: 40, At: testNow, Trigger: "tui", Workspaces: []sync.PlannedWorkspace{
			{Name: "Apex Growth", Instance: "bison-main", Estimated: 120}, {Name: "Blue Ridge", Instance: "bison-main", Estimated: 192}}})
		emit(sync.WorkspaceStarted{Workspace: "Apex Growth", Attempt: 1, At: testNow})
		emit(sync.PageFetched{Workspace: "Apex Growth", Pass: 1, Page: 1, LastPage: 8, PagesFetched: 1, Accounts: 15, Total: 120})
		emit(sync.PaceChanged{Instance: "bison-main", From: sync.Pace{RequestsPerSecond: 4.5, InFlight: 6},
			To: sync.Pace{RequestsPerSecond: 3.2, InFlight: 4}, Reason: "HTTP 429 (Retry-After 2s)", At: testNow})
		emit(sync.Waiting{Workspace: "Apex Growth", Instance: "bison-main", For: sync.WaitInstancePaused, Detail: "HTTP 429",
			Until: testNow.Add(2 * time.Second)})
		emit(sync.WorkspaceStarted{Workspace: "Blue Ridge", Attempt: 1, At: testNow})
		select {
		case <-more:
		case <-ctx.Done():
		}
		emit(sync.PaceChanged{Instance: "bison-main", From: sync.Pace{RequestsPerSecond: 3.2, InFlight: 4},
			To: sync.Pace{RequestsPerSecond: 3.8, InFlight: 5}, Reason: "no 429 for 8s", At: testNow.Add(10 * time.Second)})
		select {
		case <-end:
		case <-ctx.Done():
		}
		s := sync.Summary{RunID: 40, Status: db.RunCancelled, Interrupted: true}
		emit(sync.RunFinished{Summary: s})
		return s, ctx.Err()
	}
}

// Each instance's pace is shown, this run's while it goes and the learnt one otherwise, with
// a throttled marker while a Retry-After pause holds it or after a 429 slowed it, until the
// engine speeds it up again (issue 11).
func TestInstancesShowTheirPaceAndWhenThrottled(t *testing.T) {
	h := newHarness(t, &fakeBackend{workspaces: fleetRegistry(), instances: instancesFixture()}, 170, 34)
	if line := h.line("last runs:"); !strings.Contains(line, "instance bison-main: pace learnt 4.5 req/s, 6 in flight; limits ≤8 in flight") {
		t.Errorf("idle, the detail pane gives the learnt pace: %q", line)
	}
	more, end := make(chan struct{}), make(chan struct{})
	h.b.script = pacedRun(more, end)
	h.press("enter")
	h.pumpUntil("the pause arrives", func() bool { return h.m.run != nil && len(h.m.run.pauses) == 1 && len(h.m.run.active) == 2 })
	h.mustShow("instances bison-main 3.2 req/s, 4 in flight ↓ throttled: paused 2s more after HTTP 429 on Apex Growth",
		"bison-two no client-side limit, no pace learnt yet",
		"↓ instance bison-main slowed to 3.2 req/s, 4 in flight after HTTP 429 (Retry-After 2s)",
		"waiting for page 1: bison-main paused after HTTP 429 on Apex Growth, 2s left")
	h.mustNotShow("retired")
	h.press("1")
	if line := h.line("last runs:"); !strings.Contains(line, "instance bison-main: ↓ throttled: paused 2s more") {
		t.Errorf("the detail pane during the pause: %q", line)
	}

	// The pause is over; the instance stays throttled at its slower pace.
	h.m.cfg.clock = func() time.Time { return testNow.Add(3 * time.Second) }
	h.press("2")
	h.mustShow("instances bison-main 3.2 req/s, 4 in flight ↓ throttled since " + clock(testNow) + ": HTTP 429 (Retry-After 2s)")
	h.mustNotShow("paused 2s more")

	// The engine speeds it up again: no longer throttled.
	close(more)
	h.pumpUntil("the pace rises", func() bool { return h.m.run.paces["bison-main"].pace.InFlight == 5 })
	h.mustShow("instances bison-main 3.8 req/s, 5 in flight ↗ speeding up", "↗ instance bison-main sped up to 3.8 req/s, 5 in flight (no 429 for 8s)")
	h.mustNotShow("↓ throttled since")

	// After the run, the pace is what bison_instances keeps.
	h.b.mu.Lock()
	h.b.instances[0].LearnedRequestsPerSecond, h.b.instances[0].LearnedInFlight = ptr(3.8), ptr(5)
	h.b.mu.Unlock()
	close(end)
	h.pumpUntil("the run ends", func() bool { return !h.m.running })
	h.settle()
	h.mustShow("instances bison-main learnt 3.8 req/s, 5 in flight · bison-two")
	h.mustNotShow("speeding up", "throttled")
	h.key("?")
	h.mustShow("↓ throttled: the instance asked for a pause", "↗ speeding up")
}

// The run waits for the database, and says so until the engine writes again.
func TestRunViewSaysWhenTheRunWaitsForTheDatabase(t *testing.T) {
	h := newFleetHarness(t)
	next := make(chan struct{})
	h.b.script = func(ctx context.Context, req sync.Request) (sync.Summary, error) {
		emit := req.Observer
		emit(sync.RunStarted{RunID: 41, At: testNow, Workspaces: []sync.PlannedWorkspace{{Name: "Apex Growth", Instance: "bison-main"}}})
		emit(sync.Waiting{For: sync.WaitDatabase, Detail: "db.example:5432: connection refused", Until: testNow.Add(45 * time.Second)})
		select {
		case <-next:
		case <-ctx.Done():
		}
		emit(sync.WorkspaceStarted{Workspace: "Apex Growth", Attempt: 1, At: testNow})
		<-ctx.Done()
		s := sync.Summary{RunID: 41, Status: db.RunCancelled, Interrupted: true}
		emit(sync.RunFinished{Summary: s})
		return s, nil
	}
	h.press("enter")
	h.pumpUntil("the wait arrives", func() bool { return h.m.run != nil && h.m.run.dbWait != nil })
	h.mustShow("~ waiting for the database (up to 45s more)",
		"~ the database is unreachable (db.example:5432: connection refused): the run waits for it up to 45s")
	close(next)
	h.pumpUntil("the workspace starts", func() bool { return len(h.m.run.active) == 1 })
	h.mustNotShow("waiting for the database (")
	h.press("x")
	h.press("y")
	h.pumpUntil("the run ends", func() bool { return !h.m.running })
}

// Requests other programs left in sync_requests are shown while open, and the runs they
// started say who asked, in History and in the Run view of a followed run (issue 13).
func TestRequestsAndTheRunsTheyStarted(t *testing.T) {
	b := &fakeBackend{workspaces: fleetRegistry(), runRows: map[int64][]db.RunWorkspace{}}
	start := testNow.Add(-5 * time.Second)
	b.runs = []db.Run{
		{ID: 51, StartedAt: start, Status: db.RunRunning, Trigger: "request", Host: "cron-1", PID: 4711, WorkspacesTotal: 1},
		{ID: 50, StartedAt: testNow.Add(-time.Hour), FinishedAt: ptr(testNow.Add(-59 * time.Minute)), Status: db.RunSucceeded, Trigger: "headless", Host: "cron-1"},
	}
	b.runRows[51] = []db.RunWorkspace{{RunID: 51, Workspace: "Apex Growth", Status: db.WorkspaceRunning, Attempts: 1,
		PagesFetched: 2, PagesTotal: 8, StartedAt: ptr(start)}}
	b.syncReqs = []db.RequestRecord{
		{ID: 15, RequestedBy: "dashboard", Status: db.RequestPending, RequestedAt: ago(12 * time.Second)},
		{ID: 14, RequestedBy: "dashboard", Workspace: "Apex Growth", Status: db.RequestRunning, RunID: 51, ClaimedBy: "cron-1:4711"},
		{ID: 13, RequestedBy: "ops \x1b[31mscript", Workspace: "Nope", Status: db.RequestRefused, Error: "not in client_registry"},
	}
	h := newHarness(t, b, 140, 30)
	h.mustShow("requests (2 open) » running #14 Apex Growth by dashboard → run #51; · pending #15 every workspace by dashboard, asked 12s ago")
	h.mustNotShow("#13", "\x1b[31m")

	h.key("2")
	h.mustShow("Run #51 · trigger request · host cron-1 (pid 4711) · asked by dashboard (request #14)")

	h.key("3")
	if line := h.line("#51  "); !strings.Contains(line, "request") || !strings.Contains(line, "cron-1 ⇠ dashboard") {
		t.Errorf("the requested run in History: %q", line)
	}
	if line := h.line("#50  "); strings.Contains(line, "⇠") {
		t.Errorf("a run nobody asked for: %q", line)
	}
	h.key("enter")
	h.mustShow("asked by dashboard (request #14)")

	// Served: the strip goes away.
	b.mu.Lock()
	b.syncReqs[0].Status, b.syncReqs[0].RunID = db.RequestDone, 52
	b.syncReqs[1].Status = db.RequestDone
	b.mu.Unlock()
	h.key("esc")
	h.send(pollMsg{})
	h.key("1")
	h.mustNotShow("requests (")
}
