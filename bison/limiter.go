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
// instance is paused).
type Limiter struct {
	slots chan struct{}
	rate  *rate.Limiter // nil: no client-side rate

	mu         sync.Mutex
	pauseUntil time.Time
}

// NewLimiter builds the limiter for one instance.
func NewLimiter(l Limits) *Limiter {
	n := l.MaxInFlight
	if n <= 0 {
		n = DefaultMaxInFlight
	}
	lim := &Limiter{slots: make(chan struct{}, n)}
	if l.RequestsPerSecond > 0 {
		// A burst of one: the configured rate is a promise to the server, not an average.
		lim.rate = rate.NewLimiter(rate.Limit(l.RequestsPerSecond), 1)
	}
	return lim
}

// MaxInFlight returns the configured cap on requests in flight.
func (l *Limiter) MaxInFlight() int { return cap(l.slots) }

// acquire waits for a slot, a rate token and the end of any pause, in that order, and returns
// the function that gives the slot back. The pause is checked last, right before the caller
// sends, so a 429 seen by another request while this one waited is honoured.
func (l *Limiter) acquire(ctx context.Context) (release func(), err error) {
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release = func() { <-l.slots }
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
