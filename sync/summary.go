package sync

import (
	"time"

	"github.com/bisonsync/bisonsync/bison"
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
	RunID               int64        `json:"run_id"`
	Status              db.RunStatus `json:"status"`
	Trigger             string       `json:"trigger"`
	StartedAt           time.Time    `json:"started_at"`
	FinishedAt          time.Time    `json:"finished_at"`
	DurationMS          int64        `json:"duration_ms"`
	WorkspacesTotal     int          `json:"workspaces_total"`
	WorkspacesSucceeded int          `json:"workspaces_succeeded"`
	WorkspacesFailed    int          `json:"workspaces_failed"`
	WorkspacesCancelled int          `json:"workspaces_cancelled"`
	WorkspacesSkipped   int          `json:"workspaces_skipped"`
	AccountsExpected    int          `json:"accounts_expected"`
	// AccountsSynced counts the accounts of the workspaces that succeeded, written or not.
	AccountsSynced int               `json:"accounts_synced"`
	Interrupted    bool              `json:"interrupted"`
	Error          string            `json:"error"`
	Workspaces     []WorkspaceResult `json:"workspaces"`
	// Instances are the figures of each instance the run talked to: the pace it was found
	// to accept, its 429s and retries by cause.
	Instances []InstanceResult `json:"instances"`
	// Discovery is what the listing of each instance found at the start of the run.
	Discovery []InstanceDiscovery `json:"discovery"`
}

// InstanceResult is one instance's flow control in a run (since this process started).
type InstanceResult struct {
	Name              string           `json:"name"`
	RequestsPerSecond float64          `json:"requests_per_second"` // the pace kept; 0: no limit needed
	InFlight          int              `json:"in_flight"`
	Requests          int64            `json:"requests"`
	TooManyRequests   int64            `json:"too_many_requests"` // 429 answers
	Retries           map[string]int64 `json:"retries"`           // requests retried, by cause
	Unreachable       bool             `json:"unreachable"`
}

func instanceResult(name string, st bison.Stats) InstanceResult {
	out := InstanceResult{Name: name, RequestsPerSecond: st.Pace.RequestsPerSecond, InFlight: st.Pace.InFlight,
		Requests: st.Requests, TooManyRequests: st.TooManyRequests, Unreachable: st.Unreachable, Retries: map[string]int64{}}
	for cause, n := range st.Retries {
		out.Retries[string(cause)] = n
	}
	return out
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
