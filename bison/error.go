package bison

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Request describes what was being done when something went wrong: which instance,
// which workspace, which operation. It carries no secret.
type Request struct {
	Instance    string // bison_instances.name
	Workspace   string // workspace name, "" when not known
	WorkspaceID int    // Bison workspace id, 0 when not known
	Op          string // "list page 3", "switch workspace", "get account 42"
}

func (r Request) String() string {
	var b strings.Builder
	b.WriteString(r.Op)
	if r.Workspace != "" || r.WorkspaceID != 0 {
		fmt.Fprintf(&b, " of workspace %q (id %d)", r.Workspace, r.WorkspaceID)
	}
	if r.Instance != "" {
		fmt.Fprintf(&b, " on instance %q", r.Instance)
	}
	return b.String()
}

// AuthError is a 401 or 403: the key is wrong, revoked or not allowed. It is never retried.
type AuthError struct {
	Req     Request
	Status  int
	Key     Key // printed as its hint only
	Excerpt string
}

func (e *AuthError) Error() string {
	verb := "rejected"
	if e.Status == 403 {
		verb = "not authorised"
	}
	return fmt.Sprintf("%s: API key %s %s (HTTP %d): check the key in the registry%s",
		e.Req, e.Key.Hint(), verb, e.Status, excerptSuffix(e.Excerpt))
}

// NotFoundError is a 404: no such workspace (on switch) or no such account (on a single get).
type NotFoundError struct {
	Req     Request
	Excerpt string
	Hint    string // what may be wrong, when the client can tell (base_url without /api)
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("%s: not found (HTTP 404)%s", e.Req, excerptSuffix(e.Excerpt))
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

// RateLimitedError is a request that met 429s and will not wait for more: its instance gave
// no other answer for the client's StallWindow (Stalled is set), or the server asked for a
// wait longer than the client's MaxRetryAfter (MaxRetryAfter is set). While its instance
// answers, a 429 is only back-pressure and no request fails for it.
type RateLimitedError struct {
	Req           Request
	Instance      string
	RetryAfter    time.Duration // the last Retry-After, 0 when the server gave none
	Attempts      int
	Pace          Pace          // the pace the client had slowed the instance to
	Stalled       time.Duration // how long the instance had answered nothing but 429
	MaxRetryAfter time.Duration // set when RetryAfter was longer than the client waits
}

func (e *RateLimitedError) Error() string {
	said := "HTTP 429, no Retry-After"
	if e.RetryAfter > 0 {
		said = fmt.Sprintf("HTTP 429, Retry-After %s", e.RetryAfter)
	}
	switch {
	case e.MaxRetryAfter > 0:
		return fmt.Sprintf("%s: rate limited: the server asked to wait %s (%s), longer than the %s the client waits (MaxRetryAfter)",
			e.Req, e.RetryAfter, said, e.MaxRetryAfter)
	case e.Stalled > 0:
		return fmt.Sprintf("%s: rate limited: instance %q answered only 429 for %s (%s) although it was slowed to %s",
			e.Req, e.Instance, e.Stalled.Round(time.Second), said, e.Pace)
	}
	return fmt.Sprintf("%s: rate limited (%s) after %d attempts", e.Req, said, e.Attempts)
}

// RedirectError is a 3xx. The API never redirects (a redirect usually means a base_url of
// the wrong scheme or path), and following one would send the key wherever it points, so
// the client never does. Location is scheme://host:port/path, without the query.
type RedirectError struct {
	Req      Request
	Status   int
	Location string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("%s: the server redirected (HTTP %d) to %s; the API never redirects and the client did not follow: check base_url",
		e.Req, e.Status, e.Location)
}

// TransientError is a failure that may pass: a 5xx, a reset connection, a timeout.
// The client has already retried it a bounded number of times when callers see it.
type TransientError struct {
	Req      Request
	Status   int    // 0 when no response arrived
	Reason   string // "HTTP 503", "timeout after 30s", "connection reset"
	Attempts int
	Excerpt  string
	Err      error // the underlying cause, when there is one
}

func (e *TransientError) Error() string {
	return fmt.Sprintf("%s: %s after %d attempts%s", e.Req, e.Reason, e.Attempts, excerptSuffix(e.Excerpt))
}

func (e *TransientError) Unwrap() error { return e.Err }

// MalformedError is a 200 whose body is not the expected JSON envelope (HTML, truncated JSON,
// `data` not a list...). The client does not retry it; the engine may retry the workspace.
type MalformedError struct {
	Req     Request
	Problem string // what was wrong
	Excerpt string
}

func (e *MalformedError) Error() string {
	return fmt.Sprintf("%s: malformed response: %s%s", e.Req, e.Problem, excerptSuffix(e.Excerpt))
}

// IsPermanent reports whether err will not go away by retrying: a rejected key, a missing
// workspace, a redirect or an unusable base_url. Callers stop the workspace at once on these.
func IsPermanent(err error) bool {
	var a *AuthError
	var n *NotFoundError
	var r *RedirectError
	var c *ConfigError
	return errors.As(err, &a) || errors.As(err, &n) || errors.As(err, &r) || errors.As(err, &c)
}

func excerptSuffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

// excerpt returns a short, printable beginning of a response body for error messages. Bodies
// are untrusted: control characters are dropped so an error cannot drive a terminal, and the
// key is scrubbed from the whole text before it is cut, so a token straddling the cut cannot
// leave its first half behind.
func excerpt(body []byte, key Key) string {
	const max = 120
	head := body[:min(len(body), 4096)] // plenty for 120 runes once blanks fold
	s := strings.TrimSpace(string(head))
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, s)
	s = key.scrub(strings.Join(strings.Fields(s), " "))
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}
