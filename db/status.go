package db

// The vocabularies of runs and workspaces, each defined once. They are stored as text; pgx
// scans a column straight into these types, so the conversion happens here, at the boundary,
// and nowhere else.

// RunStatus is the state of a run (sync_runs.status).
type RunStatus string

// Run states. A run is created running and ends in exactly one of the others.
const (
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded" // every workspace succeeded or was skipped
	RunPartial   RunStatus = "partial"   // some failed or were cancelled, some succeeded
	RunFailed    RunStatus = "failed"    // none succeeded, some failed or were cancelled
	RunCancelled RunStatus = "cancelled" // interrupted (signal, deadline)
	RunAbandoned RunStatus = "abandoned" // its process died; marked by another process
)

// WorkspaceStatus is the state of one workspace in one run (sync_run_workspaces.status, and
// client_registry.last_sync_status for the latest attempt).
type WorkspaceStatus string

// Workspace states within a run: queued → running → one of the final four.
const (
	WorkspaceQueued    WorkspaceStatus = "queued"
	WorkspaceRunning   WorkspaceStatus = "running"
	WorkspaceSucceeded WorkspaceStatus = "succeeded"
	WorkspaceFailed    WorkspaceStatus = "failed"
	WorkspaceCancelled WorkspaceStatus = "cancelled" // the run ended before it finished
	WorkspaceSkipped   WorkspaceStatus = "skipped"   // another live process held it
)

// Final reports whether the status ends a workspace's part in a run.
func (s WorkspaceStatus) Final() bool {
	switch s {
	case WorkspaceSucceeded, WorkspaceFailed, WorkspaceCancelled, WorkspaceSkipped:
		return true
	}
	return false
}

// OK reports whether the status lets a run count as succeeded: the workspace succeeded, or
// another live process was syncing it (CONTRACT.md §4.1).
func (s WorkspaceStatus) OK() bool { return s == WorkspaceSucceeded || s == WorkspaceSkipped }

// RunTally counts a run's workspaces by final state.
type RunTally struct {
	Succeeded, Failed, Cancelled, Skipped int
}

// Add counts one workspace's status; states that are not final are counted as cancelled,
// which is what closing a run makes of them.
func (t *RunTally) Add(s WorkspaceStatus) {
	switch s {
	case WorkspaceSucceeded:
		t.Succeeded++
	case WorkspaceFailed:
		t.Failed++
	case WorkspaceSkipped:
		t.Skipped++
	default:
		t.Cancelled++
	}
}

// DecideRunStatus is CONTRACT.md §4.1, the one place it is decided: cancelled when the run
// was interrupted; otherwise succeeded when every workspace succeeded or was skipped, partial
// when some failed or were cancelled and some succeeded, failed when none succeeded.
func DecideRunStatus(t RunTally, interrupted bool) RunStatus {
	switch {
	case interrupted:
		return RunCancelled
	case t.Failed+t.Cancelled == 0:
		return RunSucceeded
	case t.Succeeded > 0:
		return RunPartial
	default:
		return RunFailed
	}
}
