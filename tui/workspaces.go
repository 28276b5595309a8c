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

// wsRow is one workspace as loaded, with its untrusted strings cleaned once.
type wsRow struct {
	ws       db.Workspace
	name     string // cleaned, for display
	lower    string // for the filter and the name sort
	instance string
	errText  string         // last error (or warning), cleaned, one line
	health   db.HealthState // as db.JudgeHealth decides it
}

// sortKey orders the workspaces view.
type sortKey int

const (
	sortName sortKey = iota
	sortStatus
	sortAge
	sortAccounts
	numSortKeys
)

func (k sortKey) String() string {
	return [...]string{"name", "status", "age", "accounts"}[k]
}

// wsPane is the workspaces view's state.
type wsPane struct {
	rows     []wsRow
	index    map[string]int // rows by workspace name
	visible  []int          // indices into rows: filtered and sorted
	cursor   int            // index into visible
	offset   int            // first visible row drawn
	selected map[string]bool
	sortBy   sortKey
	filter   string
	editing  bool // the filter line has the keyboard

	loaded   bool
	loading  bool
	loadedAt time.Time
	err      string
	runs     []db.Run // recent runs, newest first (header and history)

	counts wsCounts
}

type wsCounts struct {
	total, stale, failing, never, live int
}

// load replaces the rows with a fresh read, keeping the cursor on the same workspace and
// the selection on the workspaces that still exist.
func (p *wsPane) load(list []db.Workspace, at time.Time, staleAfter time.Duration) {
	keep := p.cursorName()
	p.rows = p.rows[:0]
	p.counts = wsCounts{}
	p.index = make(map[string]int, len(list))
	for _, w := range list {
		r := wsRow{ws: w, name: clean(w.Name), instance: clean(w.Instance)}
		r.health, _ = db.JudgeHealth(w, staleAfter, at)
		r.lower = strings.ToLower(r.name)
		switch {
		case w.LastStatus == db.WorkspaceCancelled && w.LastError != "":
			// The status shown is the last success's; say the last attempt was cancelled.
			r.errText = symCancelled + " last attempt " + clean(w.LastError)
		case w.LastError != "":
			r.errText = clean(w.LastError)
		case w.LastWarning != "":
			r.errText = "warning: " + clean(w.LastWarning)
		}
		p.index[w.Name] = len(p.rows)
		p.rows = append(p.rows, r)
		p.counts.total++
		p.counts.live += w.LiveAccounts
		switch r.health {
		case db.HealthStale:
			p.counts.stale++
		case db.HealthFailing:
			p.counts.failing++
		case db.HealthNever:
			p.counts.never++
		}
	}
	for n := range p.selected {
		if _, ok := p.index[n]; !ok {
			delete(p.selected, n)
		}
	}
	p.loaded, p.loadedAt, p.err = true, at, ""
	p.rebuild(keep, nil)
}

// row returns the workspace named name, or nil.
func (p *wsPane) row(name string) *wsRow {
	if i, ok := p.index[name]; ok {
		return &p.rows[i]
	}
	return nil
}

func (p *wsPane) cursorName() string {
	if p.cursor >= 0 && p.cursor < len(p.visible) {
		return p.rows[p.visible[p.cursor]].ws.Name
	}
	return ""
}

func (p *wsPane) current() *wsRow {
	if p.cursor >= 0 && p.cursor < len(p.visible) {
		return &p.rows[p.visible[p.cursor]]
	}
	return nil
}

// rebuild recomputes the visible rows (filter, then sort on the real values) and puts the
// cursor back on keep when it is still shown. live gives a workspace's live state in the
// current run, for the status sort.
func (p *wsPane) rebuild(keep string, live func(string) liveState) {
	p.visible = p.visible[:0]
	f := strings.ToLower(p.filter)
	for i := range p.rows {
		if f == "" || strings.Contains(p.rows[i].lower, f) {
			p.visible = append(p.visible, i)
		}
	}
	rank := func(r *wsRow) int {
		if live != nil {
			if s := live(r.ws.Name); s != liveNone {
				return 10 + int(s) // in the run: after the trouble, before the healthy
			}
		}
		return healthRank[r.health]
	}
	byName := func(a, b *wsRow) int { return cmp.Or(cmp.Compare(a.lower, b.lower), cmp.Compare(a.ws.Name, b.ws.Name)) }
	slices.SortStableFunc(p.visible, func(i, j int) int {
		a, b := &p.rows[i], &p.rows[j]
		switch p.sortBy {
		case sortStatus:
			return cmp.Or(cmp.Compare(rank(a), rank(b)), byName(a, b))
		case sortAge: // oldest success first, never synced before all
			return cmp.Or(compareTimes(a.ws.LastSuccessAt, b.ws.LastSuccessAt), byName(a, b))
		case sortAccounts: // largest first
			return cmp.Or(cmp.Compare(b.ws.LiveAccounts, a.ws.LiveAccounts), byName(a, b))
		default:
			return byName(a, b)
		}
	})
	p.cursor = min(p.cursor, max(len(p.visible)-1, 0))
	if keep != "" {
		for i, ri := range p.visible {
			if p.rows[ri].ws.Name == keep {
				p.cursor = i
				break
			}
		}
	}
}

// healthRank orders the status sort: trouble first, then workspaces in a run (10 and up), then
// the healthy.
var healthRank = map[db.HealthState]int{db.HealthFailing: 1, db.HealthNever: 2, db.HealthStale: 3,
	db.HealthWarning: 20, db.HealthOK: 20}

// compareTimes orders nil (never) first, then oldest first.
func compareTimes(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return a.Compare(*b)
}

// attention lists the workspaces `t` syncs: stale, failing or never synced, as shown.
func (p *wsPane) attention() []string {
	var names []string
	for _, r := range p.rows {
		if r.health.NeedsAttention() {
			names = append(names, r.ws.Name)
		}
	}
	return names
}

// selectedNames returns the selection in name order.
func (p *wsPane) selectedNames() []string {
	var names []string
	for _, r := range p.rows {
		if p.selected[r.ws.Name] {
			names = append(names, r.ws.Name)
		}
	}
	return names
}

// liveState is a workspace's state in the current run.
type liveState int

const (
	liveNone liveState = iota
	liveRunning
	livePending // started, no page yet
	liveWaiting // waiting for another attempt
	liveQueued
	liveDone // finished in the run after the registry was last read
)

// wsColumns are the widths of the workspaces table for a terminal width.
type wsColumns struct {
	name, instance, accounts, age, took, status, err int
}

func wsLayout(width int) wsColumns {
	c := wsColumns{instance: 12, accounts: 11, age: 7, took: 6, status: 11}
	// 2 for the cursor and selection marks, 1 space between columns.
	fixed := 2 + c.instance + c.accounts + c.age + c.took + c.status + 6
	rest := width - fixed
	c.name = min(max(rest/2, 16), 34)
	if rest-c.name < 12 {
		// Narrow: no error column (the detail line below the table shows it).
		c.name = max(rest-1, 10)
		c.err = 0
		return c
	}
	c.err = rest - c.name - 1
	return c
}

func (c wsColumns) header() string {
	h := "  " + fit("WORKSPACE", c.name) + " " + fit("INSTANCE", c.instance) + " " +
		fitRight("LIVE/API", c.accounts) + " " + fitRight("LAST OK", c.age) + " " + fitRight("TOOK", c.took) + " " +
		fit("STATUS", c.status)
	if c.err > 0 {
		h += " " + fit("LAST ERROR", c.err)
	}
	return h
}

// statusCell renders a workspace's status word with its symbol, and the style for it.
func statusCell(r *wsRow, ls liveState, prog *wsProgress) (string, styleKind) {
	switch ls {
	case liveRunning:
		if prog != nil && prog.lastPage > 0 {
			return fmt.Sprintf("%s %d/%d", symRunning, prog.pagesFetched, prog.lastPage), styleKindRunning
		}
		return symRunning + " running", styleKindRunning
	case livePending:
		return symPending + " waiting", styleKindWarn
	case liveWaiting:
		return symWaiting + " retrying", styleKindWarn
	case liveQueued:
		return symQueued + " queued", styleKindRunning
	case liveDone:
		if prog != nil && prog.result != nil {
			if prog.result.Status == "succeeded" {
				return symOK + " synced", styleKindOK
			}
			return outcome(prog.result.Status)
		}
	}
	switch r.health {
	case db.HealthStale:
		return symStale + " stale", styleKindWarn
	case db.HealthFailing:
		return symFailed + " failing", styleKindBad
	case db.HealthNever:
		if r.ws.LastStatus == db.WorkspaceFailed {
			return symFailed + " never", styleKindBad // never succeeded, and the last attempt failed
		}
		return symNever + " never", styleKindNever
	}
	return symOK + " ok", styleKindOK
}

// accountsCell is "live/API total": rows held now and the API's total as last seen ("-" when
// never fetched).
func accountsCell(live, api int, known bool) string {
	if !known {
		return num(live) + "/-"
	}
	return num(live) + "/" + num(api)
}

// tookCell is the duration of the last attempt, when that attempt is the one the status is
// about: a cancelled attempt after a success leaves the status to the success, so its
// duration is not shown beside it ("-").
func tookCell(w db.Workspace) string {
	if w.LastDuration == nil || w.LastStatus == db.WorkspaceCancelled {
		return "-"
	}
	return human.Duration(*w.LastDuration)
}
