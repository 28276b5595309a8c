package bison

import (
	"sync"
	"time"
)

// Limits bound the requests sent to one instance, across all of its workspaces. They are
// ceilings: the limiter goes slower when the instance answers 429, never faster.
type Limits struct {
	// MaxInFlight is the most requests in flight at once. Zero means DefaultMaxInFlight.
	MaxInFlight int
	// RequestsPerSecond, when positive, is the fastest rate ever sent. Zero means no
	// client-side ceiling: the limiter then paces only after the instance said 429.
	RequestsPerSecond float64
	// StartPace, when set, is where the pace starts: the pace a previous run learnt
	// (Limiter.Pace), so this run does not learn it again with a burst of 429s. Each field
	// is capped by the ceilings above; a zero field starts at its ceiling.
	StartPace Pace
}

// DefaultMaxInFlight is the requests in flight per instance when bison_instances.max_concurrency
// is null. The API's limits are undocumented; it has served 100 concurrent requests, and at
// ~187 ms a page 32 in flight gives about 170 pages/s, enough to sync the largest known fleet
// (17,000 accounts) in ~7 s without leaning on a shared production server. See README.
const DefaultMaxInFlight = 32

// Limiter is shared by everything that talks to one instance. It caps requests in flight,
// paces them, and holds the whole instance after a 429 until its Retry-After has passed
// (whether the server counts per key or per instance is unknown, so the instance is held).
//
// The pace is learnt: a 429 cuts the rate and the requests in flight to a little under what
// the instance was seen to serve; a rate that holds without a 429 is probed upwards, in small
// steps near where the last 429 came. After a pause the waiting requests leave spread out at
// the pace, not in a burst. An instance that stops answering at all (refused, no such host,
// TLS failure, timeouts) is declared unreachable and its requests fail at once until a probe
// gets an answer.
//
// Urgent requests take free slots before ordinary ones: the engine marks the work of a shared
// super-admin key urgent, since its workspaces go one at a time and so form the run's
// critical path.
type Limiter struct {
	name, address string        // for UnreachableError
	maxRetryAfter time.Duration // a longer Retry-After fails its request instead of pausing
	maxBackoff    time.Duration // the longest pause after a 429 without Retry-After

	mu        sync.Mutex
	max       int
	reserve   int // slots only urgent requests may take
	inFlight  int
	ordinary  int             // ordinary requests in flight
	urgentQ   []chan struct{} // waiters, first come first served within a class
	ordinaryQ []chan struct{}

	ctl         *paceControl
	brk         breaker
	stats       counters
	nextAt      time.Time // the next send time the pace allows
	lastSend    time.Time
	pauseUntil  time.Time
	activeSince time.Time     // when the last pause ended (or will): sending resumed then
	resumed     time.Time     // when sending began again after a lull (a new run on a kept engine)
	held        int           // requests waiting for the pace or a pause
	gen         uint64        // bumped when reservations are void (a pause, a cut, the breaker)
	changed     chan struct{} // closed and replaced with every gen, to wake the waiters
	lastAnswer  time.Time     // the last answer that was not a 429 nor a 5xx
	onPace      func(PaceChange)
	reported    Pace
}

// NewLimiter builds the limiter for one instance.
func NewLimiter(l Limits) *Limiter {
	n := l.MaxInFlight
	if n <= 0 {
		n = DefaultMaxInFlight
	}
	now := time.Now()
	lim := &Limiter{
		max: n, ctl: newPaceControl(l, n, now), changed: make(chan struct{}),
		maxRetryAfter: 2 * time.Minute, maxBackoff: 20 * time.Second,
		brk: breaker{interval: DefaultProbeInterval, quiet: time.Minute, answerAt: now},
	}
	lim.reported = lim.ctl.pace()
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

// OnPaceChange sets the function told of every change of pace (a cut after a 429, a step up
// after sustained success). It is called without the limiter's lock held, from the
// goroutine whose answer caused the change, and must not block.
func (l *Limiter) OnPaceChange(f func(PaceChange)) {
	l.mu.Lock()
	l.onPace = f
	l.mu.Unlock()
}

// Pace returns the pace the limiter holds now: the rate known to pass (not a probe above
// it) and the requests in flight. Keep it per instance and pass it as Limits.StartPace.
func (l *Limiter) Pace() Pace {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ctl.pace()
}

// PausedUntil returns when the current Retry-After pause ends, or the zero time if the
// instance is not paused.
func (l *Limiter) PausedUntil() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Now().Before(l.pauseUntil) {
		return l.pauseUntil
	}
	return time.Time{}
}

// Throttled reports whether the limiter is holding requests back now: the instance is
// paused, or requests wait for the pace. A watchdog should not call a workspace stalled
// while its instance is throttled and still answers (LastAnswer is recent).
func (l *Limiter) Throttled() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held > 0 || time.Now().Before(l.pauseUntil)
}

// LastAnswer returns when the instance last gave an answer that was neither a 429 nor a
// 5xx: the last sign that it makes progress. Zero before the first.
func (l *Limiter) LastAnswer() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastAnswer
}

// Stats returns the instance's counters and state.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats.snapshot()
	now := time.Now()
	s.Pace = l.ctl.pace()
	s.Throttled = l.held > 0 || now.Before(l.pauseUntil)
	if now.Before(l.pauseUntil) {
		s.PausedUntil = l.pauseUntil
	}
	s.Unreachable = l.brk.open
	s.LastAnswer = l.lastAnswer
	return s
}

// Pause holds every request to the instance for d from now (never shortening a longer
// pause). Requests waiting when it ends leave spread out at the pace.
func (l *Limiter) Pause(d time.Duration) {
	l.mu.Lock()
	l.pauseLocked(time.Now(), d)
	l.mu.Unlock()
}

func (l *Limiter) pauseLocked(now time.Time, d time.Duration) {
	if until := now.Add(d); until.After(l.pauseUntil) {
		if now.After(l.pauseUntil) {
			l.activeSince = maxTime(l.activeSince, l.pauseUntil) // the last pause ended then
		}
		l.pauseUntil = until
		l.activeSince = until
		l.voidReservations(now)
	}
}

// voidReservations makes every waiter reserve its send time again: after a pause or a cut
// the old schedule is wrong, and re-reserving from the new start spreads them out.
func (l *Limiter) voidReservations(now time.Time) {
	l.nextAt = now
	if r := l.ctl.rate; r > 0 && !l.lastSend.IsZero() {
		// The pace counts from the last request that went, whatever was booked after it.
		l.nextAt = maxTime(now, l.lastSend.Add(time.Duration(float64(time.Second)/r)))
	}
	l.nextAt = maxTime(l.nextAt, l.pauseUntil)
	l.gen++
	close(l.changed)
	l.changed = make(chan struct{})
}

// countRetry counts an attempt that will be tried again.
func (l *Limiter) countRetry(cause RetryCause) {
	if cause == "" {
		cause = CauseNetwork
	}
	l.mu.Lock()
	l.stats.retry(cause)
	l.mu.Unlock()
}

// unreachable returns the instance's UnreachableError while its breaker is open, else nil.
func (l *Limiter) unreachable() *UnreachableError {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.brk.open {
		return nil
	}
	return l.unreachableLocked()
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
