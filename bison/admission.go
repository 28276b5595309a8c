package bison

import (
	"context"
	"fmt"
	"time"
)

// ticket is one admitted attempt: what finish needs to give the slot back and to learn from
// the answer.
type ticket struct {
	urgent bool
	probe  bool // the breaker's probe of an unreachable instance
	sent   time.Time
}

// acquire waits for a slot, then for the pace and the end of any pause, and admits one
// attempt; finish must follow. Requests of an unreachable instance fail at once, also those
// already waiting.
func (l *Limiter) acquire(ctx context.Context, urgent bool) (ticket, error) {
	if err := l.slot(ctx, urgent); err != nil {
		return ticket{}, err
	}
	t, err := l.clearance(ctx, urgent)
	if err != nil {
		l.mu.Lock()
		l.releaseLocked(urgent)
		l.mu.Unlock()
		return ticket{}, err
	}
	return t, nil
}

// window is the requests in flight allowed now: the learnt window under the configured cap.
func (l *Limiter) window() int { return max(min(l.ctl.window, l.max), 1) }

func (l *Limiter) urgentFits() bool { return l.inFlight < l.window() }
func (l *Limiter) ordinaryFits() bool {
	w := l.window()
	return l.inFlight < w && l.ordinary < w-min(l.reserve, w/2)
}

func (l *Limiter) take(urgent bool) {
	l.inFlight++
	if !urgent {
		l.ordinary++
	}
}

// slot takes a free slot or queues for one; urgent waiters are served first.
func (l *Limiter) slot(ctx context.Context, urgent bool) error {
	l.mu.Lock()
	if err := l.blockedLocked(time.Now()); err != nil {
		l.mu.Unlock()
		return err
	}
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
	for {
		changed := l.changed
		l.mu.Unlock()
		var err error
		select {
		case <-w:
			return nil
		case <-ctx.Done():
			err = ctx.Err()
		case <-changed:
		}
		l.mu.Lock()
		if err == nil {
			err = l.blockedLocked(time.Now())
		}
		if err != nil {
			l.leaveQueueLocked(w, urgent)
			l.mu.Unlock()
			return err
		}
	}
}

// leaveQueueLocked takes a waiter that gives up out of the queue, or gives back the slot
// it was granted meanwhile.
func (l *Limiter) leaveQueueLocked(w chan struct{}, urgent bool) {
	select {
	case <-w:
		l.releaseLocked(urgent)
	default:
		l.urgentQ = remove(l.urgentQ, w)
		l.ordinaryQ = remove(l.ordinaryQ, w)
	}
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

// clearance waits until the pace and any pause let the attempt go, then admits it. A send
// time, once reserved, holds until a pause, a cut or the breaker voids every reservation;
// the pause is checked last, right before the caller sends, so a 429 seen by another request
// while this one waited is honoured.
func (l *Limiter) clearance(ctx context.Context, urgent bool) (ticket, error) {
	var at time.Time
	var gen uint64
	for {
		l.mu.Lock()
		now := time.Now()
		if err := l.blockedLocked(now); err != nil {
			l.mu.Unlock()
			return ticket{}, err
		}
		if at.IsZero() || gen != l.gen {
			at, gen = l.reserveLocked(now), l.gen
		}
		if !at.After(now) {
			t, err := l.admitLocked(now, urgent)
			l.mu.Unlock()
			return t, err
		}
		changed := l.changed
		l.held++
		l.mu.Unlock()
		err := sleepUntil(ctx, at, changed)
		l.mu.Lock()
		l.held--
		l.mu.Unlock()
		if err != nil {
			return ticket{}, err
		}
	}
}

// reserveLocked books the earliest send time the pause and the pace allow.
func (l *Limiter) reserveLocked(now time.Time) time.Time {
	at := now
	if l.pauseUntil.After(at) {
		at = l.pauseUntil
	}
	if r := l.ctl.rate; r > 0 {
		if l.nextAt.After(at) {
			at = l.nextAt
			l.ctl.bound = true // demand exceeds the pace: a reason to probe a faster one
		}
		l.nextAt = at.Add(time.Duration(float64(time.Second) / r))
	}
	return at
}

func (l *Limiter) admitLocked(now time.Time, urgent bool) (ticket, error) {
	ok, probe := l.brk.admit(now)
	if !ok {
		return ticket{}, l.unreachableLocked()
	}
	l.stats.requests++
	if l.lullBefore(now) {
		l.resumed = now
	}
	l.lastSend = now
	l.ctl.onSend(now)
	return ticket{urgent: urgent, probe: probe, sent: now}, nil
}

// lullBefore reports whether nothing was sent for a while before now, other than for a
// pause: more than three intervals at the pace, and at least a tenth of a second. What
// was sent and served before a lull says nothing of the pace of what follows it.
func (l *Limiter) lullBefore(now time.Time) bool {
	if l.lastSend.IsZero() {
		return true
	}
	gap := 100 * time.Millisecond
	if r := l.ctl.rate; r > 0 {
		gap = max(gap, time.Duration(3*float64(time.Second)/r))
	}
	return now.Sub(l.lastSend) > gap && !l.pauseUntil.After(l.lastSend)
}

// blockedLocked fails requests of an unreachable instance, except when a probe is due.
func (l *Limiter) blockedLocked(now time.Time) error {
	if l.brk.open && (l.brk.probing || now.Before(l.brk.nextProbe)) {
		return l.unreachableLocked()
	}
	return nil
}

func (l *Limiter) unreachableLocked() *UnreachableError {
	return &UnreachableError{Instance: l.name, Address: l.address, Cause: l.brk.cause, Since: l.brk.since}
}

// sleepUntil waits for t, a change of the limiter's state, or the end of ctx.
func sleepUntil(ctx context.Context, t time.Time, changed <-chan struct{}) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-changed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait sleeps d between the attempts of one request; it ends early, with the error, when
// the instance becomes unreachable meanwhile.
func (l *Limiter) wait(ctx context.Context, d time.Duration) error {
	end := time.Now().Add(d)
	for {
		l.mu.Lock()
		err := l.blockedLocked(time.Now())
		changed := l.changed
		l.mu.Unlock()
		if err != nil {
			return err
		}
		if !time.Now().Before(end) {
			return nil
		}
		if err := sleepUntil(ctx, end, changed); err != nil {
			return err
		}
	}
}

// outcome is what an attempt met, as the limiter learns from it.
type outcome struct {
	kind       outcomeKind
	status     int
	retryAfter time.Duration
	cause      string // network failures: "connection refused"...
	conclusive bool   // a network failure that says the host is not there (not a timeout)
}

type outcomeKind int

const (
	outNone      outcomeKind = iota // no answer and no verdict: the caller gave up
	outAnswer                       // an HTTP answer other than 429
	outTooMany                      // 429
	outNetwork                      // a failure below HTTP that says the host may be gone
	outTransport                    // a failure below HTTP that says nothing of the host
)

// finish gives the attempt's slot back and learns from its outcome.
func (l *Limiter) finish(t ticket, o outcome) {
	now := time.Now()
	l.mu.Lock()
	change := l.learnLocked(now, t, o)
	l.releaseLocked(t.urgent)
	notify := l.onPace
	l.mu.Unlock()
	if change != nil && notify != nil {
		notify(*change)
	}
}

func (l *Limiter) learnLocked(now time.Time, t ticket, o outcome) *PaceChange {
	switch o.kind {
	case outNone:
		l.brk.abandoned(t.probe)
	case outNetwork:
		if l.brk.failed(now, o.cause, o.conclusive, t.probe) {
			l.voidReservations(now) // wake every waiter: they fail now
		}
	case outTransport:
		l.brk.abandoned(t.probe)
	case outAnswer:
		l.brk.answered(now)
		if o.status >= 500 || o.status == 408 {
			return nil
		}
		l.lastAnswer = now
		before := l.window()
		if l.ctl.onSuccess(now, t.sent) {
			return l.paceChangedLocked(now, "no 429 for "+l.ctl.period().Round(time.Second).String(), false)
		}
		if l.window() > before {
			l.dispatch()
		}
	case outTooMany:
		return l.tooManyLocked(now, t, o.retryAfter)
	}
	return nil
}

// tooManyLocked learns from a 429: pause the instance for its Retry-After (or a back-off of
// the limiter's own when there is none), and cut the pace once per episode. A Retry-After
// longer than the client waits is not honoured at all: that request fails on its own, and
// the instance goes on (it may be one key's quota; if the whole instance is shut, each
// request learns it at once from its own 429).
func (l *Limiter) tooManyLocked(now time.Time, t ticket, retryAfter time.Duration) *PaceChange {
	l.brk.answered(now)
	l.stats.tooMany++
	if retryAfter > l.maxRetryAfter {
		return nil
	}
	cut, backoff := l.ctl.onTooMany(now, t.sent, l.activeSince, l.resumed, l.maxBackoff)
	pause := retryAfter
	if pause <= 0 {
		pause = backoff
	}
	l.pauseLocked(now, pause)
	if !cut {
		return nil
	}
	l.voidReservations(now) // the new pace applies to every waiter
	reason := "HTTP 429"
	if retryAfter > 0 {
		reason = fmt.Sprintf("HTTP 429 (Retry-After %s)", retryAfter)
	}
	return l.paceChangedLocked(now, reason, true)
}

// paceChangedLocked says whether a change is worth telling: every cut, and steps up once
// they add up to a fifth more than the last pace told (or reach the ceiling).
func (l *Limiter) paceChangedLocked(now time.Time, reason string, cut bool) *PaceChange {
	to := l.ctl.pace()
	from := l.reported
	if to == from {
		return nil
	}
	atCeiling := l.ctl.ceilRate > 0 && to.RequestsPerSecond >= l.ctl.ceilRate
	if !cut && from.RequestsPerSecond > 0 && to.RequestsPerSecond < 1.2*from.RequestsPerSecond && !atCeiling {
		return nil
	}
	l.reported = to
	return &PaceChange{Instance: l.name, From: from, To: to, Reason: reason, At: now}
}
