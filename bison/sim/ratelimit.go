package sim

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// tokenBucket is Laravel's throttle as an instance sees it: a burst, refilled at a rate.
type tokenBucket struct {
	mu         sync.Mutex
	rate       float64 // tokens per second
	burst      float64
	tokens     float64
	last       time.Time
	retryAfter bool // answer 429 with a Retry-After header
}

// take spends a token, or reports how long until one is available.
func (b *tokenBucket) take(now time.Time) (ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.After(b.last) { // requests race here out of arrival order; time never refunds
		b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

// RateLimit is an instance's throttle: a token bucket of Burst tokens refilled at
// RequestsPerSecond. A request that finds it empty is answered 429 at once, without being
// served, with a Retry-After (whole seconds, at least 1, until a token is back) when
// RetryAfter is set and with none otherwise: the API's limits are undocumented, and a client
// must cope with both.
type RateLimit struct {
	RequestsPerSecond float64 // <= 0: no limit
	Burst             int     // < 1 counts as 1
	RetryAfter        bool
}

// SetRateLimit makes the instance answer 429 with a Retry-After (whole seconds, at least 1)
// to any request beyond rps a second after a burst of burst, without serving it. Every
// request counts, whatever its key, as the contract tells clients to assume. rps <= 0
// removes the limit; instance "" sets it on every instance.
func (s *Server) SetRateLimit(instance string, rps float64, burst int) {
	s.SetThrottle(instance, RateLimit{RequestsPerSecond: rps, Burst: burst, RetryAfter: true})
}

// SetThrottle sets (or, with RequestsPerSecond <= 0, removes) the instance's throttle, with
// or without Retry-After. Each call starts a full bucket. Instance "" sets every instance.
func (s *Server) SetThrottle(instance string, rl RateLimit) {
	for _, in := range s.pick(instance) {
		if rl.RequestsPerSecond <= 0 {
			in.limiter.Store(nil)
			continue
		}
		b := float64(max(rl.Burst, 1))
		in.limiter.Store(&tokenBucket{rate: rl.RequestsPerSecond, burst: b, tokens: b, last: time.Now(), retryAfter: rl.RetryAfter})
	}
}

// throttled answers a request the instance's bucket refuses, and reports whether it did.
func (s *Server) throttled(rp *reply, in *instance, req *Request) bool {
	b := in.limiter.Load()
	if b == nil {
		return false
	}
	ok, wait := b.take(req.Start)
	if ok {
		return false
	}
	h := rp.w.Header()
	if b.retryAfter {
		secs := retryAfterSeconds(wait)
		h.Set("Retry-After", strconv.Itoa(secs))
		req.RetryAfter = time.Duration(secs) * time.Second
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(int(b.burst)))
	h.Set("X-RateLimit-Remaining", "0")
	rp.text(http.StatusTooManyRequests, ctJSON, bodyTooMany)
	return true
}

// SetLatency changes how long the instance takes to answer, from the next request on.
// Instance "" sets it on every instance.
func (s *Server) SetLatency(instance string, latency, jitter time.Duration) {
	for _, in := range s.pick(instance) {
		in.latency.Store(&latencyOf{base: latency, jitter: jitter})
	}
}

// pick is the named instance, or every instance for "".
func (s *Server) pick(name string) []*instance {
	if name == "" {
		return s.order
	}
	if in := s.instances[name]; in != nil {
		return []*instance{in}
	}
	return nil
}

// retryAfterSeconds renders a wait as Retry-After does: whole seconds, rounded up, at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
