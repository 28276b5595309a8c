package sync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"time"

	"github.com/bisonsync/bisonsync/db"
)

// Serving runs that other programs ask for in sync_requests (the dashboard's "Trigger Sync"
// button). A long-running process (`--headless --every D`) calls ServeRequests while it waits
// for its next run: it polls (no LISTEN: it must work through a transaction pooler), claims
// the oldest pending request with every pending request the same run serves, runs it, and
// records the outcome on each. Requests for the same work that arrive while the run goes
// are merged into it and finish with it.

// RequestStore is what serving requests needs from the database; *db.Store has it.
type RequestStore interface {
	ClaimRequests(ctx context.Context, owner string) ([]db.SyncRequest, error)
	MergeRequests(ctx context.Context, owner, workspace string, runID int64) ([]int64, error)
	AttachRequests(ctx context.Context, owner string, ids []int64, runID int64) error
	FinishRequests(ctx context.Context, owner string, ids []int64, o db.RequestOutcome) error
	RecoverRequests(ctx context.Context, staleAfter time.Duration) error
}

var _ RequestStore = (*db.Store)(nil)

// RequestTrigger is sync_runs.trigger of a run another program asked for.
const RequestTrigger = "request"

// ServeOptions configures ServeRequests. The zero value of every field is its default.
type ServeOptions struct {
	// Until, when set, is when to stop looking for requests (a requested run under way then
	// goes on to its end). Zero: until ctx ends.
	Until time.Time
	// Poll is how often pending requests are looked for, and merged into a requested run
	// under way. Default 2s.
	Poll time.Duration
	// StaleClaim is how long a claimed request may wait for its run to open, or a finished
	// run for its process to record its requests, before another process takes over (the
	// claiming process died). Default 1m.
	StaleClaim time.Duration
	// Owner identifies this process on the requests it claims. Default host:pid.
	Owner string
	// Observer receives the events of requested runs and the loop's notices; nil discards.
	Observer Observer
	// Finished, when set, is called after each requested run that took place, with its
	// summary (for the metrics file and notifications).
	Finished func(Summary)
}

func (o ServeOptions) withDefaults() ServeOptions {
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.StaleClaim <= 0 {
		o.StaleClaim = time.Minute
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		o.Owner = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if o.Observer == nil {
		o.Observer = func(Event) {}
	}
	return o
}

// ServeResult says what ServeRequests did.
type ServeResult struct {
	// Runs is how many requested runs took place.
	Runs int
	// Interrupted: ctx ended during a requested run, which was cancelled like any
	// interrupted run (its requests went back to pending for the next process).
	Interrupted bool
}

// ServeRequests serves sync_requests until opts.Until or until ctx ends. Database errors are
// reported as notices and retried at the next poll: a dashboard's request must not stop a
// service. It returns the error of a run that could not be closed, if any.
func ServeRequests(ctx context.Context, e *Engine, store RequestStore, opts ServeOptions) (ServeResult, error) {
	sv := &server{engine: e, store: store, opts: opts.withDefaults()}
	var res ServeResult
	t := time.NewTicker(sv.opts.Poll)
	defer t.Stop()
	for {
		if ctx.Err() != nil || (!sv.opts.Until.IsZero() && !time.Now().Before(sv.opts.Until)) {
			return res, nil
		}
		ran, summary, err := sv.serveOne(ctx)
		if ran {
			res.Runs++
			if summary.Interrupted || ctx.Err() != nil {
				res.Interrupted = true
				return res, err
			}
			continue // more may be waiting
		}
		sv.wait(ctx, t.C)
	}
}

// wait returns at the next poll, at opts.Until, or when ctx ends, whichever comes first.
func (sv *server) wait(ctx context.Context, poll <-chan time.Time) {
	var until <-chan time.Time
	if !sv.opts.Until.IsZero() {
		timer := time.NewTimer(time.Until(sv.opts.Until))
		defer timer.Stop()
		until = timer.C
	}
	select {
	case <-ctx.Done():
	case <-until:
	case <-poll:
	}
}

// server is one ServeRequests loop.
type server struct {
	engine *Engine
	store  RequestStore
	opts   ServeOptions
}

func (sv *server) warn(err error) {
	sv.opts.Observer(Notice{Level: LevelWarn, Message: "sync requests: " + err.Error()})
}

// serveOne claims a batch of requests and serves it; ran is false when nothing was pending.
func (sv *server) serveOne(ctx context.Context) (ran bool, summary Summary, err error) {
	if err := sv.store.RecoverRequests(ctx, sv.opts.StaleClaim); err != nil && ctx.Err() == nil {
		sv.warn(err)
	}
	batch, err := sv.store.ClaimRequests(ctx, sv.opts.Owner)
	if err != nil {
		if ctx.Err() == nil {
			sv.warn(err)
		}
		return false, Summary{}, nil
	}
	if len(batch) == 0 {
		return false, Summary{}, nil
	}
	what := "every active workspace"
	if batch[0].Workspace != "" {
		what = fmt.Sprintf("workspace %q", batch[0].Workspace)
	}
	tr := &requestBatch{ids: requestIDs(batch)}
	sv.opts.Observer(Notice{Level: LevelInfo, Message: fmt.Sprintf("serving %s: sync of %s", tr.describe(), what)})

	summary, runErr := sv.run(ctx, batch[0].Workspace, tr)
	outcome := RequestOutcome(summary, runErr, ctx.Err() != nil)
	record, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := sv.store.FinishRequests(record, sv.opts.Owner, tr.all(), outcome); err != nil {
		sv.warn(err)
	}
	sv.opts.Observer(Notice{Level: LevelInfo, Message: fmt.Sprintf("%s %s%s", tr.describe(), outcome.Status, suffix(outcome.Error))})
	if summary.RunID == 0 {
		return true, summary, nil
	}
	if sv.opts.Finished != nil {
		sv.opts.Finished(summary)
	}
	return true, summary, runErr
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

// run runs the engine for workspace ("" for every active one), attaching the run to the
// batch once it opens and merging requests for the same work as they arrive.
func (sv *server) run(ctx context.Context, workspace string, tr *requestBatch) (Summary, error) {
	var names []string
	if workspace != "" {
		names = []string{workspace}
	}
	started := make(chan int64, 1)
	observer := func(ev Event) {
		if rs, ok := ev.(RunStarted); ok {
			started <- rs.RunID
		}
		sv.opts.Observer(ev)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sv.follow(ctx, workspace, tr, started, stop)
	}()
	summary, err := sv.engine.Run(ctx, Request{Names: names, Observer: observer, Trigger: RequestTrigger})
	close(stop)
	<-done
	return summary, err
}

// follow records the run's id on the batch as soon as it is known and merges, every poll,
// the pending requests the run serves, until stop.
func (sv *server) follow(ctx context.Context, workspace string, tr *requestBatch, started <-chan int64, stop <-chan struct{}) {
	t := time.NewTicker(sv.opts.Poll)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case id := <-started:
			tr.runID.Store(id)
			if err := sv.store.AttachRequests(ctx, sv.opts.Owner, tr.all(), id); err != nil && ctx.Err() == nil {
				sv.warn(err)
			}
		case <-t.C:
			merged, err := sv.store.MergeRequests(ctx, sv.opts.Owner, workspace, tr.runID.Load())
			if err != nil && ctx.Err() == nil {
				sv.warn(err)
			}
			if len(merged) > 0 {
				tr.add(merged)
				sv.opts.Observer(Notice{Level: LevelInfo, Message: fmt.Sprintf("sync request(s) %s merged into the run under way", joinIDs(merged))})
			}
		}
	}
}

// requestBatch is the requests one run serves: those claimed together and those merged in.
type requestBatch struct {
	mu    stdsync.Mutex
	ids   []int64
	runID atomic.Int64
}

func (b *requestBatch) add(ids []int64) {
	b.mu.Lock()
	b.ids = append(b.ids, ids...)
	b.mu.Unlock()
}

func (b *requestBatch) all() []int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.ids)
}

func (b *requestBatch) describe() string {
	ids := b.all()
	if len(ids) == 1 {
		return "sync request " + joinIDs(ids)
	}
	return "sync requests " + joinIDs(ids)
}

func requestIDs(batch []db.SyncRequest) []int64 {
	out := make([]int64, len(batch))
	for i, r := range batch {
		out[i] = r.ID
	}
	return out
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf("#%d", id)
	}
	return strings.Join(parts, ", ")
}

// RequestOutcome decides how the requests a run served end, from the run's summary and
// error; stopping says the serving process is shutting down. Unknown workspace: refused with
// the reason. Not started because this process stops or is busy, or interrupted: given back
// (pending) for the next process. Not started otherwise: refused with why. Run: done, with
// the run's id and, unless every workspace succeeded or was skipped, what went wrong.
func RequestOutcome(s Summary, err error, stopping bool) db.RequestOutcome {
	var unknown *db.UnknownWorkspacesError
	var notStarted *NotStartedError
	switch {
	case errors.As(err, &unknown):
		return db.RequestOutcome{Status: db.RequestRefused, Error: fmt.Sprintf("%v: not in client_registry", unknown)}
	case errors.As(err, &notStarted) && (stopping || errors.Is(err, ErrRunInProgress)):
		return db.RequestOutcome{Status: db.RequestPending}
	case errors.As(err, &notStarted):
		return db.RequestOutcome{Status: db.RequestRefused, Error: err.Error()}
	case s.Interrupted:
		return db.RequestOutcome{Status: db.RequestPending}
	}
	out := db.RequestOutcome{Status: db.RequestDone, RunID: s.RunID, Error: runProblems(s)}
	if err != nil {
		out.Error = joinNonEmpty([]string{out.Error, err.Error()})
	}
	return out
}

// runProblems says in one line what went wrong in a run, "" when nothing did.
func runProblems(s Summary) string {
	if s.OK() && s.Error == "" {
		return ""
	}
	var failed []string
	for _, w := range s.Workspaces {
		if !w.Status.OK() {
			failed = append(failed, fmt.Sprintf("%s %s: %s", w.Name, w.Status, w.Error))
		}
	}
	msg := fmt.Sprintf("run %d ended %s", s.RunID, s.Status)
	if len(failed) > 0 {
		msg += fmt.Sprintf(", %d of %d workspaces did not succeed", len(failed), len(s.Workspaces))
		if len(failed) > 3 {
			failed = append(failed[:3], fmt.Sprintf("and %d more", len(failed)-3))
		}
		msg += " (" + strings.Join(failed, "; ") + ")"
	}
	return joinNonEmpty([]string{msg, s.Error})
}
