package bison

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// PageSize is what the API serves at most per page, whatever per_page asks for.
const PageSize = 15

// Options configure a Client. The zero value gives the documented defaults.
type Options struct {
	// RequestTimeout bounds one HTTP request, inside the caller's context. Default 30s.
	RequestTimeout time.Duration
	// ConnectTimeout bounds opening a connection (and, separately, its TLS handshake): a
	// host that does not answer is known within seconds, not at RequestTimeout. Default 5s.
	ConnectTimeout time.Duration
	// MaxAttempts bounds the tries of one request on transient errors (5xx, resets,
	// timeouts). 429s are not counted: they are back-pressure (see StallWindow). Default 5.
	MaxAttempts int
	// BaseBackoff and MaxBackoff shape the exponential backoff with full jitter between
	// attempts. Defaults 500ms and 20s.
	BaseBackoff, MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits out; a longer one ends the
	// request that got it at once with a RateLimitedError, and does not pause the instance.
	// Default 2m.
	MaxRetryAfter time.Duration
	// StallWindow is how long a request keeps meeting 429s while its instance gives no
	// other answer before it fails with a RateLimitedError. While the instance answers
	// anything, 429s only slow it down. Default 2m.
	StallWindow time.Duration
	// ProbeInterval is how often an unreachable instance is tried again; meanwhile its
	// requests fail at once. Default 10s.
	ProbeInterval time.Duration
	// MaxBodyBytes bounds a response body; a larger one is an error. Default 8 MiB.
	MaxBodyBytes int64
	// UserAgent is sent with every request. Default "bisonsync".
	UserAgent string
	// Transport replaces the tuned default transport (tests).
	Transport http.RoundTripper
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.RequestTimeout, 30*time.Second)
	def(&o.ConnectTimeout, 5*time.Second)
	def(&o.BaseBackoff, 500*time.Millisecond)
	def(&o.MaxBackoff, 20*time.Second)
	def(&o.MaxRetryAfter, 2*time.Minute)
	def(&o.StallWindow, 2*time.Minute)
	def(&o.ProbeInterval, DefaultProbeInterval)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 8 << 20
	}
	if o.UserAgent == "" {
		o.UserAgent = "bisonsync"
	}
	return o
}

// Client talks to any number of Email Bison instances over one shared http.Client.
// Create one per process.
type Client struct {
	http   *http.Client
	opts   Options
	bodies sync.Pool // *bytes.Buffer for response bodies
}

// NewClient builds the process's client. Its transport keeps many idle connections per host,
// because the fleet lives on few hosts and pages are fetched concurrently. It never follows
// a redirect: the API does not redirect, and a redirect would carry the key elsewhere.
func NewClient(opts Options) *Client {
	opts = opts.withDefaults()
	rt := opts.Transport
	if rt == nil {
		rt = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: opts.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          1024,
			MaxIdleConnsPerHost:   256,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   opts.ConnectTimeout,
			ExpectContinueTimeout: time.Second,
		}
	}
	return &Client{http: &http.Client{Transport: rt, CheckRedirect: refuseRedirect}, opts: opts}
}

// refuseRedirect stops net/http at the first redirect, before anything is sent to where it
// points: with the Authorization header, that would hand the key to another server.
func refuseRedirect(r *http.Request, _ []*http.Request) error {
	e := &RedirectError{Location: safeURL(r.URL)}
	if r.Response != nil {
		e.Status = r.Response.StatusCode
	}
	return e
}

// Instance is one Email Bison installation as the client sees it: its API root and the
// limiter every request to it goes through.
type Instance struct {
	client  *Client
	name    string
	baseURL string
	apiPath bool  // base_url's path ends in /api, as the contract's examples do
	err     error // base_url cannot work: every request fails with it
	limiter *Limiter
}

// Instance returns a handle on the instance at baseURL (the API root, with /api). Share the
// handle (and so its limiter) among everything that talks to that instance. A base_url that
// ValidateBaseURL refuses makes every request fail at once with that *ConfigError.
func (c *Client) Instance(name, baseURL string, limits Limits) *Instance {
	in := &Instance{client: c, name: name, baseURL: strings.TrimRight(strings.TrimSpace(baseURL), "/"), limiter: NewLimiter(limits)}
	in.err = ValidateBaseURL(name, baseURL)
	lim := in.limiter
	lim.name, lim.maxRetryAfter, lim.maxBackoff = name, c.opts.MaxRetryAfter, c.opts.MaxBackoff
	lim.brk.interval = c.opts.ProbeInterval
	if u, err := url.Parse(in.baseURL); err == nil && in.err == nil {
		lim.address = hostPort(u)
		in.apiPath = strings.HasSuffix(u.Path, "/api")
	}
	return in
}

// Name is the instance's name in the registry.
func (in *Instance) Name() string { return in.name }

// Limiter returns the instance's shared limiter.
func (in *Instance) Limiter() *Limiter { return in.limiter }

// Stats returns the instance's counters: 429s, retries by cause, pace, throttled or not.
func (in *Instance) Stats() Stats { return in.limiter.Stats() }

// Workspace identifies a workspace in errors and in the switch call.
type Workspace struct {
	Name string
	ID   int
}

// Retry tells an observer that a request failed transiently and will be tried again.
type Retry struct {
	Op      string        // "list page 3"
	Attempt int           // the attempt that failed, from 1 (429s included)
	Reason  string        // "HTTP 429", "HTTP 503", "timeout after 30s", "connection reset"
	Cause   RetryCause    // the reason's class; Cause429 is back-pressure, not trouble
	Wait    time.Duration // how long until the next attempt (at least)
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

// ListPage fetches page n (from 1) of the workspace's sender accounts.
func (s *Session) ListPage(ctx context.Context, n int) (*Page, error) {
	req := s.request(fmt.Sprintf("list page %d", n))
	body, err := s.do(ctx, req, http.MethodGet, fmt.Sprintf("/sender-emails?page=%d&per_page=%d", n, PageSize), nil)
	if err != nil {
		if nf, ok := err.(*NotFoundError); ok && n == 1 && !s.inst.apiPath {
			nf.Hint = "base_url does not end in /api; the API root usually does (https://host/api)"
		}
		return nil, err
	}
	defer s.inst.client.releaseBody(body)
	p, err := DecodePage(body.Bytes())
	if err != nil {
		return nil, &MalformedError{Req: req, Problem: s.key.scrub(err.Error()), Excerpt: excerpt(body.Bytes(), s.key)}
	}
	return p, nil
}

// GetAccount fetches one account by id. A *NotFoundError means the workspace has no such
// account at the source: that is how an absence is confirmed before marking a row deleted.
func (s *Session) GetAccount(ctx context.Context, id int64) (*Account, error) {
	req := s.request(fmt.Sprintf("get account %d", id))
	body, err := s.do(ctx, req, http.MethodGet, fmt.Sprintf("/sender-emails/%d", id), nil)
	if err != nil {
		return nil, err
	}
	defer s.inst.client.releaseBody(body)
	a, err := DecodeAccount(body.Bytes())
	if err != nil {
		return nil, &MalformedError{Req: req, Problem: s.key.scrub(err.Error()), Excerpt: excerpt(body.Bytes(), s.key)}
	}
	return a, nil
}

// SwitchWorkspace selects the session's workspace for its (super-admin) key. The selection is
// server-side state of the key, so the caller must not use the key for any other workspace
// until it has finished with this one.
func (s *Session) SwitchWorkspace(ctx context.Context) error {
	req := s.request("switch workspace")
	payload, _ := json.Marshal(map[string]int{"team_id": s.ws.ID})
	body, err := s.do(ctx, req, http.MethodPost, "/workspaces/v1.1/switch-workspace", payload)
	s.inst.client.releaseBody(body)
	return err
}

func (s *Session) request(op string) Request {
	return Request{Instance: s.inst.name, Workspace: s.ws.Name, WorkspaceID: s.ws.ID, Op: op}
}
