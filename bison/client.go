package bison

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// PageSize is what the API serves at most per page, whatever per_page asks for.
const PageSize = 15

// Options configure a Client. The zero value gives the documented defaults.
type Options struct {
	// RequestTimeout bounds one HTTP request, inside the caller's context. Default 30s.
	RequestTimeout time.Duration
	// MaxAttempts bounds the tries of one request on transient errors and 429s. Default 5.
	MaxAttempts int
	// BaseBackoff and MaxBackoff shape the exponential backoff with full jitter between
	// attempts. Defaults 500ms and 20s.
	BaseBackoff, MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits out; a longer one ends the
	// request with a RateLimitedError instead of silently stalling. Default 2m.
	MaxRetryAfter time.Duration
	// UserAgent is sent with every request. Default "bisonsync".
	UserAgent string
	// Transport replaces the tuned default transport (tests).
	Transport http.RoundTripper
}

func (o Options) withDefaults() Options {
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 20 * time.Second
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 2 * time.Minute
	}
	if o.UserAgent == "" {
		o.UserAgent = "bisonsync"
	}
	return o
}

// Client talks to any number of Email Bison instances over one shared http.Client.
// Create one per process.
type Client struct {
	http *http.Client
	opts Options
}

// NewClient builds the process's client. Its transport keeps many idle connections per host,
// because the fleet lives on few hosts and pages are fetched concurrently.
func NewClient(opts Options) *Client {
	opts = opts.withDefaults()
	rt := opts.Transport
	if rt == nil {
		rt = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          1024,
			MaxIdleConnsPerHost:   256,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	return &Client{http: &http.Client{Transport: rt}, opts: opts}
}

// Instance is one Email Bison installation as the client sees it: its API root and the
// limiter every request to it goes through.
type Instance struct {
	client  *Client
	name    string
	baseURL string
	limiter *Limiter
}

// Instance returns a handle on the instance at baseURL (the API root, with /api). Share the
// handle (and so its limiter) among everything that talks to that instance.
func (c *Client) Instance(name, baseURL string, limits Limits) *Instance {
	return &Instance{client: c, name: name, baseURL: strings.TrimRight(baseURL, "/"), limiter: NewLimiter(limits)}
}

// Name is the instance's name in the registry.
func (in *Instance) Name() string { return in.name }

// Limiter returns the instance's shared limiter.
func (in *Instance) Limiter() *Limiter { return in.limiter }

// Workspace identifies a workspace in errors and in the switch call.
type Workspace struct {
	Name string
	ID   int
}

// Retry tells an observer that a request failed transiently and will be tried again.
type Retry struct {
	Op      string        // "list page 3"
	Attempt int           // the attempt that failed, from 1
	Reason  string        // "HTTP 429", "HTTP 503", "timeout after 30s", "connection reset"
	Wait    time.Duration // how long until the next attempt
}

// Session is the work of one workspace with one key: list pages, get accounts, switch.
// A session is cheap; make one per workspace attempt.
type Session struct {
	inst    *Instance
	key     Key
	ws      Workspace
	onRetry func(Retry)
	urgent  bool
}

// Session starts work for a workspace with key. onRetry, when not nil, is called before each
// wait between attempts (it must not block).
func (in *Instance) Session(key Key, ws Workspace, onRetry func(Retry)) *Session {
	return &Session{inst: in, key: key, ws: ws, onRetry: onRetry}
}

// Urgent makes the session's requests take free slots of the instance's limiter before
// ordinary ones. It returns the session.
func (s *Session) Urgent() *Session {
	s.urgent = true
	return s
}

// Page is one page of a workspace's sender accounts, with the paging facts of its envelope.
type Page struct {
	Accounts    []Account
	CurrentPage int
	LastPage    int
	PerPage     int
	Total       int    // the server's count of accounts at the moment it served this page
	Next        string // absolute URL of the next page, "" on the last
}

// ListPage fetches page n (from 1) of the workspace's sender accounts.
func (s *Session) ListPage(ctx context.Context, n int) (*Page, error) {
	req := s.request(fmt.Sprintf("list page %d", n))
	u := fmt.Sprintf("%s/sender-emails?page=%d&per_page=%d", s.inst.baseURL, n, PageSize)
	body, err := s.do(ctx, req, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	p, err := DecodePage(body)
	if err != nil {
		return nil, &MalformedError{Req: req, Problem: err.Error(), Excerpt: excerpt(body, s.key)}
	}
	return p, nil
}

// GetAccount fetches one account by id. A *NotFoundError means the workspace has no such
// account at the source: that is how an absence is confirmed before marking a row deleted.
func (s *Session) GetAccount(ctx context.Context, id int64) (*Account, error) {
	req := s.request(fmt.Sprintf("get account %d", id))
	body, err := s.do(ctx, req, http.MethodGet, fmt.Sprintf("%s/sender-emails/%d", s.inst.baseURL, id), nil)
	if err != nil {
		return nil, err
	}
	var env struct {
		Data *Account `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Data == nil {
		problem := "no data object"
		if err != nil {
			problem = "not JSON: " + err.Error()
		}
		return nil, &MalformedError{Req: req, Problem: problem, Excerpt: excerpt(body, s.key)}
	}
	return env.Data, nil
}

// SwitchWorkspace selects the session's workspace for its (super-admin) key. The selection is
// server-side state of the key, so the caller must not use the key for any other workspace
// until it has finished with this one.
func (s *Session) SwitchWorkspace(ctx context.Context) error {
	req := s.request("switch workspace")
	payload, _ := json.Marshal(map[string]int{"team_id": s.ws.ID})
	_, err := s.do(ctx, req, http.MethodPost, s.inst.baseURL+"/workspaces/v1.1/switch-workspace", payload)
	return err
}

func (s *Session) request(op string) Request {
	return Request{Instance: s.inst.name, Workspace: s.ws.Name, WorkspaceID: s.ws.ID, Op: op}
}

// do sends one request with retries: transient failures and 429s are retried with capped,
// fully jittered exponential backoff, never sooner than a Retry-After. It returns the body of
// a 200, or a typed error.
func (s *Session) do(ctx context.Context, req Request, method, u string, payload []byte) ([]byte, error) {
	opts := s.inst.client.opts
	var last error
	for attempt := 1; ; attempt++ {
		body, status, err := s.once(ctx, req, method, u, payload, attempt)
		if err == nil {
			return body, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", req, ctx.Err())
		}
		last = err
		var wait time.Duration
		switch e := err.(type) {
		case *RateLimitedError:
			if e.RetryAfter > opts.MaxRetryAfter {
				return nil, err
			}
			wait = max(e.RetryAfter, s.backoff(attempt))
		case *TransientError:
			wait = s.backoff(attempt)
		default:
			return nil, err
		}
		if attempt >= opts.MaxAttempts {
			return nil, last
		}
		if s.onRetry != nil {
			s.onRetry(Retry{Op: req.Op, Attempt: attempt, Reason: retryReason(err, status), Wait: wait})
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%s: %w (while waiting to retry after: %v)", req, ctx.Err(), last)
		}
	}
}

// once sends a single attempt through the instance's limiter.
func (s *Session) once(ctx context.Context, req Request, method, u string, payload []byte, attempt int) (body []byte, status int, err error) {
	opts := s.inst.client.opts
	release, err := s.inst.limiter.acquire(ctx, s.urgent)
	if err != nil {
		return nil, 0, err
	}
	defer release()

	rctx, cancel := context.WithTimeout(ctx, opts.RequestTimeout)
	defer cancel()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	hreq, err := http.NewRequestWithContext(rctx, method, u, rd)
	if err != nil {
		return nil, 0, &MalformedError{Req: req, Problem: "bad request URL: " + s.key.scrub(err.Error())}
	}
	hreq.Header.Set("Authorization", s.key.bearer())
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", opts.UserAgent)
	if payload != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}

	resp, err := s.inst.client.http.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return nil, 0, s.networkError(req, err, rctx, attempt)
	}
	defer resp.Body.Close()
	// A page of 15 accounts is a few kilobytes; anything near this bound is not a page.
	body, err = io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return nil, resp.StatusCode, s.networkError(req, err, rctx, attempt)
	}

	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return body, code, nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return nil, code, &AuthError{Req: req, Status: code, Key: s.key, Excerpt: excerpt(body, s.key)}
	case code == http.StatusNotFound:
		return nil, code, &NotFoundError{Req: req, Excerpt: excerpt(body, s.key)}
	case code == http.StatusTooManyRequests:
		ra := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		if ra > 0 {
			s.inst.limiter.Pause(ra)
		}
		return nil, code, &RateLimitedError{Req: req, RetryAfter: ra, Attempts: attempt}
	case code >= 500 || code == http.StatusRequestTimeout:
		return nil, code, &TransientError{Req: req, Status: code, Reason: fmt.Sprintf("HTTP %d", code), Attempts: attempt, Excerpt: excerpt(body, s.key)}
	default:
		return nil, code, &MalformedError{Req: req, Problem: fmt.Sprintf("unexpected HTTP %d", code), Excerpt: excerpt(body, s.key)}
	}
}

// networkError classifies a failure below HTTP. Everything here is transient: a timeout, a
// reset, a refused connection, a body cut short.
func (s *Session) networkError(req Request, err error, rctx context.Context, attempt int) error {
	reason := "network error"
	var ne net.Error
	switch {
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		reason = fmt.Sprintf("timeout after %s", s.inst.client.opts.RequestTimeout)
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		reason = "connection reset"
	case errors.Is(err, syscall.ECONNREFUSED):
		reason = "connection refused"
	case errors.As(err, &ne) && ne.Timeout():
		reason = "timeout"
	}
	// The url.Error of net/http names the URL, which never holds the token; scrub anyway.
	return &TransientError{Req: req, Reason: reason, Attempts: attempt, Err: scrubbedError{msg: s.key.scrub(err.Error()), cause: err}}
}

// scrubbedError keeps the cause for errors.Is while printing a scrubbed message.
type scrubbedError struct {
	msg   string
	cause error
}

func (e scrubbedError) Error() string { return e.msg }
func (e scrubbedError) Unwrap() error { return e.cause }

func (s *Session) backoff(attempt int) time.Duration {
	opts := s.inst.client.opts
	ceiling := opts.BaseBackoff << min(attempt-1, 20)
	if ceiling > opts.MaxBackoff || ceiling <= 0 {
		ceiling = opts.MaxBackoff
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

func retryReason(err error, status int) string {
	switch e := err.(type) {
	case *RateLimitedError:
		return "HTTP 429"
	case *TransientError:
		return e.Reason
	}
	if status != 0 {
		return "HTTP " + strconv.Itoa(status)
	}
	return "error"
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date. Garbage or a
// date in the past gives 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs > 1e6 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			// HTTP dates have one-second resolution: round up so we are never early.
			return d.Truncate(time.Second) + time.Second
		}
	}
	return 0
}
