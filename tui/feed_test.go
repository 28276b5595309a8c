package tui

import (
	"fmt"
	stdsync "sync"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/sync"
)

// Pages are coalesced to the latest per workspace, so what waits for the console is bounded
// by the workspaces in progress; every other event arrives, in order.
func TestFeedCoalescesPagesAndKeepsEveryOtherEvent(t *testing.T) {
	f := newFeed(frameInterval)
	const workspaces, pages = 200, 100
	var wg stdsync.WaitGroup
	for w := range workspaces {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("ws-%03d", w)
			f.observe(sync.WorkspaceStarted{Workspace: name, Attempt: 1})
			for p := 1; p <= pages; p++ {
				f.observe(sync.PageFetched{Workspace: name, Page: p, LastPage: pages, PagesFetched: p})
				if p == 50 {
					f.observe(sync.Retrying{Workspace: name, Scope: sync.ScopeRequest, Op: "list page 51", Reason: "HTTP 429", Wait: time.Second})
				}
			}
		}()
	}
	wg.Wait()
	batch := f.take()
	counts := map[string]int{}
	lastPage := map[string]int{}
	for _, ev := range batch {
		switch e := ev.(type) {
		case sync.PageFetched:
			counts["page"]++
			lastPage[e.Workspace] = e.PagesFetched
		case sync.WorkspaceStarted:
			counts["started"]++
			if _, seen := lastPage[e.Workspace]; seen {
				t.Fatalf("a page of %s came before its start", e.Workspace)
			}
		case sync.Retrying:
			counts["retry"]++
		}
	}
	if counts["started"] != workspaces || counts["retry"] != workspaces {
		t.Fatalf("rare events lost: %v", counts)
	}
	if counts["page"] != workspaces {
		t.Fatalf("%d pages pending for %d workspaces: not coalesced", counts["page"], workspaces)
	}
	for w, p := range lastPage {
		if p != pages {
			t.Fatalf("%s: the pending page is %d, not the latest %d", w, p, pages)
		}
	}
	if st := f.Stats(); st.MaxBacklog > 3*workspaces || st.Coalesced != workspaces*(pages-1) {
		t.Fatalf("stats %+v", st)
	}
}

// A start or finish drops the page still pending for its workspace: it belongs to the
// attempt before, and the finish carries the final figures.
func TestFeedDropsPagesOverridenByStartOrFinish(t *testing.T) {
	f := newFeed(frameInterval)
	f.observe(sync.PageFetched{Workspace: "a", PagesFetched: 9})
	f.observe(sync.WorkspaceStarted{Workspace: "a", Attempt: 2})
	f.observe(sync.PageFetched{Workspace: "b", PagesFetched: 3})
	f.observe(sync.WorkspaceFinished{Result: sync.WorkspaceResult{Name: "b", Status: "succeeded"}})
	batch := f.take()
	if len(batch) != 2 {
		t.Fatalf("batch %v", batch)
	}
	if _, ok := batch[0].(sync.WorkspaceStarted); !ok {
		t.Fatalf("batch %v", batch)
	}
}

// The observer blocks only while the buffer is full and the console reads; once the console
// is gone it never blocks, so the engine always gets to record the run.
func TestFeedObserverNeverBlocksAClosedConsole(t *testing.T) {
	f := newFeed(frameInterval)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range eventBuffer * 3 {
			f.observe(sync.Notice{Message: fmt.Sprint(i)})
		}
	}()
	select {
	case <-done:
		t.Fatal("the observer should block on a full buffer while the console is open")
	case <-time.After(200 * time.Millisecond):
	}
	f.close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the observer is still blocked after the console closed")
	}
}

// The listener hands over at most one batch a frame however fast events come.
func TestFeedListenerPacesBatches(t *testing.T) {
	f := newFeed(frameInterval)
	stop := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			f.observe(sync.PageFetched{Workspace: fmt.Sprint(i % 50), PagesFetched: i})
		}
	}()
	defer close(stop)
	start := time.Now()
	batches := 0
	for time.Since(start) < 500*time.Millisecond {
		if msg := f.next()(); msg != nil {
			batches++
		}
	}
	// 500ms at 30 a second is 15; allow for the first one and timer slack.
	if batches > 18 {
		t.Fatalf("%d batches in 500ms: the listener is not paced", batches)
	}
	if st := f.Stats(); st.MaxBacklog > 60 {
		t.Fatalf("backlog %d with 50 workspaces", st.MaxBacklog)
	}
}
