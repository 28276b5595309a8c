package monitor_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/monitor"
)

// secretPath is a webhook path as Slack issues them: whoever knows it can post.
const secretPath = "/services/T0000/B0000/XXXXsecretXXXX"

// hook is a local webhook that records what it receives.
type hook struct {
	*httptest.Server
	mu       stdsync.Mutex
	requests []received
}

type received struct {
	method, path, contentType string
	body                      []byte
}

func newHook(t *testing.T, status int, answer string) *hook {
	t.Helper()
	h := &hook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.requests = append(h.requests, received{r.Method, r.URL.Path, r.Header.Get("Content-Type"), body})
		h.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) last(t *testing.T) received {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.requests) == 0 {
		t.Fatal("the webhook received nothing")
	}
	return h.requests[len(h.requests)-1]
}

// wireMessage is the JSON a webhook receives, decoded independently of monitor.Message.
type wireMessage struct {
	Text       string `json:"text"`
	Kind       string `json:"kind"`
	RunID      int64  `json:"run_id"`
	Status     string `json:"status"`
	MaxAge     string `json:"max_age"`
	Workspaces []struct {
		Name, Instance, Status, State, Reason string
	} `json:"workspaces"`
}

func (r received) message(t *testing.T) wireMessage {
	t.Helper()
	var m wireMessage
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("the webhook received no JSON: %v\n%s", err, r.body)
	}
	return m
}

// A clean run and a healthy fleet notify nothing; after a workspace's key is rejected the
// run and the check each post a message naming it with its reason.
func TestNotifyAfterRealRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleet(t)
	clean := f.run(t)
	if _, notify := monitor.RunMessage(clean); notify {
		t.Error("a clean run has something to notify")
	}
	health, err := f.Store.CheckHealth(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if msg, notify := monitor.CheckMessage(health, time.Hour); notify || msg.Status != "ok" {
		t.Errorf("a fresh fleet has something to notify: %+v", msg)
	}

	victim := f.breakKey(t)
	broken := f.run(t)
	hook := newHook(t, http.StatusOK, "ok")

	msg, notify := monitor.RunMessage(broken)
	if !notify {
		t.Fatal("a partial run has nothing to notify")
	}
	if err := monitor.Notify(ctx, hook.Client(), hook.URL+secretPath, msg); err != nil {
		t.Fatal(err)
	}
	got := hook.last(t)
	if got.method != http.MethodPost || got.path != secretPath || got.contentType != "application/json" {
		t.Errorf("received %s %s (%s)", got.method, got.path, got.contentType)
	}
	f.AssertNoToken("notification", string(got.body))
	run := got.message(t)
	if run.Kind != "run" || run.RunID != broken.RunID || run.Status != "partial" || len(run.Workspaces) != 1 {
		t.Fatalf("run message: %s", got.body)
	}
	w := run.Workspaces[0]
	if w.Name != victim.Name || w.Status != "failed" || !strings.Contains(w.Reason, "rejected (HTTP 401)") {
		t.Errorf("workspace: %+v", w)
	}
	lines := strings.Split(run.Text, "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "partial") || !strings.Contains(lines[0], "1 of 26 workspaces failed") ||
		!strings.Contains(lines[1], victim.Name+" (failed)") || !strings.Contains(lines[1], "rejected (HTTP 401)") {
		t.Errorf("text:\n%s", run.Text)
	}

	health, err = f.Store.CheckHealth(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	msg, notify = monitor.CheckMessage(health, time.Hour)
	if !notify {
		t.Fatal("a failing workspace gives the check nothing to notify")
	}
	if err := monitor.Notify(ctx, hook.Client(), hook.URL+secretPath, msg); err != nil {
		t.Fatal(err)
	}
	check := hook.last(t).message(t)
	if check.Kind != "check" || check.Status != "unhealthy" || check.RunID != 0 || check.MaxAge != "1h0m0s" || len(check.Workspaces) != 1 ||
		check.Workspaces[0].Name != victim.Name || check.Workspaces[0].State != "failing" || check.Workspaces[0].Reason == "" {
		t.Fatalf("check message: %s", hook.last(t).body)
	}
	if !strings.Contains(check.Text, "1 workspace needs attention (1 failing; max age 1h)") || !strings.Contains(check.Text, victim.Name+" (failing): last attempt") {
		t.Errorf("check text:\n%s", check.Text)
	}
}

// A refusing, unreachable or silent endpoint is an error that names the host and never the
// webhook's path or query.
func TestNotifyFailuresHideTheURL(t *testing.T) {
	t.Parallel()
	msg := monitor.Message{Text: "test", Kind: monitor.KindRun}
	// A server that echoes the path back, as some proxies do in their error pages.
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no_service for "+r.URL.RequestURI(), http.StatusInternalServerError)
	}))
	defer refusing.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Only once the body is read does the server notice the client going away.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	}))
	defer hanging.Close()

	cases := []struct {
		name    string
		url     string
		timeout time.Duration
		check   func(t *testing.T, err error)
	}{
		{"HTTP 500", refusing.URL + secretPath + "?token=XXXXsecretXXXX", time.Minute, func(t *testing.T, err error) {
			var se *monitor.StatusError
			if !errors.As(err, &se) || se.StatusCode != http.StatusInternalServerError || !strings.Contains(se.Body, "no_service") {
				t.Errorf("want a *StatusError with code 500 and the answer: %#v", err)
			}
		}},
		{"unreachable", closedURL + secretPath, time.Minute, nil},
		{"timeout", hanging.URL + secretPath, 100 * time.Millisecond, func(t *testing.T, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("want context.DeadlineExceeded in the chain: %v", err)
			}
		}},
		{"user info", strings.Replace(refusing.URL, "://", "://user:XXXXsecretXXXX@", 1) + secretPath, time.Minute, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
			defer cancel()
			err := monitor.Notify(ctx, nil, c.url, msg)
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("error: %v", err)
			u, _ := url.Parse(c.url)
			if !strings.Contains(err.Error(), u.Host) {
				t.Errorf("the error does not name the host %s: %v", u.Host, err)
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "/services") {
				t.Errorf("the error reveals the URL: %v", err)
			}
			if c.check != nil {
				c.check(t, err)
			}
		})
	}

	for _, bad := range []string{"hooks.example.com" + secretPath, "ftp://hooks.example.com" + secretPath, "http://[::1" + secretPath, "://" + secretPath} {
		err := monitor.Notify(context.Background(), nil, bad, msg)
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("Notify(%q): %v", bad, err)
		}
		t.Logf("bad URL: %v", err)
	}
}
