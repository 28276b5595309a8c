package sync

import "time"

// Workspace statuses, as recorded in sync_run_workspaces.status.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
	StatusSkipped   = "skipped"
)

// WorkspaceResult is a workspace's outcome in a run. JSON names are part of the contract of
// the --json summary (CONTRACT.md §5).
type WorkspaceResult struct {
	Name             string `json:"name"`
	Instance         string `json:"instance"`
	Status           string `json:"status"`
	Attempts         int    `json:"attempts"`
	PagesFetched     int    `json:"pages_fetched"`
	PagesTotal       int    `json:"pages_total"`
	AccountsExpected int    `json:"accounts_expected"`
	AccountsFetched  int    `json:"accounts_fetched"`
	// AccountsUpserted counts the rows written: new, changed or returned accounts.
	// AccountsUnchanged counts the accounts whose rows already held what the source says:
	// confirmed, not written.
	AccountsUpserted  int           `json:"accounts_upserted"`
	AccountsUnchanged int           `json:"accounts_unchanged"`
	AccountsDeleted   int           `json:"accounts_deleted"`
	Duration          time.Duration `json:"-"`
	DurationMS        int64         `json:"duration_ms"`
	Error             string        `json:"error"`
	Warning           string        `json:"warning,omitempty"`

	// checkShared: the workspace's live accounts changed in this run, or it carried a
	// warning before it, so the shared-accounts check looks at it (run.checkOverlaps).
	checkShared bool
}

// Summary is a finished run, as recorded in sync_runs and printed by --json.
type Summary struct {
	RunID               int64     `json:"run_id"`
	Status              string    `json:"status"`
	Trigger             string    `json:"trigger"`
	StartedAt           time.Time `json:"started_at"`
	FinishedAt          time.Time `json:"finished_at"`
	DurationMS          int64     `json:"duration_ms"`
	WorkspacesTotal     int       `json:"workspaces_total"`
	WorkspacesSucceeded int       `json:"workspaces_succeeded"`
	WorkspacesFailed    int       `json:"workspaces_failed"`
	WorkspacesCancelled int       `json:"workspaces_cancelled"`
	WorkspacesSkipped   int       `json:"workspaces_skipped"`
	AccountsExpected    int       `json:"accounts_expected"`
	// AccountsSynced counts the accounts of the workspaces that succeeded, written or not.
	AccountsSynced int               `json:"accounts_synced"`
	Interrupted    bool              `json:"interrupted"`
	Error          string            `json:"error"`
	Workspaces     []WorkspaceResult `json:"workspaces"`
}

// OK reports whether every selected workspace succeeded or was skipped: exit code 0.
func (s Summary) OK() bool {
	for _, w := range s.Workspaces {
		if w.Status != StatusSucceeded && w.Status != StatusSkipped {
			return false
		}
	}
	return true
}
