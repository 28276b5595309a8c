package bison

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
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

// attempt is what one try of a request met.
type attempt struct {
	body   *bytes.Buffer // a 2xx body, from the client's pool
	err    error
	cause  RetryCause // why it may be tried again
	reason string
}

// do sends one request with retries and returns the body of a 2xx, or a typed error.
// Transient failures (5xx, resets, timeouts) are retried MaxAttempts times with capped, fully
// jittered exponential backoff. A 429 is back-pressure: the limiter pauses and slows the
// instance and the request waits its turn, for as long as the instance answers something
// within StallWindow.
func (s *Session) do(ctx context.Context, req Request, method, path string, payload []byte) (*bytes.Buffer, error) {
	if s.inst.err != nil {
		return nil, s.inst.err
	}
	r := &retrier{s: s, req: req, started: time.Now()}
	u := s.inst.baseURL + path
	for try := 1; ; try++ {
		waitCtx, cancel := r.waitBound(ctx)
		a := s.once(ctx, waitCtx, req, method, u, payload, r.failures+1)
		cancel()
		if a.err == nil {
			return a.body, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", req, ctx.Err())
		}
		wait, err := r.next(a)
		if err != nil {
			return nil, err
		}
		if a.cause == "" {
			continue // a wait for the pace that outlasted the stall bound; look again
		}
		s.inst.limiter.countRetry(a.cause)
		if s.onRetry != nil {
			s.onRetry(Retry{Op: req.Op, Attempt: try, Reason: s.key.scrub(a.reason), Cause: a.cause, Wait: max(wait, s.pauseLeft())})
		}
		if err := s.inst.limiter.wait(ctx, wait); err != nil {
			return nil, s.waitError(req, err, a.err)
		}
	}
}

// retrier is the state of one request across its attempts.
type retrier struct {
	s        *Session
	req      Request
	started  time.Time
	failures int               // transient failures so far; 429s are not counted
	limited  *RateLimitedError // the last 429, once the request has met one
}

// waitBound bounds how long the next attempt may wait for the limiter: once the request has
// met a 429, until its instance would count as stalled.
func (r *retrier) waitBound(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.limited == nil {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, r.lastSign().Add(r.s.inst.client.opts.StallWindow))
}

// lastSign is the last sign of progress: the instance's last answer, or the request's start.
func (r *retrier) lastSign() time.Time {
	return maxTime(r.s.inst.limiter.LastAnswer(), r.started)
}

// next decides what follows a failed attempt: how long to back off before the next one, or
// the error that ends the request.
func (r *retrier) next(a attempt) (time.Duration, error) {
	opts := r.s.inst.client.opts
	lim := r.s.inst.limiter
	if r.limited != nil && errors.Is(a.err, context.DeadlineExceeded) {
		a.err = r.limited // the wait for the limiter reached the stall bound
	}
	switch e := a.err.(type) {
	case *RateLimitedError:
		if e.RetryAfter > opts.MaxRetryAfter {
			e.MaxRetryAfter = opts.MaxRetryAfter
			return 0, e
		}
		r.limited = e
		if idle := time.Since(r.lastSign()); idle >= opts.StallWindow {
			e.Stalled, e.Pace = idle, lim.Pace()
			return 0, e
		}
		return 0, nil // the limiter's pause and pace are the wait
	case *TransientError:
		r.failures++
		if u := lim.unreachable(); u != nil {
			u.Req = r.req
			return 0, u
		}
		if r.failures >= opts.MaxAttempts {
			return 0, e
		}
		return r.s.backoff(r.failures), nil
	}
	return 0, a.err
}

// waitError is the error of a request whose wait between attempts ended early.
func (s *Session) waitError(req Request, err, last error) error {
	var u *UnreachableError
	if errors.As(err, &u) {
		u.Req = req
		return u
	}
	return fmt.Errorf("%s: %w (while waiting to retry after: %v)", req, err, last)
}

func (s *Session) pauseLeft() time.Duration {
	if t := s.inst.limiter.PausedUntil(); !t.IsZero() {
		return time.Until(t)
	}
	return 0
}

// once sends a single attempt through the instance's limiter (waiting for it within
// waitCtx) and tells the limiter what came of it.
func (s *Session) once(ctx, waitCtx context.Context, req Request, method, u string, payload []byte, n int) attempt {
	lim := s.inst.limiter
	t, err := lim.acquire(waitCtx, s.urgent)
	if err != nil {
		var ue *UnreachableError
		if errors.As(err, &ue) {
			ue.Req = req
		}
		return attempt{err: err}
	}
	a, o := s.exchange(ctx, req, method, u, payload, n)
	lim.finish(t, o)
	return a
}

// exchange is the HTTP part of an attempt.
func (s *Session) exchange(ctx context.Context, req Request, method, u string, payload []byte, n int) (attempt, outcome) {
	opts := s.inst.client.opts
	rctx, cancel := context.WithTimeout(ctx, opts.RequestTimeout)
	defer cancel()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	hreq, err := http.NewRequestWithContext(rctx, method, u, rd)
	if err != nil {
		return attempt{err: &MalformedError{Req: req, Problem: "bad request URL: " + s.key.scrub(err.Error())}}, outcome{}
	}
	hreq.Header.Set("Authorization", s.key.bearer())
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", opts.UserAgent)
	if payload != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}

	resp, err := s.inst.client.http.Do(hreq)
	if err != nil {
		var re *RedirectError
		switch {
		case ctx.Err() != nil:
			return attempt{err: ctx.Err()}, outcome{}
		case errors.As(err, &re):
			re.Req, re.Location = req, s.key.scrub(re.Location)
			return attempt{err: re}, outcome{kind: outAnswer, status: re.Status}
		}
		return s.networkError(req, err, rctx, n)
	}
	defer resp.Body.Close()
	buf, err := s.inst.client.readBody(resp.Body, opts.MaxBodyBytes)
	body := buf.Bytes()
	switch {
	case errors.Is(err, errTooLarge):
		problem := fmt.Sprintf("response larger than %d MiB", opts.MaxBodyBytes>>20)
		if opts.MaxBodyBytes < 1<<20 {
			problem = fmt.Sprintf("response larger than %d bytes", opts.MaxBodyBytes)
		}
		return attempt{err: &MalformedError{Req: req, Problem: problem, Excerpt: excerpt(body, s.key)}}, outcome{kind: outAnswer, status: resp.StatusCode}
	case err != nil && ctx.Err() != nil:
		s.inst.client.releaseBody(buf)
		return attempt{err: ctx.Err()}, outcome{}
	case err != nil:
		s.inst.client.releaseBody(buf)
		return s.networkError(req, err, rctx, n)
	}
	a, o := s.classify(req, resp, body, n)
	if a.err == nil {
		a.body = buf
	} else {
		s.inst.client.releaseBody(buf)
	}
	return a, o
}

// classify turns an HTTP answer into the attempt's result.
func (s *Session) classify(req Request, resp *http.Response, body []byte, n int) (attempt, outcome) {
	code := resp.StatusCode
	answer := outcome{kind: outAnswer, status: code}
	switch {
	case code >= 200 && code < 300:
		return attempt{}, answer
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		// No excerpt at all: a server that rejects a key is the likeliest to echo it.
		return attempt{err: &AuthError{Req: req, Status: code, Key: s.key}}, answer
	case code == http.StatusNotFound:
		return attempt{err: &NotFoundError{Req: req, Excerpt: excerpt(body, s.key)}}, answer
	case code == http.StatusTooManyRequests:
		ra := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		e := &RateLimitedError{Req: req, RetryAfter: ra, Attempts: n, Instance: s.inst.name}
		return attempt{err: e, cause: Cause429, reason: "HTTP 429"}, outcome{kind: outTooMany, status: code, retryAfter: ra}
	case code >= 500 || code == http.StatusRequestTimeout:
		reason := fmt.Sprintf("HTTP %d", code)
		e := &TransientError{Req: req, Status: code, Reason: reason, Attempts: n, Excerpt: excerpt(body, s.key)}
		return attempt{err: e, cause: Cause5xx, reason: reason}, answer
	}
	return attempt{err: &MalformedError{Req: req, Problem: fmt.Sprintf("unexpected HTTP %d", code), Excerpt: excerpt(body, s.key)}}, answer
}

var errTooLarge = errors.New("response too large")

// networkError classifies a failure below HTTP: its words for the operator, its cause for
// the counters, and whether it says the host may be gone (for the breaker). Everything here
// is transient for the request.
func (s *Session) networkError(req Request, err error, rctx context.Context, n int) (attempt, outcome) {
	reason, cause, hostLevel := describeNetError(err, rctx, s.inst.client.opts)
	kind := outTransport
	if hostLevel {
		kind = outNetwork
	}
	// The url.Error of net/http names the URL, which never holds the token; scrub anyway.
	e := &TransientError{Req: req, Reason: reason, Attempts: n, Err: scrubbedError{msg: s.key.scrub(err.Error()), cause: err}}
	return attempt{err: e, cause: cause, reason: reason}, outcome{kind: kind, cause: reason}
}

func describeNetError(err error, rctx context.Context, opts Options) (reason string, cause RetryCause, hostLevel bool) {
	var dns *net.DNSError
	var op *net.OpError
	var ne net.Error
	switch {
	case errors.As(err, &dns):
		if dns.IsNotFound { // the error names the host already
			return "no such host", CauseDNS, true
		}
		return "DNS lookup failed", CauseDNS, true
	case isTLSError(err):
		return "TLS handshake failed" + tlsDetail(err), CauseTLS, true
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", CauseRefused, true
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to host", CauseNetwork, true
	case errors.As(err, &op) && op.Op == "dial" && op.Timeout():
		return fmt.Sprintf("no connection within %s", opts.ConnectTimeout), CauseTimeout, true
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("timeout after %s", opts.RequestTimeout), CauseTimeout, true
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "connection reset", CauseReset, false
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout", CauseTimeout, true
	}
	return "network error", CauseNetwork, false
}

func isTLSError(err error) bool {
	var rh tls.RecordHeaderError
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &rh) || errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) ||
		errors.As(err, &ci) || strings.Contains(err.Error(), "tls: ")
}

// tlsDetail names the certificate problem, which is the part an operator can act on.
func tlsDetail(err error) string {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return ": certificate signed by an unknown authority"
	case errors.As(err, &he):
		return ": certificate is not valid for this host name"
	case errors.As(err, &ci):
		return ": certificate is invalid or expired"
	}
	return ""
}

// scrubbedError keeps the cause for errors.Is while printing a scrubbed message.
type scrubbedError struct {
	msg   string
	cause error
}

func (e scrubbedError) Error() string { return e.msg }
func (e scrubbedError) Unwrap() error { return e.cause }

func (s *Session) backoff(failures int) time.Duration {
	opts := s.inst.client.opts
	ceiling := opts.BaseBackoff << min(failures-1, 20)
	if ceiling > opts.MaxBackoff || ceiling <= 0 {
		ceiling = opts.MaxBackoff
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date. Garbage or a
// date in the past gives 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if !(secs > 0) { // zero, negative or NaN
			return 0
		}
		// A wait of over 11 days is as good as forever, and must not overflow.
		return time.Duration(min(secs, 1e6) * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			// HTTP dates have one-second resolution: round up so we are never early.
			return d.Truncate(time.Second) + time.Second
		}
	}
	return 0
}
