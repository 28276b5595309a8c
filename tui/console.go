package tui

import (
	"context"
	"errors"
	stdsync "sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// Causes of a cancelled run, as the engine records them ("cancelled: <cause> before this
// workspace finished").
var (
	errOperatorCancel = errors.New("the operator cancelled the run in the console")
	errOperatorQuit   = errors.New("the operator quit the console")
	errConsoleClosed  = errors.New("the console closed")
)

// readTimeout bounds each database read the console makes.
const readTimeout = 15 * time.Second

// console is the I/O side of the console: the backend, the context every command runs
// under, and the bookkeeping that lets Close wait for the engine. The model holds a pointer
// to it and only ever gets commands from it; nothing here runs inside Update.
type console struct {
	b      backend
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu     stdsync.Mutex
	closed bool
	wg     stdsync.WaitGroup // commands that use the backend
	feeds  []*feed
}

func newConsole(parent context.Context, b backend) *console {
	ctx, cancel := context.WithCancelCause(parent)
	return &console{b: b, ctx: ctx, cancel: cancel}
}

// Close cancels whatever is in progress (a run is recorded as cancelled by the engine),
// stops every feed so the engine never waits on a console that is gone, and waits for the
// commands to return. Safe to call more than once.
func (c *console) Close() {
	c.mu.Lock()
	c.closed = true
	feeds := c.feeds
	c.feeds = nil
	c.mu.Unlock()
	c.cancel(errConsoleClosed)
	for _, f := range feeds {
		f.close()
	}
	c.wg.Wait()
}

// enter registers a command that uses the backend; false when the console is closed.
func (c *console) enter() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	return true
}

// newFeed makes the event feed of a new run; Close stops it.
func (c *console) newFeed() *feed {
	f := newFeed(frameInterval)
	c.mu.Lock()
	if c.closed {
		f.close()
	}
	c.feeds = append(liveFeeds(c.feeds), f)
	c.mu.Unlock()
	return f
}

func liveFeeds(fs []*feed) []*feed {
	var out []*feed
	for _, f := range fs {
		if !f.isClosed() {
			out = append(out, f)
		}
	}
	return out
}

// Messages carrying what the commands read.
type (
	// registryMsg is a fresh read of the registry with the recent runs.
	registryMsg struct {
		workspaces   []db.Workspace
		runs         []db.Run
		unregistered []db.DiscoveredWorkspace
		err          error
	}
	// runDetailMsg is one run with its workspaces.
	runDetailMsg struct {
		id   int64
		run  db.Run
		rows []db.RunWorkspace
		err  error
	}
	// workspaceRunsMsg is one workspace's recent runs.
	workspaceRunsMsg struct {
		name string
		rows []db.RunWorkspace
		err  error
	}
	// runDoneMsg: the engine returned.
	runDoneMsg struct {
		feed    *feed
		summary sync.Summary
		err     error
	}
)

// recentRuns is how many runs the console reads for the header and the history view.
const recentRuns = 50

// workspaceRunsLimit is how many runs `h` shows for one workspace.
const workspaceRunsLimit = 20

// read runs a database read as a command, bounded by readTimeout, unless the console is
// closing.
func (c *console) read(f func(ctx context.Context) tea.Msg) tea.Cmd {
	return func() tea.Msg {
		if !c.enter() {
			return nil
		}
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(c.ctx, readTimeout)
		defer cancel()
		return f(ctx)
	}
}

func (c *console) loadRegistry() tea.Cmd {
	return c.read(func(ctx context.Context) tea.Msg {
		ws, err := c.b.Workspaces(ctx)
		if err != nil {
			return registryMsg{err: err}
		}
		runs, err := c.b.Runs(ctx, recentRuns)
		if err != nil {
			return registryMsg{err: err}
		}
		found, err := c.unregistered(ctx)
		return registryMsg{workspaces: ws, runs: runs, unregistered: found, err: err}
	})
}

func (c *console) loadRunDetail(id int64) tea.Cmd {
	return c.read(func(ctx context.Context) tea.Msg {
		run, err := c.b.Run(ctx, id)
		if err != nil {
			return runDetailMsg{id: id, err: err}
		}
		rows, err := c.b.RunWorkspaces(ctx, id)
		return runDetailMsg{id: id, run: run, rows: rows, err: err}
	})
}

func (c *console) loadWorkspaceRuns(name string) tea.Cmd {
	return c.read(func(ctx context.Context) tea.Msg {
		rows, err := c.b.WorkspaceRuns(ctx, name, workspaceRunsLimit)
		return workspaceRunsMsg{name: name, rows: rows, err: err}
	})
}

func (c *console) loadHeld(name string) tea.Cmd {
	return c.read(func(ctx context.Context) tea.Msg {
		held, err := c.b.HeldDeletions(ctx, name)
		return heldMsg{name: name, held: held, err: err}
	})
}

// startRun returns the context of a new run, its cancel function and the command that runs
// it. The context derives from the console's, so the SIGTERM that cancels Run's context
// cancels the run exactly as in headless mode.
func (c *console) startRun(req sync.Request, f *feed) (context.CancelCauseFunc, tea.Cmd) {
	ctx, cancel := context.WithCancelCause(c.ctx)
	req.Observer = f.observe
	return cancel, func() tea.Msg {
		if !c.enter() {
			cancel(errConsoleClosed)
			f.end()
			return runDoneMsg{feed: f, err: errConsoleClosed}
		}
		defer c.wg.Done()
		defer cancel(nil)
		s, err := c.b.Sync(ctx, req)
		f.end()
		return runDoneMsg{feed: f, summary: s, err: err}
	}
}
