package bison

import (
	"fmt"
	"math"
	"time"
)

// Pace is how fast requests go to an instance: the rate and the requests in flight. The
// limiter learns it (CONTRACT.md §1: the API's limits are undocumented and may change) and
// the engine can keep it per instance, so the next run starts there instead of learning it
// again with a burst of 429s.
type Pace struct {
	// RequestsPerSecond is the rate; 0 means no limit (none configured, none learnt).
	RequestsPerSecond float64
	// InFlight is the most requests in flight at once.
	InFlight int
}

func (p Pace) String() string {
	if p.RequestsPerSecond <= 0 {
		return fmt.Sprintf("no rate limit, %d in flight", p.InFlight)
	}
	return fmt.Sprintf("%.3g requests/s, %d in flight", p.RequestsPerSecond, p.InFlight)
}

// PaceChange tells that the limiter of an instance changed its pace, and why. It is sent
// once per change (a cut after a 429, a step up after sustained success), not per request.
type PaceChange struct {
	Instance string
	From, To Pace
	Reason   string // "HTTP 429 (Retry-After 1s)", "HTTP 429", "no 429 for 8s"
	At       time.Time
}

// Tuning of the pace controller. The goal is a steady pace near the server's limit: a cut
// lands a little under the rate the server was seen to serve, and the probes above it are
// small until they keep succeeding, so a run that starts at a learnt pace meets few 429s.
const (
	cutTarget      = 0.9              // a cut aims at this share of the rate the server served
	cutMin, cutMax = 0.5, 0.9         // without that estimate it halves; it keeps at most 90%
	minRate        = 0.1              // requests/s: the slowest pace (one request per 10 s)
	rateWindow     = 2 * time.Second  // what was sent just before a 429
	servedWindow   = 30 * time.Second // what the server served: long, so a burst it allowed counts little
	probeMinPeriod = 2 * time.Second
	probeRequests  = 8    // a probe period lasts at least this many requests at the pace
	probeStep      = 0.05 // the first probes above the last cut's level add 5%...
	probeSteady    = 3    // ...this many times, then the step doubles each period
	probeMaxStep   = 0.8
)

// paceControl decides the pace of one instance from what its answers say. It is pure (times
// are passed in) and not safe for concurrent use: the Limiter holds it under its mutex.
type paceControl struct {
	ceilRate  float64 // configured requests_per_second, 0 for none
	maxWindow int     // configured max_concurrency

	rate   float64 // current rate, 0 for none
	window int     // current requests in flight

	safe     float64   // the highest rate known to pass: a cut's target, or a probe that held long
	lossRate float64   // the rate the server served when it last said 429 (0: never)
	lastCut  time.Time // 429s of requests sent before this say nothing about the new pace
	firstCut time.Time // the server's rate is measured from here
	steps    int       // probes above lossRate since the last cut

	periodStart time.Time
	bound       bool // a request waited for the pace during this period: demand exceeds it
	streak      int  // successes since the window last grew
	tooMany     int  // 429s since the last success: the back-off without a Retry-After
	latency     time.Duration
	sends, oks  timeRing
}

func newPaceControl(l Limits, maxWindow int, now time.Time) *paceControl {
	c := &paceControl{ceilRate: l.RequestsPerSecond, maxWindow: maxWindow, window: maxWindow, periodStart: now}
	c.rate = c.ceilRate
	if s := l.StartPace; s.RequestsPerSecond > 0 {
		c.rate = c.capRate(s.RequestsPerSecond)
		c.safe = c.rate
	}
	if n := l.StartPace.InFlight; n > 0 {
		c.window = min(n, maxWindow)
	}
	return c
}

func (c *paceControl) capRate(r float64) float64 {
	r = max(r, minRate)
	if c.ceilRate > 0 {
		r = min(r, c.ceilRate)
	}
	return r
}

// pace is the pace to report and to keep: the rate known to pass, not a probe above it.
func (c *paceControl) pace() Pace {
	r := c.rate
	if c.safe > 0 && r > c.safe && c.lossRate > 0 {
		r = c.safe
	}
	return Pace{RequestsPerSecond: r, InFlight: c.window}
}

func (c *paceControl) onSend(now time.Time) { c.sends.add(now) }

// onSuccess counts an answer that was not a 429 and reports whether the rate went up.
func (c *paceControl) onSuccess(now, sent time.Time) (stepped bool) {
	c.oks.add(now)
	c.tooMany = 0
	if d := now.Sub(sent); d > 0 {
		if c.latency == 0 {
			c.latency = d
		} else {
			c.latency += (d - c.latency) / 8
		}
	}
	if c.streak++; c.streak >= c.window && c.window < c.maxWindow {
		c.window++
		c.streak = 0
	}
	if c.rate <= 0 || now.Sub(c.periodStart) < c.period() {
		return false
	}
	stepped = c.bound && !(c.ceilRate > 0 && c.rate >= c.ceilRate)
	if stepped {
		c.stepUp()
	}
	c.periodStart, c.bound = now, false
	return stepped
}

// period is how long a rate must hold without a 429 before the next probe.
func (c *paceControl) period() time.Duration {
	return max(probeMinPeriod, time.Duration(probeRequests/c.rate*float64(time.Second)))
}

// stepUp probes a faster rate: quickly back towards where the last 429 came, then in small
// steps that grow while they keep succeeding (the server's limit may have been raised).
func (c *paceControl) stepUp() {
	// A probe above the last cut's level may pass only thanks to a burst the server allows;
	// it counts as known to pass once it held for a few periods.
	if c.lossRate == 0 || c.steps >= probeSteady {
		c.safe = max(c.safe, c.rate)
	}
	if c.lossRate > 0 && c.rate < 0.95*c.lossRate {
		c.rate = c.capRate(max(c.rate+(c.lossRate-c.rate)/2, c.rate*(1+probeStep)))
		return
	}
	c.steps++
	step := probeStep
	if c.steps > probeSteady {
		step = min(probeStep*math.Exp2(float64(c.steps-probeSteady)), probeMaxStep)
	}
	c.rate = c.capRate(c.rate * (1 + step))
}

// onTooMany takes a 429 of a request sent at sent; activeSince is when the instance last
// came out of a pause, resumed when it began sending again after a lull. The first 429 of a
// request sent at the current pace cuts it (rate and requests in flight); 429s of requests
// sent before the cut say nothing new and change nothing. It returns whether it cut, and
// how long to hold the instance when the server gave no Retry-After: the limiter's own
// back-off, doubling with each cut that follows another with no success between.
func (c *paceControl) onTooMany(now, sent, activeSince, resumed time.Time, maxBackoff time.Duration) (cut bool, backoff time.Duration) {
	if !c.lastCut.IsZero() && sent.Before(c.lastCut) {
		return false, 0
	}
	c.tooMany++
	c.cut(now, activeSince, resumed)
	interval := time.Duration(float64(time.Second) / max(c.rate, minRate))
	backoff = max(interval, 50*time.Millisecond) << min(c.tooMany-1, 10)
	return true, min(backoff, maxBackoff)
}

func (c *paceControl) cut(now, activeSince, resumed time.Time) {
	if c.firstCut.IsZero() {
		c.firstCut = now
	}
	servedFor := min(max(now.Sub(c.firstCut), rateWindow), servedWindow)
	if !resumed.IsZero() {
		// Nor is a lull: what the server served counts from when sending began again.
		servedFor = min(servedFor, max(now.Sub(resumed), rateWindow/8))
	}
	served := c.servedRate(now, servedFor)
	// What was sent since the last pause or lull (neither is a pace), over at least an
	// eighth of the window, so that the burst a run starts with does not read as an
	// enormous rate.
	sentFor := min(max(now.Sub(maxTime(activeSince, resumed)), rateWindow/8), rateWindow)
	sent := float64(c.sends.count(now, sentFor)) / sentFor.Seconds()
	cur := c.rate
	if cur <= 0 || (sent > 0 && sent < cur) {
		cur = sent // what was really sent is what the server judged
	}
	if cur <= 0 {
		cur = max(served, 1)
	}
	// Few answers in the window make a poor estimate of what the server serves (a run that
	// just began, a lull before a burst): then only halve.
	next := cutMin * cur
	if c.oks.count(now, min(rateWindow, servedFor)) >= 4 {
		next = min(cutTarget*served, cutMax*cur)
	}
	c.lossRate = min(cur, max(served, next))
	c.rate = c.capRate(next)
	c.safe = c.rate
	need := int(math.Ceil(2*c.rate*c.latency.Seconds())) + 1 // what the new rate needs in flight
	c.window = min(max(c.window/2, need, 1), c.maxWindow)
	c.lastCut, c.periodStart, c.bound, c.steps, c.streak = now, now, false, 0, 0
}

// servedRate is the answers per second over the window before now. Time the instance was
// paused counts: a server with a burst banks it, and a pace learnt a little low costs a
// little time, while one learnt high costs 429s in every run that starts from it.
func (c *paceControl) servedRate(now time.Time, window time.Duration) float64 {
	n, from := c.oks.since(now, window)
	if n == 0 {
		return 0
	}
	return float64(n) / max(now.Sub(from), window/8).Seconds()
}

// timeRing keeps the most recent event times, to count events in a trailing window.
type timeRing struct {
	t    [512]time.Time
	next int
	n    int
}

func (r *timeRing) add(t time.Time) {
	r.t[r.next] = t
	r.next = (r.next + 1) % len(r.t)
	r.n = min(r.n+1, len(r.t))
}

// count is how many events fell in the window before now.
func (r *timeRing) count(now time.Time, window time.Duration) int {
	from := now.Add(-window)
	n := 0
	for i := 1; i <= r.n; i++ {
		if r.t[(r.next-i+len(r.t))%len(r.t)].Before(from) {
			break
		}
		n++
	}
	return n
}

// since counts the events in the window before now, and says where the window began: now
// minus window, or the oldest event kept when there is none older (early on, or when the
// ring is full).
func (r *timeRing) since(now time.Time, window time.Duration) (int, time.Time) {
	from := now.Add(-window)
	n := r.count(now, window)
	if n == r.n && n > 0 {
		from = maxTime(from, r.t[(r.next-n+len(r.t))%len(r.t)])
	}
	return n, from
}
