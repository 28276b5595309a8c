package tui

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

func newFleetHarness(t *testing.T) *harness {
	t.Helper()
	return newHarness(t, &fakeBackend{workspaces: fleetRegistry()}, 120, 30)
}

func TestWorkspacesViewShowsCountsAgesAndStatuses(t *testing.T) {
	h := newFleetHarness(t)
	h.mustShow("5 workspaces", "! 1 stale", "✗ 1 failing", "? 1 never synced", "687 accounts (API 687+)",
		"db db.example:5432/bison schema test", "no run recorded yet", "DEMO banner line")
	h.mustNotShow("\x1b[31m")
	cases := []struct{ name, accounts, age, status string }{
		{"Apex Growth", "120/120", "2h", "✓ ok"},
		{"Blue Ridge", "192/192", "30h", "! stale"},
		{"Jason Binyon", "360/360", "18d", "✗ failing"},
		{"Cobalt Recruiting", "0/-", "never", "? never"},
		{"Zeta Labs", "15/15", "45s", "✓ ok"},
	}
	for _, c := range cases {
		line := h.line(c.name)
		for _, want := range []string{c.accounts, c.age, c.status} {
			if !strings.Contains(line, want) {
				t.Errorf("row of %s lacks %q: %q", c.name, want, line)
			}
		}
	}
	// The failing row shows its error, shortened, and the detail line the workspace under
	// the cursor.
	if line := h.line("Jason Binyon"); !strings.Contains(line, "context deadline exceeded") || !strings.Contains(line, "…") {
		t.Errorf("failing row should show its error shortened: %q", line)
	}
	h.mustShow("Apex Growth · bison-main · Bison id 9")
}

func TestEveryViewFitsTheTerminal(t *testing.T) {
	h := newFleetHarness(t)
	h.b.script = scriptedRun(3, "Jason Binyon", "the API key …abcd was rejected (HTTP 401)")
	h.key("S")
	h.key("y")
	for _, size := range [][2]int{{80, 24}, {100, 30}, {200, 60}} {
		h.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		for _, v := range []string{"1", "2", "3"} {
			h.key(v)
			lines := strings.Split(h.m.View().Content, "\n")
			if len(lines) != size[1] {
				t.Errorf("view %s at %dx%d: %d lines", v, size[0], size[1], len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > size[0] {
					t.Errorf("view %s at %dx%d: line %d is %d wide: %q", v, size[0], size[1], i, w, ansi.Strip(l))
				}
			}
		}
	}
}

func TestTooSmallSaysSo(t *testing.T) {
	h := newFleetHarness(t)
	h.send(tea.WindowSizeMsg{Width: 60, Height: 20})
	h.mustShow("60x20", "needs at least", "80x24")
	h.mustNotShow("WORKSPACE")
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.mustShow("WORKSPACE", "Apex Growth")
}

func TestCursorSortAndSelectionSurviveRefresh(t *testing.T) {
	h := newFleetHarness(t)
	h.key("down") // Blue Ridge
	h.key("space")
	if !h.m.ws.selected["Blue Ridge"] {
		t.Fatal("space did not select the workspace under the cursor")
	}
	h.key("down") // space moved the cursor down: now Jason Binyon
	if got := h.m.ws.cursorName(); got != "Jason Binyon" {
		t.Fatalf("cursor on %q", got)
	}
	sortOn(h, sortStatus) // failing first
	if got := h.m.ws.cursorName(); got != "Jason Binyon" {
		t.Fatalf("after sorting the cursor is on %q", got)
	}
	order := visibleNames(h)
	if want := []string{"Jason Binyon", "Cobalt Recruiting", "Blue Ridge", "Apex Growth", "Zeta Labs"}; !slices.Equal(order, want) {
		t.Fatalf("status order %v, want %v", order, want)
	}
	h.mustShow("sorted by status")

	// A refresh that adds a workspace keeps the cursor on the same one and the selection.
	h.b.mu.Lock()
	h.b.workspaces = append(h.b.workspaces, db.Workspace{Name: "Aardvark", Instance: "bison-main", BisonID: 1, IsActive: true})
	h.b.mu.Unlock()
	h.key("r")
	if got := h.m.ws.cursorName(); got != "Jason Binyon" {
		t.Fatalf("after a refresh the cursor is on %q", got)
	}
	if !h.m.ws.selected["Blue Ridge"] || len(h.m.ws.selected) != 1 {
		t.Fatalf("selection after refresh: %v", h.m.ws.selected)
	}
	h.mustShow("6 workspaces", "Aardvark")
	if line := h.line("Blue Ridge"); !strings.Contains(line, symSelected) {
		t.Fatalf("selected row lacks its mark: %q", line)
	}

	sortOn(h, sortAge) // never first, then oldest
	if order := visibleNames(h); order[0] != "Aardvark" && order[0] != "Cobalt Recruiting" || order[2] != "Jason Binyon" {
		t.Fatalf("age order %v", order)
	}
	sortOn(h, sortAccounts) // largest first
	if order := visibleNames(h); order[0] != "Jason Binyon" || order[1] != "Blue Ridge" {
		t.Fatalf("accounts order %v", order)
	}
}

// sortOn presses o until the workspaces are sorted on col (in its first direction).
func sortOn(h *harness, col sortCol) {
	h.t.Helper()
	for range numSortCols {
		if h.m.ws.sort.col == col {
			return
		}
		h.key("o")
	}
	h.t.Fatalf("o never sorted on %s", col)
}

func visibleNames(h *harness) []string {
	var out []string
	for _, i := range h.m.ws.visible {
		out = append(out, h.m.ws.rows[i].ws.Name)
	}
	return out
}

func TestFilterByName(t *testing.T) {
	h := newFleetHarness(t)
	h.key("/")
	h.mustShow("filter: words of the name")
	h.key("B")
	h.key("l")
	h.mustShow("/ Bl", "1 of 5 shown", "Blue Ridge")
	h.mustNotShow("Apex Growth")
	h.key("enter") // keep the filter, leave the line
	if h.m.ws.editing() || h.m.ws.input.Value() != "Bl" {
		t.Fatalf("editing %v filter %q", h.m.ws.editing(), h.m.ws.input.Value())
	}
	h.key("esc") // clears it
	h.mustShow("Apex Growth", "Blue Ridge")
	h.key("/")
	h.key("z")
	h.key("z")
	h.key("z")
	h.mustShow("No workspace matches the filter")
	h.key("esc")
	h.mustShow("Apex Growth")
}

func TestEnterSyncsTheWorkspaceUnderTheCursor(t *testing.T) {
	h := newFleetHarness(t)
	h.b.script = scriptedRun(7, "", "")
	h.key("down")
	h.key("down")
	h.key("down")
	h.key("enter")
	req := h.b.lastRequest(t)
	if !slices.Equal(req.Names, []string{"Jason Binyon"}) || req.StaleFor != 0 {
		t.Fatalf("request %+v", req)
	}
	if h.m.view != viewRun {
		t.Fatal("starting a run should show it")
	}
	h.mustShow("Run #7 · Jason Binyon", "✓ succeeded", "workspaces 1/1 done: 1 ok", "DONE (1)", "30 accounts · 2 pages",
		"run #7 finished: ✓ succeeded")
	if h.b.reads < 2 {
		t.Fatal("the registry was not re-read after the run")
	}
}

func TestSelectionIsSyncedAndCleared(t *testing.T) {
	h := newFleetHarness(t)
	h.b.script = scriptedRun(8, "", "")
	h.key("s")
	h.mustShow("nothing selected")
	if h.b.numRequests() != 0 {
		t.Fatal("s with nothing selected started a run")
	}
	h.key("space") // Apex Growth
	h.key("down")  // skip Blue Ridge
	h.key("space") // Cobalt Recruiting
	h.key("s")
	if req := h.b.lastRequest(t); !slices.Equal(req.Names, []string{"Apex Growth", "Cobalt Recruiting"}) {
		t.Fatalf("request names %v", req.Names)
	}
	if len(h.m.ws.selected) != 0 {
		t.Fatal("the selection should be cleared once synced")
	}
	h.mustShow("2 selected workspaces")
}

func TestFullSyncAsksFirst(t *testing.T) {
	h := newFleetHarness(t)
	h.b.script = scriptedRun(9, "", "")
	h.key("S")
	h.mustShow("Full sync: sync all 5 active workspaces now?", "[y/n]")
	h.key("n")
	if h.b.numRequests() != 0 {
		t.Fatal("n started the run")
	}
	h.mustShow("not done")
	h.key("S")
	h.key("y")
	req := h.b.lastRequest(t)
	if req.Names != nil || req.StaleFor != 0 {
		t.Fatalf("a full sync names no workspace: %+v", req)
	}
	h.mustShow("Run #9 · full sync", "workspaces 5/5 done")
}

func TestStaleSyncNamesWhatTheConsoleShows(t *testing.T) {
	h := newFleetHarness(t)
	h.b.script = scriptedRun(10, "", "")
	h.key("t")
	req := h.b.lastRequest(t)
	got := slices.Sorted(slices.Values(req.Names))
	if want := []string{"Blue Ridge", "Cobalt Recruiting", "Jason Binyon"}; !slices.Equal(got, want) {
		t.Fatalf("t synced %v, want the stale, failing and never-synced %v", got, want)
	}
	h.mustShow("3 stale, failing or never-synced workspaces")

	// Nothing to do: says so.
	fresh := fleetRegistry()[:1]
	h2 := newHarness(t, &fakeBackend{workspaces: fresh}, 100, 30)
	h2.key("t")
	h2.mustShow("nothing is stale, failing or never synced")
	if h2.b.numRequests() != 0 {
		t.Fatal("t started a run with nothing to do")
	}
}

// blockingRun emits a run start and one active workspace, then waits for release or ctx.
func blockingRun(id int64, release <-chan struct{}) func(ctx context.Context, req sync.Request) (sync.Summary, error) {
	return func(ctx context.Context, req sync.Request) (sync.Summary, error) {
		emit := req.Observer
		emit(sync.RunStarted{RunID: id, At: testNow, Trigger: "tui", Workspaces: []sync.PlannedWorkspace{
			{Name: "Apex Growth", Instance: "bison-main", Estimated: 120}, {Name: "Blue Ridge", Instance: "bison-main", Estimated: 192}}})
		emit(sync.WorkspaceStarted{Workspace: "Apex Growth", Attempt: 1, At: testNow})
		emit(sync.PageFetched{Workspace: "Apex Growth", Pass: 1, Page: 3, LastPage: 8, PagesFetched: 3, Accounts: 45, Total: 120})
		emit(sync.Retrying{Workspace: "Apex Growth", Scope: sync.ScopeRequest, Op: "list page 4", Attempt: 1, Reason: "HTTP 429", Wait: 2 * time.Second})
		s := sync.Summary{RunID: id, Trigger: "tui", StartedAt: testNow, WorkspacesTotal: 2}
		select {
		case <-release:
			s.Status = "succeeded"
		case <-ctx.Done():
			// What the engine does on cancellation: every unfinished workspace recorded as
			// cancelled, with the cause.
			time.Sleep(20 * time.Millisecond)
			reason := "cancelled: " + context.Cause(ctx).Error() + " before this workspace finished"
			for _, n := range []string{"Apex Growth", "Blue Ridge"} {
				r := sync.WorkspaceResult{Name: n, Status: db.WorkspaceCancelled, Error: reason}
				emit(sync.WorkspaceFinished{Result: r})
				s.Workspaces = append(s.Workspaces, r)
			}
			s.Status, s.Interrupted, s.WorkspacesCancelled, s.Error = "cancelled", true, 2, reason
		}
		emit(sync.RunFinished{Summary: s})
		return s, nil
	}
}

func TestRunViewShowsProgressRetriesAndLog(t *testing.T) {
	h := newFleetHarness(t)
	release := make(chan struct{})
	h.b.script = blockingRun(11, release)
	h.press("enter")
	h.pumpUntil("the first events arrive", func() bool { return h.m.run != nil && h.m.run.pages == 3 })
	h.mustShow("Run #11 · Apex Growth", "» running", "workspaces 0/2 done", "1 fetching, 1 queued",
		"accounts 0 synced + 45 in flight of ~312", "pages 3", "IN PROGRESS", "3/8", "45 acc", "try 1",
		"HTTP 429, retrying in 2s (list page 4)", "Apex Growth: list page 4: HTTP 429, retrying in 2s (try 1)")
	line := h.line("3/8")
	if !strings.Contains(line, "█") || !strings.Contains(line, "░") {
		t.Errorf("active line lacks a progress bar: %q", line)
	}
	// While it runs, the workspaces view shows the workspace as running, page by page.
	h.press("1")
	if line := h.line("Apex Growth   "); !strings.Contains(line, "» 3/8") {
		t.Errorf("running workspace row: %q", line)
	}
	h.mustShow("» run #11 (Apex Growth): 0/2 done")
	if line := h.line("Blue Ridge"); !strings.Contains(line, "· queued") {
		t.Errorf("queued workspace row: %q", line)
	}
	// A second run cannot start, and the status says why.
	h.press("enter")
	h.mustShow("run #11 is still going (0 of 2 workspaces done): one run at a time")
	h.press("t")
	h.press("S")
	if h.b.numRequests() != 1 || h.m.confirm != nil {
		t.Fatalf("%d runs started, question %v", h.b.numRequests(), h.m.confirm)
	}
	close(release)
	h.pumpUntil("the run ends", func() bool { return !h.m.running })
	h.settle()
	h.key("2")
	h.mustShow("✓ succeeded", "run #11 finished")
}

func TestCancelAsksThenCancelsTheRun(t *testing.T) {
	h := newFleetHarness(t)
	h.key("x")
	h.mustShow("no run is going")
	h.b.script = blockingRun(12, make(chan struct{}))
	h.press("S")
	h.press("y")
	h.pumpUntil("the run starts", func() bool { return h.m.run != nil && h.m.run.opened })
	h.press("x")
	h.mustShow("Cancel run #12? Workspaces not yet committed are rolled back", "as cancelled.", "[y/n]")
	h.press("n")
	if h.m.run.cancelling {
		t.Fatal("n cancelled the run")
	}
	h.press("x")
	h.press("y")
	h.mustShow("cancelling run #12: waiting for the engine to record it")
	h.pumpUntil("the run ends", func() bool { return !h.m.running })
	h.settle()
	h.mustShow("○ cancelled", "2 cancelled", "cancelled: the operator cancelled the run in the console before this workspace finished")
}

func TestQuitWhileRunningCancelsAndWaitsForTheEngine(t *testing.T) {
	h := newFleetHarness(t)
	h.b.script = blockingRun(13, make(chan struct{}))
	h.press("S")
	h.press("y")
	h.pumpUntil("the run starts", func() bool { return h.m.run != nil && h.m.run.opened })
	h.press("q")
	h.mustShow("Run #13 is going. Quit and cancel it?")
	if h.quit {
		t.Fatal("q quit without asking while a run is going")
	}
	h.press("y")
	if h.quit {
		t.Fatal("quit before the engine recorded the cancelled run")
	}
	h.mustShow("the console closes once the engine has recorded it")
	h.pumpUntil("the console quits", func() bool { return h.quit })
	if h.m.running || h.m.run.summary == nil || h.m.run.summary.Status != "cancelled" {
		t.Fatalf("quit before the run was recorded: running %v summary %+v", h.m.running, h.m.run.summary)
	}
	if !strings.Contains(h.m.run.summary.Error, errOperatorQuit.Error()) {
		t.Fatalf("cancel cause %q", h.m.run.summary.Error)
	}
}

func TestQuitWhenIdle(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		h := newFleetHarness(t)
		h.key(k)
		if !h.quit {
			t.Fatalf("%s did not quit", k)
		}
	}
}

func TestRunThatCannotStartSaysWhy(t *testing.T) {
	h := newFleetHarness(t)
	h.b.script = func(context.Context, sync.Request) (sync.Summary, error) {
		return sync.Summary{}, &sync.NotStartedError{Err: &db.UnknownWorkspacesError{Names: []string{"Gone Ltd"}}}
	}
	h.key("enter")
	h.mustShow("the run did not start", "press r to refresh")
	if h.m.running {
		t.Fatal("still running")
	}
	h.b.script = func(context.Context, sync.Request) (sync.Summary, error) {
		return sync.Summary{}, &sync.NotStartedError{Err: sync.ErrRunInProgress}
	}
	h.key("1")
	h.key("enter")
	h.mustShow("the engine is already running a sync in this process")
}

func TestFailingWorkspaceShowsItsReason(t *testing.T) {
	h := newFleetHarness(t)
	reason := "the API key …abcd of workspace \"Jason Binyon\" was rejected (HTTP 401): fix client_registry.bison_api_key for it; nothing was written"
	h.b.script = scriptedRun(14, "Jason Binyon", reason)
	h.key("S")
	h.key("y")
	h.mustShow("! partial", "4 ok, 1 failed", "✗ failed", "Jason Binyon failed: the API key …abcd")
	h.key("1")
	h.key("down")
	h.key("down")
	h.key("down")
	h.key("e")
	h.mustShow("Last error of Jason Binyon", "context deadline exceeded", "long tail of text that will not fit")
	h.key("esc")
	h.mustShow("WORKSPACE")
}

func TestErrorKeyWithoutErrorSaysSo(t *testing.T) {
	h := newFleetHarness(t)
	h.key("e")
	h.mustShow("no error recorded for Apex Growth")
}

func historyBackend() *fakeBackend {
	finished := testNow.Add(-3*time.Hour + 8*time.Second)
	return &fakeBackend{
		workspaces: fleetRegistry(),
		runs: []db.Run{
			{ID: 12, StartedAt: testNow.Add(-3 * time.Hour), FinishedAt: &finished, Status: db.RunPartial, Trigger: "headless", Host: "cron-1",
				WorkspacesTotal: 5, WorkspacesSucceeded: 4, WorkspacesFailed: 1, AccountsExpected: 687, AccountsSynced: 327},
			{ID: 11, StartedAt: testNow.Add(-27 * time.Hour), FinishedAt: ptr(testNow.Add(-27*time.Hour + 5*time.Second)), Status: db.RunCancelled,
				Trigger: "tui", Host: "laptop", WorkspacesTotal: 5, WorkspacesCancelled: 5, Error: "interrupted by SIGTERM"},
		},
		runRows: map[int64][]db.RunWorkspace{12: {
			{RunID: 12, Workspace: "Apex Growth", Status: db.WorkspaceSucceeded, Attempts: 1, PagesFetched: 8, PagesTotal: 8,
				AccountsExpected: 120, AccountsFetched: 120, AccountsUpserted: 120, Duration: ptr(1200 * time.Millisecond)},
			{RunID: 12, Workspace: "Jason Binyon", Status: db.WorkspaceFailed, Attempts: 3, PagesFetched: 20, PagesTotal: 29,
				AccountsExpected: 433, Duration: ptr(95 * time.Second),
				Error: "incomplete: fetched 300 of 433 accounts after 4 passes; nothing was written (gave up after 3 attempts)"},
		}},
		wsRuns: map[string][]db.RunWorkspace{"Jason Binyon": {
			{RunID: 12, Workspace: "Jason Binyon", Status: db.WorkspaceFailed, Attempts: 3, PagesFetched: 20, PagesTotal: 29,
				StartedAt: ptr(testNow.Add(-3 * time.Hour)), Error: "incomplete: fetched 300 of 433 accounts"},
			{RunID: 11, Workspace: "Jason Binyon", Status: db.WorkspaceCancelled, StartedAt: ptr(testNow.Add(-27 * time.Hour)),
				Error: "cancelled: interrupted by SIGTERM before this workspace finished"},
		}},
	}
}

func TestHistoryListsRunsAndOpensOne(t *testing.T) {
	h := newHarness(t, historyBackend(), 120, 30)
	h.mustShow("last full run #12 ! partial 3h ago")
	h.key("tab")
	h.key("tab")
	if h.m.view != viewHistory {
		t.Fatal("tab twice should show history")
	}
	h.mustShow("Recent runs, newest first", "#12", "headless", "cron-1", "8s", "! partial", "4/1", "327",
		"#11", "○ cancelled", "0/0+5c")
	lines := h.screen()
	i12, i11 := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "#12") }),
		slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "#11") })
	if i12 > i11 {
		t.Fatal("runs should be listed newest first")
	}
	h.key("down")
	h.mustShow("run #11: interrupted by SIGTERM")
	h.key("up")
	h.key("enter")
	h.mustShow("Run #12 · ! partial · trigger headless · host cron-1", "4 ok, 1 failed",
		"WORKSPACE", "EXPECT", "FETCH", "WROTE", "DEL",
		"Apex Growth", "✓ ok", "8/8", "1.2s",
		"Jason Binyon", "✗ failed", "20/29", "1m35s")
	h.key("down")
	h.key("e")
	h.mustShow("Run #12, Jason Binyon", "incomplete: fetched 300 of 433 accounts after 4 passes")
	h.key("esc")
	h.key("esc")
	h.mustShow("Recent runs, newest first")
}

func TestWorkspaceHistoryFromTheWorkspacesView(t *testing.T) {
	h := newHarness(t, historyBackend(), 120, 30)
	h.key("down")
	h.key("down")
	h.key("down") // Jason Binyon
	h.key("h")
	if h.m.view != viewHistory || h.m.hist.mode != histWorkspace {
		t.Fatal("h should show the workspace's runs")
	}
	h.mustShow("Last 20 runs of Jason Binyon", "#12", "✗ failed", "20/29", "#11", "○ cancelled",
		"incomplete: fetched 300 of 433 accounts")
	h.key("enter")
	h.mustShow("Run #12 · ! partial")
	h.key("esc")
	h.mustShow("Last 20 runs of Jason Binyon")
	h.key("esc")
	h.mustShow("Recent runs, newest first")
}

func TestTabCyclesViews(t *testing.T) {
	h := newFleetHarness(t)
	h.mustShow("[1 Workspaces]")
	h.key("tab")
	h.mustShow("[2 Run]", "No run yet in this console")
	h.key("tab")
	h.mustShow("[3 History]", "No run recorded yet")
	h.key("tab")
	h.mustShow("[1 Workspaces]")
	h.key("shift+tab")
	h.mustShow("[3 History]")
}

func TestHelpShowsEveryKey(t *testing.T) {
	h := newFleetHarness(t)
	h.mustShow("? help", "q quit", "S full sync")
	h.key("?")
	h.mustShow("Keys", "enter", "sync this workspace", "space", "select", "sync selected", "full sync",
		"sync stale+failing", "cancel run", "filter", "sort", "full error", "its runs", "next view", "quit",
		"never synced")
	h.key("?")
	h.mustShow("WORKSPACE")
	h.key("2")
	h.key("?")
	h.mustShow("Keys", "cancel run", "up")
	h.key("esc")
	h.mustShow("No run yet")
}

func TestUntrustedNamesAreDrawnHarmless(t *testing.T) {
	evil := "evil\x1b[2J\x1b[31mred\x1b]0;pwned\x07\u202e name"
	b := &fakeBackend{workspaces: []db.Workspace{{Name: evil, Instance: "inst\x1b[5m", IsActive: true,
		LastStatus: "failed", LastError: "boom\x1b[2J\nsecond line", LastSuccessAt: ago(time.Hour)}}}
	h := newHarness(t, b, 120, 30)
	raw := h.m.View().Content
	for _, bad := range []string{"\x1b[2J", "\x1b]0;", "\x07", "\u202e", "\x1b[5m"} {
		if strings.Contains(raw, bad) {
			t.Fatalf("the view carries %q", bad)
		}
	}
	h.mustShow("evilred name", "boom second line")
	h.key("e")
	h.mustShow("Last error of evilred name")
}

func TestLogScrolls(t *testing.T) {
	h := newHarness(t, &fakeBackend{workspaces: fleetRegistry()}, 100, 24)
	h.b.script = func(ctx context.Context, req sync.Request) (sync.Summary, error) {
		emit := req.Observer
		emit(sync.RunStarted{RunID: 5, At: testNow, Workspaces: []sync.PlannedWorkspace{{Name: "Apex Growth"}}})
		for i := range 40 {
			emit(sync.Notice{Workspace: "Apex Growth", Level: sync.LevelInfo, Message: fmt.Sprintf("notice number %d", i)})
		}
		s := sync.Summary{RunID: 5, Status: "succeeded"}
		emit(sync.RunFinished{Summary: s})
		return s, nil
	}
	h.key("enter")
	h.mustShow("notice number 39", "run #5 finished")
	h.mustNotShow("notice number 0")
	h.key("g") // oldest
	h.mustShow("notice number 0", "scrolled back")
	h.key("end")
	h.mustShow("notice number 39")
	h.key("up")
	h.mustShow("scrolled back 1")
}

func TestRegistryErrorIsShown(t *testing.T) {
	fb := &fakeBackend{}
	h := newHarnessOn(t, errBackend{fb}, fb, 100, 30)
	h.mustShow("could not read the registry", "connection refused")
}

type errBackend struct{ *fakeBackend }

func (errBackend) Workspaces(context.Context) ([]db.Workspace, error) {
	return nil, errors.New("dial tcp 127.0.0.1:5432: connection refused")
}

func TestNoColorFollowsTheConvention(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	if noColor() {
		t.Fatal("empty NO_COLOR should not disable colour")
	}
	t.Setenv("NO_COLOR", "yes")
	if !noColor() {
		t.Fatal("any non-empty NO_COLOR disables colour")
	}
}

func TestNavigationKeepsTheCursorVisible(t *testing.T) {
	h := newHarness(t, &fakeBackend{workspaces: bigRegistry(200)}, 80, 24)
	cursorLine := func() string {
		t.Helper()
		for _, l := range h.screen() {
			if strings.HasPrefix(l, symCursor) {
				return l
			}
		}
		t.Fatalf("no cursor on screen:\n%s", h.text())
		return ""
	}
	rows := h.m.layout().tableRows
	h.key("end")
	if h.m.ws.cursor != 199 || !strings.Contains(cursorLine(), "Workspace 0199") {
		t.Fatalf("end: cursor %d on %q", h.m.ws.cursor, cursorLine())
	}
	h.key("g")
	if h.m.ws.cursor != 0 || !strings.Contains(cursorLine(), "Workspace 0000") {
		t.Fatalf("g: cursor %d on %q", h.m.ws.cursor, cursorLine())
	}
	h.key("pgdown")
	h.key("pgdown")
	if h.m.ws.cursor != 2*rows || !strings.Contains(cursorLine(), fmt.Sprintf("Workspace %04d", 2*rows)) {
		t.Fatalf("pgdown twice: cursor %d (page %d) on %q", h.m.ws.cursor, rows, cursorLine())
	}
	h.key("up")
	if !strings.Contains(cursorLine(), fmt.Sprintf("Workspace %04d", 2*rows-1)) {
		t.Fatalf("up: %q", cursorLine())
	}
	// A larger terminal shows more rows and still the cursor.
	h.send(tea.WindowSizeMsg{Width: 120, Height: 50})
	if !strings.Contains(cursorLine(), fmt.Sprintf("Workspace %04d", 2*rows-1)) {
		t.Fatalf("after a resize: %q", cursorLine())
	}
	// The filter keeps the cursor on a shown row.
	h.key("/")
	for _, k := range "0150" {
		h.key(string(k))
	}
	h.key("enter")
	if !strings.Contains(cursorLine(), "Workspace 0150") {
		t.Fatalf("after filtering: %q", cursorLine())
	}
}

func TestCtrlCQuitsWhileFiltering(t *testing.T) {
	h := newFleetHarness(t)
	h.key("/")
	h.key("x")
	h.key("ctrl+c")
	if !h.quit {
		t.Fatal("ctrl+c did not quit while the filter line had the keyboard")
	}
}

// A question answered after the run it was about has ended does not wait for it.
func TestQuestionsAboutARunThatEndedMeanwhile(t *testing.T) {
	h := newFleetHarness(t)
	release := make(chan struct{})
	h.b.script = blockingRun(15, release)
	h.press("enter")
	h.pumpUntil("the run starts", func() bool { return h.m.run != nil && h.m.run.opened })
	h.press("x")
	close(release)
	h.pumpUntil("the run ends", func() bool { return !h.m.running })
	h.settle()
	h.key("y")
	h.mustShow("the run ended before the cancel")

	release2 := make(chan struct{})
	h.b.script = blockingRun(16, release2)
	h.key("1")
	h.press("enter")
	h.pumpUntil("the run starts", func() bool { return h.m.run != nil && h.m.run.id == 16 })
	h.press("q")
	close(release2)
	h.pumpUntil("the run ends", func() bool { return !h.m.running })
	h.settle()
	h.key("y")
	if !h.quit {
		t.Fatal("quitting after the run ended should not wait for it")
	}
}

// D shows what a held mass deletion would remove and, once confirmed, syncs the workspace
// with its deletions accepted: the console's --allow-deletions.
func TestHeldDeletionsAreReviewedThenApplied(t *testing.T) {
	h := newFleetHarness(t)
	h.b.script = scriptedRun(11, "", "")
	h.key("D") // Apex Growth: nothing held
	h.mustShow("no deletions are held for Apex Growth")
	h.b.mu.Lock()
	h.b.held = map[string][]db.HeldDeletion{"Jason Binyon": {
		{AccountID: 1, Email: "gone.one@binyon.test"}, {AccountID: 2, Email: "gone.two@binyon.test"},
	}}
	h.b.mu.Unlock()
	h.key("down")
	h.key("down")
	h.key("down")
	h.key("D")
	h.mustShow("A complete fetch of Jason Binyon found 2 accounts gone at the source", "gone.one@binyon.test")
	if h.b.numRequests() != 0 {
		t.Fatal("D started a run before the operator agreed")
	}
	h.key("y")
	req := h.b.lastRequest(t)
	if !slices.Equal(req.Names, []string{"Jason Binyon"}) || !slices.Equal(req.AllowDeletions, []string{"Jason Binyon"}) {
		t.Fatalf("request %+v", req)
	}
}

// A question longer than the screen is shown whole, scrollable, and no answer is taken
// before its last line has been on screen: y at first is refused with the reason.
func TestHeldDeletionQuestionIsReadWholeBeforeAnAnswer(t *testing.T) {
	h := newHarness(t, &fakeBackend{workspaces: fleetRegistry()}, 80, 24)
	h.b.script = scriptedRun(11, "", "")
	var held []db.HeldDeletion
	for i := range 40 {
		held = append(held, db.HeldDeletion{AccountID: int64(i), Email: fmt.Sprintf("gone.%02d@binyon.test", i)})
	}
	h.b.held = map[string][]db.HeldDeletion{"Jason Binyon": held}
	for range 3 {
		h.key("down")
	}
	h.key("D")
	seen := h.text()
	h.mustShow("Held deletions of Jason Binyon", "gone.00@binyon.test", "more lines below")
	h.key("y")
	if h.b.numRequests() != 0 || h.m.confirm == nil {
		t.Fatal("y was taken before the whole question was on screen")
	}
	h.mustShow("Read the whole question first")
	for range 60 {
		h.key("down")
		seen += h.text()
	}
	for _, d := range held {
		if !strings.Contains(seen, d.Email) {
			t.Errorf("%s was never on screen", d.Email)
		}
	}
	h.mustShow("Sync Jason Binyon now and mark these 40 accounts deleted?", "[y/n]", "y: sync and mark 40 deleted")
	h.key("y")
	req := h.b.lastRequest(t)
	if !slices.Equal(req.AllowDeletions, []string{"Jason Binyon"}) {
		t.Fatalf("request %+v", req)
	}
}

// Every question goes through the same dialog: enter gives the highlighted answer, which is
// "no" until the operator moves to "yes".
func TestDialogEnterGivesTheHighlightedAnswer(t *testing.T) {
	h := newFleetHarness(t)
	h.b.script = scriptedRun(9, "", "")
	h.key("S")
	h.key("enter")
	if h.b.numRequests() != 0 || h.m.confirm != nil {
		t.Fatal("enter on the first highlight (no) should close the dialog without a run")
	}
	h.key("S")
	h.key("right")
	h.key("enter")
	if h.b.numRequests() != 1 {
		t.Fatal("enter on yes should start the run")
	}
}

// learningRun is a run of Jason Binyon (360 accounts at its last complete fetch, 433 at the
// API now) and Cobalt Recruiting (never fetched, 155 at the API): Jason fails incomplete,
// Cobalt succeeds. It waits for release between its pages and its end.
func learningRun(id int64, release <-chan struct{}) func(ctx context.Context, req sync.Request) (sync.Summary, error) {
	return func(ctx context.Context, req sync.Request) (sync.Summary, error) {
		emit := req.Observer
		emit(sync.RunStarted{RunID: id, At: testNow, Trigger: "tui", Workspaces: []sync.PlannedWorkspace{
			{Name: "Jason Binyon", Instance: "bison-main", Estimated: 360}, {Name: "Cobalt Recruiting", Instance: "bison-main"}}})
		for _, n := range []string{"Jason Binyon", "Cobalt Recruiting"} {
			emit(sync.WorkspaceStarted{Workspace: n, Attempt: 1, At: testNow})
		}
		emit(sync.PageFetched{Workspace: "Jason Binyon", Pass: 1, Page: 1, LastPage: 29, PagesFetched: 1, Accounts: 15, Total: 433})
		emit(sync.PageFetched{Workspace: "Cobalt Recruiting", Pass: 1, Page: 1, LastPage: 11, PagesFetched: 1, Accounts: 15, Total: 155})
		select {
		case <-release:
		case <-ctx.Done(): // the test failed and closes the console
		}
		jason := sync.WorkspaceResult{Name: "Jason Binyon", Status: db.WorkspaceFailed, Attempts: 1, PagesFetched: 20, PagesTotal: 29,
			AccountsExpected: 433, AccountsFetched: 300, Error: "incomplete: fetched 300 of 433 accounts"}
		cobalt := sync.WorkspaceResult{Name: "Cobalt Recruiting", Status: db.WorkspaceSucceeded, Attempts: 1, PagesFetched: 11, PagesTotal: 11,
			AccountsExpected: 155, AccountsFetched: 155, AccountsUpserted: 155}
		emit(sync.WorkspaceFinished{Result: jason})
		emit(sync.WorkspaceFinished{Result: cobalt})
		s := sync.Summary{RunID: id, Status: db.RunPartial, StartedAt: testNow, WorkspacesTotal: 2, WorkspacesSucceeded: 1,
			WorkspacesFailed: 1, AccountsSynced: 155, Workspaces: []sync.WorkspaceResult{jason, cobalt}}
		emit(sync.RunFinished{Summary: s})
		return s, nil
	}
}

// The expected accounts, a row's API total and the header's fleet total follow what the run
// learnt from the API (PageFetched.Total, then the workspace's result), not the registry's
// older figures; once every count came from the API it is shown exact.
func TestFiguresFollowWhatTheRunLearns(t *testing.T) {
	h := newFleetHarness(t)
	release := make(chan struct{})
	h.b.script = learningRun(21, release)
	h.key("space") // Apex Growth: not in the run
	h.key("space")
	h.m.ws.selected = map[string]bool{"Jason Binyon": true, "Cobalt Recruiting": true}
	h.press("s")
	h.pumpUntil("the pages arrive", func() bool { return h.m.run != nil && h.m.run.pages == 2 })
	h.mustShow("accounts 0 synced + 30 in flight of 588 ")
	h.press("1")
	if line := h.line("Jason Binyon"); !strings.Contains(line, "360/433") {
		t.Errorf("Jason's row should show the API's new total: %q", line)
	}
	if line := h.line("Cobalt Recruiting"); !strings.Contains(line, "0/155") {
		t.Errorf("Cobalt's row should show the API's total: %q", line)
	}
	h.mustShow("687 accounts (API 915)") // 120 + 192 + 433 + 155 + 15
	close(release)
	h.pumpUntil("the run ends", func() bool { return !h.m.running })
	h.settle()
	h.key("2")
	h.mustShow("accounts 155 synced of 588 ")
	h.key("1")
	if line := h.line("Jason Binyon"); !strings.Contains(line, "360/433") {
		t.Errorf("after the run Jason's row should keep the API's total: %q", line)
	}
}

var donePct = regexp.MustCompile(`(\d+)% done`)

func percentDone(t *testing.T, h *harness) int {
	t.Helper()
	m := donePct.FindStringSubmatch(h.text())
	if m == nil {
		t.Fatalf("no percentage on screen:\n%s", h.text())
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// A cancel never makes a run's figures go back: accounts synced and the share done stay; what
// was in flight is said to be so. Afterwards a workspace's row does not mix the last
// success's status with the cancelled attempt's duration.
func TestCancelKeepsFiguresAndRowsCoherent(t *testing.T) {
	h := newFleetHarness(t)
	h.b.script = func(ctx context.Context, req sync.Request) (sync.Summary, error) {
		emit := req.Observer
		emit(sync.RunStarted{RunID: 22, At: testNow, Workspaces: []sync.PlannedWorkspace{
			{Name: "Zeta Labs", Instance: "bison-two", Estimated: 15}, {Name: "Apex Growth", Instance: "bison-main", Estimated: 120}}})
		emit(sync.WorkspaceStarted{Workspace: "Zeta Labs", Attempt: 1, At: testNow})
		emit(sync.WorkspaceFinished{Result: sync.WorkspaceResult{Name: "Zeta Labs", Status: db.WorkspaceSucceeded, Attempts: 1,
			PagesFetched: 1, PagesTotal: 1, AccountsExpected: 15, AccountsFetched: 15}})
		emit(sync.WorkspaceStarted{Workspace: "Apex Growth", Attempt: 1, At: testNow})
		emit(sync.PageFetched{Workspace: "Apex Growth", Pass: 1, Page: 6, LastPage: 8, PagesFetched: 6, Accounts: 90, Total: 120})
		<-ctx.Done()
		r := sync.WorkspaceResult{Name: "Apex Growth", Status: db.WorkspaceCancelled, Attempts: 1, PagesFetched: 6, PagesTotal: 8,
			AccountsExpected: 120, AccountsFetched: 90, Error: "cancelled: " + context.Cause(ctx).Error() + " before this workspace finished"}
		emit(sync.WorkspaceFinished{Result: r})
		s := sync.Summary{RunID: 22, Status: db.RunCancelled, Interrupted: true, WorkspacesTotal: 2, WorkspacesSucceeded: 1,
			WorkspacesCancelled: 1, AccountsSynced: 15}
		emit(sync.RunFinished{Summary: s})
		return s, nil
	}
	h.m.ws.selected = map[string]bool{"Zeta Labs": true, "Apex Growth": true}
	h.press("s")
	h.pumpUntil("Apex is in flight", func() bool { return h.m.run != nil && h.m.run.pages > 0 })
	h.mustShow("accounts 15 synced + 90 in flight of 135")
	before := percentDone(t, h)
	h.press("x")
	h.press("y")
	h.pumpUntil("the run ends", func() bool { return !h.m.running })
	h.b.mu.Lock()
	h.b.workspaces[0].LastStatus, h.b.workspaces[0].LastAttemptAt = db.WorkspaceCancelled, ptr(testNow)
	h.b.workspaces[0].LastDuration = ptr(4321 * time.Millisecond)
	h.b.workspaces[0].LastError = "cancelled: the operator cancelled the run in the console before this workspace finished"
	h.b.mu.Unlock()
	h.settle()
	h.mustShow("accounts 15 synced of 135", "○ cancelled")
	if after := percentDone(t, h); after < before {
		t.Errorf("the share done went back on cancel: %d%% → %d%%", before, after)
	}
	h.key("1")
	h.key("r")
	line := h.line("Apex Growth")
	if strings.Contains(line, "4.3s") || !strings.Contains(line, "✓ ok") || !strings.Contains(line, "○ last attempt cancelled") {
		t.Errorf("Apex's row mixes its last success with the cancelled attempt: %q", line)
	}
}

// The Run view and History work a run's pages and accounts out the same way: pages of each
// workspace's latest attempt (as sync_run_workspaces records them), earlier attempts apart.
func TestRunViewAndHistoryAgreeOnARun(t *testing.T) {
	h := newHarness(t, historyBackend(), 120, 30)
	rows := []db.RunWorkspace{{RunID: 30, Workspace: "Apex Growth", Status: db.WorkspaceSucceeded, Attempts: 2, PagesFetched: 8,
		PagesTotal: 8, AccountsExpected: 120, AccountsFetched: 120, AccountsUpserted: 120}}
	h.b.runs = append([]db.Run{{ID: 30, StartedAt: testNow, FinishedAt: ptr(testNow.Add(3 * time.Second)), Status: db.RunSucceeded,
		Trigger: "tui", Host: "here", WorkspacesTotal: 1, WorkspacesSucceeded: 1, AccountsExpected: 120, AccountsSynced: 120}}, h.b.runs...)
	h.b.runRows[30] = rows
	h.b.script = func(ctx context.Context, req sync.Request) (sync.Summary, error) {
		emit := req.Observer
		emit(sync.RunStarted{RunID: 30, At: testNow, Workspaces: []sync.PlannedWorkspace{{Name: "Apex Growth", Instance: "bison-main", Estimated: 120}}})
		emit(sync.WorkspaceStarted{Workspace: "Apex Growth", Attempt: 1, At: testNow})
		emit(sync.PageFetched{Workspace: "Apex Growth", Pass: 1, Page: 5, LastPage: 8, PagesFetched: 5, Accounts: 75, Total: 120})
		time.Sleep(3 * frameInterval) // the console sees the first attempt's pages
		emit(sync.Retrying{Workspace: "Apex Growth", Scope: sync.ScopeWorkspace, Op: "attempt 1", Attempt: 1, Reason: "HTTP 503", Wait: time.Millisecond})
		emit(sync.WorkspaceStarted{Workspace: "Apex Growth", Attempt: 2, At: testNow})
		emit(sync.PageFetched{Workspace: "Apex Growth", Pass: 1, Page: 8, LastPage: 8, PagesFetched: 8, Accounts: 120, Total: 120})
		res := sync.WorkspaceResult{Name: "Apex Growth", Status: db.WorkspaceSucceeded, Attempts: 2, PagesFetched: 8, PagesTotal: 8,
			AccountsExpected: 120, AccountsFetched: 120, AccountsUpserted: 120}
		emit(sync.WorkspaceFinished{Result: res})
		s := sync.Summary{RunID: 30, Status: db.RunSucceeded, WorkspacesTotal: 1, WorkspacesSucceeded: 1, AccountsSynced: 120,
			Workspaces: []sync.WorkspaceResult{res}}
		emit(sync.RunFinished{Summary: s})
		return s, nil
	}
	h.key("enter")
	h.mustShow("accounts 120 synced of 120 · pages 8 ·")
	h.key("3")
	h.key("enter")
	h.mustShow("Run #30", "accounts 120 synced of 120 · pages 8")
}

// A workspace that started without a page yet, or waits for its super-admin key, says what
// it waits for and is not counted as fetching.
func TestWaitingWorkspacesSayWhatTheyWaitFor(t *testing.T) {
	h := newFleetHarness(t)
	h.b.script = func(ctx context.Context, req sync.Request) (sync.Summary, error) {
		emit := req.Observer
		emit(sync.RunStarted{RunID: 23, At: testNow, Workspaces: []sync.PlannedWorkspace{
			{Name: "Apex Growth", Instance: "bison-main", Estimated: 120}, {Name: "Blue Ridge", Instance: "bison-main", Estimated: 192},
			{Name: "Cobalt Recruiting", Instance: "bison-main"}}})
		emit(sync.WorkspaceStarted{Workspace: "Apex Growth", Attempt: 1, At: testNow})
		emit(sync.PageFetched{Workspace: "Apex Growth", Pass: 1, Page: 1, LastPage: 8, PagesFetched: 1, Accounts: 15, Total: 120})
		emit(sync.Waiting{Workspace: "Apex Growth", Instance: "bison-main", For: sync.WaitInstancePaused, Detail: "HTTP 429", Until: testNow.Add(2 * time.Second)})
		emit(sync.WorkspaceStarted{Workspace: "Blue Ridge", Attempt: 1, At: testNow})
		// Words alone make no wait: only the typed event does.
		emit(sync.Notice{Workspace: "Blue Ridge", Level: sync.LevelInfo, Message: "waiting for the super-admin key: a notice, not a wait"})
		emit(sync.Waiting{Workspace: "Cobalt Recruiting", Instance: "bison-main", For: sync.WaitKeyBusy, Detail: "held by run #4 on host-b"})
		<-ctx.Done()
		s := sync.Summary{RunID: 23, Status: db.RunCancelled, Interrupted: true}
		emit(sync.RunFinished{Summary: s})
		return s, nil
	}
	h.m.ws.selected = map[string]bool{"Apex Growth": true, "Blue Ridge": true, "Cobalt Recruiting": true}
	h.press("s")
	h.pumpUntil("the waits arrive", func() bool { return h.m.run != nil && h.m.run.log.len() >= 4 })
	h.mustShow("1 fetching, 1 waiting for page 1, 1 queued")
	if line := h.line("~ Blue Ridge"); !strings.Contains(line, "waiting for page 1") || !strings.Contains(line, "bison-main paused after HTTP 429 on Apex Growth") {
		t.Errorf("Blue Ridge's line: %q", line)
	}
	if line := h.line("~ Cobalt Recruiting"); !strings.Contains(line, "waiting for the super-admin key: held by run #4 on host-b") {
		t.Errorf("Cobalt's line: %q", line)
	}
	h.press("1")
	if line := h.line("Blue Ridge"); !strings.Contains(line, "~ waiting") {
		t.Errorf("Blue Ridge's row: %q", line)
	}
	h.press("x")
	h.press("y")
	h.pumpUntil("the run ends", func() bool { return !h.m.running })
}

// The help's legend does not use its separator as a symbol.
func TestStatusLegendSeparatesItsEntries(t *testing.T) {
	h := newHarness(t, &fakeBackend{workspaces: fleetRegistry()}, 200, 40)
	h.key("?")
	text := h.text()
	if strings.Contains(text, "· · queued") || strings.Contains(text, "running · ") {
		t.Errorf("the legend joins its entries with the queued symbol:\n%s", text)
	}
	h.mustShow("· queued", "~ waiting", "» running")
}

// Text from the API reaches the Run view through notices, retries and results: none of it
// may carry an escape sequence to the terminal.
func TestUntrustedRunTextIsDrawnHarmless(t *testing.T) {
	evil := "boom\x1b[2J\x1b]0;pwned\x07\u202e"
	h := newHarness(t, &fakeBackend{workspaces: fleetRegistry()}, 120, 40)
	h.b.script = func(ctx context.Context, req sync.Request) (sync.Summary, error) {
		emit := req.Observer
		emit(sync.RunStarted{RunID: 6, At: testNow, Workspaces: []sync.PlannedWorkspace{{Name: "Apex Growth"}}})
		emit(sync.Notice{Workspace: "Apex Growth", Level: sync.LevelWarn, Message: "notice " + evil})
		emit(sync.Retrying{Workspace: "Apex Growth", Scope: sync.ScopeRequest, Op: "list page 2 " + evil, Attempt: 1, Reason: "HTTP 503 " + evil, Wait: time.Second})
		res := sync.WorkspaceResult{Name: "Apex Growth", Status: db.WorkspaceFailed, Error: "result " + evil, Warning: "warning " + evil}
		emit(sync.WorkspaceFinished{Result: res})
		s := sync.Summary{RunID: 6, Status: db.RunFailed, Error: "run " + evil, Workspaces: []sync.WorkspaceResult{res}}
		emit(sync.RunFinished{Summary: s})
		return s, nil
	}
	h.key("enter")
	h.mustShow("notice boom", "run #6 finished")
	raw := h.m.View().Content
	for _, bad := range []string{"\x1b[2J", "\x1b]0;", "\x07", "\u202e"} {
		if strings.Contains(raw, bad) {
			t.Fatalf("the Run view carries %q", bad)
		}
	}
}
