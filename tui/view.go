package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
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
	lanes                         int // timeline lanes shown
}

func (m *model) layout() layout {
	l := layout{body: max(m.height-3, 0)}
	switch m.view {
	case viewRun:
		head := m.runHeaderRows()
		l.activeRows, l.doneRows, l.logRows = m.runLayout(max(l.body-head-3, 3))
		l.lanes = max(l.body-head-1-timelineLegendRows(m.width), 1) // header; axis and legend
	case viewHistory:
		fixed := 3
		switch m.hist.mode {
		case histRun:
			fixed = 5
		case histWorkspace:
			fixed = 3 + sparkRows
		}
		l.tableRows = max(l.body-fixed, 1)
		l.lanes = max(l.body-3-1-timelineLegendRows(m.width), 1)
	default:
		fixed := len(m.wsHeader()) + 1 + 1 + m.detailRows() // header, table header, summary, detail
		if m.cfg.banner != "" {
			fixed++
		}
		if m.running || m.following() {
			fixed++
		}
		if len(m.openRequests()) > 0 {
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
		case m.following():
			right = styleKindRunning.render(fmt.Sprintf("%s %s following run #%d (%s) %d/%d", m.spin.View(), symRunning, r.id,
				clean(r.foreign.Host), len(r.done), r.planned))
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

// helpBody is the help, scrolled as settle left it.
func (m *model) helpBody() []string {
	lines := strings.Split(m.helpVP.View(), "\n")
	hint := "? or esc closes this"
	if below := m.helpVP.TotalLineCount() - m.helpVP.YOffset() - m.helpVP.Height(); below > 0 {
		hint = fmt.Sprintf("↓ %d more lines below · ? or esc closes this", below)
	}
	return append(lines, styleFaint.Render(hint))
}

// helpLines are every key of the current view (bubbles/help, full mode), then the keys that
// work everywhere, then what the status words mean.
func (m *model) helpLines() []string {
	h := m.help
	keys := m.keys.helpFor(m.keyState())
	groups := keys.FullHelp()
	local, global := groups[:len(groups)-1], groups[len(groups)-1]
	half := (len(global) + 1) / 2
	lines := []string{styleBold.Render("Keys"), ""}
	lines = append(lines, strings.Split(h.FullHelpView(local), "\n")...)
	lines = append(lines, "")
	lines = append(lines, strings.Split(h.FullHelpView([][]key.Binding{global[:half], global[half:]}), "\n")...)
	lines = append(lines, "")
	lines = append(lines, packSep(append([]string{"Statuses:"}, statusLegend(m.cfg.staleAfter)...), "   ", m.width)...)
	lines = append(lines, paceLegend(m.width)...)
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
		symUnregistered + " unregistered (at the source, not in the registry: R registers it)",
		symGone + " gone (no longer at the source)", symWrongKey + " wrong-key (its key serves another workspace)",
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
