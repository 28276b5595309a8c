package tui

import (
	"context"
	"fmt"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// fakeBackend answers from memory, for model tests. Its Sync calls script, which emits the
// run's events through the request's observer.
type fakeBackend struct {
	mu         stdsync.Mutex
	workspaces []db.Workspace
	runs       []db.Run
	runRows    map[int64][]db.RunWorkspace
	wsRuns     map[string][]db.RunWorkspace
	held       map[string][]db.HeldDeletion
	instances  []db.Instance      // fake_flow_test.go
	syncReqs   []db.RequestRecord // sync_requests, newest first
	requests   []sync.Request
	reads      int
	script     func(ctx context.Context, req sync.Request) (sync.Summary, error)
}

func (f *fakeBackend) Workspaces(context.Context) ([]db.Workspace, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return append([]db.Workspace(nil), f.workspaces...), nil
}

func (f *fakeBackend) Runs(_ context.Context, limit int) ([]db.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]db.Run(nil), f.runs[:min(limit, len(f.runs))]...), nil
}

func (f *fakeBackend) Run(_ context.Context, id int64) (db.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.runs {
		if r.ID == id {
			return r, nil
		}
	}
	return db.Run{}, fmt.Errorf("run %d: %w", id, db.ErrNotFound)
}

func (f *fakeBackend) RunWorkspaces(_ context.Context, id int64) ([]db.RunWorkspace, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.runRows[id], nil
}

func (f *fakeBackend) WorkspaceRuns(_ context.Context, name string, _ int) ([]db.RunWorkspace, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.wsRuns[name], nil
}

func (f *fakeBackend) HeldDeletions(_ context.Context, name string) ([]db.HeldDeletion, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held[name], nil
}

func (f *fakeBackend) Sync(ctx context.Context, req sync.Request) (sync.Summary, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	script := f.script
	f.mu.Unlock()
	if script == nil {
		return sync.Summary{}, &sync.NotStartedError{Err: fmt.Errorf("no script")}
	}
	return script(ctx, req)
}

func (f *fakeBackend) Where() string { return "db.example:5432/bison schema test" }

func (f *fakeBackend) Schema() string { return "test" }

func (f *fakeBackend) lastRequest(t *testing.T) sync.Request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("no run was started")
	}
	return f.requests[len(f.requests)-1]
}

func (f *fakeBackend) numRequests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// testNow is the fixed clock of model tests.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func ago(d time.Duration) *time.Time { return ptr(testNow.Add(-d)) }

// fleetRegistry is a small registry: fresh, stale, failing, never-synced workspaces.
func fleetRegistry() []db.Workspace {
	return []db.Workspace{
		{Name: "Apex Growth", Instance: "bison-main", BisonID: 9, IsActive: true, LastSuccessAt: ago(2 * time.Hour),
			LastAttemptAt: ago(2 * time.Hour), LastStatus: "succeeded", LastDuration: ptr(1200 * time.Millisecond),
			EstimatedAccounts: ptr(120), LiveAccounts: 120},
		{Name: "Blue Ridge", Instance: "bison-main", BisonID: 6, IsActive: true, LastSuccessAt: ago(30 * time.Hour),
			LastAttemptAt: ago(30 * time.Hour), LastStatus: "succeeded", LastDuration: ptr(900 * time.Millisecond),
			EstimatedAccounts: ptr(192), LiveAccounts: 192},
		{Name: "Jason Binyon", Instance: "bison-main", BisonID: 11, IsActive: true, LastSuccessAt: ago(18 * 24 * time.Hour),
			LastAttemptAt: ago(2 * time.Hour), LastStatus: "failed", ConsecutiveFailures: 18,
			LastError:         "context deadline exceeded (batch deadline hit at page 20 of 29) and a long tail of text that will not fit",
			EstimatedAccounts: ptr(360), LiveAccounts: 360},
		{Name: "Cobalt Recruiting", Instance: "bison-main", BisonID: 38, IsActive: true},
		{Name: "Zeta Labs", Instance: "bison-two", BisonID: 3, IsActive: true, LastSuccessAt: ago(45 * time.Second),
			LastAttemptAt: ago(45 * time.Second), LastStatus: "succeeded", LastDuration: ptr(300 * time.Millisecond),
			EstimatedAccounts: ptr(15), LiveAccounts: 15},
	}
}

// harness is a model under test with its fake backend. Commands run on goroutines; their
// messages are delivered to the model on the test's goroutine, as Bubble Tea would.
type harness struct {
	t       *testing.T
	b       *fakeBackend
	c       *console
	m       *model
	msgs    chan tea.Msg
	pending int
	quit    bool // a tea.QuitMsg came out
}

func newHarness(t *testing.T, b *fakeBackend, w, h int) *harness {
	t.Helper()
	return newHarnessOn(t, b, b, w, h)
}

// newHarnessOn runs the model on be; b is the fake inside it, for the test's checks.
func newHarnessOn(t *testing.T, be backend, b *fakeBackend, w, h int) *harness {
	t.Helper()
	c := newConsole(context.Background(), be)
	t.Cleanup(c.Close)
	m := newModel(c, config{staleAfter: 24 * time.Hour, banner: "DEMO banner \x1b[31mline", where: b.Where(), schema: b.Schema(), clock: func() time.Time { return testNow }})
	hs := &harness{t: t, b: b, c: c, m: m, msgs: make(chan tea.Msg, 4096)}
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.launch(m.Init())
	hs.settle()
	return hs
}

func (h *harness) launch(c tea.Cmd) {
	if c == nil {
		return
	}
	h.pending++
	go func() { h.msgs <- c() }()
}

// deliver hands one message to the model and launches its command.
func (h *harness) deliver(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			h.launch(c)
		}
	case tea.QuitMsg:
		h.quit = true
	default:
		_, next := h.m.Update(msg)
		h.launch(next)
	}
}

// pumpUntil delivers command results until cond holds (checked after each message).
func (h *harness) pumpUntil(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case msg := <-h.msgs:
			h.pending--
			h.deliver(msg)
		case <-deadline:
			h.t.Fatalf("%s: not within 10s; screen:\n%s", what, h.text())
		}
	}
}

// settle delivers command results until no command is left running.
func (h *harness) settle() {
	h.t.Helper()
	h.pumpUntil("commands settle", func() bool { return h.pending == 0 })
}

// send delivers one message and settles the commands that follow.
func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	h.deliver(msg)
	h.settle()
}

// press delivers one key without waiting for the commands that follow (for keys pressed
// while a run is going, whose command does not return until the run ends).
func (h *harness) press(k string) { h.deliver(keyPress(k)) }

// key presses one key ("a", "enter", "space", "tab", "esc", "ctrl+c", "S") and settles.
func (h *harness) key(k string) {
	h.t.Helper()
	h.send(keyPress(k))
}

func keyPress(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	code := r
	var mod tea.KeyMod
	if r >= 'A' && r <= 'Z' {
		code, mod = r+('a'-'A'), tea.ModShift
	}
	return tea.KeyPressMsg{Code: code, Text: k, Mod: mod}
}

// screen is the model's view as plain text, one string per line.
func (h *harness) screen() []string {
	return strings.Split(ansi.Strip(h.m.View().Content), "\n")
}

func (h *harness) text() string { return strings.Join(h.screen(), "\n") }

func (h *harness) mustShow(subs ...string) {
	h.t.Helper()
	text := h.text()
	for _, s := range subs {
		if !strings.Contains(text, s) {
			h.t.Fatalf("the screen does not show %q:\n%s", s, text)
		}
	}
}

func (h *harness) mustNotShow(subs ...string) {
	h.t.Helper()
	text := h.text()
	for _, s := range subs {
		if strings.Contains(text, s) {
			h.t.Fatalf("the screen shows %q:\n%s", s, text)
		}
	}
}

// line returns the first screen line containing sub.
func (h *harness) line(sub string) string {
	h.t.Helper()
	for _, l := range h.screen() {
		if strings.Contains(l, sub) {
			return l
		}
	}
	h.t.Fatalf("no line shows %q:\n%s", sub, h.text())
	return ""
}

// scriptedRun emits a plausible run over names and returns its summary; fail names a
// workspace that fails with reason.
func scriptedRun(id int64, fail, reason string) func(ctx context.Context, req sync.Request) (sync.Summary, error) {
	return func(ctx context.Context, req sync.Request) (sync.Summary, error) {
		names := req.Names
		if len(names) == 0 {
			names = []string{"Apex Growth", "Blue Ridge", "Cobalt Recruiting", "Jason Binyon", "Zeta Labs"}
		}
		emit := req.Observer
		started := testNow
		var plan []sync.PlannedWorkspace
		for _, n := range names {
			plan = append(plan, sync.PlannedWorkspace{Name: n, Instance: "bison-main", Estimated: 30})
		}
		emit(sync.RunStarted{RunID: id, At: started, Trigger: "tui", Workspaces: plan})
		s := sync.Summary{RunID: id, Trigger: "tui", StartedAt: started, FinishedAt: started.Add(2 * time.Second), DurationMS: 2000}
		for _, n := range names {
			emit(sync.WorkspaceStarted{Workspace: n, Attempt: 1, At: started})
			emit(sync.PageFetched{Workspace: n, Pass: 1, Page: 1, LastPage: 2, PagesFetched: 1, Accounts: 15, Total: 30})
			res := sync.WorkspaceResult{Name: n, Instance: "bison-main", Attempts: 1, PagesFetched: 2, PagesTotal: 2,
				AccountsExpected: 30, Duration: time.Second, DurationMS: 1000}
			if n == fail {
				emit(sync.Retrying{Workspace: n, Scope: sync.ScopeRequest, Op: "list page 2", Attempt: 1, Reason: "HTTP 429", Wait: 2 * time.Second})
				res.Status, res.Error = db.WorkspaceFailed, reason
				s.WorkspacesFailed++
			} else {
				emit(sync.PageFetched{Workspace: n, Pass: 1, Page: 2, LastPage: 2, PagesFetched: 2, Accounts: 30, Total: 30})
				res.Status, res.AccountsFetched, res.AccountsUpserted = db.WorkspaceSucceeded, 30, 30
				s.WorkspacesSucceeded++
				s.AccountsSynced += 30
			}
			s.WorkspacesTotal++
			s.Workspaces = append(s.Workspaces, res)
			emit(sync.WorkspaceFinished{Result: res})
		}
		s.Status = "succeeded"
		if s.WorkspacesFailed > 0 {
			s.Status = "partial"
		}
		emit(sync.RunFinished{Summary: s})
		return s, nil
	}
}
