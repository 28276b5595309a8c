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
	reserve    int // slots only urgent requests may take
	inFlight   int
	ordinary   int             // ordinary requests in flight
	urgentQ    []chan struct{} // waiters, first come first served within a class
	ordinaryQ  []chan struct{}
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

// Reserve keeps n of the slots for urgent requests (at most half of them): urgent work that
// arrives in bursts then finds slots free at once instead of waiting for ordinary requests
// to finish. Zero gives every slot to whoever comes first.
func (l *Limiter) Reserve(n int) {
	l.mu.Lock()
	l.reserve = min(max(n, 0), l.max/2)
	l.dispatch()
	l.mu.Unlock()
}

// acquire waits for a slot, a rate token and the end of any pause, in that order, and returns
// the function that gives the slot back. The pause is checked last, right before the caller
// sends, so a 429 seen by another request while this one waited is honoured.
func (l *Limiter) acquire(ctx context.Context, urgent bool) (release func(), err error) {
	if err := l.slot(ctx, urgent); err != nil {
		return nil, err
	}
	release = func() { l.release(urgent) }
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

func (l *Limiter) urgentFits() bool   { return l.inFlight < l.max }
func (l *Limiter) ordinaryFits() bool { return l.inFlight < l.max && l.ordinary < l.max-l.reserve }

func (l *Limiter) take(urgent bool) {
	l.inFlight++
	if !urgent {
		l.ordinary++
	}
}

// slot takes a free slot or queues for one; urgent waiters are served first.
func (l *Limiter) slot(ctx context.Context, urgent bool) error {
	l.mu.Lock()
	if len(l.urgentQ) == 0 && ((urgent && l.urgentFits()) || (!urgent && len(l.ordinaryQ) == 0 && l.ordinaryFits())) {
		l.take(urgent)
		l.mu.Unlock()
		return nil
	}
	w := make(chan struct{})
	if urgent {
		l.urgentQ = append(l.urgentQ, w)
	} else {
		l.ordinaryQ = append(l.ordinaryQ, w)
	}
	l.mu.Unlock()
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		defer l.mu.Unlock()
		select {
		case <-w: // granted meanwhile: give it back
			l.releaseLocked(urgent)
		default:
			l.urgentQ = remove(l.urgentQ, w)
			l.ordinaryQ = remove(l.ordinaryQ, w)
		}
		return ctx.Err()
	}
}

func (l *Limiter) release(urgent bool) {
	l.mu.Lock()
	l.releaseLocked(urgent)
	l.mu.Unlock()
}

func (l *Limiter) releaseLocked(urgent bool) {
	l.inFlight--
	if !urgent {
		l.ordinary--
	}
	l.dispatch()
}

// dispatch hands free slots to waiters: urgent ones first, ordinary ones within what the
// reserve leaves them.
func (l *Limiter) dispatch() {
	for len(l.urgentQ) > 0 && l.urgentFits() {
		l.take(true)
		close(l.urgentQ[0])
		l.urgentQ = l.urgentQ[1:]
	}
	for len(l.urgentQ) == 0 && len(l.ordinaryQ) > 0 && l.ordinaryFits() {
		l.take(false)
		close(l.ordinaryQ[0])
		l.ordinaryQ = l.ordinaryQ[1:]
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
