package sync

import (
	"context"
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/db"
)

// The engine's view of the database, one small interface per phase. *db.Store satisfies them
// all; tests of scheduling, retries, reconciliation and bookkeeping use in-memory fakes.

// Registry is what planning reads: the workspaces to sync, with their instances; and where
// the pace learnt for an instance is kept.
type Registry interface {
	Workspaces(ctx context.Context, sel db.Selection) ([]db.Workspace, error)
	SavePace(ctx context.Context, instance string, requestsPerSecond float64, inFlight int) error
}

// Leases keep two processes off one workspace, and off one super-admin key.
type Leases interface {
	ClaimLease(ctx context.Context, workspace string, o db.LeaseOwner, ttl, staleFor time.Duration) (db.ClaimResult, error)
	ClaimKeyLease(ctx context.Context, instance, workspace string, o db.LeaseOwner, ttl time.Duration) (db.ClaimResult, error)
	ReleaseKeyLease(ctx context.Context, instance string, runID int64) error
}

// Runs is the run's bookkeeping: opening, progress, outcomes and closing.
type Runs interface {
	AbandonDeadRuns(ctx context.Context, host string, alive func(pid int) bool, staleAfter time.Duration) ([]int64, error)
	OpenRun(ctx context.Context, spec db.RunSpec) (int64, error)
	Heartbeat(ctx context.Context, runID int64, leaseTTL time.Duration) error
	StartWorkspace(ctx context.Context, runID int64, ws string, attempt int) error
	FinishWorkspace(ctx context.Context, o db.WorkspaceOutcome) error
	SetWarning(ctx context.Context, runID int64, workspace, warning string) error
	CloseRun(ctx context.Context, runID int64, interrupted bool, errText string) (db.RunSummary, error)
	// LockWaits are this schema's sessions waiting for a table lock another session holds.
	LockWaits(ctx context.Context) ([]db.LockWait, error)
}

// Accounts is the workspace's rows: what is live, the commit, and the checks after it.
type Accounts interface {
	LiveAccountIDs(ctx context.Context, instance string, workspaceID int) ([]int64, error)
	CommitWorkspace(ctx context.Context, in db.CommitInput) (db.CommitResult, error)
	HoldDeletions(ctx context.Context, runID int64, workspace, instance string, workspaceID int, ids []int64) error
	AnalyzeAccounts(ctx context.Context) error
	Overlaps(ctx context.Context, workspaces []string, min int) (map[string][]db.Overlap, error)
}

// ProgressRecorder writes a run's live figures, so other programs see it move.
type ProgressRecorder interface {
	WriteProgress(ctx context.Context, p db.RunProgress) error
}

// Store is everything the engine needs from the database.
type Store interface {
	// Host names the database for messages (host:port/dbname), never with credentials.
	Host() string
	Registry
	Leases
	Runs
	Accounts
	ProgressRecorder
	Discovery
	Keys
}

// source is a workspace at Email Bison, as one attempt fetches it: a *bison.Session, or a
// fake in tests of reconciliation.
type source interface {
	SwitchWorkspace(ctx context.Context) error
	ListPage(ctx context.Context, n int) (*bison.Page, error)
	GetAccount(ctx context.Context, id int64) (*bison.Account, error)
}

var _ Store = (*db.Store)(nil)
