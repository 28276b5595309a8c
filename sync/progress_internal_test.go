package sync

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/bisonsync/bisonsync/db"
)

type recordingProgress struct {
	writes []db.RunProgress
	err    error
}

func (r *recordingProgress) WriteProgress(_ context.Context, p db.RunProgress) error {
	slices.SortFunc(p.Workspaces, func(a, b db.WorkspaceProgress) int { return strings.Compare(a.Workspace, b.Workspace) })
	r.writes = append(r.writes, p)
	return r.err
}

func TestProgressWriterCoalescesAndNamesTheLatestWorkspace(t *testing.T) {
	t.Parallel()
	store := &recordingProgress{}
	var notices []Notice
	pw := newProgressWriter(store, 9, func(ev Event) {
		if n, ok := ev.(Notice); ok {
			notices = append(notices, n)
		}
	})
	ctx := context.Background()
	pw.flush(ctx)
	if len(store.writes) != 0 {
		t.Fatalf("a write with nothing changed: %+v", store.writes)
	}
	pw.observe(WorkspaceStarted{Workspace: "A"})
	pw.observe(WorkspaceStarted{Workspace: "B"})
	for page := 1; page <= 5; page++ { // many page events, one row each per write
		pw.observe(PageFetched{Workspace: "A", Page: page, LastPage: 9, PagesFetched: page, Accounts: 15 * page, Total: 130})
	}
	pw.observe(PageFetched{Workspace: "B", Page: 1, LastPage: 2, PagesFetched: 1, Accounts: 15, Total: 20})
	pw.flush(ctx)
	want := db.RunProgress{RunID: 9, CurrentWorkspace: "B", Workspaces: []db.WorkspaceProgress{
		{Workspace: "A", PagesFetched: 5, PagesTotal: 9, AccountsExpected: 130, AccountsFetched: 75},
		{Workspace: "B", PagesFetched: 1, PagesTotal: 2, AccountsExpected: 20, AccountsFetched: 15},
	}}
	if len(store.writes) != 1 || !equalProgress(store.writes[0], want) {
		t.Fatalf("first write %+v, want %+v", store.writes, want)
	}

	// B finishes: its row is final already; A is named again; the counters change.
	pw.observe(WorkspaceFinished{Result: WorkspaceResult{Name: "B", Status: db.WorkspaceSucceeded}})
	pw.flush(ctx)
	if got := store.writes[1]; got.CurrentWorkspace != "A" || len(got.Workspaces) != 0 {
		t.Errorf("after B finished: %+v, want A named and no workspace rows", got)
	}
	pw.observe(WorkspaceFinished{Result: WorkspaceResult{Name: "A", Status: db.WorkspaceFailed}})
	store.err = errors.New("connection refused")
	pw.flush(ctx)
	pw.flush(ctx) // retried: the counters are still to be written
	if got := store.writes[2]; got.CurrentWorkspace != "" {
		t.Errorf("with nothing running: %+v, want no workspace named", got)
	}
	if len(store.writes) != 4 || len(notices) != 1 {
		t.Errorf("%d writes and %d notices after two failed writes, want 4 and one notice", len(store.writes), len(notices))
	}
}

func equalProgress(a, b db.RunProgress) bool {
	return a.RunID == b.RunID && a.CurrentWorkspace == b.CurrentWorkspace && slices.Equal(a.Workspaces, b.Workspaces)
}
