package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"

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
	// unregistered: at the source, not in the registry (see source.go); not syncable.
	unregistered bool
}

// sortCol is the column the workspaces view is sorted on; each sorts ascending or
// descending (▲/▼ beside its title), ties by name.
type sortCol int

const (
	sortName sortCol = iota
	sortInstance
	sortAccounts
	sortAge
	sortTook
	sortStatus
	numSortCols
)

func (c sortCol) String() string {
	return [...]string{"name", "instance", "accounts", "age of the last success", "last duration", "status"}[c]
}

// descByDefault: the direction a column sorts in first. Largest, oldest and slowest first;
// names and statuses (trouble first) ascending.
func (c sortCol) descByDefault() bool { return c == sortAccounts || c == sortAge || c == sortTook }

// wsSort is how the workspaces view is sorted.
type wsSort struct {
	col  sortCol
	desc bool
}

func (s wsSort) String() string {
	dir := "ascending"
	if s.desc {
		dir = "descending"
	}
	return s.col.String() + ", " + dir
}

// marker is the arrow shown beside the sorted column's title.
func (s wsSort) marker() string {
	if s.desc {
		return "▼"
	}
	return "▲"
}

// wsPane is the workspaces view's state.
type wsPane struct {
	rows     []wsRow
	index    map[string]int // rows by workspace name
	visible  []int          // indices into rows: filtered and sorted
	cursor   int            // index into visible
	offset   int            // first visible row drawn
	anchor   string         // the workspace the operator last put the cursor on
	selected map[string]bool
	sort     wsSort
	input    textinput.Model // the filter line
	filter   wsFilter        // parsed from input

	loaded   bool
	loading  bool
	loadedAt time.Time
	gen      int // registry reads so far
	err      string
	runs     []db.Run // recent runs, newest first (header and history)

	counts wsCounts
}

// editing reports whether the filter line has the keyboard.
func (p *wsPane) editing() bool { return p.input.Focused() }

// filtering reports whether a filter is typed, or being typed.
func (p *wsPane) filtering() bool { return p.editing() || p.input.Value() != "" }

type wsCounts struct {
	total, stale, failing, never, live int
}

// load replaces the rows with a fresh read, keeping the cursor on the same workspace and
// the selection on the workspaces that still exist.
func (p *wsPane) load(list []db.Workspace, at time.Time, staleAfter time.Duration, live func(string) liveState) {
	p.rows = p.rows[:0]
	p.counts = wsCounts{}
	p.index = make(map[string]int, len(list))
	for _, w := range list {
		r := wsRow{ws: w, name: clean(w.Name), instance: clean(w.Instance)}
		var reason string
		r.health, reason = db.JudgeHealth(w, staleAfter, at)
		r.lower = strings.ToLower(r.name)
		switch {
		case r.health == db.HealthGone || r.health == db.HealthWrongKey || w.KeyStatus == db.KeyRejected && reason != "":
			r.errText = clean(reason) // what the source or the key checks found, as --check says it
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
	p.rebuild(live)
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
// cursor back on the anchor when it is shown. live gives a workspace's state in the current
// run, for the status sort and filter.
func (p *wsPane) rebuild(live func(string) liveState) {
	if live == nil {
		live = func(string) liveState { return liveNone }
	}
	p.visible = p.visible[:0]
	for i := range p.rows {
		if p.filter.match(&p.rows[i], live(p.rows[i].ws.Name)) {
			p.visible = append(p.visible, i)
		}
	}
	cmpCol := p.sort.compare(live)
	byName := func(a, b *wsRow) int { return cmp.Or(cmp.Compare(a.lower, b.lower), cmp.Compare(a.ws.Name, b.ws.Name)) }
	slices.SortStableFunc(p.visible, func(i, j int) int {
		a, b := &p.rows[i], &p.rows[j]
		c := cmpCol(a, b)
		if p.sort.desc {
			c = -c
		}
		return cmp.Or(c, byName(a, b))
	})
	p.cursor = min(p.cursor, max(len(p.visible)-1, 0))
	for i, ri := range p.visible {
		if p.rows[ri].ws.Name == p.anchor {
			p.cursor = i
			break
		}
	}
}

// compare orders two rows on the sorted column, ascending.
func (s wsSort) compare(live func(string) liveState) func(a, b *wsRow) int {
	rank := func(r *wsRow) int {
		if st := live(r.ws.Name); st != liveNone {
			return 10 + int(st) // in the run: after the trouble, before the healthy
		}
		return healthRank[r.health]
	}
	switch s.col {
	case sortInstance:
		return func(a, b *wsRow) int { return cmp.Compare(a.instance, b.instance) }
	case sortAccounts:
		return func(a, b *wsRow) int { return cmp.Compare(a.ws.LiveAccounts, b.ws.LiveAccounts) }
	case sortAge: // ascending: the most recent success first; never synced is the oldest
		return func(a, b *wsRow) int { return compareTimes(b.ws.LastSuccessAt, a.ws.LastSuccessAt) }
	case sortTook:
		return func(a, b *wsRow) int { return compareDurations(a.ws.LastDuration, b.ws.LastDuration) }
	case sortStatus:
		return func(a, b *wsRow) int { return cmp.Compare(rank(a), rank(b)) }
	}
	return func(a, b *wsRow) int { return cmp.Compare(a.lower, b.lower) }
}

func compareDurations(a, b *time.Duration) int {
	return compareNilFirst(a, b, func(x, y time.Duration) int { return cmp.Compare(x, y) })
}

// healthRank orders the status sort: trouble first, then workspaces in a run (10 and up), then
// the healthy.
var healthRank = map[db.HealthState]int{db.HealthFailing: 1, db.HealthNever: 2, db.HealthStale: 3,
	db.HealthWarning: 20, db.HealthOK: 20, db.HealthGone: 0, db.HealthWrongKey: 0, db.HealthUnregistered: 4}

// compareTimes orders nil (never) first, then oldest first.
func compareTimes(a, b *time.Time) int {
	return compareNilFirst(a, b, func(x, y time.Time) int { return x.Compare(y) })
}

// compareNilFirst orders nil (unknown, never) before any value, values by cmp.
func compareNilFirst[T any](a, b *T, cmp func(x, y T) int) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return cmp(*a, *b)
}

// attention lists the workspaces `t` syncs: stale, failing or never synced, as shown.
func (p *wsPane) attention() []string {
	var names []string
	for _, r := range p.rows {
		if r.health.NeedsAttention() && !r.unregistered {
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

// wsFilter is what the filter line asks for: words in the name, and status: and inst:
// tokens ("status:failing,stale inst:main"), every part of it to match.
type wsFilter struct {
	words     []string // in the name
	statuses  []string // any of: ok, warning, stale, failing, never, attention, running, waiting, retrying, queued
	instances []string // any of, in the instance name
}

// parseFilter reads the filter line, case-insensitively.
func parseFilter(s string) wsFilter {
	var f wsFilter
	for _, tok := range strings.Fields(strings.ToLower(s)) {
		switch {
		case strings.HasPrefix(tok, "status:"):
			f.statuses = append(f.statuses, splitList(strings.TrimPrefix(tok, "status:"))...)
		case strings.HasPrefix(tok, "inst:"):
			f.instances = append(f.instances, splitList(strings.TrimPrefix(tok, "inst:"))...)
		default:
			f.words = append(f.words, tok)
		}
	}
	return f
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// usesRun reports whether the filter depends on the run's progress.
func (f wsFilter) usesRun() bool { return len(f.statuses) > 0 }

func (f wsFilter) match(r *wsRow, live liveState) bool {
	for _, w := range f.words {
		if !strings.Contains(r.lower, w) {
			return false
		}
	}
	if len(f.instances) > 0 && !slices.ContainsFunc(f.instances, func(i string) bool {
		return strings.Contains(strings.ToLower(r.instance), i)
	}) {
		return false
	}
	return len(f.statuses) == 0 || slices.ContainsFunc(f.statuses, func(s string) bool { return statusMatches(s, r, live) })
}

// statusMatches tells whether a row is in the named status: its health as db.JudgeHealth
// decided it, or its state in the current run.
func statusMatches(s string, r *wsRow, live liveState) bool {
	switch s {
	case "attention":
		return r.health.NeedsAttention()
	case "running":
		return live == liveRunning
	case "waiting":
		return live == livePending
	case "retrying":
		return live == liveWaiting
	case "queued":
		return live == liveQueued
	}
	return string(r.health) == s
}

// filterWords are the tokens the filter line suggests.
var filterWords = []string{"status:ok", "status:warning", "status:stale", "status:failing", "status:never", "status:attention",
	"status:running", "status:waiting", "status:retrying", "status:queued"}

// selectVisible selects every shown workspace, or clears them all when each is selected.
func (p *wsPane) selectVisible() int {
	all := true
	for _, i := range p.visible {
		all = all && (p.selected[p.rows[i].ws.Name] || p.rows[i].unregistered)
	}
	for _, i := range p.visible {
		switch {
		case p.rows[i].unregistered: // not syncable until registered
		case all:
			delete(p.selected, p.rows[i].ws.Name)
		default:
			p.selected[p.rows[i].ws.Name] = true
		}
	}
	if all {
		return 0
	}
	return len(p.visible)
}

// wsColumns are the widths of the workspaces table for a terminal width.
//
// The table is drawn by hand rather than by the bubbles table: during a run every row can
// change between frames, and the bubbles table needs every row's cells rebuilt, then renders
// each cell through lipgloss. On 2,000 workspaces that is about 25 ms a frame
// (BenchmarkBubblesTable2000) against under 1 ms here (BenchmarkView2000), which only formats
// the rows on screen.
type wsColumns struct {
	name, instance, accounts, age, took, status, err int
}

func wsLayout(width int) wsColumns {
	c := wsColumns{instance: 12, accounts: 11, age: 8, took: 6, status: 14} // status: "+ unregistered"
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

// header is the table's titles, the sorted one marked with its direction.
func (c wsColumns) header(s wsSort) string {
	t := func(col sortCol, title string) string {
		if s.col == col {
			return title + s.marker()
		}
		return title
	}
	h := "  " + fit(t(sortName, "WORKSPACE"), c.name) + " " + fit(t(sortInstance, "INSTANCE"), c.instance) + " " +
		fitRight(t(sortAccounts, "LIVE/API"), c.accounts) + " " + fitRight(t(sortAge, "LAST OK"), c.age) + " " +
		fitRight(t(sortTook, "TOOK"), c.took) + " " + fit(t(sortStatus, "STATUS"), c.status)
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
	if text, kind, ok := sourceCell(r); ok {
		return text, kind
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

// ageCell is the age of the last success with a heat cell beside it: ▁ just synced, █ at
// the stale age or past it (the status says which).
func ageCell(w db.Workspace, now time.Time, staleAfter time.Duration) string {
	if w.LastSuccessAt == nil {
		return "never"
	}
	age := now.Sub(*w.LastSuccessAt)
	h := heat(float64(age) / float64(staleAfter))
	if age > staleAfter {
		h = styleKindWarn.render(h)
	}
	return human.Age(age) + " " + h
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
