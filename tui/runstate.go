package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/human"
	"github.com/bisonsync/bisonsync/sync"
)

// progState is where a workspace stands in the run being watched.
type progState int

const (
	progQueued progState = iota
	progRunning
	progWaiting // a workspace retry is scheduled
	progFinished
)

// wsProgress is one workspace of the run, as its events told it.
type wsProgress struct {
	name      string // cleaned
	instance  string // cleaned
	estimated int    // accounts at the last complete fetch, 0 when unknown
	state     progState
	attempt   int
	startedAt time.Time

	pass, page, lastPage, pagesFetched, accounts, total int

	retry       string    // the current retry, for a workspace retry: "attempt 1 failed: ..."
	retryReason string    // of a request retry: "HTTP 429"
	retryOp     string    // of a request retry: "list page 3"
	retryUntil  time.Time // when its wait ends

	result     *sync.WorkspaceResult // when finished; Error and Warning cleaned
	finishedAt time.Time             // when the console learnt it finished

	waitingFor string // why a queued workspace waits (sync.Waiting): "waiting for the super-admin key: …"

	lane lane // its timeline

	rowStatus db.WorkspaceStatus // a followed run's: its row's status at the last poll
}

// fetching reports whether the workspace has started and had a page.
func (w *wsProgress) fetching() bool { return w.state == progRunning && w.lastPage > 0 }

// pending reports whether the workspace started (its lease is held) but no page has come
// yet: it waits for a request slot or a pause of its instance. It is not counted active.
func (w *wsProgress) pending() bool { return w.state == progRunning && w.lastPage == 0 }

// expected is the workspace's account count as best known: the API's total from this run
// (its result, else its latest page), else the last complete fetch's (guessed), else unknown.
func (w *wsProgress) expected() (n int, guessed, unknown bool) {
	switch {
	case w.result != nil && w.result.AccountsExpected > 0:
		return w.result.AccountsExpected, false, false
	case w.total > 0:
		return w.total, false, false
	case w.estimated > 0:
		return w.estimated, true, false
	}
	return 0, false, true
}

// pages is what the workspace's latest attempt fetched, as sync_run_workspaces records it.
func (w *wsProgress) latestPages() int {
	if w.result != nil {
		return w.result.PagesFetched
	}
	return w.pagesFetched
}

// instPause is a pause of an instance the engine announced: a 429 stops every request to it
// until its Retry-After has passed (CONTRACT.md §1).
type instPause struct {
	until  time.Time
	reason string // "HTTP 429 on Castle Agency"
}

// runState is the run being watched (or the last one), built from its events only.
type runState struct {
	id        int64
	label     string // what the operator asked for: "full sync", "Castle Agency", ...
	trigger   string
	requested time.Time // when the console asked the engine
	started   time.Time // RunStarted.At
	opened    bool      // RunStarted arrived

	ws        map[string]*wsProgress
	planned   int
	estimated int // accounts the run expects, from the last complete fetches
	unknown   int // planned workspaces with no estimate

	active  []string // running or waiting to retry, in start order
	waiting []string // queued, said by the engine to wait for something (a key)
	done    []string // finished, in finish order

	succeeded, failed, cancelled, skipped int
	pages                                 int // pages fetched, every attempt and pass
	accountsDone                          int // accounts fetched by succeeded workspaces

	samples []pageSample // for pages per second

	pauses map[string]instPause // by instance (cleaned name)
	paces  map[string]paceNow   // by instance (cleaned name): the run's last PaceChanged
	insts  map[string]bool      // the instances of the run's plan (cleaned names)
	dbWait *dbWait              // the database is unreachable and the run waits for it

	log logRing

	foreign *db.Run // the run's row when it is another process's, followed from the database

	cancelling  bool
	finished    bool
	summary     *sync.Summary
	startErr    string // the engine could not open the run
	endedAt     time.Time
	cancelCause string
}

type pageSample struct {
	at    time.Time
	pages int
}

func newRunState(label string, requested time.Time) *runState {
	return &runState{label: label, requested: requested, ws: map[string]*wsProgress{}, log: newLogRing(logCapacity),
		pauses: map[string]instPause{}, paces: map[string]paceNow{}, insts: map[string]bool{}}
}

// apply folds one event into the state; now is when the console received it.
func (r *runState) apply(ev sync.Event, now time.Time) {
	switch e := ev.(type) {
	case sync.RunStarted:
		r.onRunStarted(e, now)
	case sync.WorkspaceStarted:
		r.onWorkspaceStarted(e, now)
	case sync.PageFetched:
		r.onPage(e, now)
	case sync.Retrying:
		r.onRetry(e, now)
	case sync.Notice:
		r.onNotice(e, now)
	case sync.Waiting:
		r.onWaiting(e, now)
	case sync.PaceChanged:
		r.onPace(e, now)
	case sync.WorkspaceFinished:
		r.finish(e.Result, now)
	case sync.RunFinished:
		r.onRunFinished(e.Summary, now)
	}
}

func (r *runState) onRunStarted(e sync.RunStarted, now time.Time) {
	r.opened, r.id, r.trigger, r.started = true, e.RunID, clean(e.Trigger), e.At
	for _, p := range e.Workspaces {
		if _, ok := r.ws[p.Name]; ok {
			continue
		}
		if p.Instance != "" {
			r.insts[clean(p.Instance)] = true
		}
		r.ws[p.Name] = &wsProgress{name: clean(p.Name), instance: clean(p.Instance), estimated: p.Estimated,
			lane: lane{name: clean(p.Name), spans: []span{{from: e.At, ph: phQueued}}}}
		r.planned++
		if p.Estimated > 0 {
			r.estimated += p.Estimated
		} else {
			r.unknown++
		}
	}
	r.log.add(now, logInfo, fmt.Sprintf("run #%d started: %s (%s)", e.RunID, plural(len(e.Workspaces), "workspace", "workspaces"), r.label))
	for _, id := range e.Abandoned {
		r.log.add(now, logWarn, fmt.Sprintf("run #%d was left running by a process that is gone: marked abandoned", id))
	}
}

func (r *runState) onWorkspaceStarted(e sync.WorkspaceStarted, now time.Time) {
	w := r.workspace(e.Workspace)
	if w.state == progFinished {
		return
	}
	r.databaseAnswers() // the engine recorded the start
	w.state, w.attempt, w.startedAt, w.waitingFor = progRunning, e.Attempt, e.At, ""
	w.lane.mark(phWaiting, e.At)
	w.pass, w.page, w.lastPage, w.pagesFetched, w.accounts, w.total = 0, 0, 0, 0, 0, 0
	w.retry = ""
	r.activate(e.Workspace)
	if e.Attempt > 1 {
		r.log.add(now, logInfo, fmt.Sprintf("%s: attempt %d started", w.name, e.Attempt))
	}
}

func (r *runState) onPage(e sync.PageFetched, now time.Time) {
	w := r.ws[e.Workspace]
	if w == nil || w.state != progRunning || e.PagesFetched < w.pagesFetched {
		return // late page of a finished workspace or an earlier attempt
	}
	r.pages += e.PagesFetched - w.pagesFetched
	w.pass, w.page, w.lastPage, w.pagesFetched, w.accounts, w.total = e.Pass, e.Page, e.LastPage, e.PagesFetched, e.Accounts, e.Total
	if e.LastPage > 0 && e.PagesFetched >= e.LastPage {
		w.lane.mark(phCommit, now)
	} else {
		w.lane.mark(phFetching, now)
	}
	if w.retry != "" && now.After(w.retryUntil) {
		w.retry = ""
	}
}

func (r *runState) onRetry(e sync.Retrying, now time.Time) {
	w := r.workspace(e.Workspace)
	wait := e.Wait.Round(100 * time.Millisecond)
	reason := clean(e.Reason)
	if e.Scope == sync.ScopeWorkspace {
		w.state = progWaiting
		w.lane.mark(phRetry, now)
		w.retry = fmt.Sprintf("attempt %d failed: %s", e.Attempt, reason)
		r.log.add(now, logWarn, fmt.Sprintf("%s %s: attempt %d failed, next attempt in %s: %s", symWaiting, w.name, e.Attempt, human.Duration(wait), reason))
	} else {
		w.retry, w.retryReason, w.retryOp = reason, reason, clean(e.Op)
		if len(w.lane.pauses) < maxPauses {
			w.lane.pauses = append(w.lane.pauses, interval{from: now, to: now.Add(e.Wait)})
		}
		r.log.add(now, logWarn, fmt.Sprintf("%s %s: %s: %s, retrying in %s (try %d)", symWaiting, w.name, clean(e.Op), reason, human.Duration(wait), e.Attempt))
	}
	w.retryUntil = now.Add(e.Wait)
}

func (r *runState) onNotice(e sync.Notice, now time.Time) {
	level := logInfo
	if e.Level == sync.LevelWarn {
		level = logWarn
	}
	msg := clean(e.Message)
	if e.Workspace != "" {
		msg = clean(e.Workspace) + ": " + msg
	}
	r.log.add(now, level, msg)
}

func (r *runState) onRunFinished(s sync.Summary, now time.Time) {
	r.summary = &s
	r.finished = true
	r.endedAt = now
	r.databaseAnswers()
	if r.id == 0 {
		r.id = s.RunID
	}
	if s.WorkspacesCancelled > 0 {
		r.log.add(now, logWarn, fmt.Sprintf("%s cancelled: %s", plural(s.WorkspacesCancelled, "workspace", "workspaces"), firstCancelReason(s)))
	}
	line := fmt.Sprintf("run #%d finished: %s · %d ok, %d failed, %d cancelled, %d skipped · %s accounts in %s",
		s.RunID, s.Status, s.WorkspacesSucceeded, s.WorkspacesFailed, s.WorkspacesCancelled, s.WorkspacesSkipped,
		num(s.AccountsSynced), human.Duration(time.Duration(s.DurationMS)*time.Millisecond))
	level := logInfo
	if !s.OK() {
		level = logWarn
	}
	r.log.add(now, level, line)
	if s.Error != "" {
		r.log.add(now, logWarn, "run error: "+clean(s.Error))
	}
}

func firstCancelReason(s sync.Summary) string {
	for _, w := range s.Workspaces {
		if w.Status == db.WorkspaceCancelled && w.Error != "" {
			return strings.TrimPrefix(clean(w.Error), "cancelled: ")
		}
	}
	return "the run was interrupted"
}

// maxPauses bounds the retry pauses a lane keeps.
const maxPauses = 64

// workspace returns a workspace's progress, creating it for a workspace the plan did not
// announce (defensive: events are all the console trusts).
func (r *runState) workspace(name string) *wsProgress {
	w := r.ws[name]
	if w == nil {
		w = &wsProgress{name: clean(name), lane: lane{name: clean(name), spans: []span{{from: r.startedOr(), ph: phQueued}}}}
		r.ws[name] = w
		r.planned++
		r.unknown++
	}
	return w
}

func (r *runState) activate(name string) {
	for _, n := range r.active {
		if n == name {
			return
		}
	}
	r.active = append(r.active, name)
}

func (r *runState) finish(res sync.WorkspaceResult, now time.Time) {
	w := r.workspace(res.Name)
	if w.state == progFinished {
		return
	}
	if res.PagesFetched > w.pagesFetched && w.state == progRunning {
		r.pages += res.PagesFetched - w.pagesFetched // pages coalesced away before the finish
	}
	res.Error, res.Warning = clean(res.Error), clean(res.Warning)
	w.state, w.result, w.retry, w.finishedAt = progFinished, &res, "", now
	w.lane.end, w.lane.status = now, res.Status
	for i, n := range r.active {
		if n == res.Name {
			r.active = append(r.active[:i], r.active[i+1:]...)
			break
		}
	}
	r.done = append(r.done, res.Name)
	switch res.Status {
	case db.WorkspaceSucceeded:
		r.succeeded++
		r.accountsDone += res.AccountsFetched
		r.databaseAnswers() // its commit went through
		if res.Warning != "" {
			r.log.add(now, logWarn, fmt.Sprintf("%s %s: %s", symStale, w.name, res.Warning))
		}
	case db.WorkspaceFailed:
		r.failed++
		r.log.add(now, logBad, fmt.Sprintf("%s %s failed: %s", symFailed, w.name, res.Error))
	case db.WorkspaceCancelled:
		r.cancelled++
	case db.WorkspaceSkipped:
		r.skipped++
		r.log.add(now, logInfo, fmt.Sprintf("%s %s skipped: %s", symSkipped, w.name, res.Error))
	}
}

// lanes are the run's timeline, one lane per workspace.
func (r *runState) lanes() []lane {
	out := make([]lane, 0, len(r.ws))
	for _, w := range r.ws {
		out = append(out, w.lane)
	}
	return out
}

// timeSpan is the stretch of time the run's timeline covers: from its start to its end, or
// to now while it goes on.
func (r *runState) timeSpan(now time.Time) (time.Time, time.Time) {
	if r.finished && !r.endedAt.IsZero() {
		return r.startedOr(), r.endedAt
	}
	return r.startedOr(), now
}

// sample records the page count for the pages-per-second figure, every quarter second at
// most, keeping ten seconds.
func (r *runState) sample(now time.Time) {
	if n := len(r.samples); n > 0 && now.Sub(r.samples[n-1].at) < 250*time.Millisecond {
		return
	}
	r.samples = append(r.samples, pageSample{at: now, pages: r.pages})
	cut := 0
	for cut < len(r.samples)-1 && now.Sub(r.samples[cut].at) > 10*time.Second {
		cut++
	}
	r.samples = r.samples[cut:]
}

// rate is pages per second over the last five seconds or so.
func (r *runState) rate(now time.Time) float64 {
	if len(r.samples) == 0 {
		return 0
	}
	from := r.samples[0]
	for _, s := range r.samples {
		if now.Sub(s.at) <= 5*time.Second {
			from = s
			break
		}
	}
	dt := now.Sub(from.at).Seconds()
	if dt < 0.5 {
		return 0
	}
	return float64(r.pages-from.pages) / dt
}

// runFigures are a run's accounts and pages, worked out the same way from the console's
// events (runState.figures) and from sync_run_workspaces rows (rowFigures), so that the Run
// view and History say the same thing about the same run.
type runFigures struct {
	synced    int     // accounts fetched by succeeded workspaces: sync_runs.accounts_synced
	inFlight  int     // accounts fetched so far by workspaces still going
	expected  int     // the API's totals where known, else the last complete fetch's
	guessed   int     // workspaces whose expected count is the last complete fetch's
	unknown   int     // workspaces with no count at all
	pages     int     // pages of each workspace's latest attempt: sync_run_workspaces.pages_fetched
	earlier   int     // pages of earlier attempts (the console's own runs only)
	doneShare float64 // share of the expected accounts in finished workspaces (cancelled excluded)
	flight    float64 // share in workspaces still going, by their pages
}

// figures are the run's figures now.
func (r *runState) figures() runFigures {
	var f runFigures
	var weights, done, flight float64
	for _, w := range r.ws {
		n, guessed, unknown := w.expected()
		f.expected += n
		if guessed {
			f.guessed++
		}
		if unknown {
			f.unknown++
		}
		f.pages += w.latestPages()
		wt := float64(max(n, 1))
		weights += wt
		switch {
		case w.state == progFinished && w.result.Status == db.WorkspaceSucceeded:
			f.synced += w.result.AccountsFetched
			done += wt
		case w.state == progFinished && w.result.Status != db.WorkspaceCancelled:
			done += wt
		case w.state == progRunning:
			f.inFlight += w.accounts
			if w.lastPage > 0 {
				flight += wt * min(float64(w.pagesFetched)/float64(w.lastPage), 1)
			}
		}
	}
	if weights > 0 {
		f.doneShare, f.flight = done/weights, flight/weights
	}
	return f
}

// expectedText is the expected account count: exact when every workspace's count came from
// the API in this run, "~" when some are the last fetch's, "+" when some are unknown.
func (f runFigures) expectedText() string {
	switch {
	case f.expected == 0 && f.unknown > 0:
		return "?"
	case f.unknown > 0:
		return "~" + num(f.expected) + "+"
	case f.guessed > 0:
		return "~" + num(f.expected)
	}
	return num(f.expected)
}

// accountsText: "accounts 1,234 synced + 300 in flight of ~4,215+".
func (f runFigures) accountsText() string {
	s := "accounts " + num(f.synced) + " synced"
	if f.inFlight > 0 {
		s += " + " + num(f.inFlight) + " in flight"
	}
	return s + " of " + f.expectedText()
}

// pagesText: "pages 335", those of each workspace's latest attempt (a workspace that is
// retried starts its count again, as sync_run_workspaces does).
func (f runFigures) pagesText() string { return "pages " + num(f.pages) }

// progressCounts are the unfinished workspaces of a run by where they stand.
type progressCounts struct {
	fetching int  // started and fetching pages
	pending  int  // started, no page yet: waiting for a request slot or its instance's pause
	retrying int  // waiting for another attempt
	queued   int  // not started
	followed bool // another process's run: a page shows only once its row records it
}

func (c progressCounts) String() string {
	s := fmt.Sprintf("%d fetching", c.fetching)
	if c.retrying > 0 {
		s += fmt.Sprintf(", %d waiting to retry", c.retrying)
	}
	switch {
	case c.pending > 0 && c.followed:
		s += fmt.Sprintf(", %d started with no page recorded yet", c.pending)
	case c.pending > 0:
		s += fmt.Sprintf(", %d waiting for page 1", c.pending)
	}
	return s + fmt.Sprintf(", %d queued", c.queued)
}

// counts tells how the unfinished workspaces stand.
func (r *runState) counts() progressCounts {
	c := progressCounts{followed: r.foreign != nil}
	for _, name := range r.active {
		w := r.ws[name]
		switch {
		case w == nil:
		case w.state == progWaiting:
			c.retrying++
		case w.pending():
			c.pending++
		default:
			c.fetching++
		}
	}
	c.queued = max(r.planned-len(r.done)-len(r.active), 0)
	return c
}

// fraction estimates how much of the run is done, weighting workspaces by their expected
// size (an unknown size counts as the average known one).
func (r *runState) fraction() float64 {
	if r.planned == 0 {
		return 0
	}
	avg := 100.0
	if known := r.planned - r.unknown; known > 0 && r.estimated > 0 {
		avg = float64(r.estimated) / float64(known)
	}
	weight := func(w *wsProgress) float64 {
		if w.estimated > 0 {
			return float64(w.estimated)
		}
		if w.total > 0 {
			return float64(w.total)
		}
		return avg
	}
	var total, done float64
	for _, w := range r.ws {
		wt := weight(w)
		total += wt
		switch {
		case w.state == progFinished && w.result != nil && w.result.Status == db.WorkspaceCancelled:
			// not done: the run stopped before it
		case w.state == progFinished:
			done += wt
		case w.state == progRunning && w.lastPage > 0:
			done += wt * min(float64(w.pagesFetched)/float64(w.lastPage), 1)
		}
	}
	if total == 0 {
		return 0
	}
	return done / total
}

// eta estimates the time left, or 0 when it cannot yet tell.
func (r *runState) eta(now time.Time) time.Duration {
	if !r.opened || r.finished {
		return 0
	}
	elapsed := now.Sub(r.started)
	f := r.fraction()
	if f < 0.02 || elapsed < time.Second {
		return 0
	}
	return time.Duration(float64(elapsed) * (1 - f) / f)
}

// elapsed is the run's duration so far, or its whole duration once finished.
func (r *runState) elapsed(now time.Time) time.Duration {
	switch {
	case r.summary != nil && r.summary.DurationMS > 0:
		return time.Duration(r.summary.DurationMS) * time.Millisecond
	case r.finished && !r.endedAt.IsZero():
		return r.endedAt.Sub(r.startedOr())
	}
	return now.Sub(r.startedOr())
}

func (r *runState) startedOr() time.Time {
	if r.opened {
		return r.started
	}
	return r.requested
}

// live tells a workspace's state in this run, for the workspaces view: in progress, or
// finished after the registry was read at since (the registry does not show it yet).
func (r *runState) live(name string, since time.Time) (liveState, *wsProgress) {
	if r == nil {
		return liveNone, nil
	}
	w := r.ws[name]
	if w == nil {
		return liveNone, nil
	}
	switch {
	case w.state == progFinished && w.finishedAt.After(since):
		return liveDone, w
	case r.finished:
		return liveNone, w
	case w.pending():
		return livePending, w
	case w.state == progRunning:
		return liveRunning, w
	case w.state == progWaiting:
		return liveWaiting, w
	case w.state == progQueued:
		return liveQueued, w
	}
	return liveNone, w
}

// logLevel is how a log line is styled.
type logLevel int

const (
	logInfo logLevel = iota
	logWarn
	logBad
)

type logEntry struct {
	at    time.Time
	level logLevel
	text  string
}

// logCapacity is how many lines the run's log keeps (oldest dropped first).
const logCapacity = 2000

// logRing is the run's log pane content: a ring of the latest lines.
type logRing struct {
	buf   []logEntry
	start int
	n     int
}

func newLogRing(capacity int) logRing { return logRing{buf: make([]logEntry, capacity)} }

func (l *logRing) add(at time.Time, level logLevel, text string) {
	e := logEntry{at: at, level: level, text: text}
	if l.n < len(l.buf) {
		l.buf[(l.start+l.n)%len(l.buf)] = e
		l.n++
		return
	}
	l.buf[l.start] = e
	l.start = (l.start + 1) % len(l.buf)
}

func (l *logRing) len() int { return l.n }

// at returns the i-th line, oldest first.
func (l *logRing) at(i int) logEntry { return l.buf[(l.start+i)%len(l.buf)] }
