package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/human"
)

// View draws the console: a tab bar, the current view's body, a status line and the help
// line, exactly the terminal's size, in the alternate screen, mouse off.
func (m *model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	return v
}

// layout is how the terminal's rows are shared in the current state.
type layout struct {
	body                          int // rows between the tab bar and the status line
	tableRows                     int // rows of the current table (workspaces, runs, run workspaces)
	activeRows, doneRows, logRows int
}

func (m *model) layout() layout {
	l := layout{body: max(m.height-3, 0)}
	switch m.view {
	case viewRun:
		l.activeRows, l.doneRows, l.logRows = m.runLayout(max(l.body-4-3, 3))
	case viewHistory:
		fixed := 3
		if m.hist.mode == histRun {
			fixed = 5
		}
		l.tableRows = max(l.body-fixed, 1)
	default:
		fixed := len(m.wsHeader()) + 1 + 1 + m.detailRows() // header, table header, summary, detail
		if m.cfg.banner != "" {
			fixed++
		}
		if m.running {
			fixed++
		}
		if m.ws.filtering() {
			fixed++
		}
		l.tableRows = max(l.body-fixed, 1)
	}
	return l
}

// runLayout shares avail rows between the active list, the done list and the log: each
// gets what it needs when all fit; otherwise the log keeps a quarter, the active list up to
// three fifths of the rest, and the done list what remains.
func (m *model) runLayout(avail int) (active, done, log int) {
	wantA, wantD, wantL := 1, 1, 1
	if r := m.run; r != nil {
		wantA, wantD, wantL = max(len(r.active)+len(r.waiting), 1), max(len(r.done), 1), max(r.log.len(), 1)
	}
	if wantA+wantD+wantL <= avail {
		return wantA, wantD, avail - wantA - wantD
	}
	log = min(wantL, max(avail/4, 3))
	active = min(wantA, max((avail-log)*3/5, 1))
	done = min(wantD, max(avail-log-active, 1))
	// Give what one list leaves to the others.
	spare := avail - log - active - done
	grow := func(n *int, want int) {
		add := min(spare, max(want-*n, 0))
		*n += add
		spare -= add
	}
	grow(&active, wantA)
	grow(&done, wantD)
	log += max(spare, 0)
	return active, done, log
}

func (m *model) render() string {
	if m.width == 0 || m.height == 0 {
		return ""
	}
	if m.width < minWidth || m.height < minHeight {
		return m.tooSmall()
	}
	l := m.layout()
	lines := make([]string, 0, m.height)
	lines = append(lines, m.tabBar())
	var body []string
	switch {
	case m.confirm != nil:
		body = m.confirm.view(m.width, l.body)
	case m.showHelp:
		body = m.helpBody()
	case m.detail != nil:
		body = m.overlayBody(l.body)
	case m.view == viewRun:
		body = m.runBody(l)
	case m.view == viewHistory:
		body = m.historyBody(l)
	default:
		body = m.workspacesBody(l)
	}
	for i := 0; i < l.body; i++ {
		line := ""
		if i < len(body) {
			line = body[i]
		}
		lines = append(lines, clip(line, m.width))
	}
	lines = append(lines, m.statusBar(), m.helpBar())
	return strings.Join(lines, "\n")
}

func (m *model) tooSmall() string {
	msg := fmt.Sprintf("The terminal is %dx%d; the bisonsync console needs at least %dx%d. Enlarge the window, or press q to quit.",
		m.width, m.height, minWidth, minHeight)
	if m.confirm != nil {
		msg += " A question is waiting (" + m.confirm.title + "): enlarge the window to read and answer it, or press n."
	}
	lines := wrap(msg, max(m.width, 1))
	if len(lines) > m.height {
		lines = lines[:max(m.height, 1)]
	}
	return strings.Join(lines, "\n")
}

func (m *model) tabBar() string {
	names := [...]string{"Workspaces", "Run", "History"}
	var b strings.Builder
	b.WriteString(styleBold.Render("bisonsync"))
	for i, n := range names {
		b.WriteString("  ")
		label := fmt.Sprintf("%d %s", i+1, n)
		if viewID(i) == m.view {
			b.WriteString(styleTab.Render("[" + label + "]"))
		} else {
			b.WriteString(" " + label + " ")
		}
	}
	right := ""
	if r := m.run; r != nil {
		switch {
		case m.running && r.cancelling:
			right = styleKindWarn.render(fmt.Sprintf("%s cancelling %s", symCancelled, m.runName()))
		case m.running:
			right = styleKindRunning.render(fmt.Sprintf("%s %s %s %d/%d", m.spin.View(), symRunning, m.runName(), len(r.done), r.planned))
		case r.summary != nil:
			status, kind := runOutcome(r.summary.Status)
			right = kind.render(fmt.Sprintf("run #%d %s", r.summary.RunID, status))
		}
	}
	return spread(b.String(), right, m.width)
}

func (m *model) statusBar() string {
	if m.ws.editing() {
		return clip("filter: words of the name, status:failing,stale (also attention, running, waiting, queued), inst:NAME · tab completes · enter keeps it · esc clears it", m.width)
	}
	if st := m.status; st.text == "" || !st.global && st.view != m.view {
		return ""
	}
	return clip(m.status.kind.render(m.status.text), m.width)
}

func (m *model) keyState() keyState {
	return keyState{view: m.view, hist: m.hist.mode, running: m.running, cancelable: m.running && m.run != nil && !m.run.cancelling,
		selected: len(m.ws.selected), narrowed: m.ws.input.Value() != "" || len(m.ws.selected) > 0}
}

func (m *model) helpBar() string {
	return clip(m.help.ShortHelpView(m.keys.helpFor(m.keyState()).ShortHelp()), m.width)
}

// helpBody is every key of the current view (bubbles/help, full mode), then the keys that
// work everywhere, then what the status words mean.
func (m *model) helpBody() []string {
	h := m.help
	keys := m.keys.helpFor(m.keyState())
	groups := keys.FullHelp()
	local, global := groups[:len(groups)-1], groups[len(groups)-1]
	half := (len(global) + 1) / 2
	lines := []string{styleBold.Render("Keys") + "  (? or esc closes this)", ""}
	lines = append(lines, strings.Split(h.FullHelpView(local), "\n")...)
	lines = append(lines, "")
	lines = append(lines, strings.Split(h.FullHelpView([][]key.Binding{global[:half], global[half:]}), "\n")...)
	lines = append(lines, "")
	lines = append(lines, packSep(append([]string{"Statuses:"}, statusLegend(m.cfg.staleAfter)...), "   ", m.width)...)
	lines = append(lines, wrap("t syncs the workspaces listed as stale, failing or never synced, by name. "+
		"enter syncs the workspace under the cursor; space selects, s syncs the selection; S syncs every active workspace.", m.width)...)
	return lines
}

// statusLegend explains every status symbol. Its entries are joined with spaces, never with
// the "·" used between figures, which is itself a symbol (queued).
func statusLegend(staleAfter time.Duration) []string {
	return []string{
		symOK + " ok", symStale + " stale (no success within " + staleWords(staleAfter) + ")",
		symFailed + " failing (last attempt failed)", symNever + " never synced",
		symRunning + " running (» 17/29: page 17 of 29)", symPending + " waiting (for page 1, or for a key)",
		symWaiting + " retrying", symQueued + " queued", symCancelled + " cancelled", symSkipped + " skipped (another process had it)",
	}
}

// staleWords renders the stale age: "24h", "90m", "1h30m0s".
func staleWords(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return d.String()
}

func (m *model) overlayBody(h int) []string {
	d := m.detail
	lines := []string{styleBold.Render(clip(d.title, m.width)), ""}
	lines = append(lines, strings.Split(d.vp.View(), "\n")...)
	hint := "esc closes this"
	if below := d.vp.TotalLineCount() - d.vp.YOffset() - d.vp.Height(); below > 0 {
		hint = fmt.Sprintf("↓ %d more lines below · esc closes this", below)
	}
	return append(lines, "", styleFaint.Render(hint))
}

// ---- workspaces view ----

func (m *model) workspacesBody(l layout) []string {
	p := &m.ws
	out := make([]string, 0, l.body)
	out = append(out, m.wsHeader()...)
	if m.cfg.banner != "" {
		out = append(out, styleBanner.Render(clip(m.cfg.banner, m.width)))
	}
	if m.running && m.run != nil {
		out = append(out, styleKindRunning.render(clip(m.runOneLine()+" · tab shows it", m.width)))
	}
	if p.filtering() {
		out = append(out, p.input.View()+styleFaint.Render(fmt.Sprintf("   %d of %d shown", len(p.visible), len(p.rows))))
	}
	if p.loaded && len(p.rows) == 0 {
		return append(out, m.emptyRegistry()...)
	}
	cols := wsLayout(m.width)
	out = append(out, styleBold.Render(clip(cols.header(p.sort), m.width)))

	rows := l.tableRows
	switch {
	case !p.loaded && p.err != "":
		out = append(out, styleKindBad.render(p.err))
		return out
	case !p.loaded:
		out = append(out, m.spin.View()+" reading the registry…")
		return out
	case len(p.visible) == 0:
		out = append(out, "No workspace matches the filter (esc clears it).")
		return out
	}
	start := p.offset
	for i := start; i < len(p.visible) && i < start+rows; i++ {
		out = append(out, m.wsRowLine(cols, &p.rows[p.visible[i]], i == p.cursor))
	}
	for len(out) < l.body-1-m.detailRows() {
		out = append(out, "")
	}
	out = append(out, m.wsSummary(rows))
	return append(out, m.wsDetail()...)
}

// wsSummary is the line under the table: what is cut off above and below, how many are
// shown and selected.
func (m *model) wsSummary(rows int) string {
	p := &m.ws
	var parts []string
	if p.offset > 0 {
		parts = append(parts, fmt.Sprintf("↑ %d more above", p.offset))
	}
	if below := len(p.visible) - p.offset - rows; below > 0 {
		parts = append(parts, fmt.Sprintf("↓ %d more below", below))
	}
	shown := fmt.Sprintf("%d shown", len(p.visible))
	if len(p.visible) < len(p.rows) {
		shown = fmt.Sprintf("%d of %d shown", len(p.visible), len(p.rows))
	}
	parts = append(parts, shown)
	if n := len(p.selected); n > 0 {
		parts = append(parts, styleBold.Render(fmt.Sprintf("%s %d selected", symSelected, n))+" (s syncs them, esc clears)")
	}
	return styleFaint.Render(clip(strings.Join(parts, " · "), m.width))
}

// emptyRegistry explains an empty registry in place of the table: it is a problem to fix,
// never a healthy silence.
func (m *model) emptyRegistry() []string {
	text := []string{
		fmt.Sprintf("Schema %s has no active workspace: nothing is being kept in sync.", m.cfg.schema),
		"",
		"To add workspaces, either:",
		"• let bisonsync find them, when an instance has a super-admin key (bison_instances.api_key):",
		"      bisonsync register --all",
		"• or insert them yourself (README.md, \"Instances and workspaces\"):",
		"      INSERT INTO bison_instances (name, base_url, api_key)",
		"        VALUES ('main', 'https://send.example.com/api', 'env:BISON_MAIN_ADMIN_KEY');",
		"      INSERT INTO client_registry (workspace_name, bison_instance, bison_workspace_id, bison_api_key)",
		"        VALUES ('Castle Agency', 'main', 2, 'env:BISON_KEY_CASTLE');",
		"",
		"Workspaces with is_active = false are left out. The registry is read again every " + human.Setting(refreshEvery) + "; r reads it now.",
	}
	out := []string{""}
	for i, line := range text {
		if i == 0 {
			out = append(out, styleKindBad.render(symFailed+" ")+styleBold.Render(line))
			continue
		}
		out = append(out, wrap(line, m.width)...)
	}
	return out
}

// wsHeader sums the registry up: counts, accounts, the last full run, the database and
// when it was read. It takes two lines, in shorter words on a narrow terminal, and a third
// only when even those do not fit.
func (m *model) wsHeader() []string {
	var lines []string
	for _, compact := range []bool{false, true} {
		lines = append(pack(m.headerCounts(compact), m.width), pack(m.headerWhere(compact), m.width)...)
		if len(lines) <= 2 {
			break
		}
	}
	return lines
}

func (m *model) headerCounts(compact bool) []string {
	c := m.ws.counts
	parts := []string{plural(c.total, "workspace", "workspaces")}
	never := "never synced"
	if compact {
		never = "never"
	}
	switch {
	case m.ws.loaded && c.total == 0:
		parts = []string{styleKindBad.render(symFailed + " no active workspace: nothing is kept in sync")}
	case m.ws.loaded && c.stale+c.failing+c.never == 0:
		parts = append(parts, styleKindOK.render(symOK+" all fresh"))
	default:
		parts = append(parts,
			styleKindWarn.render(fmt.Sprintf("%s %d stale", symStale, c.stale)),
			styleKindBad.render(fmt.Sprintf("%s %d failing", symFailed, c.failing)),
			styleKindNever.render(fmt.Sprintf("%s %d %s", symNever, c.never, never)))
	}
	switch {
	case m.ws.loaded && c.total == 0:
		return parts
	case compact:
		return append(parts, num(c.live)+" accounts")
	}
	return append(parts, fmt.Sprintf("%s accounts (API %s)", num(c.live), m.fleetAPITotal()))
}

// apiTotal is a workspace's account count at the source as last seen: the current (or last)
// run's, when that run fetched the workspace after the registry's last success, else the
// registry's (the last complete fetch).
func (m *model) apiTotal(r *wsRow) (int, bool) {
	if m.run != nil {
		if w := m.run.ws[r.ws.Name]; w != nil && (r.ws.LastSuccessAt == nil || w.startedAt.After(*r.ws.LastSuccessAt)) {
			if n, guessed, unknown := w.expected(); !guessed && !unknown {
				return n, true
			}
		}
	}
	if r.ws.EstimatedAccounts != nil {
		return *r.ws.EstimatedAccounts, true
	}
	return 0, false
}

// estimateOf is a workspace's account count at its last complete fetch, from the registry.
func (m *model) estimateOf(name string) (int, bool) {
	if r := m.ws.row(name); r != nil && r.ws.EstimatedAccounts != nil {
		return *r.ws.EstimatedAccounts, true
	}
	return 0, false
}

// fleetAPITotal sums the workspaces' API totals as last seen, "+" when some are unknown.
func (m *model) fleetAPITotal() string {
	total, unknown := 0, false
	for i := range m.ws.rows {
		n, known := m.apiTotal(&m.ws.rows[i])
		total += n
		unknown = unknown || !known
	}
	if unknown {
		return num(total) + "+"
	}
	return num(total)
}

func (m *model) headerWhere(compact bool) []string {
	refreshed := "not read yet"
	if m.ws.loaded {
		refreshed = "refreshed " + m.ws.loadedAt.Local().Format("15:04:05")
		if compact {
			refreshed = "read at " + m.ws.loadedAt.Local().Format("15:04:05")
		}
	}
	if m.ws.err != "" && m.ws.loaded {
		refreshed = styleKindBad.render(symFailed + " refresh failed (see below)")
	}
	return []string{m.lastFullRun(compact), "db " + m.cfg.where, refreshed}
}

// lastFullRun describes the newest run that covered every active workspace (as many
// workspaces as the registry has active now) among the recent runs.
func (m *model) lastFullRun(compact bool) string {
	runs := m.ws.runs
	if len(runs) == 0 {
		switch {
		case m.ws.loaded && compact:
			return "no run yet"
		case m.ws.loaded:
			return "no run recorded yet"
		}
		return "runs not read yet"
	}
	for _, r := range runs {
		if r.WorkspacesTotal >= m.ws.counts.total && m.ws.counts.total > 0 {
			status, kind := runOutcome(r.Status)
			label := "last full run "
			if compact {
				label = "full run "
			}
			return label + kind.render(fmt.Sprintf("#%d %s", r.ID, status)) + " " + human.Since(&r.StartedAt, m.now) + " ago"
		}
	}
	return fmt.Sprintf("no full run among the last %d runs", len(runs))
}

func (m *model) wsRowLine(c wsColumns, r *wsRow, isCursor bool) string {
	ls, prog := m.run.live(r.ws.Name, m.ws.loadedAt)
	mark, sel := " ", " "
	if isCursor {
		mark = symCursor
	}
	if m.ws.selected[r.ws.Name] {
		sel = symSelected
	}
	name := fit(r.name, c.name)
	if isCursor {
		name = styleCursor.Render(name)
	}
	status, kind := statusCell(r, ls, prog)
	api, known := m.apiTotal(r)
	line := mark + sel + name + " " + fit(r.instance, c.instance) + " " + fitRight(accountsCell(r.ws.LiveAccounts, api, known), c.accounts) + " " +
		fitRight(human.Since(r.ws.LastSuccessAt, m.now), c.age) + " " + fitRight(tookCell(r.ws), c.took) + " " + kind.render(fit(status, c.status))
	if c.err > 0 && r.errText != "" {
		line += " " + styleFaint.Render(fit(r.errText, c.err))
	}
	return line
}

// ---- run view ----

func (m *model) runOneLine() string {
	r := m.run
	if !r.opened {
		return fmt.Sprintf("%s starting: %s", symRunning, r.label)
	}
	s := fmt.Sprintf("%s run #%d (%s): %d/%d done, %s, %.0f pages/s, %s", symRunning, r.id, r.label,
		len(r.done), r.planned, r.counts(), r.rate(m.now), human.Clock(r.elapsed(m.now)))
	if r.cancelling {
		s += ", cancelling"
	}
	return s
}

func (m *model) runBody(l layout) []string {
	r := m.run
	if r == nil {
		return []string{
			"No run yet in this console.",
			"",
			"S   full sync (every active workspace)",
			"t   sync the stale, failing and never-synced workspaces",
			"enter / space+s  sync a workspace / the selected ones (in the Workspaces view)",
			"",
			"Earlier runs, including those of other processes, are in History (3).",
		}
	}
	out := make([]string, 0, l.body)
	f := r.figures()
	out = append(out, m.runHeader(f)...)

	nameW := min(max(m.width/5, 14), 24)
	barW := min(max((m.width-70)/2, 8), 24)

	out = append(out, styleBold.Render("IN PROGRESS")+styleFaint.Render(" "+r.counts().String()))
	out = append(out, m.activeLines(l.activeRows, nameW, barW)...)
	out = append(out, styleBold.Render(fmt.Sprintf("DONE (%d)", len(r.done)))+styleFaint.Render("  newest first"))
	out = append(out, m.doneLines(l.doneRows, nameW)...)
	logTitle := fmt.Sprintf("LOG (%d)", r.log.len())
	hint := "  ↑/↓ scroll"
	if m.logScroll > 0 {
		hint = fmt.Sprintf("  scrolled back %d · end follows", m.logScroll)
	}
	out = append(out, styleBold.Render(logTitle)+styleFaint.Render(hint))
	out = append(out, m.logLines(l.logRows)...)
	return out
}

func (m *model) runHeader(f runFigures) []string {
	r := m.run
	title := fmt.Sprintf("Run #%d · %s", r.id, r.label)
	if r.id == 0 {
		title = "Run · " + r.label
	}
	if r.trigger != "" {
		title += " · trigger " + r.trigger
	}
	line1 := title + " · " + m.runStateWords()

	line2 := fmt.Sprintf("workspaces %d/%d done: %d ok, %d failed, %d cancelled, %d skipped · %s",
		len(r.done), r.planned, r.succeeded, r.failed, r.cancelled, r.skipped, r.counts())
	return []string{clip(line1, m.width), clip(line2, m.width), clip(m.runFigures(f), m.width), m.runBar(f)}
}

// runStateWords says where the run stands: starting, running (with the time left), being
// cancelled, or how it ended.
func (m *model) runStateWords() string {
	r := m.run
	switch {
	case r.startErr != "":
		return styleKindBad.render(symFailed + " did not start: " + r.startErr)
	case r.finished && r.summary != nil:
		status, kind := runOutcome(r.summary.Status)
		return kind.render(status) + " in " + human.Duration(r.elapsed(m.now))
	case r.finished:
		return "ended after " + human.Clock(r.elapsed(m.now))
	case r.cancelling:
		return styleKindWarn.render(symCancelled+" cancelling") + " · " + human.Clock(r.elapsed(m.now)) + " elapsed"
	case !r.opened:
		return styleKindRunning.render(symRunning + " starting…")
	}
	state := styleKindRunning.render(symRunning+" running") + " · " + human.Clock(r.elapsed(m.now)) + " elapsed"
	if eta := r.eta(m.now); eta > 0 {
		return state + " · ~" + human.Clock(eta) + " left"
	}
	return state + " · estimating time left"
}

// runFigures is the run's accounts, pages and pace.
func (m *model) runFigures(f runFigures) string {
	r := m.run
	rate := fmt.Sprintf("%.0f pages/s", r.rate(m.now))
	if r.finished {
		rate = "0 pages/s"
		if secs := r.elapsed(m.now).Seconds(); secs > 0 {
			rate = fmt.Sprintf("%.0f pages/s on average", float64(r.pages)/secs)
		}
	}
	return f.accountsText() + " · " + f.pagesText() + " · " + rate
}

// runBar is the run's progress bar across the width: finished workspaces (█), the part of
// those in progress fetched so far (▓), the rest (░), and the finished share in percent, which
// never goes back, a cancel included.
func (m *model) runBar(f runFigures) string {
	r := m.run
	done, flight := f.doneShare, f.flight
	if r.finished && r.startErr == "" && r.failed+r.cancelled == 0 && len(r.done) == r.planned {
		done, flight = 1, 0
	}
	pct := fmt.Sprintf(" %3d%% done", int(math.Floor(done*100)))
	return bar2(done, flight, m.width-len(pct)) + pct
}

// inProgress lists up to limit of the run's unfinished workspaces worth a line, and how
// many there are: those fetching or waiting to retry first, in start order, then those
// started without a page yet, then the queued ones the engine said wait for something.
func (r *runState) inProgress(limit int) ([]*wsProgress, int) {
	out := make([]*wsProgress, 0, min(limit, len(r.active)+len(r.waiting)))
	total := 0
	add := func(w *wsProgress) {
		total++
		if len(out) < limit {
			out = append(out, w)
		}
	}
	for _, pending := range []bool{false, true} {
		for _, name := range r.active {
			if w := r.ws[name]; w != nil && w.pending() == pending {
				add(w)
			}
		}
	}
	for _, name := range r.waiting {
		if w := r.ws[name]; w != nil && w.state == progQueued {
			add(w)
		}
	}
	return out, total
}

func (m *model) activeLines(h, nameW, barW int) []string {
	r := m.run
	list, total := r.inProgress(h)
	if total == 0 {
		switch {
		case r.finished:
			return []string{styleFaint.Render("none: the run is over")}
		case !r.opened:
			return []string{styleFaint.Render("waiting for the engine to open the run…")}
		}
		return []string{styleFaint.Render("none right now")}
	}
	more := 0
	if total > h {
		list, more = list[:h-1], total-(h-1)
	}
	out := make([]string, 0, h)
	for _, w := range list {
		out = append(out, m.activeLine(w, nameW, barW))
	}
	if more > 0 {
		out = append(out, styleFaint.Render(fmt.Sprintf("↓ %d more below", more)))
	}
	return out
}

func (m *model) activeLine(w *wsProgress, nameW, barW int) string {
	switch {
	case w.state == progQueued:
		return styleKindWarn.render(symPending) + " " + fit(w.name, nameW) + " " + styleKindWarn.render(w.waitingFor)
	case w.pending():
		return styleKindWarn.render(symPending) + " " + fit(w.name, nameW) + " " + styleKindWarn.render(m.pendingWords(w))
	}
	pages := "-/-"
	if w.lastPage > 0 {
		pages = fmt.Sprintf("%d/%d", w.pagesFetched, w.lastPage)
	}
	try := fmt.Sprintf("try %d", w.attempt)
	if w.pass > 1 {
		try += fmt.Sprintf(" pass %d", w.pass)
	}
	frac := 0.0
	if w.lastPage > 0 {
		frac = min(float64(w.pagesFetched)/float64(w.lastPage), 1)
	}
	pb := m.pbar // a copy: View changes nothing
	pb.SetWidth(barW)
	line := styleKindRunning.render(symRunning) + " " + fit(w.name, nameW) + " " + pb.ViewAs(frac) + " " +
		fitRight(pages, 7) + " " + fitRight(num(w.accounts)+" acc", 10) + " " + fit(try, 6)
	note := ""
	switch {
	case w.state == progWaiting:
		note = fmt.Sprintf("%s next attempt %s; %s", symWaiting, countdown(w.retryUntil, m.now), w.retry)
	case w.retry != "" && m.now.Before(w.retryUntil.Add(2*time.Second)):
		note = fmt.Sprintf("%s %s, retrying %s (%s)", symWaiting, w.retryReason, countdown(w.retryUntil, m.now), w.retryOp)
	}
	if note != "" {
		line += " " + styleKindWarn.render(note)
	}
	return line
}

// pendingWords says what a workspace that started without a page yet waits for, as far as
// the engine told: its instance's pause after a 429, else a request slot of its instance.
func (m *model) pendingWords(w *wsProgress) string {
	s := "waiting for page 1"
	if !w.startedAt.IsZero() && m.now.After(w.startedAt) {
		s += " for " + human.Duration(m.now.Sub(w.startedAt).Round(time.Second))
	}
	if p, ok := m.run.pauses[w.instance]; ok && m.now.Before(p.until) {
		return s + fmt.Sprintf(": %s paused after %s, %s left", w.instance, p.reason, human.Duration(p.until.Sub(m.now).Round(100*time.Millisecond)))
	}
	if w.instance != "" {
		return s + ": a request slot of " + w.instance
	}
	return s
}

// countdown is "in 2s" until a moment, "now" after it.
func countdown(at, now time.Time) string {
	d := at.Sub(now)
	if d <= 0 {
		return "now"
	}
	return "in " + human.Duration(d.Round(100*time.Millisecond))
}

func (m *model) doneLines(h, nameW int) []string {
	r := m.run
	if len(r.done) == 0 {
		return []string{styleFaint.Render("none yet")}
	}
	out := make([]string, 0, h)
	n := len(r.done)
	shown := min(n, h)
	if n > h {
		shown = h - 1
	}
	for i := n - 1; i >= n-shown; i-- {
		w := r.ws[r.done[i]]
		out = append(out, m.doneLine(w, nameW))
	}
	if n > shown {
		out = append(out, styleFaint.Render(fmt.Sprintf("… and %d more (History has every workspace of the run)", n-shown)))
	}
	return out
}

func (m *model) doneLine(w *wsProgress, nameW int) string {
	res := w.result
	status, kind := outcome(res.Status)
	line := kind.render(fit(status, 11)) + " " + fit(w.name, nameW) + " "
	switch res.Status {
	case "succeeded":
		s := fmt.Sprintf("%s · %s · %s", plural(res.AccountsFetched, "account", "accounts"), plural(res.PagesFetched, "page", "pages"), human.Duration(res.Duration))
		if res.AccountsDeleted > 0 {
			s += fmt.Sprintf(" · %s marked deleted", num(res.AccountsDeleted))
		}
		if res.Attempts > 1 {
			s += fmt.Sprintf(" · %d attempts", res.Attempts)
		}
		if res.Warning != "" {
			s += " · " + symStale + " " + res.Warning
		}
		line += s
	default:
		line += kind.render(res.Error)
	}
	return line
}

func (m *model) logLines(h int) []string {
	r := m.run
	n := r.log.len()
	if n == 0 {
		return []string{styleFaint.Render("nothing notable yet (retries, failures, skips and notices appear here)")}
	}
	end := n - min(m.logScroll, max(n-h, 0))
	start := max(end-h, 0)
	out := make([]string, 0, h)
	for i := start; i < end; i++ {
		e := r.log.at(i)
		line := e.at.Local().Format("15:04:05") + " " + e.text
		switch e.level {
		case logWarn:
			line = styleKindWarn.render(clip(line, m.width))
		case logBad:
			line = styleKindBad.render(clip(line, m.width))
		}
		out = append(out, line)
	}
	return out
}

// ---- history view ----

func (m *model) historyBody(l layout) []string {
	switch m.hist.mode {
	case histRun:
		return m.runDetailBody(l)
	case histWorkspace:
		return m.workspaceRunsBody(l)
	}
	return m.runListBody(l)
}

func (m *model) runListBody(l layout) []string {
	runs := m.ws.runs
	out := []string{styleBold.Render("Recent runs, newest first") + styleFaint.Render(fmt.Sprintf("  (%d; every process and host)", len(runs)))}
	cols := runListLayout(m.width)
	out = append(out, styleBold.Render(clip(cols.header(), m.width)))
	if len(runs) == 0 {
		if !m.ws.loaded {
			return append(out, "reading the history…")
		}
		return append(out, "No run recorded yet: S starts a full sync.")
	}
	h := m.hist.list
	start := h.offset
	for i := start; i < len(runs) && i < start+l.tableRows; i++ {
		before, after, _ := cols.row(runs[i], m.now)
		mark := "  "
		if i == h.cursor {
			mark = symCursor + " "
			before = styleCursor.Render(before)
		}
		out = append(out, mark+before+after)
	}
	for len(out) < l.body-1 {
		out = append(out, "")
	}
	if r := runs[h.cursor]; r.Error != "" {
		out = append(out, styleKindBad.render(clip(fmt.Sprintf("run #%d: %s", r.ID, clean(r.Error)), m.width)))
	} else {
		out = append(out, styleFaint.Render("enter opens the run's workspaces"))
	}
	return out
}

func (m *model) runDetailBody(l layout) []string {
	h := &m.hist
	var out []string
	switch {
	case h.run != nil:
		lines := wrap(runSummaryLine(*h.run, rowFigures(h.runRows, m.estimateOf), m.now), m.width)
		for len(lines) < 2 {
			lines = append(lines, "")
		}
		out = append(out, styleBold.Render(lines[0]), lines[1])
		note := ""
		if h.run.Error != "" {
			note = styleKindBad.render(clip("run error: "+clean(h.run.Error), m.width))
		} else if h.run.ViewRefreshError != "" {
			note = styleKindWarn.render(clip("view refresh: "+clean(h.run.ViewRefreshError), m.width))
		}
		out = append(out, note)
	default:
		out = append(out, styleBold.Render(fmt.Sprintf("Run #%d", h.runID)), "", "")
	}
	cols := rwLayout(m.width, 0)
	out = append(out, styleBold.Render(clip(cols.header("WORKSPACE"), m.width)))
	switch {
	case h.runError != "":
		return append(out, styleKindBad.render(h.runError))
	case h.run == nil:
		return append(out, m.spin.View()+" reading the run…")
	case len(h.runRows) == 0:
		return append(out, "This run has no workspace.")
	}
	start := h.runList.offset
	for i := start; i < len(h.runRows) && i < start+l.tableRows; i++ {
		w := h.runRows[i]
		name := clean(w.Workspace)
		mark := "  "
		if i == h.runList.cursor {
			mark = symCursor + " "
		}
		line := cols.row(name, w)
		if i == h.runList.cursor {
			line = styleCursor.Render(fit(name, cols.first)) + line[len(fit(name, cols.first)):]
		}
		out = append(out, mark+line)
	}
	for len(out) < l.body-1 {
		out = append(out, "")
	}
	return append(out, m.rwDetail(h.runRows[h.runList.cursor]))
}

// rwDetail is the line under a run-workspace table about the row under the cursor.
func (m *model) rwDetail(w db.RunWorkspace) string {
	note := rwNote(w)
	if note == "" {
		return styleFaint.Render("no error recorded for this row")
	}
	kind := styleKindBad
	if w.Error == "" {
		kind = styleKindWarn
	}
	if ansi.StringWidth(note) > m.width {
		return kind.render(clip(note, m.width-14)) + styleFaint.Render(" e: full text")
	}
	return kind.render(note)
}

func (m *model) workspaceRunsBody(l layout) []string {
	h := &m.hist
	out := []string{styleBold.Render(fmt.Sprintf("Last %d runs of %s", workspaceRunsLimit, clean(h.wsName))) + styleFaint.Render("  enter opens a run · esc back")}
	cols := rwLayout(m.width, 20)
	out = append(out, styleBold.Render(clip(cols.header("RUN"), m.width)))
	switch {
	case h.wsError != "":
		return append(out, styleKindBad.render(h.wsError))
	case h.wsRows == nil && h.wsBusy:
		return append(out, m.spin.View()+" reading…")
	case len(h.wsRows) == 0:
		return append(out, "No run has included this workspace yet.")
	}
	start := h.wsList.offset
	for i := start; i < len(h.wsRows) && i < start+l.tableRows; i++ {
		w := h.wsRows[i]
		first := fmt.Sprintf("#%d", w.RunID)
		if w.StartedAt != nil {
			first += " " + when(*w.StartedAt)
		}
		mark := "  "
		line := cols.row(first, w)
		if i == h.wsList.cursor {
			mark = symCursor + " "
			line = styleCursor.Render(fit(first, cols.first)) + line[len(fit(first, cols.first)):]
		}
		out = append(out, mark+line)
	}
	for len(out) < l.body-1 {
		out = append(out, "")
	}
	return append(out, m.rwDetail(h.wsRows[h.wsList.cursor]))
}
