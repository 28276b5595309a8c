package sim

import (
	"math"
	"sync"
	"time"
)

// tokenBucket is Laravel's throttle as an instance sees it: a burst, refilled at a rate.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
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

// SetRateLimit makes the instance answer 429 with a Retry-After (whole seconds, at least 1)
// to any request beyond rps a second after a burst of burst, without serving it. Every
// request counts, whatever its key, as the contract tells clients to assume. rps <= 0
// removes the limit; instance "" sets it on every instance.
func (s *Server) SetRateLimit(instance string, rps float64, burst int) {
	for _, in := range s.pick(instance) {
		if rps <= 0 {
			in.limiter.Store(nil)
			continue
		}
		b := float64(max(burst, 1))
		in.limiter.Store(&tokenBucket{rate: rps, burst: b, tokens: b, last: time.Now()})
	}
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
