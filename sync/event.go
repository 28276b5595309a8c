package sync

import (
	"fmt"
	"time"

	"github.com/bisonsync/bisonsync/bison"
)

// Event is what the engine tells its consumers (the console, the headless reporter, the
// progress writer). Events are delivered by calling the run's Observer from the engine's
// goroutines. RunStarted comes first and RunFinished last; a workspace's WorkspaceStarted
// precedes its pages, and its WorkspaceFinished follows them. Pages of one workspace are
// fetched concurrently, so its PageFetched events may arrive out of page order (each carries
// its own counts), and events of different workspaces interleave. PageFetched is high-rate
// and may be coalesced by a consumer; every other event is rare and must never be dropped.
type Event interface{ event() }

// Observer receives events. It is called concurrently from several goroutines and must be
// quick: the engine waits for it.
type Observer func(Event)

// PlannedWorkspace is one workspace a run will sync, in schedule order.
type PlannedWorkspace struct {
	Name      string
	Instance  string
	Estimated int // accounts at the last complete fetch, 0 when unknown
}

// RunStarted opens a run.
type RunStarted struct {
	RunID      int64
	At         time.Time
	Trigger    string
	Workspaces []PlannedWorkspace
	// Abandoned lists runs left "running" by dead processes that this run closed.
	Abandoned []int64
}

// WorkspaceStarted: an attempt at a workspace began (its lease is held).
type WorkspaceStarted struct {
	Workspace string
	Attempt   int
	At        time.Time
}

// PageFetched: one page arrived.
type PageFetched struct {
	Workspace    string
	Pass         int // 1 for the first pass, more when drift forced a re-fetch
	Page         int
	LastPage     int
	PagesFetched int // this attempt, all passes
	Accounts     int // distinct accounts so far in this pass
	Total        int // the API's meta.total on this page
}

// Retrying: a request, or a whole workspace, failed transiently and will be tried again.
type Retrying struct {
	Workspace string
	Scope     RetryScope
	Op        string // "list page 3", or the failed attempt for a workspace retry
	Attempt   int
	Reason    string
	Wait      time.Duration
}

// Notice is anything else an operator should see: drift absorbed, absences confirmed,
// accounts shared between workspaces, a dead run marked abandoned.
type Notice struct {
	Workspace string // "" for run-level notices
	Level     Level
	Message   string
}

// Waiting: a workspace, or the whole run, waits for something outside it before it can go
// on. Sent once per wait (a held key, a pause, an outage), not per poll; the wait counts no
// attempt. A consumer shows why nothing moves from it, without reading Notice texts.
type Waiting struct {
	Workspace string // "" when the whole run waits (WaitDatabase)
	Instance  string // the instance whose key or pause it is; "" for WaitDatabase
	For       WaitReason
	// Detail is what the engine knows of the wait: who holds the key, the answer that
	// paused the instance, the database error.
	Detail string
	// Until is when the wait ends at the latest: the end of a Retry-After pause, or when the
	// run stops waiting for the database. Zero when unknown (a key held elsewhere).
	Until time.Time
}

// WaitReason says what a Waiting workspace or run waits for.
type WaitReason string

// Reasons to wait.
const (
	// WaitKeyBusy: another process holds the instance's super-admin key (its selected
	// workspace is server-side state, so one workspace at a time may use it).
	WaitKeyBusy WaitReason = "key busy"
	// WaitInstancePaused: the instance answered 429 with Retry-After, and no request goes to
	// it before Until (bison.Limiter.PausedUntil). Every workspace of the instance waits.
	WaitInstancePaused WaitReason = "instance paused"
	// WaitDatabase: the database is unreachable; the run waits for it up to
	// Config.DatabaseOutage (Until).
	WaitDatabase WaitReason = "database"
)

// String is the wait in words, for logs: "waiting for the super-admin key: held by …".
func (w Waiting) String() string {
	switch w.For {
	case WaitKeyBusy:
		return "waiting for the super-admin key: " + w.Detail
	case WaitInstancePaused:
		return fmt.Sprintf("instance %s paused after %s, until %s", w.Instance, w.Detail, w.Until.Format("15:04:05.0"))
	case WaitDatabase:
		return fmt.Sprintf("the database is unreachable (%s); the run waits for it until %s (not counted as attempts)",
			w.Detail, w.Until.Format("15:04:05"))
	}
	return fmt.Sprintf("waiting (%s): %s", w.For, w.Detail)
}

// Pace is how fast the engine sends to an instance: the rate the instance was found to
// accept (0: no limit needed) and the requests in flight at once. It is the client's own
// type: the faces name it through this package, which they import anyway.
type Pace = bison.Pace

// PaceChanged: the engine changed its pace for an instance: slowed down after a 429, or
// probed back up after sustained success. Sent once per change, never per request.
type PaceChanged struct {
	Instance string
	From, To Pace
	Reason   string // "HTTP 429 (Retry-After 1s)", "no 429 for 8s"
	At       time.Time
}

// RetryScope says what is tried again.
type RetryScope string

// Retry scopes.
const (
	ScopeRequest   RetryScope = "request"   // one HTTP request, inside an attempt
	ScopeWorkspace RetryScope = "workspace" // the whole workspace, at the back of the queue
)

// Level grades a notice.
type Level string

// Notice levels.
const (
	LevelInfo Level = "info"
	LevelWarn Level = "warn"
)

// WorkspaceFinished: a workspace reached its final state in this run.
type WorkspaceFinished struct {
	Result WorkspaceResult
}

// WorkspacesDiscovered: the listing of one instance was compared with the registry, at the
// start of the run and beside it: what is at the source and not in the registry, what the
// registry holds and the source no longer lists, what the instance's auto_register added,
// or why the instance cannot be listed.
type WorkspacesDiscovered struct {
	InstanceDiscovery
}

// RunFinished closes the run; Summary is what the caller gets back too.
type RunFinished struct {
	Summary Summary
}

func (RunStarted) event()           {}
func (WorkspaceStarted) event()     {}
func (PageFetched) event()          {}
func (Retrying) event()             {}
func (Notice) event()               {}
func (WorkspaceFinished) event()    {}
func (RunFinished) event()          {}
func (PaceChanged) event()          {}
func (WorkspacesDiscovered) event() {}
func (Waiting) event()              {}
