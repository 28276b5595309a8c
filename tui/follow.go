package tui

import (
	"context"
	"fmt"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/human"
	"github.com/bisonsync/bisonsync/sync"
)

// Following runs of other processes. With no run of its own under way, the console polls
// the database (the backend's Runs, Run and RunWorkspaces) every Options.PollInterval; when
// a run of any process on the schema is running (a cron job, another host), the Run view
// follows it from its sync_runs row and its sync_run_workspaces rows, which the engine keeps
// current as it goes (each workspace's pages and accounts about once a second). Such a run
// cannot be cancelled from here: it belongs to its process.

// defaultPollEvery is how often the console looks for runs of other processes.
const defaultPollEvery = time.Second

type (
	// pollMsg: time to look at the runs in the database.
	pollMsg struct{}
	// followMsg is what a poll read: the recent runs and, when one is running (or was being
	// followed), that run with its workspaces.
	followMsg struct {
		runs []db.Run
		run  *db.Run
		rows []db.RunWorkspace
		err  error
	}
)

func (m *model) pollTick() tea.Cmd {
	if !m.cfg.timers || m.cfg.pollEvery <= 0 {
		return nil
	}
	return tea.Tick(m.cfg.pollEvery, func(time.Time) tea.Msg { return pollMsg{} })
}

// poll reads the runs unless the console's own run is going (its events tell more) or a
// poll is under way.
func (m *model) poll() tea.Cmd {
	if m.running || m.polling {
		return nil
	}
	m.polling = true
	var id int64
	if r := m.run; r != nil && r.foreign != nil && !r.finished {
		id = r.id
	}
	return m.c.loadFollow(id)
}

// loadFollow reads the recent runs and the run to follow: the one followed so far (id, to
// see it end), else the newest running one.
func (c *console) loadFollow(id int64) tea.Cmd {
	return c.read(func(ctx context.Context) tea.Msg {
		runs, err := c.b.Runs(ctx, recentRuns)
		if err != nil {
			return followMsg{err: err}
		}
		msg := followMsg{runs: runs}
		if id == 0 {
			for _, r := range runs {
				if r.Status == db.RunRunning {
					id = r.ID
					break
				}
			}
		}
		if id == 0 {
			return msg
		}
		run, err := c.b.Run(ctx, id)
		if err != nil {
			return followMsg{runs: runs, err: err}
		}
		rows, err := c.b.RunWorkspaces(ctx, id)
		msg.run, msg.rows, msg.err = &run, rows, err
		return msg
	})
}

func (m *model) onFollow(msg followMsg) tea.Cmd {
	m.polling = false
	if msg.err != nil {
		// The registry read says so too; a poll that fails is tried again at the next tick.
		return nil
	}
	if msg.runs != nil {
		m.setRuns(msg.runs)
	}
	switch r := msg.run; {
	case r == nil, m.running:
		return nil
	case m.run != nil && m.run.foreign == nil && m.run.id == r.ID:
		return nil // the console's own run, just ended
	case m.run != nil && m.run.foreign != nil && m.run.id == r.ID && m.run.finished:
		return nil // already seen to its end
	}
	prev := m.run
	if prev != nil && (prev.foreign == nil || prev.id != msg.run.ID) {
		prev = nil
	}
	m.run = followed(*msg.run, msg.rows, prev, m.estimateOf, m.now)
	m.resort()
	if m.run.finished {
		status, kind := runOutcome(msg.run.Status)
		m.setGlobalStatus(fmt.Sprintf("run #%d (%s on %s) finished: %s", msg.run.ID, m.run.trigger, m.run.foreign.Host, status), kind)
		return m.forceReload()
	}
	return nil
}

// followed builds the state of another process's run from its rows, carrying over the log
// and the page samples of the previous poll (prev, nil at first).
func followed(run db.Run, rows []db.RunWorkspace, prev *runState, estimate func(string) (int, bool), now time.Time) *runState {
	r := newRunState("run of another process", now)
	r.id, r.trigger, r.started, r.opened = run.ID, clean(run.Trigger), run.StartedAt, true
	r.foreign = &run
	seen := map[string]db.WorkspaceStatus{}
	if prev != nil {
		r.log, r.samples, r.requested = prev.log, prev.samples, prev.requested
		for name, w := range prev.ws {
			seen[name] = w.rowStatus
		}
	} else {
		r.log.add(now, logInfo, fmt.Sprintf("following run #%d of %s on %s (pid %d), started %s ago: it belongs to that process",
			run.ID, r.trigger, clean(run.Host), run.PID, human.Age(now.Sub(run.StartedAt))))
	}
	rows = slices.Clone(rows) // sorted here; the caller's stay as they were
	slices.SortStableFunc(rows, func(a, b db.RunWorkspace) int { return compareTimes(a.StartedAt, b.StartedAt) })
	for _, row := range rows {
		w := progressFromRow(run.StartedAt, row, estimate)
		r.ws[row.Workspace] = w
		r.planned++
		r.pages += row.PagesFetched
		r.place(row, w, seen[row.Workspace], now)
	}
	slices.SortStableFunc(r.done, func(a, b string) int {
		return compareTimes(r.ws[a].lane.endPtr(), r.ws[b].lane.endPtr())
	})
	r.sample(now)
	if run.Status != db.RunRunning {
		r.finishFollowed(run, now)
	}
	return r
}

// progressFromRow is a workspace of a followed run, from its row.
func progressFromRow(runStart time.Time, row db.RunWorkspace, estimate func(string) (int, bool)) *wsProgress {
	w := &wsProgress{name: clean(row.Workspace), attempt: row.Attempts, rowStatus: row.Status,
		pagesFetched: row.PagesFetched, lastPage: row.PagesTotal, accounts: row.AccountsFetched, total: row.AccountsExpected}
	if e, ok := estimate(row.Workspace); ok {
		w.estimated = e
	}
	if row.StartedAt != nil {
		w.startedAt = *row.StartedAt
	}
	w.lane = lanesFromRows(runStart, []db.RunWorkspace{row})[0]
	switch {
	case row.Status.Final():
		w.state = progFinished
		res := sync.WorkspaceResult{Name: row.Workspace, Status: row.Status, Attempts: row.Attempts, PagesFetched: row.PagesFetched,
			PagesTotal: row.PagesTotal, AccountsExpected: row.AccountsExpected, AccountsFetched: row.AccountsFetched,
			AccountsUpserted: row.AccountsUpserted, AccountsDeleted: row.AccountsDeleted, Error: clean(row.Error), Warning: clean(row.Warning)}
		if row.Duration != nil {
			res.Duration = *row.Duration
		}
		w.result = &res
		if row.FinishedAt != nil {
			w.finishedAt = *row.FinishedAt
		}
	case row.Status == db.WorkspaceRunning:
		w.state = progRunning
	}
	return w
}

// place files a workspace of a followed run under active or done, counts it, and logs what
// changed since the previous poll (was).
func (r *runState) place(row db.RunWorkspace, w *wsProgress, was db.WorkspaceStatus, now time.Time) {
	switch w.state {
	case progRunning:
		r.active = append(r.active, row.Workspace)
	case progFinished:
		r.done = append(r.done, row.Workspace)
		r.count(w, was != row.Status, now)
	}
}

// count adds a finished workspace to the run's tallies, and to the log when it is news.
func (r *runState) count(w *wsProgress, news bool, now time.Time) {
	res := w.result
	switch res.Status {
	case db.WorkspaceSucceeded:
		r.succeeded++
		r.accountsDone += res.AccountsFetched
	case db.WorkspaceFailed:
		r.failed++
		if news {
			r.log.add(now, logBad, fmt.Sprintf("%s %s failed: %s", symFailed, w.name, res.Error))
		}
	case db.WorkspaceCancelled:
		r.cancelled++
	case db.WorkspaceSkipped:
		r.skipped++
		if news {
			r.log.add(now, logInfo, fmt.Sprintf("%s %s skipped: %s", symSkipped, w.name, res.Error))
		}
	}
}

// finishFollowed closes a followed run as its row says it ended.
func (r *runState) finishFollowed(run db.Run, now time.Time) {
	r.finished = true
	r.endedAt = now
	if run.FinishedAt != nil {
		r.endedAt = *run.FinishedAt
	}
	s := sync.Summary{RunID: run.ID, Status: run.Status, Trigger: run.Trigger, StartedAt: run.StartedAt,
		DurationMS: r.endedAt.Sub(run.StartedAt).Milliseconds(), WorkspacesTotal: run.WorkspacesTotal,
		WorkspacesSucceeded: run.WorkspacesSucceeded, WorkspacesFailed: run.WorkspacesFailed,
		WorkspacesCancelled: run.WorkspacesCancelled, WorkspacesSkipped: run.WorkspacesSkipped,
		AccountsExpected: run.AccountsExpected, AccountsSynced: run.AccountsSynced, Error: run.Error}
	r.summary = &s
	status, _ := runOutcome(run.Status)
	r.log.add(now, logInfo, fmt.Sprintf("run #%d finished: %s · %d ok, %d failed, %d cancelled, %d skipped · %s accounts",
		run.ID, status, run.WorkspacesSucceeded, run.WorkspacesFailed, run.WorkspacesCancelled, run.WorkspacesSkipped, num(run.AccountsSynced)))
	if run.Error != "" {
		r.log.add(now, logWarn, "run error: "+clean(run.Error))
	}
}

// estimate fills in the registry's counts for workspaces the run has none for yet.
func (r *runState) estimate(of func(string) (int, bool)) {
	for name, w := range r.ws {
		if e, ok := of(name); ok && w.estimated == 0 {
			w.estimated = e
		}
	}
}

// endPtr is the lane's end, nil while it goes on.
func (l *lane) endPtr() *time.Time {
	if l.end.IsZero() {
		return nil
	}
	return &l.end
}

// foreignWords says whose a followed run is: "trigger headless · host cron-1 (pid 4711) ·
// heartbeat 2s ago".
func foreignWords(run *db.Run, now time.Time) string {
	s := fmt.Sprintf("host %s (pid %d)", clean(run.Host), run.PID)
	if run.HeartbeatAt != nil && run.Status == db.RunRunning {
		s += " · heartbeat " + human.Age(now.Sub(*run.HeartbeatAt)) + " ago"
	}
	return s
}

// notOursText says why a followed run cannot be cancelled from here.
func notOursText(r *runState) string {
	return fmt.Sprintf("run #%d belongs to another process (trigger %s, host %s, pid %d): it cannot be cancelled from this console; "+
		"stop that process (SIGTERM records its run as cancelled)", r.id, r.trigger, clean(r.foreign.Host), r.foreign.PID)
}
