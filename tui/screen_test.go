package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/charmbracelet/x/vt"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
	"github.com/bisonsync/bisonsync/demo"
	"github.com/bisonsync/bisonsync/sync"
)

// Screen tests drive the real program (Bubble Tea through teatest) against the simulator
// and a real PostgreSQL schema of their own, and read what a terminal would show by
// replaying the program's output into a virtual terminal (x/vt): the v2 renderer writes only
// the cells that change, so the raw stream cannot be searched for text.

// The fixture fleet: one instance, five workspaces of assorted sizes, one reached through the
// super-admin key.
const simInstance = "sim-main"

func simFleet(extra ...*sim.Workspace) *sim.Fleet {
	in := &sim.Instance{Name: simInstance, SuperAdminKey: "1|SuperAdminKeyForTheConsoleTestsAAAAAAAAAAAAA"}
	in.Workspaces = []*sim.Workspace{
		{ID: 2, Name: "Acme Leads", Key: "12|AcmeLeadsKeyBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", Seed: 2, Count: 45},
		{ID: 3, Name: "Big Workspace", Key: "13|BigWorkspaceKeyCCCCCCCCCCCCCCCCCCCCCCCCCCCCC", Seed: 3, Count: 450},
		{ID: 5, Name: "Castle Agency", Key: "15|CastleAgencyKeyDDDDDDDDDDDDDDDDDDDDDDDDDDDDD", Seed: 5, Count: 20},
		{ID: 7, Name: "Delta Outreach", Seed: 7, Count: 31},
		{ID: 9, Name: "Echo Partners", Key: "19|EchoPartnersKeyEEEEEEEEEEEEEEEEEEEEEEEEEEEEE", Seed: 9, Count: 16},
	}
	in.Workspaces = append(in.Workspaces, extra...)
	return &sim.Fleet{Instances: []*sim.Instance{in}}
}

// simEnv is a simulated fleet registered in a fresh schema, with an engine on it.
type simEnv struct {
	t      *testing.T
	srv    *sim.Server
	fleet  *sim.Fleet
	store  *db.Store
	engine *sync.Engine
}

func newSimEnv(t *testing.T, fleet *sim.Fleet, opts sim.Options) *simEnv {
	t.Helper()
	srv := sim.NewServer(fleet, opts)
	t.Cleanup(srv.Close)
	store := dbtest.NewStore(t)
	if err := demo.Register(context.Background(), store, srv, fleet); err != nil {
		t.Fatal(err)
	}
	engine := sync.New(store, sync.Config{
		Trigger:      "tui",
		RetryBackoff: 10 * time.Millisecond,
		StallTimeout: 10 * time.Second,
		Client:       bison.Options{RequestTimeout: 5 * time.Second, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond},
	})
	return &simEnv{t: t, srv: srv, fleet: fleet, store: store, engine: engine}
}

// seed records a past successful sync of a workspace, synced ago.
func (e *simEnv) seed(name string, ago time.Duration) {
	e.t.Helper()
	in := e.fleet.Instances[0]
	w := in.WorkspaceNamed(name)
	var rows []db.Account
	for _, a := range e.srv.Accounts(in.Name, w.ID) {
		rows = append(rows, demo.FromSim(a))
	}
	if _, err := e.store.CommitWorkspace(context.Background(), db.CommitInput{
		Workspace: name, Instance: in.Name, WorkspaceID: w.ID, Accounts: rows, Expected: len(rows),
		SyncedAt: time.Now().Add(-ago),
	}); err != nil {
		e.t.Fatal(err)
	}
}

// slowInstance makes the instance answer one request at a time, latency each, so that a
// workspace's pages arrive one by one.
func (e *simEnv) slowInstance(latency time.Duration) {
	e.t.Helper()
	e.srv.SetLatency(simInstance, latency, 0)
	one := 1
	in := e.fleet.Instances[0]
	if err := e.store.UpsertInstance(context.Background(), db.Instance{Name: in.Name, BaseURL: e.srv.BaseURL(in.Name),
		APIKey: db.NewSecret(in.SuperAdminKey), MaxConcurrency: &one}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *simEnv) backend() backend { return storeBackend{store: e.store, engine: e.engine} }

// vterm is a virtual terminal fed with a program's output.
type vterm struct {
	mu  stdsync.Mutex
	emu *vt.Emulator
}

func newVterm(w, h int) *vterm {
	emu := vt.NewEmulator(w, h)
	// The emulator answers terminal queries on its input pipe; drain it or Write blocks.
	go func() { _, _ = io.Copy(io.Discard, emu) }()
	return &vterm{emu: emu}
}

// Write takes program output. Without a TTY Bubble Tea writes bare newlines, which a
// terminal (in raw mode) would not return on: translate them as the line discipline would.
func (v *vterm) Write(p []byte) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	_, err := v.emu.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n")))
	return len(p), err
}

func (v *vterm) text() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.emu.String()
}

func (v *vterm) altScreen() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.emu.IsAltScreen()
}

func (v *vterm) cursorHidden() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.emu.CursorHidden()
}

// waitFor polls the screen until every sub is shown, or fails the test with the screen.
func (v *vterm) waitFor(t *testing.T, timeout time.Duration, subs ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		text := v.text()
		missing := ""
		for _, s := range subs {
			if !strings.Contains(text, s) {
				missing = s
				break
			}
		}
		if missing == "" {
			return text
		}
		if time.Now().After(deadline) {
			t.Fatalf("the screen did not show %q within %s:\n%s", missing, timeout, text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// screen is the real program under teatest, its output replayed into a vterm.
type screen struct {
	t    *testing.T
	tm   *teatest.TestModel
	term *vterm
	c    *console
}

func startScreen(t *testing.T, b backend, w, h int) *screen {
	t.Helper()
	return startScreenWith(t, b, w, h, config{})
}

// startScreenWith is startScreen with some of the console's configuration (poll interval).
func startScreenWith(t *testing.T, b backend, w, h int, cfg config) *screen {
	t.Helper()
	c := newConsole(context.Background(), b)
	cfg.staleAfter, cfg.banner, cfg.where, cfg.schema, cfg.timers = 24*time.Hour, "TEST fleet: five simulated workspaces", b.Where(), b.Schema(), true
	m := newModel(c, cfg)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.ANSI)))
	s := &screen{t: t, tm: tm, term: newVterm(w, h), c: c}
	stop := make(chan struct{})
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		for {
			_, _ = io.Copy(s.term, tm.Output())
			select {
			case <-stop:
				_, _ = io.Copy(s.term, tm.Output())
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() {
		_ = tm.Quit()
		tm.WaitFinished(t, teatest.WithFinalTimeout(30*time.Second))
		c.Close()
		close(stop)
		<-pumped
	})
	return s
}

func (s *screen) press(keys ...string) {
	for _, k := range keys {
		s.tm.Send(keyPress(k))
	}
}

func (s *screen) waitFor(timeout time.Duration, subs ...string) string {
	s.t.Helper()
	return s.term.waitFor(s.t, timeout, subs...)
}

// line returns the screen line holding sub ("" when none does).
func lineOf(text, sub string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// waitLine polls until some line holds every sub, and returns it.
func (s *screen) waitLine(timeout time.Duration, subs ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		text := s.term.text()
		for _, l := range strings.Split(text, "\n") {
			ok := true
			for _, sub := range subs {
				ok = ok && strings.Contains(l, sub)
			}
			if ok {
				return l
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no line showed all of %q within %s:\n%s", subs, timeout, text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func runOf(t *testing.T, store *db.Store) db.Run {
	t.Helper()
	runs, err := store.Runs(context.Background(), 1)
	if err != nil || len(runs) == 0 {
		t.Fatalf("runs: %v %v", runs, err)
	}
	return runs[0]
}

func TestScreenWorkspacesListShowsAgesAndCounts(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simFleet(), sim.Options{})
	env.seed("Acme Leads", 20*time.Hour)
	env.seed("Big Workspace", 30*time.Hour)
	env.seed("Castle Agency", 3*time.Minute)
	s := startScreen(t, env.backend(), 120, 30)
	text := s.waitFor(10*time.Second, "5 workspaces", "! 1 stale", "? 2 never", "515 accounts",
		"TEST fleet: five simulated workspaces", "schema t_")
	for _, c := range []struct{ name, accounts, age, status string }{
		{"Acme Leads", "45/45", "20h", "✓ ok"},
		{"Big Workspace", "450/450", "30h", "! stale"},
		{"Castle Agency", "20/20", "3m", "✓ ok"},
		{"Delta Outreach", "0/-", "never", "? never"},
		{"Echo Partners", "0/-", "never", "? never"},
	} {
		line := lineOf(text, c.name+" ")
		for _, want := range []string{c.accounts, c.age, c.status} {
			if !strings.Contains(line, want) {
				t.Errorf("row of %s lacks %q: %q", c.name, want, line)
			}
		}
	}
	if !strings.Contains(text, "no run") {
		t.Errorf("header should say there is no run yet:\n%s", text)
	}
}

var pagesRe = regexp.MustCompile(`(\d+)/30\b`)

func TestScreenSyncOneWorkspacePagesAdvance(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simFleet(), sim.Options{})
	env.slowInstance(40 * time.Millisecond) // 30 pages, one at a time: about 1.2s
	s := startScreen(t, env.backend(), 120, 30)
	s.waitFor(10*time.Second, "Big Workspace")
	s.press("down", "enter") // the cursor starts on Acme Leads
	s.waitFor(10*time.Second, "Run #", "Big Workspace", "IN PROGRESS")

	// Watch the active line: its page count must be seen to move forward.
	seen := map[int]bool{}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		text := s.term.text()
		if strings.Contains(text, "✓ succeeded") {
			break
		}
		if line := lineOf(text, "» Big Workspace"); line != "" {
			if m := pagesRe.FindStringSubmatch(line); m != nil {
				n, _ := strconv.Atoi(m[1])
				seen[n] = true
			}
		}
		time.Sleep(15 * time.Millisecond)
	}
	var distinct []int
	for n := range seen {
		if n > 0 && n < 30 {
			distinct = append(distinct, n)
		}
	}
	if len(distinct) < 3 {
		t.Fatalf("pages did not advance on screen: saw %v", seen)
	}
	text := s.waitFor(10*time.Second, "✓ succeeded", "workspaces 1/1 done: 1 ok", "450 accounts · 30 pages")
	if !strings.Contains(text, "Run #1 · Big Workspace · trigger tui") {
		t.Errorf("run header:\n%s", text)
	}
	// Back on the workspaces view, the row is fresh.
	s.press("1")
	line := s.waitLine(10*time.Second, "Big Workspace", "450/450", "✓ ok")
	if !strings.Contains(line, "0s") && !strings.Contains(line, "1s") && !strings.Contains(line, "2s") {
		t.Errorf("fresh row should show a seconds age: %q", line)
	}
}

func TestScreenFullSyncAndItsHistory(t *testing.T) {
	t.Parallel()
	// Latency enough that a workspace's fetching spans a cell of the timeline.
	env := newSimEnv(t, simFleet(), sim.Options{Latency: 15 * time.Millisecond})
	s := startScreen(t, env.backend(), 120, 34)
	s.waitFor(10*time.Second, "5 workspaces")
	s.press("S")
	s.waitFor(5*time.Second, "Full sync: sync all 5 active workspaces now?", "[y/n]")
	s.press("y")
	text := s.waitFor(30*time.Second, "✓ succeeded", "workspaces 5/5 done: 5 ok, 0 failed", "DONE (5)",
		"run #1 finished: succeeded · 5 ok")
	for _, name := range []string{"Acme Leads", "Big Workspace", "Castle Agency", "Delta Outreach", "Echo Partners"} {
		if line := lineOf(text, name); !strings.Contains(line, "✓ ok") {
			t.Errorf("done line of %s: %q", name, line)
		}
	}
	if r := runOf(t, env.store); r.Status != db.RunSucceeded || r.Trigger != "tui" || r.WorkspacesSucceeded != 5 {
		t.Fatalf("recorded run %+v", r)
	}
	// v: the run's timeline, one lane per workspace, each ending in its outcome.
	s.press("v")
	s.waitFor(10*time.Second, "█ fetching", "↻ retry pause")
	if lane := s.waitLine(10*time.Second, "Big Workspace", "█"); !strings.Contains(lane, "✓") {
		t.Errorf("Big Workspace's lane: %q", lane)
	}
	s.press("v")
	s.press("1")
	s.waitFor(10*time.Second, "full run #1 ✓ succeeded", "562 accounts", "✓ all fresh")

	s.press("3")
	line := s.waitLine(10*time.Second, "#1 ", "tui", "✓ succeeded", "5/0", "562")
	if !strings.Contains(line, ":") {
		t.Errorf("history row lacks its start time: %q", line)
	}
	s.press("enter")
	s.waitFor(10*time.Second, "Run #1 · ✓ succeeded · trigger tui", "5 ok, 0 failed")
	row := s.waitLine(10*time.Second, "Big Workspace", "✓ ok", "30/30", "450")
	if strings.Count(row, "450") < 3 {
		t.Errorf("expected, fetched and written should all be 450: %q", row)
	}
}

func TestScreenCancelRun(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simFleet(), sim.Options{})
	env.slowInstance(60 * time.Millisecond) // about 37 pages in all, one at a time: over 2s
	s := startScreen(t, env.backend(), 120, 30)
	s.waitFor(10*time.Second, "5 workspaces")
	s.press("S", "y")
	s.waitFor(10*time.Second, "» running", "IN PROGRESS")
	s.press("x")
	s.waitFor(5*time.Second, "Cancel run #1? Workspaces not yet committed are rolled back", "as cancelled.", "[y/n]")
	s.press("y")
	text := s.waitFor(20*time.Second, "○ cancelled", "run #1 finished: ○ cancelled")
	if !strings.Contains(text, "cancelled: the operator cancelled the run in the console before this workspace finished") {
		t.Errorf("the cancel reason is not shown:\n%s", text)
	}
	r := runOf(t, env.store)
	if r.Status != db.RunCancelled || r.WorkspacesCancelled == 0 || !strings.Contains(r.Error, "the operator cancelled the run in the console") {
		t.Fatalf("recorded run %+v", r)
	}
	rows, err := env.store.RunWorkspaces(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range rows {
		if w.Status != db.WorkspaceSucceeded && w.Status != db.WorkspaceCancelled {
			t.Errorf("workspace %s ended %s after a cancel", w.Workspace, w.Status)
		}
	}
	// A new run may start once the cancelled one is recorded.
	s.press("1")
	s.waitFor(10*time.Second, "[1 Workspaces]")
}

func TestScreenFailingWorkspaceShowsItsReasonAndHistory(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simFleet(), sim.Options{})
	env.seed("Castle Agency", 3*time.Hour)
	castle := env.fleet.Instances[0].WorkspaceNamed("Castle Agency")
	env.srv.AddFault(sim.Fault{Kind: sim.Fault401, Workspace: castle.ID})
	s := startScreen(t, env.backend(), 140, 34)
	s.waitFor(10*time.Second, "5 workspaces")
	s.press("S", "y")
	text := s.waitFor(30*time.Second, "! partial", "4 ok, 1 failed", "✗ failed")
	if line := lineOf(text, "Castle Agency failed:"); !strings.Contains(line, "was rejected (HTTP 401)") {
		t.Errorf("the log should say why Castle Agency failed:\n%s", text)
	}
	if strings.Contains(text, "CastleAgencyKey") {
		t.Fatal("a token is on screen")
	}

	// The workspaces view marks it failing, with its reason.
	s.press("1")
	line := s.waitLine(10*time.Second, "Castle Agency", "✗ failing")
	if !strings.Contains(line, "the API key") {
		t.Errorf("failing row lacks its reason: %q", line)
	}
	s.press("down", "down") // Acme Leads, Big Workspace, Castle Agency
	s.waitFor(10*time.Second, "Castle Agency · sim-main · Bison id 5", "last attempt", "failed")
	s.press("e")
	full := s.waitFor(10*time.Second, "Last error of Castle Agency", "was rejected (HTTP 401)", "fix client_registry.bison_api_key")
	if strings.Contains(full, "CastleAgencyKey") {
		t.Fatal("a token is on screen")
	}
	s.press("esc")

	// Its history: the run, and the workspace's own runs.
	s.press("h")
	s.waitLine(10*time.Second, "#1", "✗ failed", "the API key")
	s.press("enter")
	s.waitFor(10*time.Second, "Run #1 · ! partial", "4 ok, 1 failed")
	row := s.waitLine(10*time.Second, "Castle Agency", "✗ failed")
	if !strings.Contains(row, "HTTP 401") && !strings.Contains(row, "the API key") {
		t.Errorf("run table row lacks the error: %q", row)
	}
	if r := runOf(t, env.store); r.Status != db.RunPartial || r.WorkspacesFailed != 1 {
		t.Fatalf("recorded run %+v", r)
	}
}

func TestScreenANSIWorkspaceNameIsHarmless(t *testing.T) {
	t.Parallel()
	evil := &sim.Workspace{ID: 11, Name: "Evil\x1b[2J\x1b[H\x1b]0;pwned\x07Corp\x1b[31m", Key: "21|EvilKeyFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", Seed: 11, Count: 15}
	env := newSimEnv(t, simFleet(evil), sim.Options{})
	s := startScreen(t, env.backend(), 120, 30)
	text := s.waitFor(10*time.Second, "6 workspaces", "EvilCorp", "Acme Leads", "Echo Partners", "TEST fleet")
	if strings.Contains(text, "pwned") {
		t.Errorf("the title sequence's text is drawn: %q", lineOf(text, "Evil"))
	}
	// The clear-screen in the name did not wipe what was drawn before it.
	if !strings.Contains(text, "bisonsync") || !strings.Contains(text, "WORKSPACE") {
		t.Fatalf("the screen was disturbed:\n%s", text)
	}
	// It syncs like any other and its name stays harmless in the run view.
	s.press("end", "enter") // EvilCorp sorts last
	s.waitFor(20*time.Second, "Run #1 · EvilCorp", "✓ succeeded")
}

// A cancelled context (SIGTERM in main) ends the console at once, cancels the run exactly
// as headless mode does (recorded with the signal's cause), and leaves the terminal as it
// found it.
func TestRunOnContextCancelRecordsTheRunAndRestoresTheTerminal(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simFleet(), sim.Options{})
	env.slowInstance(60 * time.Millisecond)
	term := newVterm(100, 30)
	in, keys := io.Pipe()
	defer keys.Close()
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, env.backend(), config{staleAfter: 24 * time.Hour, where: "test", timers: true},
			tea.WithInput(in), tea.WithOutput(term), tea.WithWindowSize(100, 30), tea.WithColorProfile(colorprofile.ANSI))
	}()
	term.waitFor(t, 10*time.Second, "5 workspaces")
	if !term.altScreen() {
		t.Fatal("the console should draw in the alternate screen")
	}
	_, _ = keys.Write([]byte("S"))
	term.waitFor(t, 5*time.Second, "[y/n]")
	_, _ = keys.Write([]byte("y"))
	term.waitFor(t, 10*time.Second, "» running", "IN PROGRESS")
	cancel(errors.New("interrupted by SIGTERM"))
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after its context was cancelled")
	}
	if term.altScreen() || term.cursorHidden() {
		t.Fatalf("terminal not restored: alt screen %v, cursor hidden %v", term.altScreen(), term.cursorHidden())
	}
	r := runOf(t, env.store)
	if r.Status != db.RunCancelled || !strings.Contains(r.Error, "interrupted by SIGTERM") {
		t.Fatalf("the run was not recorded as cancelled by the signal: %+v", r)
	}
}

// panicBackend panics when the console reads the registry a second time.
type panicBackend struct {
	backend
	mu    stdsync.Mutex
	reads int
}

func (p *panicBackend) Workspaces(ctx context.Context) ([]db.Workspace, error) {
	p.mu.Lock()
	p.reads++
	n := p.reads
	p.mu.Unlock()
	if n > 1 {
		panic("test: the registry read blew up")
	}
	return p.backend.Workspaces(ctx)
}

func TestRunAfterPanicRestoresTheTerminal(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simFleet(), sim.Options{})
	term := newVterm(100, 30)
	in, keys := io.Pipe()
	defer keys.Close()
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), &panicBackend{backend: env.backend()}, config{where: "test", timers: true},
			tea.WithInput(in), tea.WithOutput(term), tea.WithWindowSize(100, 30), tea.WithColorProfile(colorprofile.ANSI))
	}()
	term.waitFor(t, 10*time.Second, "5 workspaces")
	_, _ = keys.Write([]byte("r")) // refresh: the second read panics
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "crashed") {
			t.Fatalf("run returned %v, want the crash reported", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after a panic")
	}
	if term.altScreen() || term.cursorHidden() {
		t.Fatalf("terminal not restored: alt screen %v, cursor hidden %v", term.altScreen(), term.cursorHidden())
	}
}

// D on a workspace with held deletions opens a dialog that shows the whole question, every
// address and the answers, on an 80-column terminal; y then syncs with the deletions
// accepted.
func TestScreenHeldDeletionsDialogShowsTheWholeQuestion(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simFleet(), sim.Options{})
	env.seed("Acme Leads", time.Hour)
	ctx := context.Background()
	ids, err := env.store.LiveAccountIDs(ctx, simInstance, 2)
	if err != nil || len(ids) < 3 {
		t.Fatalf("live ids %v %v", ids, err)
	}
	if err := env.store.HoldDeletions(ctx, 99, "Acme Leads", simInstance, 2, ids[:3]); err != nil {
		t.Fatal(err)
	}
	held, err := env.store.HeldDeletions(ctx, "Acme Leads")
	if err != nil || len(held) != 3 {
		t.Fatalf("held %v %v", held, err)
	}
	s := startScreen(t, env.backend(), 80, 24)
	s.waitFor(10*time.Second, "Acme Leads")
	s.press("D")
	want := []string{"Held deletions of Acme Leads", "mark these 3 accounts deleted?", "[y/n]", "y: sync and mark 3 deleted"}
	for _, h := range held {
		want = append(want, h.Email)
	}
	s.waitFor(10*time.Second, want...)
	s.press("y")
	s.waitFor(20*time.Second, "Acme Leads (deletions accepted)", "✓ succeeded")
}

// An empty registry is a problem to fix: the console opens on an explanation naming the
// schema and how to add workspaces, not on an empty, healthy-looking table.
func TestScreenEmptyRegistryExplainsHowToAddWorkspaces(t *testing.T) {
	t.Parallel()
	store := dbtest.NewStore(t)
	b := storeBackend{store: store, engine: sync.New(store, sync.Config{Trigger: "tui"})}
	s := startScreen(t, b, 100, 30)
	text := s.waitFor(10*time.Second, "Schema "+store.Schema()+" has no active workspace", "no active workspace: nothing is kept in sync",
		"bisonsync register --all", "INSERT INTO client_registry")
	for _, bad := range []string{"all fresh", "WORKSPACE", "0 workspaces"} {
		if strings.Contains(text, bad) {
			t.Errorf("the empty registry shows %q:\n%s", bad, text)
		}
	}
}

// A run started by another process on the same schema (here another engine, as a cron job
// on another host would be) is followed live from the database: the console shows it with
// its trigger and host, its workspaces as they start and end, and its end.
func TestScreenFollowsARunOfAnotherProcess(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simFleet(), sim.Options{})
	env.slowInstance(60 * time.Millisecond) // about 37 pages, one at a time: over 2s
	other := sync.New(env.store, sync.Config{Trigger: "headless", Host: "cron-test", PID: 4242, RetryBackoff: 10 * time.Millisecond,
		Client: bison.Options{RequestTimeout: 5 * time.Second}})
	s := startScreenWith(t, env.backend(), 120, 34, config{pollEvery: 200 * time.Millisecond})
	s.waitFor(10*time.Second, "5 workspaces")
	done := make(chan error, 1)
	go func() {
		_, err := other.Run(context.Background(), sync.Request{})
		done <- err
	}()
	s.waitFor(10*time.Second, "following run #1 (cron-test)")
	s.press("2")
	s.waitFor(10*time.Second, "Run #1 · trigger headless · host cron-test (pid 4242)", "» running")
	s.press("x")
	s.waitFor(5*time.Second, "belongs to another process", "cannot be cancelled")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s.waitFor(10*time.Second, "✓ succeeded", "workspaces 5/5 done: 5 ok", "run #1 (headless on cron-test) finished: ✓ succeeded")
	s.press("1")
	s.waitFor(10*time.Second, "✓ all fresh")
}
