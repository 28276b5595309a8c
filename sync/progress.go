package sync

import (
	"context"
	"fmt"
	"slices"
	stdsync "sync"
	"time"

	"github.com/bisonsync/bisonsync/db"
)

// progressWriter makes a run visible to other programs while it goes: it keeps the latest
// figures of every workspace from the run's events and, at most once per interval, writes
// those that changed and the run's counters in one transaction (a few milliseconds even when
// 2,000 workspaces changed). Page events arrive by the hundred a second; the database sees
// one write a second, whatever the fleet.
type progressWriter struct {
	store ProgressRecorder
	runID int64
	emit  Observer

	mu      stdsync.Mutex
	figures map[string]db.WorkspaceProgress // changed since the last write
	running []string                        // started and not finished, in start order
	changed bool                            // something to write, counters included
	failing bool                            // the last write failed (said once per streak)
}

func newProgressWriter(store ProgressRecorder, runID int64, emit Observer) *progressWriter {
	return &progressWriter{store: store, runID: runID, emit: emit, figures: map[string]db.WorkspaceProgress{}}
}

// observe takes in one event; it is called from the engine's goroutines and only records.
func (p *progressWriter) observe(ev Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := ev.(type) {
	case WorkspaceStarted:
		if !slices.Contains(p.running, e.Workspace) {
			p.running = append(p.running, e.Workspace)
		}
		p.changed = true
	case PageFetched:
		p.figures[e.Workspace] = db.WorkspaceProgress{Workspace: e.Workspace, PagesFetched: e.PagesFetched,
			PagesTotal: e.LastPage, AccountsExpected: e.Total, AccountsFetched: e.Accounts}
		p.changed = true
	case WorkspaceFinished:
		// Its row holds its final figures (the commit or FinishWorkspace wrote them); the run's
		// counters change.
		p.running = slices.DeleteFunc(p.running, func(n string) bool { return n == e.Result.Name })
		delete(p.figures, e.Result.Name)
		p.changed = true
	}
}

// take returns what to write and resets the changes; ok is false when nothing changed.
func (p *progressWriter) take() (db.RunProgress, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.changed {
		return db.RunProgress{}, false
	}
	out := db.RunProgress{RunID: p.runID}
	if n := len(p.running); n > 0 {
		// The dashboard names one workspace: the most recently started of those under way.
		out.CurrentWorkspace = p.running[n-1]
	}
	for _, w := range p.figures {
		out.Workspaces = append(out.Workspaces, w)
	}
	clear(p.figures)
	p.changed = false
	return out, true
}

// flush writes what changed. A failed write is said once per streak of failures, and its
// figures are dropped: the next ones supersede them.
func (p *progressWriter) flush(ctx context.Context) {
	prog, ok := p.take()
	if !ok {
		return
	}
	err := p.store.WriteProgress(ctx, prog)
	p.mu.Lock()
	first := err != nil && !p.failing
	p.failing = err != nil
	if err != nil {
		p.changed = true // the counters at least are written at the next tick
	}
	p.mu.Unlock()
	if first && ctx.Err() == nil {
		p.emit(Notice{Level: LevelWarn, Message: fmt.Sprintf("progress not written (other programs see the run late): %v", err)})
	}
}

// loop flushes every interval until ctx ends, then once more.
func (p *progressWriter) loop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
			p.flush(final)
			cancel()
			return
		case <-t.C:
			p.flush(ctx)
		}
	}
}
