package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/human"
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
	longest := longestRun(runs, m.now)
	for i := start; i < len(runs) && i < start+l.tableRows; i++ {
		before, after, _ := cols.row(runs[i], m.now, longest, m.requestersOf(runs[i].ID))
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
		lines := wrap(runSummaryLine(*h.run, rowFigures(h.runRows, m.estimateOf), m.now, m.askedBy(h.run.ID, h.run.Trigger)), m.width)
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
	if h.timeline && h.run != nil && len(h.runRows) > 0 {
		from, to := h.run.StartedAt, m.now
		if h.run.FinishedAt != nil {
			to = *h.run.FinishedAt
		}
		return append(out, timeline(lanesFromRows(from, h.runRows), from, to, m.width, l.body-len(out), h.laneScroll)...)
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
	longest := longestRow(h.runRows)
	for i := start; i < len(h.runRows) && i < start+l.tableRows; i++ {
		w := h.runRows[i]
		name := clean(w.Workspace)
		mark := "  "
		if i == h.runList.cursor {
			mark = symCursor + " "
		}
		line := cols.row(name, w, longest)
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
	out = append(out, workspaceSparklines(h.wsRows, m.width)...)
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
	longest := longestRow(h.wsRows)
	for i := start; i < len(h.wsRows) && i < start+l.tableRows; i++ {
		w := h.wsRows[i]
		first := fmt.Sprintf("#%d", w.RunID)
		if w.StartedAt != nil {
			first += " " + when(*w.StartedAt)
		}
		mark := "  "
		line := cols.row(first, w, longest)
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

// sparkRows is how many lines workspaceSparklines takes.
const sparkRows = 3

// workspaceSparklines draws a workspace's last runs (rows, newest first) as three lines, the
// oldest run left: accounts fetched and duration as sparklines with their range, and the
// failures as outcome symbols with their count.
func workspaceSparklines(rows []db.RunWorkspace, w int) []string {
	if len(rows) == 0 {
		return make([]string, sparkRows)
	}
	var accounts, secs []float64
	var outcomes strings.Builder
	failed := 0
	for i := len(rows) - 1; i >= 0; i-- {
		r := rows[i]
		accounts = append(accounts, float64(r.AccountsFetched))
		var d time.Duration
		if r.Duration != nil {
			d = *r.Duration
		}
		secs = append(secs, d.Seconds())
		sym, kind := outcome(r.Status)
		outcomes.WriteString(kind.render(strings.Fields(sym)[0]))
		if r.Status == db.WorkspaceFailed {
			failed++
		}
	}
	lo, hi := slices.Min(accounts), slices.Max(accounts)
	dlo, dhi := slices.Min(secs), slices.Max(secs)
	label := func(s string) string { return styleBold.Render(fit(s, 10)) }
	return []string{
		clip(label("accounts")+styleKindRunning.render(sparkline(accounts))+styleFaint.Render(fmt.Sprintf("  %s … %s fetched, oldest left", num(int(lo)), num(int(hi)))), w),
		clip(label("duration")+styleKindRunning.render(sparkline(secs))+styleFaint.Render(fmt.Sprintf("  %s … %s",
			human.Duration(time.Duration(dlo*float64(time.Second))), human.Duration(time.Duration(dhi*float64(time.Second))))), w),
		clip(label("outcomes")+outcomes.String()+styleFaint.Render(fmt.Sprintf("  %d of %s failed", failed, plural(len(rows), "run", "runs"))), w),
	}
}
