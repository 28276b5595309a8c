package bison

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits bound the requests sent to one instance, across all of its workspaces.
type Limits struct {
	// MaxInFlight is the most requests in flight at once. Zero means DefaultMaxInFlight.
	MaxInFlight int
	// RequestsPerSecond, when positive, spaces requests with a token bucket.
	// Zero means no client-side rate limit.
	RequestsPerSecond float64
}

// DefaultMaxInFlight is the requests in flight per instance when bison_instances.max_concurrency
// is null. The API's limits are undocumented; it has served 100 concurrent requests, and at
// ~187 ms a page 32 in flight gives about 170 pages/s, enough to sync the largest known fleet
// (17,000 accounts) in ~7 s without leaning on a shared production server. See README.
const DefaultMaxInFlight = 32

// Limiter is shared by everything that talks to one instance: it caps requests in flight,
// spaces them when a rate is configured, and pauses the whole instance after a 429 until its
// Retry-After has passed (whether the server counts per key or per instance is unknown, so the
// instance is paused). Urgent requests take free slots before ordinary ones: the engine marks
// the work of a shared super-admin key urgent, since its workspaces go one at a time and so
// form the run's critical path.
type Limiter struct {
	rate *rate.Limiter // nil: no client-side rate

	mu         sync.Mutex
	max        int
	inFlight   int
	urgent     []chan struct{} // waiters, first come first served within a class
	ordinary   []chan struct{}
	pauseUntil time.Time
}

// NewLimiter builds the limiter for one instance.
func NewLimiter(l Limits) *Limiter {
	n := l.MaxInFlight
	if n <= 0 {
		n = DefaultMaxInFlight
	}
	lim := &Limiter{max: n}
	if l.RequestsPerSecond > 0 {
		// A burst of one: the configured rate is a promise to the server, not an average.
		lim.rate = rate.NewLimiter(rate.Limit(l.RequestsPerSecond), 1)
	}
	return lim
}

// MaxInFlight returns the configured cap on requests in flight.
func (l *Limiter) MaxInFlight() int { return l.max }

// acquire waits for a slot, a rate token and the end of any pause, in that order, and returns
// the function that gives the slot back. The pause is checked last, right before the caller
// sends, so a 429 seen by another request while this one waited is honoured.
func (l *Limiter) acquire(ctx context.Context, urgent bool) (release func(), err error) {
	if err := l.slot(ctx, urgent); err != nil {
		return nil, err
	}
	release = l.release
	if l.rate != nil {
		if err := l.rate.Wait(ctx); err != nil {
			release()
			return nil, err
		}
	}
	for {
		wait := l.pauseLeft()
		if wait <= 0 {
			return release, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			release()
			return nil, ctx.Err()
		}
	}
}

// slot takes a free slot or queues for one; a slot given back goes straight to the next
// waiter, urgent ones first.
func (l *Limiter) slot(ctx context.Context, urgent bool) error {
	l.mu.Lock()
	if l.inFlight < l.max && len(l.urgent) == 0 && (urgent || len(l.ordinary) == 0) {
		l.inFlight++
		l.mu.Unlock()
		return nil
	}
	w := make(chan struct{})
	if urgent {
		l.urgent = append(l.urgent, w)
	} else {
		l.ordinary = append(l.ordinary, w)
	}
	l.mu.Unlock()
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		defer l.mu.Unlock()
		select {
		case <-w: // granted meanwhile: hand it on
			l.releaseLocked()
		default:
			l.urgent = remove(l.urgent, w)
			l.ordinary = remove(l.ordinary, w)
		}
		return ctx.Err()
	}
}

func (l *Limiter) release() {
	l.mu.Lock()
	l.releaseLocked()
	l.mu.Unlock()
}

func (l *Limiter) releaseLocked() {
	switch {
	case len(l.urgent) > 0:
		close(l.urgent[0])
		l.urgent = l.urgent[1:]
	case len(l.ordinary) > 0:
		close(l.ordinary[0])
		l.ordinary = l.ordinary[1:]
	default:
		l.inFlight--
	}
}

func remove(q []chan struct{}, w chan struct{}) []chan struct{} {
	for i, c := range q {
		if c == w {
			return append(q[:i], q[i+1:]...)
		}
	}
	return q
}

// Pause holds every request to the instance for d from now (never shortening a longer pause).
func (l *Limiter) Pause(d time.Duration) {
	until := time.Now().Add(d)
	l.mu.Lock()
	if until.After(l.pauseUntil) {
		l.pauseUntil = until
	}
	l.mu.Unlock()
}

func (l *Limiter) pauseLeft() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Until(l.pauseUntil)
}
