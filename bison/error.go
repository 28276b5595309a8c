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
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s: not found (HTTP 404)%s", e.Req, excerptSuffix(e.Excerpt))
}

// RateLimitedError is a 429 that outlasted the client's retries, or whose Retry-After was
// longer than the client is willing to wait.
type RateLimitedError struct {
	Req        Request
	RetryAfter time.Duration // 0 when the server gave none
	Attempts   int
}

func (e *RateLimitedError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%s: rate limited (HTTP 429, Retry-After %s) after %d attempts", e.Req, e.RetryAfter, e.Attempts)
	}
	return fmt.Sprintf("%s: rate limited (HTTP 429) after %d attempts", e.Req, e.Attempts)
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

// IsPermanent reports whether err will not go away by retrying: a rejected key or a missing
// workspace. Callers stop the workspace at once on these.
func IsPermanent(err error) bool {
	var a *AuthError
	var n *NotFoundError
	return errors.As(err, &a) || errors.As(err, &n)
}

func excerptSuffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

// excerpt returns a short, printable beginning of a response body for error messages. Bodies
// are untrusted: control characters are dropped so an error cannot drive a terminal.
func excerpt(body []byte, key Key) string {
	const max = 120
	s := strings.TrimSpace(string(body))
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return key.scrub(s)
}
