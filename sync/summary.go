package sync

import (
	"time"

	"github.com/bisonsync/bisonsync/db"
)

// WorkspaceResult is a workspace's outcome in a run. JSON names are part of the contract of
// the --json summary (CONTRACT.md §5).
type WorkspaceResult struct {
	Name             string             `json:"name"`
	Instance         string             `json:"instance"`
	Status           db.WorkspaceStatus `json:"status"`
	Attempts         int                `json:"attempts"`
	PagesFetched     int                `json:"pages_fetched"`
	PagesTotal       int                `json:"pages_total"`
	AccountsExpected int                `json:"accounts_expected"`
	AccountsFetched  int                `json:"accounts_fetched"`
	AccountsUpserted int                `json:"accounts_upserted"`
	AccountsDeleted  int                `json:"accounts_deleted"`
	Duration         time.Duration      `json:"-"`
	DurationMS       int64              `json:"duration_ms"`
	Error            string             `json:"error"`
	Warning          string             `json:"warning,omitempty"`
}

// Summary is a finished run, as recorded in sync_runs and printed by --json.
type Summary struct {
	RunID               int64             `json:"run_id"`
	Status              db.RunStatus      `json:"status"`
	Trigger             string            `json:"trigger"`
	StartedAt           time.Time         `json:"started_at"`
	FinishedAt          time.Time         `json:"finished_at"`
	DurationMS          int64             `json:"duration_ms"`
	WorkspacesTotal     int               `json:"workspaces_total"`
	WorkspacesSucceeded int               `json:"workspaces_succeeded"`
	WorkspacesFailed    int               `json:"workspaces_failed"`
	WorkspacesCancelled int               `json:"workspaces_cancelled"`
	WorkspacesSkipped   int               `json:"workspaces_skipped"`
	AccountsExpected    int               `json:"accounts_expected"`
	AccountsSynced      int               `json:"accounts_synced"`
	Interrupted         bool              `json:"interrupted"`
	Error               string            `json:"error"`
	Workspaces          []WorkspaceResult `json:"workspaces"`
	// Discovery is what the listing of each instance found at the start of the run.
	Discovery []InstanceDiscovery `json:"discovery"`
}

// OK reports whether every selected workspace succeeded or was skipped: exit code 0.
func (s Summary) OK() bool {
	for _, w := range s.Workspaces {
		if !w.Status.OK() {
			return false
		}
	}
	return true
}

// Tally counts the workspaces by outcome.
func (s Summary) Tally() db.RunTally {
	var t db.RunTally
	for _, w := range s.Workspaces {
		t.Add(w.Status)
	}
	return t
}
