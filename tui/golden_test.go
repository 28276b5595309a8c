package tui

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// Golden screens of the console's pictures, as plain text, at 80x24 and 120x40: a fixed
// clock, fixed data from the fake backend, times shown in UTC. Regenerate them with
//
//	go test ./tui/ -run Golden -update
//
// (-update is the flag teatest's golden package defines; this file reads the same one.)
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// golden compares the model's screen with testdata/golden/name.txt.
func golden(t *testing.T, h *harness, name string) {
	t.Helper()
	got := strings.Join(h.screen(), "\n") + "\n"
	path := filepath.Join("testdata", "golden", name+".txt")
	if updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("screen %s differs from %s (run with -update to accept):\n--- got\n%s--- want\n%s", name, path, got, want)
	}
}

// utc shows moments in UTC for the test, so the golden screens do not depend on the machine.
func utc(t *testing.T) {
	old := zone
	zone = time.UTC
	t.Cleanup(func() { zone = old })
}

var goldenSizes = [][2]int{{80, 24}, {120, 40}}

// jasonRuns is Jason Binyon's last twelve runs, newest first: a slow failing stretch (the
// batch deadline), then the fix.
func jasonRuns() []db.RunWorkspace {
	var rows []db.RunWorkspace
	for i := range 12 {
		id := int64(40 - i)
		start := testNow.Add(-time.Duration(i) * 24 * time.Hour)
		w := db.RunWorkspace{RunID: id, Workspace: "Jason Binyon", Attempts: 1, PagesTotal: 29, AccountsExpected: 433,
			StartedAt: ptr(start), FinishedAt: ptr(start.Add(4 * time.Second))}
		switch {
		case i < 3: // fixed: fast and complete
			w.Status, w.PagesFetched, w.AccountsFetched, w.AccountsUpserted = db.WorkspaceSucceeded, 29, 433-i*3, 433-i*3
			w.Duration = ptr(time.Duration(3800+i*150) * time.Millisecond)
		case i == 5:
			w.Status, w.Error, w.Duration = db.WorkspaceCancelled, "cancelled: interrupted by SIGTERM before this workspace finished", ptr(20*time.Second)
		default: // the incident: the batch deadline cut it at page 20
			w.Status, w.Attempts, w.PagesFetched, w.AccountsFetched = db.WorkspaceFailed, 3, 20, 300
			w.Duration = ptr(time.Duration(90+i) * time.Second)
			w.Error = "context deadline exceeded (batch deadline hit at page 20 of 29)"
		}
		rows = append(rows, w)
	}
	return rows
}

func TestGoldenHistorySparklines(t *testing.T) {
	utc(t)
	for _, size := range goldenSizes {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			b := historyBackend()
			b.wsRuns["Jason Binyon"] = jasonRuns()
			h := newHarness(t, b, size[0], size[1])
			for range 3 {
				h.key("down")
			}
			h.key("h")
			h.mustShow("accounts", "duration", "outcomes")
			golden(t, h, fmt.Sprintf("history-sparklines-%dx%d", size[0], size[1]))
		})
	}
}

// timelineRun plays a run of five workspaces on one instance through the model, with the
// times the engine would have: Apex with its own key, the three others one at a time on the
// super-admin key (a staircase), a 429 that pauses the instance for two seconds, a
// workspace retried after a 503, one failure.
func timelineRun(h *harness) {
	t0 := testNow.Add(-40 * time.Second)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	r := newRunState("full sync", t0)
	names := []string{"Apex Growth", "Blue Ridge", "Cobalt Recruiting", "Jason Binyon", "Zeta Labs"}
	var plan []sync.PlannedWorkspace
	for _, n := range names {
		plan = append(plan, sync.PlannedWorkspace{Name: n, Instance: "bison-main", Estimated: 120})
	}
	page := func(n string, s float64, p, last int) {
		r.apply(sync.PageFetched{Workspace: n, Pass: 1, Page: p, LastPage: last, PagesFetched: p, Accounts: p * 15, Total: last * 15}, at(s))
	}
	done := func(n string, s float64, st db.WorkspaceStatus, msg string) {
		r.apply(sync.WorkspaceFinished{Result: sync.WorkspaceResult{Name: n, Status: st, Attempts: 1, PagesFetched: 8, PagesTotal: 8,
			AccountsExpected: 120, AccountsFetched: 120, Error: msg}}, at(s))
	}
	r.apply(sync.RunStarted{RunID: 50, At: t0, Trigger: "tui", Workspaces: plan}, t0)
	r.apply(sync.WorkspaceStarted{Workspace: "Apex Growth", Attempt: 1, At: at(0)}, at(0))
	r.apply(sync.WorkspaceStarted{Workspace: "Blue Ridge", Attempt: 1, At: at(0)}, at(0))
	page("Apex Growth", 1, 1, 8)
	r.apply(sync.Retrying{Workspace: "Apex Growth", Scope: sync.ScopeRequest, Op: "list page 2", Attempt: 1, Reason: "HTTP 429", Wait: 6 * time.Second}, at(2))
	page("Blue Ridge", 8, 1, 8)
	page("Apex Growth", 9, 4, 8)
	page("Blue Ridge", 12, 8, 8)
	done("Blue Ridge", 14, db.WorkspaceSucceeded, "")
	page("Apex Growth", 13, 8, 8)
	done("Apex Growth", 15, db.WorkspaceSucceeded, "")
	r.apply(sync.WorkspaceStarted{Workspace: "Cobalt Recruiting", Attempt: 1, At: at(14)}, at(14))
	page("Cobalt Recruiting", 15, 3, 8)
	r.apply(sync.Retrying{Workspace: "Cobalt Recruiting", Scope: sync.ScopeWorkspace, Op: "attempt 1", Attempt: 1, Reason: "HTTP 503", Wait: 4 * time.Second}, at(18))
	r.apply(sync.WorkspaceStarted{Workspace: "Cobalt Recruiting", Attempt: 2, At: at(22)}, at(22))
	page("Cobalt Recruiting", 24, 8, 8)
	done("Cobalt Recruiting", 26, db.WorkspaceSucceeded, "")
	r.apply(sync.WorkspaceStarted{Workspace: "Jason Binyon", Attempt: 1, At: at(26)}, at(26))
	page("Jason Binyon", 28, 10, 29)
	done("Jason Binyon", 34, db.WorkspaceFailed, "the API key …abcd was rejected (HTTP 401)")
	r.apply(sync.WorkspaceStarted{Workspace: "Zeta Labs", Attempt: 1, At: at(34)}, at(34))
	page("Zeta Labs", 35, 1, 1)
	done("Zeta Labs", 36, db.WorkspaceSucceeded, "")
	r.apply(sync.RunFinished{Summary: sync.Summary{RunID: 50, Status: db.RunPartial, StartedAt: t0, DurationMS: 36000,
		WorkspacesTotal: 5, WorkspacesSucceeded: 4, WorkspacesFailed: 1, AccountsSynced: 480}}, at(36))
	h.m.run = r
	h.m.runTimeline = true
	h.key("2")
}

func TestGoldenRunTimeline(t *testing.T) {
	utc(t)
	for _, size := range goldenSizes {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			h := newHarness(t, &fakeBackend{workspaces: fleetRegistry()}, size[0], size[1])
			timelineRun(h)
			h.mustShow("Run #50", "█", "↻", "✗")
			golden(t, h, fmt.Sprintf("run-timeline-%dx%d", size[0], size[1]))
		})
	}
}

// A past run's timeline comes from its sync_run_workspaces rows.
func TestGoldenPastRunTimeline(t *testing.T) {
	utc(t)
	for _, size := range goldenSizes {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			b := historyBackend()
			start := b.runs[0].StartedAt
			sec := func(s int) *time.Time { return ptr(start.Add(time.Duration(s) * time.Second)) }
			b.runRows[12] = []db.RunWorkspace{
				{RunID: 12, Workspace: "Apex Growth", Status: db.WorkspaceSucceeded, StartedAt: sec(0), FinishedAt: sec(2), Duration: ptr(2 * time.Second)},
				{RunID: 12, Workspace: "Blue Ridge", Status: db.WorkspaceSucceeded, StartedAt: sec(2), FinishedAt: sec(4), Duration: ptr(2 * time.Second)},
				{RunID: 12, Workspace: "Cobalt Recruiting", Status: db.WorkspaceSucceeded, StartedAt: sec(4), FinishedAt: sec(5), Duration: ptr(time.Second)},
				{RunID: 12, Workspace: "Jason Binyon", Status: db.WorkspaceFailed, StartedAt: sec(0), FinishedAt: sec(8), Duration: ptr(8 * time.Second)},
				{RunID: 12, Workspace: "Zeta Labs", Status: db.WorkspaceSkipped, FinishedAt: sec(0)},
			}
			h := newHarness(t, b, size[0], size[1])
			h.key("3")
			h.key("enter")
			h.key("v")
			h.mustShow("Run #12", "fetching")
			golden(t, h, fmt.Sprintf("past-run-timeline-%dx%d", size[0], size[1]))
		})
	}
}

// The age of the last success carries a heat cell: ▁ just synced, █ at the stale age.
func TestAgeOfTheLastSuccessHasAHeatCell(t *testing.T) {
	h := newFleetHarness(t)
	for name, want := range map[string]string{"Apex Growth": "2h ▁", "Blue Ridge": "30h █", "Zeta Labs": "45s ▁", "Cobalt Recruiting": "never"} {
		if line := h.line(name); !strings.Contains(line, want) {
			t.Errorf("%s's row lacks %q: %q", name, want, line)
		}
	}
	b := &fakeBackend{workspaces: []db.Workspace{{Name: "Half Way", Instance: "bison-main", LastSuccessAt: ago(13 * time.Hour),
		LastAttemptAt: ago(13 * time.Hour), LastStatus: db.WorkspaceSucceeded}}}
	if line := newHarness(t, b, 100, 30).line("Half Way"); !strings.Contains(line, "13h ▄") {
		t.Errorf("half-way row: %q", line)
	}
}

// Every run in History has a bar of its duration, the longest filling the column.
func TestHistoryRunsHaveDurationBars(t *testing.T) {
	h := newHarness(t, historyBackend(), 120, 30)
	h.key("3")
	if line := h.line("#12 "); !strings.Contains(line, strings.Repeat("▬", 12)) {
		t.Errorf("the longest run's bar: %q", line)
	}
	if line := h.line("#11 "); !strings.Contains(line, strings.Repeat("▬", 8)) || strings.Contains(line, strings.Repeat("▬", 9)) {
		t.Errorf("a run of 5s against 8s: %q", line)
	}
}
