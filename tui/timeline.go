package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/human"
)

// A run's timeline: one lane per workspace across the run's time, showing when it waited,
// fetched, paused on a retry, committed and how it ended, so that the super-admin chain (a
// staircase), a 429 pause (a column of ↻) or a stalled workspace (a long lane) is seen at a
// glance. The console's own runs are drawn from the engine's events; others from their
// sync_run_workspaces rows (start, finish and status only).

// phase is what a workspace was doing over a stretch of a run.
type phase int

const (
	phQueued   phase = iota // not started
	phWaiting               // started (lease held), no page yet: a request slot, a pause
	phFetching              // pages arriving
	phRetry                 // waiting for another attempt
	phCommit                // every page in: reconciling and committing
)

// span is a phase from a moment on, until the next span or the lane's end.
type span struct {
	from time.Time
	ph   phase
}

// interval is a request retry's pause.
type interval struct{ from, to time.Time }

// lane is one workspace's part in a run.
type lane struct {
	name   string // cleaned
	spans  []span
	pauses []interval
	end    time.Time // zero while it goes on
	status db.WorkspaceStatus
}

// mark starts a new phase at at, unless the lane is already in it.
func (l *lane) mark(ph phase, at time.Time) {
	if n := len(l.spans); n > 0 && l.spans[n-1].ph == ph {
		return
	}
	l.spans = append(l.spans, span{from: at, ph: ph})
}

// started is when the lane left the queue (zero when it never did).
func (l *lane) started() time.Time {
	for _, s := range l.spans {
		if s.ph != phQueued {
			return s.from
		}
	}
	return time.Time{}
}

// phaseAt is the lane's phase at t.
func (l *lane) phaseAt(t time.Time) phase {
	ph := phQueued
	for _, s := range l.spans {
		if s.from.After(t) {
			break
		}
		ph = s.ph
	}
	return ph
}

// lanesFromRows builds a past (or followed) run's lanes from its workspace rows: queued from
// the run's start, fetching from the row's start to its finish.
func lanesFromRows(runStart time.Time, rows []db.RunWorkspace) []lane {
	out := make([]lane, 0, len(rows))
	for _, w := range rows {
		l := lane{name: clean(w.Workspace), status: w.Status, spans: []span{{from: runStart, ph: phQueued}}}
		if w.StartedAt != nil {
			l.mark(phFetching, *w.StartedAt)
		}
		if w.FinishedAt != nil && w.Status.Final() {
			l.end = *w.FinishedAt
		}
		out = append(out, l)
	}
	return out
}

// timelineGlyph draws a phase in one cell. Each has its own glyph: colour is not needed to
// read it.
var timelineGlyph = map[phase]string{phQueued: "·", phWaiting: "~", phFetching: "█", phRetry: symWaiting, phCommit: "▓"}

// timelineLegend explains the glyphs in lines of w cells, its entries joined with spaces
// (never with the "·" it explains).
func timelineLegend(w int) []string {
	return packSep([]string{"· queued", "~ waiting (slot, pause, key)", "█ fetching", symWaiting + " retry pause",
		"▓ committing", symOK + " ok", symFailed + " failed", symCancelled + " cancelled", symSkipped + " skipped"}, "   ", w)
}

// timeline draws lanes (sorted by when they started, so a chain reads as a staircase)
// between from and to in w x h cells, scrolled down by offset lanes.
func timeline(lanes []lane, from, to time.Time, w, h, offset int) []string {
	nameW := min(max(w/5, 12), 24)
	cells := max(w-nameW-2, 10)
	span := max(to.Sub(from), time.Second)
	step := span / time.Duration(cells)
	order := make([]int, len(lanes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		sa, sb := lanes[a].started(), lanes[b].started()
		switch {
		case sa.IsZero() != sb.IsZero():
			if sa.IsZero() {
				return 1
			}
			return -1
		}
		return cmp.Or(sa.Compare(sb), strings.Compare(lanes[a].name, lanes[b].name))
	})
	legend := timelineLegend(w)
	out := []string{timeAxis(nameW, cells, span)}
	rows := max(h-1-len(legend), 1)
	offset = max(min(offset, len(lanes)-rows), 0)
	for _, i := range order[offset:min(offset+rows, len(order))] {
		out = append(out, fit(lanes[i].name, nameW)+"  "+laneCells(&lanes[i], from, step, cells, to))
	}
	if below := len(lanes) - offset - rows; below > 0 {
		legend[0] = fmt.Sprintf("↓ %d more below · ", below) + legend[0]
	}
	for _, l := range legend {
		out = append(out, styleFaint.Render(clip(l, w)))
	}
	return out
}

// timelineLegendRows is how many lines the legend takes at width w.
func timelineLegendRows(w int) int { return len(timelineLegend(w)) }

// timeAxis labels the cells: the run's start, its middle and its end.
func timeAxis(nameW, cells int, span time.Duration) string {
	left, mid, right := "0:00", human.Clock(span/2), human.Clock(span)
	line := []rune(strings.Repeat("─", cells))
	put := func(at int, s string) {
		for i, r := range []rune(s) {
			if at+i >= 0 && at+i < len(line) {
				line[at+i] = r
			}
		}
	}
	put(0, left)
	put(cells/2-len(mid)/2, mid)
	put(cells-len(right), right)
	return fit("", nameW) + "  " + string(line)
}

// laneCells draws one lane up to the timeline's end: each cell shows its phase at the cell's
// middle, a retry pause that touches it, or the lane's end in the cell where it ended.
func laneCells(l *lane, from time.Time, step time.Duration, cells int, now time.Time) string {
	var b strings.Builder
	for c := 0; c < cells; c++ {
		start := from.Add(time.Duration(c) * step)
		stop := start.Add(step)
		last := c == cells-1
		if last {
			stop = now // the step is rounded down: the last cell reaches the end
		}
		switch {
		case !l.end.IsZero() && !l.end.Before(start) && (l.end.Before(stop) || last && !l.end.After(stop)):
			sym, kind := outcome(l.status)
			b.WriteString(kind.render(strings.Fields(sym)[0]))
		case !l.end.IsZero() && l.end.Before(start), l.end.IsZero() && start.After(now):
			b.WriteString(" ")
		case l.pausedIn(start, stop):
			b.WriteString(styleKindWarn.render(symWaiting))
		default:
			ph := l.phaseAt(start.Add(step / 2))
			g := timelineGlyph[ph]
			switch ph {
			case phQueued:
				g = styleFaint.Render(g)
			case phWaiting, phRetry:
				g = styleKindWarn.render(g)
			default:
				g = styleKindRunning.render(g)
			}
			b.WriteString(g)
		}
	}
	return b.String()
}

func (l *lane) pausedIn(start, stop time.Time) bool {
	for _, p := range l.pauses {
		if p.from.Before(stop) && p.to.After(start) {
			return true
		}
	}
	return false
}
