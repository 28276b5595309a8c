package bison

import (
	"fmt"
	"time"
)

// UnreachableError is an instance that cannot be reached: its connections are refused, its
// name does not resolve, its TLS handshake fails, or its requests time out, several times in
// a row with no answer between. Every request of the instance fails with it at once until a
// probe gets an answer, so a fleet on a dead host fails in seconds with one message, not
// after minutes of retries. It names the instance and its host:port, never a path, query or
// key.
type UnreachableError struct {
	Instance string
	Address  string // host:port of base_url
	Cause    string // "connection refused", "no such host", "TLS handshake failed", ...
	Since    time.Time
	Req      Request // the request that met it; not part of the message, so the message is
	// the same for every request of the instance and can be reported once
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("instance %q (%s) unreachable: %s", e.Instance, e.Address, e.Cause)
}

// Breaker defaults.
const (
	// unreachableAfter is how many network-level failures in a row, with no answer between,
	// make an instance unreachable. One is a hiccup; three, with backoff between, is not.
	unreachableAfter = 3
	// DefaultProbeInterval is how often an unreachable instance is tried again.
	DefaultProbeInterval = 10 * time.Second
)

// breaker tracks whether an instance answers at all. The Limiter holds it under its mutex.
type breaker struct {
	interval  time.Duration
	failures  int
	open      bool
	cause     string
	since     time.Time
	nextProbe time.Time
	probing   bool // a probe is on its way: the others keep failing meanwhile
}

// admit says whether a request may go: always while the instance answers; while it does
// not, one probe per interval, which the caller must report back (probe true).
func (b *breaker) admit(now time.Time) (ok, probe bool) {
	if !b.open {
		return true, false
	}
	if !b.probing && !now.Before(b.nextProbe) {
		b.probing = true
		return true, true
	}
	return false, false
}

// answered records an HTTP answer of any status: the host is there.
func (b *breaker) answered() {
	b.failures, b.open, b.probing = 0, false, false
}

// failed records a network-level failure and reports whether it made the instance
// unreachable just now.
func (b *breaker) failed(now time.Time, cause string, probe bool) (opened bool) {
	b.failures++
	b.cause = cause
	if probe {
		b.probing = false
		b.nextProbe = now.Add(b.interval)
	}
	if b.open || b.failures < unreachableAfter {
		return false
	}
	b.open, b.since, b.nextProbe = true, now, now.Add(b.interval)
	return true
}

// abandoned gives back a probe whose request ended without an outcome (cancelled).
func (b *breaker) abandoned(probe bool) {
	if probe {
		b.probing = false
	}
}
