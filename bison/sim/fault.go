package sim

import (
	"slices"
	"sync/atomic"
	"time"
)

// FaultKind is what an injected fault does to a request.
type FaultKind int

// Fault kinds: the ways production has failed, or plausibly could.
const (
	// FaultStatus answers Fault.Status (500, 502, 503, ...) with Fault.Body, or with what
	// Laravel or the proxy in front of it would send for that status.
	FaultStatus FaultKind = iota + 1
	// Fault429 answers 429 with Retry-After: Fault.RetryAfter as whole seconds, as an HTTP
	// date when RetryAfterDate is set, or no header when RetryAfter is 0.
	Fault429
	// FaultHang never answers: the request blocks until the client gives up or the server
	// closes.
	FaultHang
	// FaultReset closes the TCP connection abruptly (RST) without a response.
	FaultReset
	// FaultHTML answers 200 with an HTML page, as a proxy or a login redirect would.
	FaultHTML
	// FaultTruncated answers 200 with the JSON cut in half (and a Content-Length that
	// matches what was sent, so only a JSON parser notices).
	FaultTruncated
	// FaultDataNotList answers 200 with an envelope whose "data" is an object (for the
	// single-account and switch endpoints, where an object belongs, "data" is a list).
	FaultDataNotList
	// Fault401 answers 401 as for an unknown key.
	Fault401
	// Fault403 answers 403 as for a key that may not do this.
	Fault403
	// FaultDelay waits Fault.Delay more, then answers normally; what a super-admin key
	// serves is read after the wait, which is how a test makes the super-admin trap happen
	// on purpose.
	FaultDelay
	// FaultRedirect answers Fault.Status (default 302) with Location: Fault.Location, e.g.
	// another port of the same host. The API never redirects; a client must not follow.
	FaultRedirect
	// FaultEchoToken answers Fault.Status (default 401) with a body that echoes the request's
	// token in every way a careless server might: whole, without its last four characters,
	// its secret half, URL-encoded, JSON-escaped, base64, and straddling the 120th character.
	FaultEchoToken
	// FaultNUL serves the page with NUL and other control characters in the first row's
	// name, email, status and first tag.
	FaultNUL
	// FaultBigCounter serves the page with the first row's counters and daily_limit above
	// 2^31.
	FaultBigCounter
	// FaultHugeLastPage serves the page with meta.last_page 1,000,000, whatever the total.
	FaultHugeLastPage
	// FaultGrowingLastPage serves meta.last_page one higher on each request it affects.
	FaultGrowingLastPage
	// FaultOversize answers 200 with a body of Fault.Size bytes (default 9 MiB, more than a
	// client should read): the start of an envelope padded with blanks.
	FaultOversize
)

// String names the fault for test failure messages.
func (k FaultKind) String() string {
	names := [...]string{"none", "status", "429", "hang", "reset", "html", "truncated",
		"data-not-list", "401", "403", "delay", "redirect", "echo-token", "nul", "big-counter",
		"huge-last-page", "growing-last-page", "oversize"}
	if k >= 0 && int(k) < len(names) {
		return names[k]
	}
	return "FaultKind(?)"
}

// Fault is a misbehaviour injected into the requests it matches. Zero-valued filters match
// anything.
type Fault struct {
	Kind FaultKind

	// Filters.
	Instance  string
	Workspace int    // Bison id of the workspace the response would be served for
	Key       string // the full token the request used
	Path      Kind
	Page      int // list page; 0 any

	// Which matching requests are affected: the first Times (0: all), or with Every > 0
	// every Every-th (and of those, the first Times).
	Times int
	Every int

	// Parameters of the kinds that take them.
	Status         int
	Body           string
	RetryAfter     time.Duration
	RetryAfterDate bool
	Delay          time.Duration
	Location       string // FaultRedirect
	Size           int    // FaultOversize
}

type faultRule struct {
	f       Fault
	matched atomic.Int64
}

// AddFault injects f until remove is called. Faults are tried in the order they were added
// and the first that affects a request decides it; a fault is consulted after the latency
// wait, when the served workspace is known, and after authentication (an unknown key is
// still answered 401). A fault replaces the answer, so a switch-workspace it hits does not
// happen; FaultDelay only postpones it.
func (s *Server) AddFault(f Fault) (remove func()) {
	r := &faultRule{f: f}
	s.ruleMu.Lock()
	next := append(slices.Clone(*s.faults.Load()), r)
	s.faults.Store(&next)
	s.ruleMu.Unlock()
	return func() {
		s.ruleMu.Lock()
		next := slices.DeleteFunc(slices.Clone(*s.faults.Load()), func(x *faultRule) bool { return x == r })
		s.faults.Store(&next)
		s.ruleMu.Unlock()
	}
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.ruleMu.Lock()
	empty := []*faultRule{}
	s.faults.Store(&empty)
	s.ruleMu.Unlock()
}

// faultFor returns the fault that affects this request, if any, and how many requests it
// has affected with this one.
func (s *Server) faultFor(inst string, ws int, token string, kind Kind, page int) (*Fault, int64) {
	rules := *s.faults.Load()
	for _, r := range rules {
		f := &r.f
		if (f.Instance != "" && f.Instance != inst) || (f.Workspace != 0 && f.Workspace != ws) ||
			(f.Key != "" && f.Key != token) || (f.Path != 0 && f.Path != kind) ||
			(f.Page != 0 && (kind != KindList || f.Page != page)) {
			continue
		}
		if nth, ok := r.affects(); ok {
			return f, nth
		}
	}
	return nil, 0
}

// affects counts one more request the rule matched and says whether the rule affects it
// (its Every and Times), and as which: the nth affected.
func (r *faultRule) affects() (nth int64, ok bool) {
	n := r.matched.Add(1)
	nth = n
	if every := int64(r.f.Every); every > 0 {
		if n%every != 0 {
			return 0, false
		}
		nth = n / every
	}
	return nth, r.f.Times <= 0 || nth <= int64(r.f.Times)
}
