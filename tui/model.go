package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/progress"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/human"
	"github.com/bisonsync/bisonsync/sync"
)

// viewID is one of the console's views; tab cycles through them.
type viewID int

const (
	viewWorkspaces viewID = iota
	viewRun
	viewHistory
	numViews
)

// Timings of the console.
const (
	refreshEvery = 10 * time.Second // the registry is re-read this often
	clockEvery   = time.Second      // ages, elapsed times and countdowns move this often
	statusFor    = 15 * time.Second // a status message stays this long
)

// Minimum terminal size the console draws in.
const (
	minWidth  = 80
	minHeight = 24
)

// config is the console's behaviour, from Options.
type config struct {
	staleAfter time.Duration
	banner     string
	where      string // the database, for the header
	schema     string // the schema, for the empty registry's explanation
	// timers turns on the periodic registry refresh and the clock. Model tests turn it off
	// to step the model deterministically.
	timers bool
	// clock is the time source; time.Now outside tests.
	clock func() time.Time
	// pollEvery is how often the console looks for runs of other processes (with timers).
	pollEvery time.Duration
}

// Messages of the console's own timers.
type (
	clockMsg   time.Time
	refreshMsg struct{}
)

// model is the console's one root model. Panes are plain structs it owns; it never does
// I/O: reads and runs are commands from the console, results come back as messages.
type model struct {
	c    *console
	cfg  config
	keys keyMap
	help help.Model

	width, height int
	view          viewID
	now           time.Time

	ws   wsPane
	hist histPane
	flow flowState // the instances and the requests

	run       *runState   // the run being watched, or the last one; nil before the first
	feed      *feed       // the current run's events
	running   bool        // the run is not over in the console yet
	runDone   *runDoneMsg // the engine returned (waiting for the final events)
	feedDone  bool        // the final batch of events was applied
	cancelRun context.CancelCauseFunc
	quitting  bool // quit once the engine has recorded the cancelled run
	polling   bool // a look for runs of other processes is under way

	confirm   *dialog // the question waiting for an answer
	status    statusLine
	showHelp  bool
	helpVP    viewport.Model // the help's lines, scrollable
	detail    *overlay       // full text of an error, on demand
	cache     wsRunsCache    // recent runs of workspaces, for the detail pane
	spin      spinner.Model
	pbar      progress.Model // a workspace's bar in the run view
	spinning  bool           // a spinner tick is under way
	logScroll int            // run log lines scrolled back from the newest (0 follows)

	runTimeline bool // the run view shows the run's timeline
	laneScroll  int  // timeline lanes scrolled past
}

// statusLine is the one-line message above the help. A message about one view stays in
// it; one about the run is shown in every view.
type statusLine struct {
	text   string
	kind   styleKind
	at     time.Time
	sticky bool   // stays until replaced
	view   viewID // the view it belongs to, unless global
	global bool
}

// overlay is a titled text shown in place of the view's body, in a viewport that scrolls
// when the text is longer than the screen.
type overlay struct {
	title, text string
	vp          viewport.Model
	wrapW       int
}

// layout wraps the text to w cells in h rows (Update calls it, through settle).
func (o *overlay) layout(w, h int) {
	if w != o.wrapW {
		o.wrapW = w
		o.vp.SetWidth(w)
		o.vp.SetContentLines(wrapLines(o.text, w))
	}
	o.vp.SetHeight(max(h-4, 1))
}

func newModel(c *console, cfg config) *model {
	if cfg.clock == nil {
		cfg.clock = time.Now
	}
	if cfg.staleAfter <= 0 {
		cfg.staleAfter = 24 * time.Hour
	}
	if cfg.pollEvery <= 0 {
		cfg.pollEvery = defaultPollEvery
	}
	cfg.banner = clean(cfg.banner)
	cfg.where = clean(cfg.where)
	cfg.schema = clean(cfg.schema)
	h := help.New()
	h.Styles = help.DefaultStyles(true)
	in := textinput.New()
	in.Prompt = "/ "
	in.Placeholder = "name words, status:failing,stale, inst:main"
	in.SetStyles(inputStyles(true))
	in.ShowSuggestions = true
	in.SetSuggestions(filterWords)
	return &model{
		c:    c,
		cfg:  cfg,
		keys: newKeyMap(),
		help: h,
		now:  cfg.clock(),
		ws:   wsPane{selected: map[string]bool{}, loading: true, input: in},
		spin: spinner.New(spinner.WithSpinner(spinner.MiniDot)),
		pbar: progress.New(progress.WithFillCharacters('█', '░'), progress.WithoutPercentage(), progress.WithColors(lipgloss.Cyan)),
	}
}

// inputStyles are the filter line's styles, with a steady cursor: a blinking one would keep
// the program redrawing for nothing.
func inputStyles(dark bool) textinput.Styles {
	st := textinput.DefaultStyles(dark)
	st.Cursor.Blink = false
	return st
}

// Init reads the registry and starts the timers.
func (m *model) Init() tea.Cmd {
	return tea.Batch(m.c.loadRegistry(), m.reloadFlow(), m.clockTick(), m.refreshTick(), m.poll(), m.pollTick(), tea.RequestBackgroundColor)
}

func (m *model) clockTick() tea.Cmd {
	if !m.cfg.timers {
		return nil
	}
	return tea.Tick(clockEvery, func(t time.Time) tea.Msg { return clockMsg(t) })
}

func (m *model) refreshTick() tea.Cmd {
	if !m.cfg.timers {
		return nil
	}
	return tea.Tick(refreshEvery, func(time.Time) tea.Msg { return refreshMsg{} })
}

// Update handles one message.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m.now = m.cfg.clock()
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
	case tea.BackgroundColorMsg:
		m.help.Styles = help.DefaultStyles(msg.IsDark())
		m.ws.input.SetStyles(inputStyles(msg.IsDark()))
	case spinner.TickMsg:
		cmd = m.onSpin(msg)
	case detailDueMsg:
		cmd = m.onDetailDue(msg)
	case pollMsg:
		cmd = tea.Batch(m.poll(), m.pollTick(), m.reloadFlow())
	case flowMsg:
		m.onFlow(msg)
	case followMsg:
		cmd = m.onFollow(msg)
	case clockMsg:
		if !m.status.sticky && m.status.text != "" && m.now.Sub(m.status.at) > statusFor {
			m.status = statusLine{}
		}
		cmd = m.clockTick()
	case refreshMsg:
		cmd = tea.Batch(m.reload(), m.refreshTick(), m.reloadFlow())
	case registryMsg:
		m.onRegistry(msg)
	case runDetailMsg:
		m.onRunDetail(msg)
	case heldMsg:
		cmd = m.onHeld(msg)
	case registeredMsg:
		cmd = m.onRegistered(msg)
	case mintedMsg:
		cmd = m.onMinted(msg)
	case workspaceRunsMsg:
		m.onWorkspaceRuns(msg)
	case feedMsg:
		cmd = m.onFeed(msg)
	case runDoneMsg:
		cmd = m.onRunDone(msg)
	case tea.KeyPressMsg:
		cmd = m.onKey(msg)
	}
	m.settle()
	return m, tea.Batch(cmd, m.startSpinner(), m.followCursor())
}

// following reports whether the run shown is another process's, still going.
func (m *model) following() bool {
	return m.run != nil && m.run.foreign != nil && !m.run.finished
}

// busy reports whether something is in progress that the spinner shows: a run, or a read
// the screen waits for.
func (m *model) busy() bool {
	return m.running || m.following() || (m.ws.loading && !m.ws.loaded) || m.hist.runBusy || m.hist.wsBusy
}

// startSpinner starts the spinner's ticks when work is in progress and they are not
// already going; onSpin stops them when it is over. Model tests (no timers) keep it still.
func (m *model) startSpinner() tea.Cmd {
	if !m.cfg.timers || m.spinning || !m.busy() {
		return nil
	}
	m.spinning = true
	return m.spin.Tick
}

func (m *model) onSpin(msg spinner.TickMsg) tea.Cmd {
	if !m.busy() {
		m.spinning = false
		return nil
	}
	var cmd tea.Cmd
	m.spin, cmd = m.spin.Update(msg)
	return cmd
}

// settle brings every scroll position in line with the state Update just changed (size,
// content, cursor): cursors within their lists, offsets keeping the cursor in sight, the log
// within its lines. View draws what settle left and changes nothing.
func (m *model) settle() {
	if m.width < minWidth || m.height < minHeight {
		if m.confirm != nil {
			m.confirm.layout(m.width, m.height, false)
		}
		return
	}
	l := m.layout()
	if m.confirm != nil {
		m.confirm.layout(m.width, l.body, true)
	}
	if m.detail != nil {
		m.detail.layout(m.width, l.body)
	}
	if m.showHelp {
		m.helpVP.SetWidth(m.width)
		m.helpVP.SetHeight(max(l.body-1, 1))
		m.helpVP.SetContentLines(m.helpLines())
	}
	m.ws.input.SetWidth(max(m.width-30, 10))
	switch m.view {
	case viewWorkspaces:
		sc := scroller{cursor: m.ws.cursor, offset: m.ws.offset}
		sc.window(len(m.ws.visible), l.tableRows)
		m.ws.offset = sc.offset
	case viewHistory:
		h := &m.hist
		h.list.clamp(len(m.ws.runs))
		h.list.window(len(m.ws.runs), l.tableRows)
		h.runList.clamp(len(h.runRows))
		h.runList.window(len(h.runRows), l.tableRows)
		h.wsList.clamp(len(h.wsRows))
		h.wsList.window(len(h.wsRows), l.tableRows)
		h.laneScroll = max(min(h.laneScroll, len(h.runRows)-l.lanes), 0)
	case viewRun:
		if m.run != nil {
			m.logScroll = max(min(m.logScroll, m.run.log.len()-l.logRows), 0)
			m.laneScroll = max(min(m.laneScroll, len(m.run.ws)-l.lanes), 0)
		}
	}
}

// reload re-reads the registry (with the recent runs) unless a read is in flight.
func (m *model) reload() tea.Cmd {
	if m.ws.loading && m.ws.loaded {
		return nil
	}
	m.ws.loading = true
	return m.c.loadRegistry()
}

func (m *model) onRegistry(msg registryMsg) {
	m.ws.loading = false
	if msg.err != nil {
		m.ws.err = fmt.Sprintf("could not read the registry at %s: %s", when(m.now), clean(msg.err.Error()))
		m.setGlobalStatus(m.ws.err, styleKindBad)
		return
	}
	// Ages and staleness are judged by the console's clock when the read arrives.
	m.ws.load(msg.workspaces, m.now, m.cfg.staleAfter, m.liveOf)
	m.ws.addUnregistered(msg.unregistered, m.now)
	m.ws.gen++
	if m.following() {
		m.run.estimate(m.estimateOf) // the poll may have come first
	}
	m.setRuns(msg.runs)
	m.resort()
}

// setRuns replaces the recent runs, keeping History's cursor on the run it was on (or on the
// newest, when it was there).
func (m *model) setRuns(runs []db.Run) {
	l := &m.hist.list
	var id int64
	if l.cursor > 0 && l.cursor < len(m.ws.runs) {
		id = m.ws.runs[l.cursor].ID
	}
	m.ws.runs = runs
	for i, r := range runs {
		if r.ID == id {
			l.cursor = i
		}
	}
	l.clamp(len(runs))
}

// resort re-sorts the workspaces when their order depends on the run's progress.
func (m *model) resort() {
	m.ws.rebuild(m.liveOf)
}

func (m *model) liveOf(name string) liveState {
	s, _ := m.run.live(name, m.ws.loadedAt)
	return s
}

func (m *model) onRunDetail(msg runDetailMsg) {
	if msg.id != m.hist.runID {
		return
	}
	m.hist.runBusy = false
	if msg.err != nil {
		m.hist.runError = fmt.Sprintf("could not read run #%d: %s", msg.id, clean(msg.err.Error()))
		return
	}
	r := msg.run
	m.hist.run, m.hist.runRows, m.hist.runError = &r, msg.rows, ""
	m.hist.runList.clamp(len(msg.rows))
}

func (m *model) onWorkspaceRuns(msg workspaceRunsMsg) {
	if msg.err == nil {
		m.remember(msg.name, msg.rows)
	} else if m.cache.want == msg.name {
		m.cache.want = ""
	}
	if msg.name != m.hist.wsName {
		return
	}
	m.hist.wsBusy = false
	if msg.err != nil {
		m.hist.wsError = fmt.Sprintf("could not read the runs of %s: %s", clean(msg.name), clean(msg.err.Error()))
		return
	}
	m.hist.wsRows, m.hist.wsError = msg.rows, ""
	m.hist.wsList.clamp(len(msg.rows))
}

// onFeed applies a batch of the current run's events and re-arms the listener until the
// final batch.
func (m *model) onFeed(msg feedMsg) tea.Cmd {
	if msg.feed != m.feed || m.run == nil {
		return nil // a batch of an earlier run
	}
	m.applyEvents(msg.events)
	if msg.final {
		m.feedDone = true
		return m.finishRun()
	}
	if msg.feed.isClosed() {
		return nil
	}
	return msg.feed.next()
}

func (m *model) applyEvents(events []sync.Event) {
	if len(events) == 0 {
		return
	}
	added := m.run.log.len()
	for _, ev := range events {
		m.run.apply(ev, m.now)
	}
	m.run.sample(m.now)
	if m.logScroll > 0 {
		// Keep the lines the operator scrolled back to in place.
		m.logScroll += m.run.log.len() - added
	}
	if m.ws.sort.col == sortStatus || m.ws.filter.usesRun() {
		m.resort()
	}
}

// onRunDone notes that the engine returned; the run is closed once its final batch of
// events has been applied too (the two messages may arrive in either order).
func (m *model) onRunDone(msg runDoneMsg) tea.Cmd {
	if msg.feed != m.feed {
		return nil
	}
	m.runDone = &msg
	return m.finishRun()
}

// finishRun closes the run in the console once the engine returned and every event is in.
func (m *model) finishRun() tea.Cmd {
	msg := m.runDone
	if msg == nil || !m.feedDone {
		return nil
	}
	msg.feed.close()
	m.running, m.cancelRun, m.runDone = false, nil, nil
	r := m.run
	r.finished = true
	if r.endedAt.IsZero() {
		r.endedAt = m.now
	}
	var notStarted *sync.NotStartedError
	switch {
	case errors.As(msg.err, &notStarted):
		r.startErr = describeStartError(notStarted.Err)
		r.log.add(m.now, logBad, "the run did not start: "+r.startErr)
		m.setGlobalStatus("the run did not start: "+r.startErr, styleKindBad)
	default:
		s := msg.summary
		if r.summary == nil {
			r.summary = &s
		}
		if r.id == 0 {
			r.id = s.RunID
		}
		status, kind := runOutcome(s.Status)
		text := fmt.Sprintf("run #%d finished: %s · %d ok, %d failed, %d cancelled, %d skipped · %s",
			s.RunID, status, s.WorkspacesSucceeded, s.WorkspacesFailed, s.WorkspacesCancelled, s.WorkspacesSkipped,
			human.Duration(time.Duration(s.DurationMS)*time.Millisecond))
		if msg.err != nil {
			text += " · " + clean(msg.err.Error())
			kind = styleKindBad
		}
		m.setGlobalStatus(text, kind)
	}
	if m.quitting {
		return tea.Quit
	}
	cmds := []tea.Cmd{m.forceReload()}
	if m.view == viewHistory {
		cmds = append(cmds, m.reloadHistoryDetail())
	}
	m.resort()
	return tea.Batch(cmds...)
}

// forceReload re-reads the registry even when a periodic read is in flight (it may have
// started before the run's last commit).
func (m *model) forceReload() tea.Cmd {
	m.ws.loading = true
	return tea.Batch(m.c.loadRegistry(), m.reloadFlow())
}

func describeStartError(err error) string {
	var unknown *db.UnknownWorkspacesError
	switch {
	case errors.Is(err, sync.ErrRunInProgress):
		return "the engine is already running a sync in this process; wait for it to finish"
	case errors.As(err, &unknown):
		return clean(err.Error()) + " (the registry changed: press r to refresh)"
	}
	return clean(err.Error())
}

// setStatus shows a message about the current view, in that view.
func (m *model) setStatus(text string, kind styleKind) {
	m.status = statusLine{text: text, kind: kind, at: m.now, view: m.view}
}

// setGlobalStatus shows a message about the run or the database, in every view.
func (m *model) setGlobalStatus(text string, kind styleKind) {
	m.status = statusLine{text: text, kind: kind, at: m.now, global: true}
}

func (m *model) setSticky(text string, kind styleKind) {
	m.status = statusLine{text: text, kind: kind, at: m.now, sticky: true, global: true}
}

// startRun launches a run unless one is going, and shows it.
func (m *model) startRun(label string, req sync.Request) tea.Cmd {
	if m.running {
		m.setStatus(m.busyText(), styleKindWarn)
		return nil
	}
	f := m.c.newFeed()
	cancel, run := m.c.startRun(req, f)
	m.feed, m.cancelRun, m.running, m.runDone, m.feedDone = f, cancel, true, nil, false
	m.run = newRunState(label, m.now)
	m.logScroll = 0
	m.view = viewRun
	m.detail, m.showHelp = nil, false
	m.setGlobalStatus("starting: "+label, styleKindRunning)
	m.resort()
	return tea.Batch(run, f.next())
}

// busyText says why a second run cannot start.
func (m *model) busyText() string {
	r := m.run
	if r == nil || r.id == 0 {
		return "a run is starting: one run at a time; wait for it, or press x to cancel it"
	}
	return fmt.Sprintf("run #%d is still going (%d of %d workspaces done): one run at a time; wait for it, or press x to cancel it",
		r.id, len(r.done), r.planned)
}

func (m *model) askCancel() {
	switch {
	case !m.running && m.following():
		m.setGlobalStatus(notOursText(m.run), styleKindWarn)
	case !m.running:
		m.setStatus("no run is going", styleKindPlain)
	case m.run.cancelling:
		m.setStatus("the run is already being cancelled", styleKindWarn)
	default:
		m.confirm = newDialog("Cancel "+m.runName(),
			fmt.Sprintf("Cancel %s? Workspaces not yet committed are rolled back and recorded as cancelled.", m.runName()),
			"cancel the run", "let it run", func(m *model) tea.Cmd {
				if !m.running {
					m.setStatus("the run ended before the cancel", styleKindPlain)
					return nil
				}
				m.cancel(errOperatorCancel)
				m.setSticky(fmt.Sprintf("cancelling %s: waiting for the engine to record it…", m.runName()), styleKindWarn)
				return nil
			})
	}
}

func (m *model) cancel(cause error) {
	if m.cancelRun != nil && m.running {
		m.cancelRun(cause)
		m.run.cancelling = true
		m.run.cancelCause = cause.Error()
	}
}

func (m *model) runName() string {
	if m.run != nil && m.run.id != 0 {
		return fmt.Sprintf("run #%d", m.run.id)
	}
	return "the run"
}

func (m *model) askQuit() tea.Cmd {
	if m.quitting {
		return tea.Quit // second request: the engine still records the run before Run returns
	}
	if !m.running {
		return tea.Quit
	}
	m.confirm = newDialog("Quit",
		fmt.Sprintf("%s is going. Quit and cancel it? Unfinished workspaces are recorded as cancelled.", capitalize(m.runName())),
		"quit and cancel it", "stay", func(m *model) tea.Cmd {
			if !m.running {
				return tea.Quit // the run ended while the question was shown
			}
			m.quitting = true
			m.cancel(errOperatorQuit)
			m.setSticky(fmt.Sprintf("cancelling %s; the console closes once the engine has recorded it…", m.runName()), styleKindWarn)
			return nil
		})
	return nil
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	if s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

func (m *model) askFullSync() {
	if m.running {
		m.setStatus(m.busyText(), styleKindWarn)
		return
	}
	what := "every active workspace"
	if m.ws.loaded {
		what = "all " + plural(m.ws.counts.total, "active workspace", "active workspaces")
	}
	m.confirm = newDialog("Full sync", fmt.Sprintf("Full sync: sync %s now?", what), "start the full sync", "not now",
		func(m *model) tea.Cmd { return m.startRun("full sync", sync.Request{}) })
}

// heldMsg carries the deletions the guard holds for a workspace.
type heldMsg struct {
	name string
	held []db.HeldDeletion
	err  error
}

// onHeld shows what a held mass deletion would remove, every account of it, and offers to
// apply it: the console's counterpart of --allow-deletions.
func (m *model) onHeld(msg heldMsg) tea.Cmd {
	name := clean(msg.name)
	switch {
	case msg.err != nil:
		m.setStatus(fmt.Sprintf("could not read the held deletions of %s: %s", name, clean(msg.err.Error())), styleKindWarn)
		return nil
	case len(msg.held) == 0:
		m.setStatus("no deletions are held for "+name, styleKindPlain)
		return nil
	case m.running:
		m.setStatus(m.busyText(), styleKindWarn)
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "A complete fetch of %s found %s gone at the source. The deletion guard held them back: their rows are still live.\n\n",
		name, plural(len(msg.held), "account", "accounts"))
	for _, h := range msg.held {
		fmt.Fprintf(&b, "  %s\n", clean(h.Email))
	}
	fmt.Fprintf(&b, "\nSync %s now and mark these %s deleted?", name, plural(len(msg.held), "account", "accounts"))
	ws := msg.name
	m.confirm = newDialog("Held deletions of "+name, b.String(),
		fmt.Sprintf("sync and mark %s deleted", num(len(msg.held))), "keep them",
		func(m *model) tea.Cmd {
			return m.startRun(name+" (deletions accepted)", sync.Request{Names: []string{ws}, AllowDeletions: []string{ws}})
		})
	return nil
}

// syncAttention syncs the workspaces the console shows as stale, failing or never synced.
func (m *model) syncAttention() tea.Cmd {
	if m.running {
		m.setStatus(m.busyText(), styleKindWarn)
		return nil
	}
	names := m.ws.attention()
	if len(names) == 0 {
		m.setStatus("nothing is stale, failing or never synced", styleKindOK)
		return nil
	}
	return m.startRun(plural(len(names), "stale, failing or never-synced workspace", "stale, failing or never-synced workspaces"),
		sync.Request{Names: names})
}

func (m *model) syncSelected() tea.Cmd {
	if m.running {
		m.setStatus(m.busyText(), styleKindWarn)
		return nil
	}
	names := m.ws.selectedNames()
	if len(names) == 0 {
		m.setStatus("nothing selected: space selects the workspace under the cursor", styleKindWarn)
		return nil
	}
	clear(m.ws.selected)
	label := plural(len(names), "selected workspace", "selected workspaces")
	if len(names) == 1 {
		label = clean(names[0])
	}
	return m.startRun(label, sync.Request{Names: names})
}

func (m *model) syncCurrent() tea.Cmd {
	if m.running {
		m.setStatus(m.busyText(), styleKindWarn)
		return nil
	}
	r := m.ws.current()
	if r == nil {
		return nil
	}
	if r.unregistered {
		m.setStatus(r.name+" is not in the registry: R registers it", styleKindWarn)
		return nil
	}
	return m.startRun(r.name, sync.Request{Names: []string{r.ws.Name}})
}
