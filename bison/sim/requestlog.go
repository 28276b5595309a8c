package sim

import (
	"slices"
	"sync"
	"time"
)

// Kind is which endpoint a request addressed.
type Kind int

// Endpoints. The zero Kind means "any" where a Kind filters (Fault.Path).
const (
	KindList    Kind = iota + 1 // GET /sender-emails
	KindAccount                 // GET /sender-emails/{id}
	KindSwitch                  // POST /workspaces/v1.1/switch-workspace
	KindOther                   // anything else (404, 405)
)

// String names the endpoint for test failure messages.
func (k Kind) String() string {
	switch k {
	case 0:
		return "any"
	case KindList:
		return "list"
	case KindAccount:
		return "account"
	case KindSwitch:
		return "switch"
	case KindOther:
		return "other"
	case KindWorkspaces:
		return "workspaces"
	case KindMint:
		return "mint"
	}
	return "Kind(?)"
}

// Request is one request as the server saw it. It never holds a token: KeyID is a label.
type Request struct {
	Start, End time.Time
	Instance   string
	// KeyID is "…" and the key's last 4 characters; "" when no token was sent.
	KeyID      string
	SuperAdmin bool
	// Workspace is the Bison id of the workspace actually served (or switched to), read
	// when the response was written; 0 if none.
	Workspace int
	Kind      Kind
	Page      int   // requested page (list), after defaulting
	AccountID int64 // requested id (single account)
	// Status is the HTTP status written; 0 when none was: the connection was reset, or the
	// client gave up while the request waited or hung.
	Status int
	// Fault is the injected fault that shaped the answer, 0 if none.
	Fault FaultKind
	// RetryAfter is the wait a 429 asked for, 0 when it gave none (or was no 429). A client
	// that honours it sends nothing to the instance before End+RetryAfter.
	RetryAfter time.Duration
}

// requestLog is a bounded ring of requests; one per instance keeps its lock off the other
// instances' hot paths.
type requestLog struct {
	mu    sync.Mutex
	limit int
	buf   []Request
	head  int // next slot to overwrite once full
}

func newRequestLog(limit int) *requestLog {
	if limit == 0 {
		limit = defaultRequestLogLimit
	}
	return &requestLog{limit: limit}
}

func (l *requestLog) add(r Request) {
	if l.limit < 0 {
		return
	}
	l.mu.Lock()
	if len(l.buf) < l.limit {
		l.buf = append(l.buf, r)
	} else {
		l.buf[l.head] = r
		l.head = (l.head + 1) % l.limit
	}
	l.mu.Unlock()
}

func (l *requestLog) appendTo(dst []Request) []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	dst = append(dst, l.buf[l.head:]...)
	return append(dst, l.buf[:l.head]...)
}

func (l *requestLog) reset() {
	l.mu.Lock()
	l.buf, l.head = nil, 0
	l.mu.Unlock()
}

// Requests returns the logged requests of every instance, by start time.
func (s *Server) Requests() []Request {
	var out []Request
	for _, in := range s.order {
		out = in.log.appendTo(out)
	}
	out = s.stray.appendTo(out)
	slices.SortStableFunc(out, func(a, b Request) int { return a.Start.Compare(b.Start) })
	return out
}

// ResetRequests empties the request log and restarts MaxInFlight from the requests in
// flight now, so a test can measure one phase at a time.
func (s *Server) ResetRequests() {
	for _, in := range s.order {
		in.log.reset()
		in.maxFlight.Store(in.inFlight.Load())
	}
	s.stray.reset()
}

// InFlight is how many requests to the instance are inside the handler now.
func (s *Server) InFlight(instance string) int {
	if in := s.instances[instance]; in != nil {
		return int(in.inFlight.Load())
	}
	return 0
}

// MaxInFlight is the most requests to the instance that were inside the handler at once
// since the server started or ResetRequests was last called; it is how a test checks a
// client's per-instance concurrency limit.
func (s *Server) MaxInFlight(instance string) int {
	if in := s.instances[instance]; in != nil {
		return int(in.maxFlight.Load())
	}
	return 0
}

func (in *instance) enter() {
	n := in.inFlight.Add(1)
	for {
		m := in.maxFlight.Load()
		if n <= m || in.maxFlight.CompareAndSwap(m, n) {
			return
		}
	}
}

func (in *instance) leave() { in.inFlight.Add(-1) }
