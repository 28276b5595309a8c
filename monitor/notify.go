package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/bisonsync/bisonsync/internal/safetext"
)

// maxErrorBody bounds how much of a refusal's body goes into the error: enough for Slack's
// "invalid_payload" or a proxy's one-line complaint.
const maxErrorBody = 512

// StatusError is a webhook's answer outside 2xx.
type StatusError struct {
	// Host is the webhook's host (and port): never its path, which is the secret of a
	// Slack-style webhook.
	Host       string
	StatusCode int
	// Body is the start of the answer, on one line, with the webhook's path removed.
	Body string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("notify %s: HTTP %d", e.Host, e.StatusCode)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Notify POSTs msg as JSON to a webhook (a Slack incoming webhook or anything that takes
// JSON). A transport error or an answer outside 2xx is an error naming the URL's host only:
// a webhook's path is as secret as a token, so neither the URL nor its path ever appears in
// an error. ctx bounds the whole exchange; a nil client means http.DefaultClient.
func Notify(ctx context.Context, client *http.Client, rawURL string, msg Message) error {
	u, err := parseWebhookURL(rawURL)
	if err != nil {
		return err
	}
	if client == nil {
		client = http.DefaultClient
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("notify %s: encode message: %w", u.Host, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notify %s: %w", u.Host, redact(err, u))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "bisonsync")

	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("notify %s: %w", u.Host, redact(err, u))
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	// Drain a little more so the connection can be reused; a huge body is not worth it.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{Host: u.Host, StatusCode: resp.StatusCode, Body: scrub(strings.Join(strings.Fields(safetext.Clean(string(head))), " "), u)}
	}
	return nil
}

// parseWebhookURL checks that rawURL is an absolute http(s) URL. Its errors never quote
// the URL: url.Parse's would.
func parseWebhookURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("notify: the webhook URL is not valid: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("notify: the webhook URL must be an absolute http:// or https:// URL")
	}
	return u, nil
}

// redact strips the *url.Error wrapper, which quotes the whole URL, and keeps what it wraps
// (still reachable with errors.Is and errors.As: context.DeadlineExceeded, net.OpError…).
// Should the wrapped message quote the path or query anyway, they are cut out of it.
func redact(err error, u *url.URL) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if msg := err.Error(); scrub(msg, u) != msg {
		return &redactedError{msg: scrub(msg, u), err: err}
	}
	return err
}

// scrub removes the URL's path, query and user info from s.
func scrub(s string, u *url.URL) string {
	for _, secret := range []string{u.String(), u.EscapedPath(), u.Path, u.RawQuery, u.User.String()} {
		// A bare "/" or a very short path is no secret, and cutting it would mangle the text.
		if len(secret) > 1 {
			s = strings.ReplaceAll(s, secret, "…")
		}
	}
	return s
}

// redactedError is an error whose message had the webhook's secrets cut out.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
