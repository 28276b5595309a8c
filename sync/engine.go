package sync

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	stdsync "sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/db"
)

// ErrDeadline is the cause of a run cut short by its Deadline.
var ErrDeadline = errors.New("the run's deadline passed")

// Engine syncs workspaces from Email Bison into the database. One engine serves a process:
// it keeps one limiter per instance across runs, so runs started from the console share them.
type Engine struct {
	store  Store
	client *bison.Client
	cfg    Config

	mu        stdsync.Mutex
	instances map[string]*instanceHandle
	running   bool

	// current is the run under way, for callbacks from the instances' limiters.
	current atomic.Pointer[run]

	// openSource starts a workspace's fetch; tests of reconciliation replace it.
	openSource func(p planned, onRetry func(bison.Retry)) source
}

type instanceHandle struct {
	inst   *bison.Instance
	limits bison.Limits
	url    string
}

// New builds an engine on store (a *db.Store) with cfg (zero fields take their defaults).
func New(store Store, cfg Config) *Engine {
	cfg = cfg.withDefaults()
	return &Engine{store: store, client: bison.NewClient(cfg.Client), cfg: cfg, instances: map[string]*instanceHandle{},
		openSource: openSession}
}

// openSession is a workspace's session with its key at its instance. Workspaces sharing a
// super-admin key go one at a time: they are the run's critical path, so their requests go
// first.
func openSession(p planned, onRetry func(bison.Retry)) source {
	s := p.inst.Session(p.key, bison.Workspace{Name: p.ws.Name, ID: p.ws.BisonID}, onRetry)
	if p.superAdmin {
		s.Urgent()
	}
	return s
}

// Request selects what a run syncs and how it reports.
type Request struct {
	// Names limits the run to these workspaces (active or not); empty means all active ones.
	Names []string
	// StaleFor, when positive, limits the run to workspaces with no successful sync within
	// it, re-checked when each workspace is claimed so that several processes started
	// together split the fleet.
	StaleFor time.Duration
	// Deadline, when positive, cancels whatever is not finished after it, recorded as
	// cancelled with that reason. There is no deadline by default.
	Deadline time.Duration
	// AllowDeletions names workspaces whose held mass deletions the operator has reviewed
	// and accepts: the deletion guard does not apply to them in this run.
	AllowDeletions []string
	// Observer receives the run's events; nil discards them.
	Observer Observer
	// Trigger, when set, is recorded on this run instead of Config.Trigger ("request" for a
	// run another program asked for).
	Trigger string
}

// trigger is what the run records as having started it.
func (e *Engine) trigger(req Request) string { return cmp.Or(req.Trigger, e.cfg.Trigger) }

// ErrRunInProgress is returned (inside a *NotStartedError) when Run is called while this
// engine runs another.
var ErrRunInProgress = errors.New("a run is already in progress in this process")

// NotStartedError is Run failing before the run was opened in the database: no sync_runs row
// exists and nothing was attempted. Callers tell it apart with errors.As, rather than by a
// zero run id, and report it as the database (or the engine) being unavailable.
type NotStartedError struct {
	Err error
}

func (e *NotStartedError) Error() string { return "the run did not start: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *NotStartedError) Unwrap() error { return e.Err }

// Run syncs the selected workspaces and returns the run's summary. Cancelling ctx interrupts
// the run: workspaces not yet committed are rolled back and recorded as cancelled, and the
// run is closed as cancelled. An error is returned only when the run could not be opened (a
// *NotStartedError, with an empty summary) or closed in the database; every workspace failure
// is in the summary instead.
func (e *Engine) Run(ctx context.Context, req Request) (Summary, error) {
	e.mu.Lock()
	if e.running {
		e.mu.Unlock()
		return Summary{}, &NotStartedError{Err: ErrRunInProgress}
	}
	e.running = true
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.running = false
		e.mu.Unlock()
	}()
	if req.Observer == nil {
		req.Observer = func(Event) {}
	}
	r, abandoned, err := e.open(ctx, req)
	if err != nil {
		return Summary{}, &NotStartedError{Err: err}
	}
	e.current.Store(r)
	defer e.current.Store(nil)
	r.announce(abandoned)
	return r.execute(ctx)
}

// open plans the run and records it: dead runs marked abandoned, workspaces selected, the
// run and its queued workspaces written. It returns the runs it marked abandoned.
func (e *Engine) open(ctx context.Context, req Request) (*run, []int64, error) {
	abandoned, err := e.store.AbandonDeadRuns(ctx, e.cfg.Host, e.cfg.ProcessAlive, e.cfg.DeadAfter)
	if err != nil {
		return nil, nil, fmt.Errorf("mark dead runs abandoned: %w", err)
	}
	disc := e.startDiscovery(ctx)
	workspaces, err := e.store.Workspaces(ctx, db.Selection{Names: req.Names, StaleFor: req.StaleFor})
	if err != nil {
		return nil, nil, fmt.Errorf("select workspaces: %w", err)
	}
	plans := e.plan(workspaces)
	reserveForChains(plans)
	names := make([]string, len(plans))
	for i, p := range plans {
		names[i] = p.ws.Name
	}
	runID, err := e.store.OpenRun(ctx, db.RunSpec{Trigger: e.trigger(req), Host: e.cfg.Host, PID: e.cfg.PID, Workspaces: names})
	if err != nil {
		return nil, nil, fmt.Errorf("open run: %w", err)
	}
	r := &run{
		engine:   e,
		id:       runID,
		req:      req,
		emit:     req.Observer,
		started:  time.Now(),
		budget:   semaphore.NewWeighted(int64(e.cfg.AccountBudget)),
		results:  map[string]WorkspaceResult{},
		queue:    newQueue(plans),
		pageOnes: map[string]string{},
		disc:     disc,
		plans:    byName(plans),
	}
	r.observeProgress()
	return r, abandoned, nil
}

// announce tells the observers the run started, with its plan in schedule order, and what
// they should know before it goes: nothing selected, dead runs closed.
func (r *run) announce(abandoned []int64) {
	started := RunStarted{RunID: r.id, At: r.started, Trigger: r.engine.trigger(r.req), Abandoned: abandoned}
	for _, j := range r.queue.jobs {
		est := 0
		if j.plan.ws.EstimatedAccounts != nil {
			est = *j.plan.ws.EstimatedAccounts
		}
		started.Workspaces = append(started.Workspaces, PlannedWorkspace{Name: j.plan.ws.Name, Instance: j.plan.ws.Instance, Estimated: est})
	}
	r.emit(started)
	switch {
	case len(r.queue.jobs) > 0:
	case r.req.StaleFor > 0: // the normal outcome of a --stale run when all is fresh
		r.emit(Notice{Level: LevelInfo, Message: fmt.Sprintf("no workspace selected: every active workspace synced within %s: nothing to do", r.req.StaleFor)})
	default:
		r.emit(Notice{Level: LevelWarn, Message: "no workspace selected: client_registry has no active workspace: add instances and workspaces (see the README's Configuration)"})
	}
	for _, id := range abandoned {
		r.emit(Notice{Level: LevelWarn, Message: fmt.Sprintf("run %d was left running by a process that is gone: marked abandoned, its leases freed", id)})
	}
}

// planned is a workspace with what it needs to be fetched: its instance handle and key.
type planned struct {
	ws         db.Workspace
	inst       *bison.Instance
	key        bison.Key
	keyErr     error // the key could not be resolved: the workspace fails without a request
	superAdmin bool
	// exclusiveKey names the super-admin key a workspace shares with others; "" when its own
	// workspace key lets it run in parallel.
	exclusiveKey string
}

func (e *Engine) plan(workspaces []db.Workspace) []planned {
	plans := make([]planned, 0, len(workspaces))
	for _, ws := range workspaces {
		p := planned{ws: ws, inst: e.instance(ws.Inst)}
		secret := ws.APIKey
		if secret.IsZero() {
			p.superAdmin = true
			p.exclusiveKey = "super-admin key of instance " + ws.Instance
			secret = ws.Inst.APIKey
		}
		token, err := secret.Resolve(e.cfg.LookupEnv)
		switch {
		case err != nil && p.superAdmin:
			p.keyErr = fmt.Errorf("workspace %q has no key of its own and the super-admin key of instance %q cannot be used: %w", ws.Name, ws.Instance, err)
		case err != nil:
			p.keyErr = fmt.Errorf("the API key of workspace %q cannot be used: %w", ws.Name, err)
		case !p.superAdmin && ws.KeyStatus == db.KeyWrong:
			p.keyErr = wrongKeyError(ws)
		}
		p.key = bison.NewKey(token)
		plans = append(plans, p)
	}
	return plans
}

// chainReserve is the share of an instance's slots kept for the workspaces on its super-admin
// key while they remain: they go one at a time and form the run's critical path, and when one
// asks for all its pages at once it should find slots free rather than wait for the rest of
// the fleet's requests to finish.
const chainReserve = 4 // a quarter

// reserveForChains sets each instance's reserve for the run: a quarter of its slots when
// some of its workspaces use its super-admin key, none otherwise.
func reserveForChains(plans []planned) {
	chains := map[*bison.Instance]bool{}
	for _, p := range plans {
		chains[p.inst] = chains[p.inst] || p.superAdmin
	}
	for inst, chain := range chains {
		if chain {
			inst.Limiter().Reserve(inst.Limiter().MaxInFlight() / chainReserve)
		} else {
			inst.Limiter().Reserve(0)
		}
	}
}

// instance returns the shared handle of an instance, rebuilt when its URL or limits changed.
func (e *Engine) instance(in db.Instance) *bison.Instance {
	limits := bison.Limits{MaxInFlight: e.cfg.DefaultMaxInFlight}
	if in.MaxConcurrency != nil && *in.MaxConcurrency > 0 {
		limits.MaxInFlight = *in.MaxConcurrency
	}
	if in.RequestsPerSecond != nil && *in.RequestsPerSecond > 0 {
		limits.RequestsPerSecond = *in.RequestsPerSecond
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.instances[in.Name]
	if h != nil && h.limits == limits && h.url == in.BaseURL {
		return h.inst // it keeps the pace it learnt in this process
	}
	// A new handle starts at the pace learnt by an earlier run, within the ceilings.
	start := limits
	if in.LearnedRequestsPerSecond != nil {
		start.StartPace.RequestsPerSecond = *in.LearnedRequestsPerSecond
	}
	if in.LearnedInFlight != nil {
		start.StartPace.InFlight = *in.LearnedInFlight
	}
	h = &instanceHandle{inst: e.client.Instance(in.Name, in.BaseURL, start), limits: limits, url: in.BaseURL}
	h.inst.Limiter().OnPaceChange(e.paceChanged)
	e.instances[in.Name] = h
	return h.inst
}

// paceChanged tells the run under way that an instance's pace changed: once per change, not
// per request.
func (e *Engine) paceChanged(c bison.PaceChange) {
	if r := e.current.Load(); r != nil {
		r.emit(PaceChanged{Instance: c.Instance, From: c.From, To: c.To, Reason: c.Reason, At: c.At})
	}
}
