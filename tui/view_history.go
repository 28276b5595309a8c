package tui

import (
	"fmt"

	"github.com/charmbracelet/x/ansi"

	"github.com/bisonsync/bisonsync/db"
)

// The history view: recent runs, one run's workspaces, one workspace's runs.

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
