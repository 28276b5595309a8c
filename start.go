package main

import (
	"context"
	"errors"
	"fmt"
	stdsync "sync"
	"time"

	"github.com/bisonsync/bisonsync/internal/human"
)

// startBounds bound each wait before a mode gets to work. Without them a database that
// accepts connections and never answers, or a lock held on sync_runs, hung every mode
// silently and for ever (issue 11); cron then piles up processes instead of alerting.
type startBounds struct {
	connect time.Duration // connect to PostgreSQL and get an answer to a ping
	migrate time.Duration // create or upgrade the schema (its lock waits up to a minute)
	open    time.Duration // read the registry, and open the run in sync_runs
}

var defaultBounds = startBounds{connect: 30 * time.Second, migrate: 2 * time.Minute, open: time.Minute}

// startTimeoutEnv overrides every bound at once, with a Go duration. It exists for tests,
// which cannot wait 30 s for each mode, and for an operator who needs a shorter leash.
const startTimeoutEnv = "BISONSYNC_START_TIMEOUT"

// waitNoticeAfter is how long a wait goes on before bisonsync says what it is waiting for.
const waitNoticeAfter = 5 * time.Second

// boundsFrom returns the default bounds, or all of them set by startTimeoutEnv.
func boundsFrom(getenv func(string) string) (startBounds, error) {
	v := getenv(startTimeoutEnv)
	if v == "" {
		return defaultBounds, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return startBounds{}, fmt.Errorf("%s=%q: want a positive duration such as 10s", startTimeoutEnv, v)
	}
	return startBounds{connect: d, migrate: d, open: d}, nil
}

// errStartTimeout is the cause of a wait at start cut short by its bound.
var errStartTimeout = errors.New("start timeout")

// startTimeoutError is a wait at start that passed its bound: the database is there but
// does not answer, or something holds a lock the start needs. Exit code 3.
type startTimeoutError struct {
	what  string // "PostgreSQL to accept a connection and answer"
	bound time.Duration
	err   error  // what the interrupted call returned; a connection error names the host
	hint  string // what to look at, or ""
}

func (e *startTimeoutError) Error() string {
	msg := fmt.Sprintf("gave up after %s waiting for %s: %v", human.Setting(e.bound), e.what, e.err)
	if e.hint != "" {
		msg += "\n" + e.hint
	}
	return msg
}

func (e *startTimeoutError) Unwrap() error { return e.err }

// waiter runs the waits at start within their bounds, and says what it is waiting for when
// a wait goes on.
type waiter struct {
	bounds startBounds
	say    func(what string, bound time.Duration)
}

// wait runs f with a context bounded by bound, saying after a few seconds what is awaited.
// A wait cut short by the bound (not by a signal) is a *startTimeoutError.
func (w waiter) wait(ctx context.Context, what string, bound time.Duration, f func(context.Context) error) error {
	wctx, cancel := context.WithTimeoutCause(ctx, bound, errStartTimeout)
	defer cancel()
	notice := time.AfterFunc(min(waitNoticeAfter, bound/2), func() { w.say(what, bound) })
	defer notice.Stop()
	err := f(wctx)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(wctx), errStartTimeout) {
		return &startTimeoutError{what: what, bound: bound, err: err}
	}
	return err
}

// startWatch bounds the opening of a run: the engine's Run takes one context for both its
// start and the run itself, so the bound is lifted by the RunStarted event rather than set
// on a context of its own. Either the run starts first, or the bound passes first and
// cancels it; never both.
type startWatch struct {
	mu       stdsync.Mutex
	started  bool
	expired  bool
	deadline *time.Timer
	notice   *time.Timer
}

// watchStart returns a context for the run, cancelled if it has not started within bound.
func (w waiter) watchStart(ctx context.Context, what string) (context.Context, *startWatch, context.CancelFunc) {
	runCtx, cancel := context.WithCancelCause(ctx)
	sw := &startWatch{}
	bound := w.bounds.open
	sw.notice = time.AfterFunc(min(waitNoticeAfter, bound/2), func() { w.say(what, bound) })
	sw.deadline = time.AfterFunc(bound, func() {
		sw.mu.Lock()
		defer sw.mu.Unlock()
		if !sw.started {
			sw.expired = true
			cancel(errStartTimeout)
		}
	})
	return runCtx, sw, func() { sw.stop(); cancel(nil) }
}

// runStarted lifts the bound: the run is open.
func (sw *startWatch) runStarted() {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if !sw.expired {
		sw.started = true
	}
	sw.notice.Stop()
}

// timedOut reports whether the bound passed before the run started.
func (sw *startWatch) timedOut() bool {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.expired
}

func (sw *startWatch) stop() {
	sw.deadline.Stop()
	sw.notice.Stop()
}
