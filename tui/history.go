package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/human"
)

// histMode is what the history view shows.
type histMode int

const (
	histList      histMode = iota // recent runs
	histRun                       // one run's workspaces
	histWorkspace                 // one workspace's recent runs
)

// histPane is the history view's state. The run list comes with each registry read.
type histPane struct {
	mode histMode

	list scroller // over wsPane.runs

	runID      int64
	run        *db.Run
	runRows    []db.RunWorkspace
	runList    scroller
	runBack    histMode // where esc goes from a run: the list or a workspace's runs
	runError   string
	runBusy    bool
	timeline   bool // the run's timeline instead of its table
	laneScroll int  // timeline lanes scrolled past

	wsName  string
	wsRows  []db.RunWorkspace
	wsList  scroller
	wsError string
	wsBusy  bool
}

// scroller is a cursor over n rows with the first drawn row.
type scroller struct {
	cursor, offset int
}

func (s *scroller) move(delta, n int) {
	s.cursor = max(min(s.cursor+delta, n-1), 0)
}

func (s *scroller) clamp(n int) {
	s.cursor = max(min(s.cursor, n-1), 0)
}

// window returns the first row to draw so the cursor is visible in h rows, keeping the
// previous offset when it still works.
func (s *scroller) window(n, h int) int {
	if h <= 0 || n <= h {
		s.offset = 0
		return 0
	}
	if s.cursor < s.offset {
		s.offset = s.cursor
	}
	if s.cursor >= s.offset+h {
		s.offset = s.cursor - h + 1
	}
	s.offset = max(min(s.offset, n-h), 0)
	return s.offset
}

// runColumns lays out the run list; bar is the duration bar's width (0: none).
type runColumns struct{ id, when, trigger, host, took, bar, status, counts, accounts int }

func runListLayout(width int) runColumns {
	c := runColumns{id: 6, when: 14, trigger: 9, took: 7, status: 12, counts: 9, accounts: 8}
	fixed := 2 + c.id + c.when + c.trigger + c.took + c.status + c.counts + c.accounts + 8
	if width-fixed >= 26 {
		c.bar = 12
		fixed += c.bar + 1
	}
	c.host = max(width-fixed, 6)
	return c
}

func (c runColumns) header() string {
	took := fitRight("TOOK", c.took)
	if c.bar > 0 {
		took += " " + fit("", c.bar)
	}
	return "  " + fit("RUN", c.id) + " " + fit("STARTED", c.when) + " " + fit("TRIGGER", c.trigger) + " " +
		fit("HOST", c.host) + " " + took + " " + fit("STATUS", c.status) + " " +
		fitRight("OK/FAIL", c.counts) + " " + fitRight("ACCOUNTS", c.accounts)
}

// runDuration is how long a run took, or has been going.
func runDuration(r db.Run, now time.Time) time.Duration {
	if r.FinishedAt != nil {
		return r.FinishedAt.Sub(r.StartedAt)
	}
	return now.Sub(r.StartedAt)
}

// longestRun is the longest duration among runs, for the duration bars.
func longestRun(runs []db.Run, now time.Time) time.Duration {
	var d time.Duration
	for _, r := range runs {
		d = max(d, runDuration(r, now))
	}
	return d
}

// row draws a run; longest scales its duration bar; askedBy names who asked for it through
// sync_requests ("" when nobody did), shown with its host.
func (c runColumns) row(r db.Run, now time.Time, longest time.Duration, askedBy string) (string, string, styleKind) {
	status, kind := runOutcome(r.Status)
	took := fitRight(human.Duration(runDuration(r, now)), c.took)
	if c.bar > 0 {
		took += " " + durationBar(runDuration(r, now), longest, c.bar)
	}
	counts := fmt.Sprintf("%d/%d", r.WorkspacesSucceeded, r.WorkspacesFailed)
	if r.WorkspacesCancelled > 0 {
		counts += fmt.Sprintf("+%dc", r.WorkspacesCancelled)
	}
	before := fit(fmt.Sprintf("#%d", r.ID), c.id) + " " + fit(when(r.StartedAt), c.when) + " " + fit(clean(r.Trigger), c.trigger) + " " +
		fit(hostCell(r.Host, askedBy), c.host) + " " + took + " "
	after := " " + fitRight(counts, c.counts) + " " + fitRight(num(r.AccountsSynced), c.accounts)
	return before + kind.render(fit(status, c.status)), after, kind
}

// rwColumns lays out a table of sync_run_workspaces rows; first is the workspace name in a
// run's table, or the run in a workspace's; bar is the duration bar's width (0: none).
type rwColumns struct{ first, status, attempts, pages, expected, fetched, written, deleted, took, bar, err int }

func rwLayout(width int, first int) rwColumns {
	c := rwColumns{first: first, status: 11, attempts: 3, pages: 7, expected: 6, fetched: 6, written: 6, deleted: 5, took: 7}
	fixed := 2 + c.status + c.attempts + c.pages + c.expected + c.fetched + c.written + c.deleted + c.took + 9
	if width-fixed >= 50 {
		c.bar = 10
		fixed += c.bar + 1
	}
	rest := width - fixed
	if c.first == 0 {
		c.first = min(max(rest/2, 14), 30)
	}
	c.err = rest - c.first - 1
	if c.err < 10 {
		c.first = max(rest, 8)
		c.err = 0
	}
	return c
}

func (c rwColumns) header(first string) string {
	h := "  " + fit(first, c.first) + " " + fit("STATUS", c.status) + " " + fitRight("TRY", c.attempts) + " " +
		fitRight("PAGES", c.pages) + " " + fitRight("EXPECT", c.expected) + " " + fitRight("FETCH", c.fetched) + " " +
		fitRight("WROTE", c.written) + " " + fitRight("DEL", c.deleted) + " " + fitRight("TOOK", c.took)
	if c.bar > 0 {
		h += " " + fit("", c.bar)
	}
	if c.err > 0 {
		h += " " + fit("ERROR", c.err)
	}
	return h
}

// longestRow is the longest duration among rows, for the duration bars.
func longestRow(rows []db.RunWorkspace) time.Duration {
	var d time.Duration
	for _, w := range rows {
		if w.Duration != nil {
			d = max(d, *w.Duration)
		}
	}
	return d
}

// row draws a run workspace; longest scales its duration bar.
func (c rwColumns) row(first string, w db.RunWorkspace, longest time.Duration) string {
	status, kind := outcome(w.Status)
	d := "-"
	if w.Duration != nil {
		d = human.Duration(*w.Duration)
	}
	pages := fmt.Sprintf("%d/%d", w.PagesFetched, w.PagesTotal)
	s := fit(first, c.first) + " " + kind.render(fit(status, c.status)) + " " + fitRight(fmt.Sprint(w.Attempts), c.attempts) + " " +
		fitRight(pages, c.pages) + " " + fitRight(num(w.AccountsExpected), c.expected) + " " + fitRight(num(w.AccountsFetched), c.fetched) + " " +
		fitRight(num(w.AccountsUpserted), c.written) + " " + fitRight(num(w.AccountsDeleted), c.deleted) + " " + fitRight(d, c.took)
	if c.bar > 0 {
		var took time.Duration
		if w.Duration != nil {
			took = *w.Duration
		}
		s += " " + durationBar(took, longest, c.bar)
	}
	if c.err > 0 {
		s += " " + fit(rwNote(w), c.err)
	}
	return s
}

// rwNote is a run workspace's error, or its warning.
func rwNote(w db.RunWorkspace) string {
	switch {
	case w.Error != "":
		return clean(w.Error)
	case w.Warning != "":
		return "warning: " + clean(w.Warning)
	}
	return ""
}

// rowFigures are a run's figures from its sync_run_workspaces rows, worked out as
// runState.figures works them out from events; estimate gives a workspace's count at its
// last complete fetch, for a row the API has not counted yet.
func rowFigures(rows []db.RunWorkspace, estimate func(string) (int, bool)) runFigures {
	var f runFigures
	var weights, done, flight float64
	for _, w := range rows {
		n := w.AccountsExpected
		if n == 0 {
			if e, ok := estimate(w.Workspace); ok && e > 0 {
				n = e
				f.guessed++
			} else {
				f.unknown++
			}
		}
		f.expected += n
		f.pages += w.PagesFetched
		wt := float64(max(n, 1))
		weights += wt
		switch w.Status {
		case db.WorkspaceSucceeded:
			f.synced += w.AccountsFetched
			done += wt
		case db.WorkspaceFailed, db.WorkspaceSkipped:
			done += wt
		case db.WorkspaceRunning:
			f.inFlight += w.AccountsFetched
			if w.PagesTotal > 0 {
				flight += wt * min(float64(w.PagesFetched)/float64(w.PagesTotal), 1)
			}
		}
	}
	if weights > 0 {
		f.doneShare, f.flight = done/weights, flight/weights
	}
	return f
}

// runSummaryLine describes one run in a sentence, for the run table's header; its figures
// are those of rows (runFigures), as the Run view shows them.
func runSummaryLine(r db.Run, f runFigures, now time.Time, asked string) string {
	end := now
	state := "running for"
	if r.FinishedAt != nil {
		end, state = *r.FinishedAt, "took"
	}
	status, _ := runOutcome(r.Status)
	parts := []string{
		fmt.Sprintf("Run #%d", r.ID), status, "trigger " + clean(r.Trigger), "host " + clean(r.Host),
		"started " + when(r.StartedAt), state + " " + human.Duration(end.Sub(r.StartedAt)),
	}
	if asked != "" {
		parts = append(parts, asked)
	}
	parts = append(parts,
		fmt.Sprintf("%d ok, %d failed, %d cancelled, %d skipped of %d", r.WorkspacesSucceeded, r.WorkspacesFailed,
			r.WorkspacesCancelled, r.WorkspacesSkipped, r.WorkspacesTotal),
		f.accountsText(), f.pagesText())
	return strings.Join(parts, " · ")
}
