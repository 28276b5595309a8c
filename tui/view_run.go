package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/bisonsync/bisonsync/internal/human"
)

// The run view: the run being watched, from its events.

func (m *model) runOneLine() string {
	r := m.run
	if r.foreign != nil {
		return fmt.Sprintf("%s following run #%d of host %s (trigger %s): %d/%d done, %s", symRunning, r.id, clean(r.foreign.Host),
			r.trigger, len(r.done), r.planned, r.counts())
	}
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
	if m.runTimeline {
		from, to := r.timeSpan(m.now)
		return append(out, timeline(r.lanes(), from, to, m.width, l.body-len(out), m.laneScroll)...)
	}

	nameW := min(max(m.width/5, 14), 24)
	barW := min(max((m.width-70)/2, 8), 24)

	out = append(out, styleBold.Render("IN PROGRESS")+styleFaint.Render(" "+r.counts().String()))
	out = append(out, m.activeLines(l.activeRows, nameW, barW)...)
	out = append(out, styleBold.Render(fmt.Sprintf("DONE (%d)", len(r.done)))+styleFaint.Render("  newest first"))
	out = append(out, m.doneLines(l.doneRows, nameW)...)
	logTitle := fmt.Sprintf("LOG (%d)", r.log.len())
	hint := "  ↑/↓ scroll · v timeline"
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
	if r.foreign != nil {
		title = fmt.Sprintf("Run #%d · trigger %s · %s", r.id, r.trigger, foreignWords(r.foreign, m.now))
	}
	if asked := m.askedBy(r.id, r.trigger); asked != "" {
		title += " · " + asked
	}
	line1 := title + " · " + m.runStateWords()

	line2 := fmt.Sprintf("workspaces %d/%d done: %d ok, %d failed, %d cancelled, %d skipped · %s",
		len(r.done), r.planned, r.succeeded, r.failed, r.cancelled, r.skipped, r.counts())
	out := []string{clip(line1, m.width), clip(line2, m.width), clip(m.runFigures(f), m.width), m.runBar(f)}
	if inst := m.instancesLine(); inst != "" {
		out = append(out, inst)
	}
	return out
}

// runHeaderRows is how many lines runHeader takes.
func (m *model) runHeaderRows() int {
	if m.run != nil && len(m.instanceViews()) > 0 {
		return 5
	}
	return 4
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
	if w := r.dbWaitWords(m.now); w != "" {
		return state + " · " + styleKindWarn.render(w)
	}
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
	since := ""
	if !w.startedAt.IsZero() && m.now.After(w.startedAt) {
		since = " for " + human.Duration(m.now.Sub(w.startedAt).Round(time.Second))
	}
	if m.run.foreign != nil {
		// Another process's run: its rows say when a workspace started, and its pages once
		// that process records them (about once a second).
		return "started" + strings.TrimPrefix(since, " for") + " ago; no page recorded yet"
	}
	s := "waiting for page 1" + since
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
		out = append(out, styleFaint.Render(fmt.Sprintf("↓ %d more below (History has every workspace of the run)", n-shown)))
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
		line := clock(e.at) + " " + e.text
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
