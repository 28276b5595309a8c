package tui

import (
	"slices"
	stdsync "sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/bisonsync/bisonsync/sync"
)

// frameInterval is the pace at which a run's events reach the model: at most ~30 batches,
// so ~30 redraws, a second, however fast pages arrive.
const frameInterval = time.Second / 30

// eventBuffer is how many rare events (start, finish, retry, notice) wait for the console
// before the engine's observer blocks. They are never dropped: a full buffer slows the
// engine down instead.
const eventBuffer = 4096

// feed carries one run's events from the engine's goroutines to the model.
//
// Page events are coalesced: the feed keeps only the latest page per workspace, so what
// waits for the console is bounded by the number of workspaces in progress whatever the page
// rate. Every other event goes through a buffered channel the observer blocks on, so none is
// ever lost. A listener command (next) waits for something to arrive, then for the frame
// interval since its previous batch, and hands the model everything pending as one message;
// the model re-arms it after each batch.
type feed struct {
	frame  time.Duration
	seq    atomic.Uint64
	events chan stamped
	wake   chan struct{} // capacity 1: something is pending
	done   chan struct{} // closed by close: the console is gone or the run is over
	once   stdsync.Once
	ended  atomic.Bool // the engine returned: every event of the run is in the feed

	mu       stdsync.Mutex
	pages    map[string]stamped // latest page per workspace, not yet taken
	lastTake time.Time
	stats    feedStats
}

// stamped is an event with its arrival order, so that a batch replays pages and rare events
// in the order the engine emitted them.
type stamped struct {
	seq uint64
	ev  sync.Event
}

// feedStats measure the feed for the benchmark and the tests.
type feedStats struct {
	Observed   int // events the observer received
	Coalesced  int // page events replaced by a newer page of the same workspace
	Batches    int // batches taken
	MaxBacklog int // most events pending at one take (pages + rare events)
	MaxPages   int // most page events pending at one take (at most one per workspace)
}

// feedMsg is one batch of a run's events, in emission order. The last batch of a run is
// final: the engine had returned before it was taken, so nothing follows it.
type feedMsg struct {
	feed   *feed
	events []sync.Event
	final  bool
}

func newFeed(frame time.Duration) *feed {
	return &feed{
		frame:  frame,
		events: make(chan stamped, eventBuffer),
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		pages:  map[string]stamped{},
	}
}

// observe is the run's sync.Observer. It never blocks on a page; it blocks on a rare event
// only while the buffer is full and the console still reads.
func (f *feed) observe(ev sync.Event) {
	s := stamped{seq: f.seq.Add(1), ev: ev}
	switch e := ev.(type) {
	case sync.PageFetched:
		f.mu.Lock()
		f.stats.Observed++
		if old, ok := f.pages[e.Workspace]; ok {
			f.stats.Coalesced++
			// Pages of one workspace are fetched concurrently: keep the most advanced.
			if p := old.ev.(sync.PageFetched); p.PagesFetched > e.PagesFetched {
				s = stamped{seq: s.seq, ev: p}
			}
		}
		f.pages[e.Workspace] = s
		f.mu.Unlock()
	default:
		f.mu.Lock()
		f.stats.Observed++
		switch e := ev.(type) {
		case sync.WorkspaceStarted:
			// A page still pending belongs to an earlier attempt.
			delete(f.pages, e.Workspace)
		case sync.WorkspaceFinished:
			// The result carries the final figures.
			delete(f.pages, e.Result.Name)
		}
		f.mu.Unlock()
		select {
		case f.events <- s:
		case <-f.done:
			return
		}
	}
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// take returns everything pending, in emission order.
func (f *feed) take() []sync.Event {
	f.mu.Lock()
	batch := make([]stamped, 0, len(f.pages)+len(f.events))
	for _, s := range f.pages {
		batch = append(batch, s)
	}
	pages := len(f.pages)
	clear(f.pages)
	f.mu.Unlock()
	// Rare events are drained after the pages: an event taken here may be newer than a page
	// left for the next batch, never the other way round (see the seq sort below).
	for drained := false; !drained; {
		select {
		case s := <-f.events:
			batch = append(batch, s)
		default:
			drained = true
		}
	}
	slices.SortFunc(batch, func(a, b stamped) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	out := make([]sync.Event, len(batch))
	for i, s := range batch {
		out[i] = s.ev
	}
	f.mu.Lock()
	f.lastTake = time.Now()
	f.stats.Batches++
	f.stats.MaxBacklog = max(f.stats.MaxBacklog, len(out))
	f.stats.MaxPages = max(f.stats.MaxPages, pages)
	f.mu.Unlock()
	return out
}

// next is the listener: it returns the next batch once something is pending and a frame
// has passed since the previous batch, or nil once the feed is closed.
func (f *feed) next() tea.Cmd {
	return func() tea.Msg {
		select {
		case <-f.wake:
		case <-f.done:
			return nil
		}
		f.mu.Lock()
		wait := f.frame - time.Since(f.lastTake)
		f.mu.Unlock()
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-f.done:
				t.Stop()
				return nil
			}
		}
		// Read ended before taking: if the engine had returned, this take gets everything.
		final := f.ended.Load()
		return feedMsg{feed: f, events: f.take(), final: final}
	}
}

// end records that the engine returned, so the listener's next batch is the final one.
func (f *feed) end() {
	f.ended.Store(true)
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// close stops the listener and turns the observer into a sink: after it the engine never
// waits for this console.
func (f *feed) close() { f.once.Do(func() { close(f.done) }) }

func (f *feed) isClosed() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// Stats returns the feed's figures so far.
func (f *feed) Stats() feedStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}
