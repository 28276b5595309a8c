package tui

import (
	"context"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// backend is everything the console reads and runs: the registry and history through db,
// and the engine. The real one wraps Options.Store and Options.Engine; model tests use a
// fake that answers from memory.
type backend interface {
	// Workspaces returns the active workspaces, ordered by name.
	Workspaces(ctx context.Context) ([]db.Workspace, error)
	// Runs returns the latest runs, newest first.
	Runs(ctx context.Context, limit int) ([]db.Run, error)
	// Run returns one run.
	Run(ctx context.Context, id int64) (db.Run, error)
	// RunWorkspaces returns the workspaces of one run.
	RunWorkspaces(ctx context.Context, runID int64) ([]db.RunWorkspace, error)
	// WorkspaceRuns returns the latest runs of one workspace, newest first.
	WorkspaceRuns(ctx context.Context, workspace string, limit int) ([]db.RunWorkspace, error)
	// HeldDeletions returns the deletions the mass-deletion guard holds for a workspace.
	HeldDeletions(ctx context.Context, workspace string) ([]db.HeldDeletion, error)
	// Sync runs the engine; it returns when the run is closed in the database.
	Sync(ctx context.Context, req sync.Request) (sync.Summary, error)
	// Where names the database (host:port/dbname and schema), never with credentials.
	Where() string
	// Schema names the schema the console reads.
	Schema() string
	flowReader // the instances and the requests (requests.go)
}

// storeBackend is the backend of a real console.
type storeBackend struct {
	store  *db.Store
	engine *sync.Engine
}

func (b storeBackend) Workspaces(ctx context.Context) ([]db.Workspace, error) {
	return b.store.Workspaces(ctx, db.Selection{})
}

func (b storeBackend) Runs(ctx context.Context, limit int) ([]db.Run, error) {
	return b.store.Runs(ctx, limit)
}

func (b storeBackend) Run(ctx context.Context, id int64) (db.Run, error) {
	return b.store.Run(ctx, id)
}

func (b storeBackend) RunWorkspaces(ctx context.Context, runID int64) ([]db.RunWorkspace, error) {
	return b.store.RunWorkspaces(ctx, runID)
}

func (b storeBackend) WorkspaceRuns(ctx context.Context, workspace string, limit int) ([]db.RunWorkspace, error) {
	return b.store.WorkspaceRuns(ctx, workspace, limit)
}

func (b storeBackend) HeldDeletions(ctx context.Context, workspace string) ([]db.HeldDeletion, error) {
	return b.store.HeldDeletions(ctx, workspace)
}

func (b storeBackend) Sync(ctx context.Context, req sync.Request) (sync.Summary, error) {
	return b.engine.Run(ctx, req)
}

func (b storeBackend) Where() string {
	return b.store.Host() + " schema " + b.store.Schema()
}

func (b storeBackend) Schema() string { return b.store.Schema() }
