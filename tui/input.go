package tui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
)

// onKey routes a key press: a pending question first, then the filter line, overlays,
// keys that work everywhere, and finally the current view's keys.
func (m *model) onKey(msg tea.KeyPressMsg) tea.Cmd {
	k := msg.String()
	switch {
	case m.confirm != nil:
		return m.onConfirmKey(k)
	case m.ws.editing() && k != "ctrl+c":
		return m.onFilterKey(msg)
	case m.detail != nil:
		return m.onOverlayKey(msg)
	case m.showHelp && (k == "esc" || key.Matches(msg, m.keys.Help)):
		m.showHelp = false
		return nil
	case m.showHelp && scrollViewport(&m.helpVP, msg, m.keys):
		return nil
	}
	if cmd, ok := m.onGlobalKey(msg); ok {
		return cmd
	}
	switch m.view {
	case viewRun:
		return m.onRunKey(msg)
	case viewHistory:
		return m.onHistoryKey(msg)
	default:
		return m.onWorkspacesKey(msg)
	}
}

// onOverlayKey scrolls or closes the full text shown over the view.
func (m *model) onOverlayKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Quit):
		m.detail = nil
		return m.askQuit()
	case key.Matches(msg, m.keys.Back, m.keys.Error, m.keys.SyncOne):
		m.detail = nil
	default:
		scrollViewport(&m.detail.vp, msg, m.keys)
	}
	return nil
}

// scrollViewport scrolls vp by one navigation key; false when msg is not one.
func scrollViewport(vp *viewport.Model, msg tea.KeyPressMsg, k keyMap) bool {
	switch {
	case key.Matches(msg, k.Up):
		vp.ScrollUp(1)
	case key.Matches(msg, k.Down):
		vp.ScrollDown(1)
	case key.Matches(msg, k.PageUp):
		vp.PageUp()
	case key.Matches(msg, k.PageDown):
		vp.PageDown()
	case key.Matches(msg, k.Top):
		vp.GotoTop()
	case key.Matches(msg, k.Bottom):
		vp.GotoBottom()
	default:
		return false
	}
	return true
}

// onGlobalKey handles the keys that work in every view; false when msg is not one.
func (m *model) onGlobalKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m.askQuit(), true
	case key.Matches(msg, m.keys.Help):
		m.showHelp = true
		m.helpVP = viewport.New()
	case key.Matches(msg, m.keys.NextView):
		return m.switchView((m.view + 1) % numViews), true
	case key.Matches(msg, m.keys.PrevView):
		return m.switchView((m.view + numViews - 1) % numViews), true
	case key.Matches(msg, m.keys.Workspaces):
		return m.switchView(viewWorkspaces), true
	case key.Matches(msg, m.keys.RunView):
		return m.switchView(viewRun), true
	case key.Matches(msg, m.keys.History):
		return m.switchView(viewHistory), true
	case key.Matches(msg, m.keys.SyncAll):
		m.askFullSync()
	case key.Matches(msg, m.keys.SyncStale):
		return m.syncAttention(), true
	case key.Matches(msg, m.keys.Cancel):
		m.askCancel()
	case key.Matches(msg, m.keys.Refresh):
		m.setStatus("refreshing…", styleKindPlain)
		return tea.Batch(m.forceReload(), m.reloadHistoryDetail()), true
	default:
		return nil, false
	}
	return nil, true
}

func (m *model) onConfirmKey(k string) tea.Cmd {
	d := m.confirm
	if k == "ctrl+c" {
		m.confirm = nil
		return m.askQuit()
	}
	switch d.key(k) {
	case answerYes:
		m.confirm = nil
		return d.onYes(m)
	case answerNo:
		m.confirm = nil
		m.setStatus("not done", styleKindPlain)
	}
	return nil
}

// switchView shows another view; history reads the runs afresh when shown.
func (m *model) switchView(v viewID) tea.Cmd {
	m.view, m.showHelp = v, false
	if v == viewHistory {
		return tea.Batch(m.forceReload(), m.reloadHistoryDetail())
	}
	return nil
}

// reloadHistoryDetail re-reads the run or workspace the history view shows, if any.
func (m *model) reloadHistoryDetail() tea.Cmd {
	switch m.hist.mode {
	case histRun:
		m.hist.runBusy = true
		return m.c.loadRunDetail(m.hist.runID)
	case histWorkspace:
		m.hist.wsBusy = true
		return m.c.loadWorkspaceRuns(m.hist.wsName)
	}
	return nil
}

// navigate moves a cursor over n rows by one key, with page the page size.
func (m *model) navigate(msg tea.KeyPressMsg, s *scroller, n, page int) bool {
	switch {
	case key.Matches(msg, m.keys.Up):
		s.move(-1, n)
	case key.Matches(msg, m.keys.Down):
		s.move(1, n)
	case key.Matches(msg, m.keys.PageUp):
		s.move(-max(page, 1), n)
	case key.Matches(msg, m.keys.PageDown):
		s.move(max(page, 1), n)
	case key.Matches(msg, m.keys.Top):
		s.cursor = 0
	case key.Matches(msg, m.keys.Bottom):
		s.cursor = max(n-1, 0)
	default:
		return false
	}
	return true
}

func (m *model) onWorkspacesKey(msg tea.KeyPressMsg) tea.Cmd {
	p := &m.ws
	sc := scroller{cursor: p.cursor, offset: p.offset}
	if m.navigate(msg, &sc, len(p.visible), m.layout().tableRows) {
		p.cursor = sc.cursor
		p.anchor = p.cursorName()
		return nil
	}
	switch {
	case key.Matches(msg, m.keys.SyncOne):
		return m.syncCurrent()
	case key.Matches(msg, m.keys.Select):
		m.toggleSelected()
	case key.Matches(msg, m.keys.SelectAll):
		n := p.selectVisible()
		m.setStatus(fmt.Sprintf("%s selected", plural(n, "workspace", "workspaces")), styleKindPlain)
	case key.Matches(msg, m.keys.SyncSelected):
		return m.syncSelected()
	case key.Matches(msg, m.keys.Filter):
		return p.input.Focus()
	case key.Matches(msg, m.keys.Sort):
		p.sort.col = (p.sort.col + 1) % numSortCols
		p.sort.desc = p.sort.col.descByDefault()
		m.resort()
		m.setStatus("sorted by "+p.sort.String()+" (O reverses)", styleKindPlain)
	case key.Matches(msg, m.keys.Reverse):
		p.sort.desc = !p.sort.desc
		m.resort()
		m.setStatus("sorted by "+p.sort.String(), styleKindPlain)
	case key.Matches(msg, m.keys.Error):
		m.showWorkspaceError()
	case key.Matches(msg, m.keys.Deletions):
		if r := p.current(); r != nil {
			return m.c.loadHeld(r.ws.Name)
		}
	case key.Matches(msg, m.keys.Register, m.keys.MintKeys):
		return m.onSourceKey(msg)
	case key.Matches(msg, m.keys.WorkspaceRuns):
		return m.openWorkspaceRuns()
	case key.Matches(msg, m.keys.Back):
		m.clearFilterOrSelection()
	}
	return nil
}

func (m *model) toggleSelected() {
	p := &m.ws
	r := p.current()
	if r == nil || r.unregistered { // not in the registry: nothing to sync yet (R registers it)
		return
	}
	if p.selected[r.ws.Name] {
		delete(p.selected, r.ws.Name)
	} else {
		p.selected[r.ws.Name] = true
	}
	p.cursor = min(p.cursor+1, max(len(p.visible)-1, 0))
	p.anchor = p.cursorName()
}

func (m *model) showWorkspaceError() {
	if r := m.ws.current(); r != nil {
		if r.errText == "" {
			m.setStatus("no error recorded for "+r.name, styleKindPlain)
		} else {
			m.showText("Last error of "+r.name, r.errText)
		}
	}
}

func (m *model) openWorkspaceRuns() tea.Cmd {
	r := m.ws.current()
	if r == nil {
		return nil
	}
	h := &m.hist
	h.mode, h.wsName, h.wsRows, h.wsError, h.wsList = histWorkspace, r.ws.Name, nil, "", scroller{}
	h.wsBusy = true
	m.view = viewHistory
	return m.c.loadWorkspaceRuns(r.ws.Name)
}

func (m *model) clearFilterOrSelection() {
	p := &m.ws
	switch {
	case p.input.Value() != "":
		p.input.Reset()
		p.filter = wsFilter{}
		m.resort()
	case len(p.selected) > 0:
		clear(p.selected)
		m.setStatus("selection cleared", styleKindPlain)
	}
}

// onFilterKey edits the filter line (a bubbles textinput); the list follows as it is typed.
func (m *model) onFilterKey(msg tea.KeyPressMsg) tea.Cmd {
	p := &m.ws
	var cmd tea.Cmd
	switch k := msg.String(); k {
	case "enter":
		p.input.Blur()
		return nil
	case "esc":
		p.input.Reset()
		p.input.Blur()
	case "up", "down":
		p.cursor = max(min(p.cursor+map[string]int{"up": -1, "down": 1}[k], len(p.visible)-1), 0)
		p.anchor = p.cursorName()
		return nil
	default:
		p.input, cmd = p.input.Update(msg)
	}
	p.filter = parseFilter(p.input.Value())
	m.resort()
	return cmd
}

func (m *model) onRunKey(msg tea.KeyPressMsg) tea.Cmd {
	if m.run == nil {
		return nil
	}
	if key.Matches(msg, m.keys.Timeline) {
		m.runTimeline = !m.runTimeline
		return nil
	}
	if m.runTimeline {
		m.scrollLanes(msg, &m.laneScroll, len(m.run.ws))
		return nil
	}
	n := m.run.log.len()
	rows := m.layout().logRows
	page := max(rows-1, 1)
	switch {
	case key.Matches(msg, m.keys.Up):
		m.logScroll++
	case key.Matches(msg, m.keys.Down):
		m.logScroll--
	case key.Matches(msg, m.keys.PageUp):
		m.logScroll += page
	case key.Matches(msg, m.keys.PageDown):
		m.logScroll -= page
	case key.Matches(msg, m.keys.Top):
		m.logScroll = n
	case key.Matches(msg, m.keys.Bottom):
		m.logScroll = 0
	}
	m.logScroll = max(min(m.logScroll, n-rows), 0)
	return nil
}

// scrollLanes moves a timeline's lanes by one key.
func (m *model) scrollLanes(msg tea.KeyPressMsg, scroll *int, n int) {
	rows := m.layout().lanes
	switch {
	case key.Matches(msg, m.keys.Up):
		*scroll--
	case key.Matches(msg, m.keys.Down):
		*scroll++
	case key.Matches(msg, m.keys.PageUp):
		*scroll -= rows
	case key.Matches(msg, m.keys.PageDown):
		*scroll += rows
	case key.Matches(msg, m.keys.Top):
		*scroll = 0
	case key.Matches(msg, m.keys.Bottom):
		*scroll = n
	}
	*scroll = max(min(*scroll, n-rows), 0)
}

func (m *model) onHistoryKey(msg tea.KeyPressMsg) tea.Cmd {
	switch m.hist.mode {
	case histRun:
		return m.onRunDetailKey(msg)
	case histWorkspace:
		return m.onWorkspaceRunsKey(msg)
	}
	return m.onRunListKey(msg)
}

func (m *model) onRunDetailKey(msg tea.KeyPressMsg) tea.Cmd {
	h := &m.hist
	switch {
	case key.Matches(msg, m.keys.Timeline):
		h.timeline = !h.timeline
	case key.Matches(msg, m.keys.Back):
		h.mode = h.runBack
		if h.mode == histWorkspace {
			return m.reloadHistoryDetail()
		}
	case h.timeline:
		m.scrollLanes(msg, &h.laneScroll, len(h.runRows))
	case m.navigate(msg, &h.runList, len(h.runRows), m.layout().tableRows):
	case key.Matches(msg, m.keys.Error):
		if h.runList.cursor < len(h.runRows) {
			w := h.runRows[h.runList.cursor]
			m.showNote(fmt.Sprintf("Run #%d, %s", w.RunID, clean(w.Workspace)), rwNote(w))
		}
	}
	return nil
}

func (m *model) onWorkspaceRunsKey(msg tea.KeyPressMsg) tea.Cmd {
	h := &m.hist
	switch {
	case m.navigate(msg, &h.wsList, len(h.wsRows), m.layout().tableRows):
	case key.Matches(msg, m.keys.Back):
		h.mode = histList
	case key.Matches(msg, m.keys.Open):
		if h.wsList.cursor < len(h.wsRows) {
			return m.openRun(h.wsRows[h.wsList.cursor].RunID, histWorkspace)
		}
	case key.Matches(msg, m.keys.Error):
		if h.wsList.cursor < len(h.wsRows) {
			w := h.wsRows[h.wsList.cursor]
			m.showNote(fmt.Sprintf("Run #%d, %s", w.RunID, clean(w.Workspace)), rwNote(w))
		}
	}
	return nil
}

func (m *model) onRunListKey(msg tea.KeyPressMsg) tea.Cmd {
	h := &m.hist
	runs := m.ws.runs
	switch {
	case m.navigate(msg, &h.list, len(runs), m.layout().tableRows):
	case key.Matches(msg, m.keys.Open):
		if h.list.cursor < len(runs) {
			return m.openRun(runs[h.list.cursor].ID, histList)
		}
	case key.Matches(msg, m.keys.Error):
		if h.list.cursor < len(runs) {
			r := runs[h.list.cursor]
			text := clean(r.Error)
			if r.ViewRefreshError != "" {
				text += " (view refresh: " + clean(r.ViewRefreshError) + ")"
			}
			m.showNote(fmt.Sprintf("Run #%d", r.ID), text)
		}
	}
	return nil
}

func (m *model) openRun(id int64, back histMode) tea.Cmd {
	h := &m.hist
	h.mode, h.runBack, h.runID = histRun, back, id
	h.run, h.runRows, h.runError, h.runList = nil, nil, "", scroller{}
	h.runBusy = true
	return m.c.loadRunDetail(id)
}

func (m *model) showNote(title, text string) {
	if text == "" {
		m.setStatus("no error recorded for "+title, styleKindPlain)
		return
	}
	m.showText(title, text)
}

// showText shows a text whole over the view, scrollable.
func (m *model) showText(title, text string) {
	m.detail = &overlay{title: title, text: text, vp: viewport.New()}
}
