package sim

import (
	"slices"
	"time"
)

// Fleet is the data a Server serves: one or more Email Bison installations.
type Fleet struct {
	Instances []*Instance
}

// Instance is one Email Bison installation, served at Server.BaseURL(Name).
type Instance struct {
	// Name identifies the instance in URLs and in every Server knob, so it must be a single
	// path segment (e.g. "bison-main").
	Name string
	// SuperAdminKey is the instance-wide key; it must switch-workspace before it serves a
	// workspace it was not already serving. Empty: the instance has none.
	SuperAdminKey string
	// Workspaces in the order the instance lists them; before any switch a super-admin key
	// serves the first one.
	Workspaces []*Workspace
}

// Workspace is one Bison workspace (a "team").
//
// Its accounts are either explicit (Accounts non-nil, for small hand-made fleets) or
// generated on demand: Count accounts derived from (Seed, ID, index), with ids ascending
// from FirstID in small irregular steps (FirstID + 3i + 0..2), so a page costs nothing to
// keep and a million accounts fit in a few kilobytes of description.
type Workspace struct {
	// ID is the Bison workspace (team) id, unique within its instance only: two instances
	// may well both have a workspace 7.
	ID   int
	Name string
	// Key is the workspace-scoped API key; "" means none, so clients use the instance's
	// super-admin key with switch-workspace.
	Key string

	// Accounts, when non-nil, are the workspace's accounts, and Seed, Count and FirstID are
	// ignored. NewServer gives an account with ID 0 a fresh id.
	Accounts []Account
	// Seed and Count describe generated accounts when Accounts is nil.
	Seed  int64
	Count int
	// FirstID is the lowest id a generated account may take. NewServer assigns one above
	// every other id of the instance when it is 0, so hand-made fleets need not plan ids.
	FirstID int64
}

// Account is a sender account exactly as the API's JSON carries it; it is the ground truth
// tests compare a client's results with.
type Account struct {
	ID                       int64
	Email                    string
	Name                     string
	Status                   string
	Type                     string
	DailyLimit               int
	EmailsSentCount          int
	TotalRepliedCount        int
	UniqueRepliedCount       int
	BouncedCount             int
	UnsubscribedCount        int
	InterestedLeadsCount     int
	TotalOpenedCount         int
	UniqueOpenedCount        int
	TotalLeadsContactedCount int
	Tags                     []Tag
	CreatedAt                time.Time
	UpdatedAt                time.Time
}

// Tag is an account tag. Names are messy on purpose ("Microsoft " with a trailing space,
// "zapmail" beside "Zapmail"), as production's are.
type Tag struct {
	ID      int    `json:"id"`
	Name    string `json:"name"`
	Default bool   `json:"default"`
}

// Account statuses the API reports.
const (
	StatusConnected    = "Connected"
	StatusDisconnected = "Disconnected"
	StatusFailed       = "Failed"
	StatusNotConnected = "Not connected"
)

// Account types the API reports.
const (
	TypeGoogle    = "google_workspace_oauth"
	TypeMicrosoft = "microsoft_oauth"
	TypeSMTP      = "smtp"
)

// PageSize is the most rows the API returns on one page, whatever per_page asks for.
const PageSize = 15

// NumAccounts is how many accounts the workspace was built with.
func (w *Workspace) NumAccounts() int {
	if w.Accounts != nil {
		return len(w.Accounts)
	}
	return w.Count
}

// AccountAt returns the i-th account (0-based, in id order for generated accounts). It
// regenerates a generated account on each call, which is cheap but not free: use it to
// check a few accounts, not to walk a million.
func (w *Workspace) AccountAt(i int) Account {
	if w.Accounts != nil {
		return cloneAccount(w.Accounts[i])
	}
	if i < 0 || i >= w.Count {
		panic("sim: account index out of range")
	}
	g := newGenerator(w.Seed, w.ID, w.FirstID, w.Count, nil)
	return cloneAccount(g.account(i))
}

// NumAccounts is the number of accounts in all the fleet's workspaces.
func (f *Fleet) NumAccounts() int {
	n := 0
	for _, in := range f.Instances {
		for _, w := range in.Workspaces {
			n += w.NumAccounts()
		}
	}
	return n
}

// NumWorkspaces is the number of workspaces in all the fleet's instances.
func (f *Fleet) NumWorkspaces() int {
	n := 0
	for _, in := range f.Instances {
		n += len(in.Workspaces)
	}
	return n
}

// Instance returns the named instance, or nil.
func (f *Fleet) Instance(name string) *Instance {
	for _, in := range f.Instances {
		if in.Name == name {
			return in
		}
	}
	return nil
}

// Workspace returns the workspace with that Bison id, or nil.
func (in *Instance) Workspace(id int) *Workspace {
	for _, w := range in.Workspaces {
		if w.ID == id {
			return w
		}
	}
	return nil
}

// WorkspaceNamed returns the first workspace with that name, or nil.
func (in *Instance) WorkspaceNamed(name string) *Workspace {
	for _, w := range in.Workspaces {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// cloneAccount copies the tag slice, because generated accounts share immutable tag slices
// and a caller that edits its copy must not edit every other account's tags.
func cloneAccount(a Account) Account {
	a.Tags = slices.Clone(a.Tags)
	return a
}

// clone is a deep copy, so the server owns its data and a caller may keep editing its fleet.
func (f *Fleet) clone() *Fleet {
	out := &Fleet{Instances: make([]*Instance, len(f.Instances))}
	for i, in := range f.Instances {
		ci := *in
		ci.Workspaces = make([]*Workspace, len(in.Workspaces))
		for j, w := range in.Workspaces {
			cw := *w
			if w.Accounts != nil {
				cw.Accounts = make([]Account, len(w.Accounts))
				for k, a := range w.Accounts {
					cw.Accounts[k] = cloneAccount(a)
				}
			}
			ci.Workspaces[j] = &cw
		}
		out.Instances[i] = &ci
	}
	return out
}
