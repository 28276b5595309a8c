package db

import (
	"errors"
	"fmt"
	"strings"
)

// ErrLeaseLost means this run no longer holds the workspace's lease: it expired and another
// process claimed it, or the run was declared abandoned. Whatever the run was doing with that
// workspace must stop; nothing it would write is trustworthy any more.
var ErrLeaseLost = errors.New("workspace lease lost")

// ErrRunNotRunning means the run is no longer 'running' in the database: it was closed, or
// another process declared it abandoned (no heartbeat for too long).
var ErrRunNotRunning = errors.New("run is no longer running")

// ErrNotFound means the run or workspace asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrNoKey means an API key column is empty: neither the workspace nor its instance has one.
var ErrNoKey = errors.New("no key")

// UnknownWorkspacesError lists workspace names that are not in client_registry.
type UnknownWorkspacesError struct {
	Names []string
}

// Error describes the failure in a sentence fit for a log or the run history.
func (e *UnknownWorkspacesError) Error() string {
	return fmt.Sprintf("unknown workspace(s): %s", strings.Join(e.Names, ", "))
}

// MissingEnvError says an api-key column refers to an environment variable that is unset or
// empty. It names the variable, never a value.
type MissingEnvError struct {
	Var   string
	Empty bool // set but empty, rather than unset
}

// Error describes the failure in a sentence fit for a log or the run history.
func (e *MissingEnvError) Error() string {
	if e.Empty {
		return fmt.Sprintf("environment variable %s is empty (an api key column names it with env:): set it to the token in bisonsync's environment, or change the column", e.Var)
	}
	return fmt.Sprintf("environment variable %s is not set (an api key column names it with env:): set it to the token in bisonsync's environment, or change the column", e.Var)
}

// IncompleteError is CommitWorkspace refusing a list that is not provably complete: the
// distinct account ids, the number of accounts given and the API's total must all agree.
// Nothing was written.
type IncompleteError struct {
	Workspace string
	Listed    int // accounts given
	Distinct  int // distinct ids among them
	Expected  int // the API's meta.total
}

// Error describes the failure in a sentence fit for a log or the run history.
func (e *IncompleteError) Error() string {
	return fmt.Sprintf("workspace %s: account list incomplete (%d distinct ids in %d accounts, API total %d); nothing written",
		e.Workspace, e.Distinct, e.Listed, e.Expected)
}

// UnconfirmedAbsenceError is CommitWorkspace refusing to mark accounts deleted that are live
// in the database, missing from the list, and not confirmed gone at the source. Nothing was
// written.
type UnconfirmedAbsenceError struct {
	Workspace string
	IDs       []int64
}

// Error describes the failure in a sentence fit for a log or the run history.
func (e *UnconfirmedAbsenceError) Error() string {
	const show = 10
	ids := make([]string, 0, show)
	for i, id := range e.IDs {
		if i == show {
			ids = append(ids, fmt.Sprintf("and %d more", len(e.IDs)-show))
			break
		}
		ids = append(ids, fmt.Sprint(id))
	}
	return fmt.Sprintf("workspace %s: %d live account(s) missing from the list were not confirmed gone at the source (ids %s); nothing written",
		e.Workspace, len(e.IDs), strings.Join(ids, ", "))
}

// WorkspaceMismatchError is CommitWorkspace refusing rows whose instance or Bison workspace id
// differs from the registry's: they would land under another workspace.
type WorkspaceMismatchError struct {
	Workspace                  string
	Instance, RegistryInstance string
	ID, RegistryID             int
}

// Error describes the failure in a sentence fit for a log or the run history.
func (e *WorkspaceMismatchError) Error() string {
	return fmt.Sprintf("workspace %s is registered as instance %q workspace id %d, not instance %q workspace id %d; nothing written",
		e.Workspace, e.RegistryInstance, e.RegistryID, e.Instance, e.ID)
}
