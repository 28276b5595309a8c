package monitor_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/monitor"
	"github.com/bisonsync/bisonsync/sync"
)

func TestRunMessageWhatToNotify(t *testing.T) {
	t.Parallel()
	ws := func(name, status, reason string) sync.WorkspaceResult {
		return sync.WorkspaceResult{Name: name, Instance: "bison-main", Status: db.WorkspaceStatus(status), Error: reason}
	}
	cases := []struct {
		name       string
		summary    sync.Summary
		notify     bool
		headline   string
		workspaces []string
	}{
		{"clean", sync.Summary{RunID: 1, Status: "succeeded", Workspaces: []sync.WorkspaceResult{
			ws("A", "succeeded", ""), ws("B", "skipped", "another process is syncing it")}},
			false, "bisonsync run 1 succeeded", nil},
		{"partial", sync.Summary{RunID: 2, Status: "partial", Workspaces: []sync.WorkspaceResult{
			ws("A", "succeeded", ""), ws("B", "failed", "HTTP 401"), ws("C", "cancelled", "")}},
			true, "bisonsync run 2 partial: 1 of 3 workspaces failed, 1 cancelled", []string{"B failed HTTP 401", "C cancelled the run ended before the workspace finished"}},
		{"interrupted", sync.Summary{RunID: 3, Status: "cancelled", Workspaces: []sync.WorkspaceResult{
			ws("A", "cancelled", "interrupted")}},
			true, "bisonsync run 3 cancelled: 1 of 1 workspaces cancelled", []string{"A cancelled interrupted"}},
		{"run error only", sync.Summary{RunID: 4, Status: "failed", Error: "view refresh\ntimed out"},
			true, "bisonsync run 4 failed; run error: view refresh timed out", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg, notify := monitor.RunMessage(c.summary)
			if notify != c.notify || msg.Kind != monitor.KindRun || msg.RunID != c.summary.RunID || msg.Status != string(c.summary.Status) {
				t.Errorf("notify %v, message %+v", notify, msg)
			}
			if headline, _, _ := strings.Cut(msg.Text, "\n"); headline != c.headline {
				t.Errorf("headline %q, want %q", headline, c.headline)
			}
			var got []string
			for _, w := range msg.Workspaces {
				got = append(got, strings.Join([]string{w.Name, w.Status, w.Reason}, " "))
			}
			if fmt.Sprint(got) != fmt.Sprint(c.workspaces) || msg.Workspaces == nil {
				t.Errorf("workspaces %q, want %q", got, c.workspaces)
			}
			if lines := strings.Count(msg.Text, "\n"); lines != len(c.workspaces) {
				t.Errorf("%d workspace lines for %d workspaces:\n%s", lines, len(c.workspaces), msg.Text)
			}
		})
	}
}

// Untrusted names and reasons reach Text without control characters and without anything
// Slack would act on; the structured fields keep them as they are.
func TestMessageTextIsSafe(t *testing.T) {
	t.Parallel()
	evil := "Evil\x1b[2J\x1b]0;pwned\x07 <!channel> & co\nfake line"
	msg, _ := monitor.RunMessage(sync.Summary{RunID: 5, Status: "failed", Workspaces: []sync.WorkspaceResult{
		{Name: evil, Status: "failed", Error: "boom\r\n• Another (failed): forged <@U123>"}}})
	if strings.ContainsAny(msg.Text, "\x1b\x07\r") || strings.Count(msg.Text, "\n") != 1 {
		t.Errorf("control characters or extra lines in %q", msg.Text)
	}
	if strings.Contains(msg.Text, "<!channel>") || strings.Contains(msg.Text, "<@U123>") || !strings.Contains(msg.Text, "&lt;!channel&gt; &amp; co") {
		t.Errorf("Slack markup not escaped: %q", msg.Text)
	}
	if msg.Workspaces[0].Name != evil {
		t.Errorf("the structured name was changed: %q", msg.Workspaces[0].Name)
	}

	long := strings.Repeat("é", 1000)
	msg, _ = monitor.RunMessage(sync.Summary{Status: "failed", Workspaces: []sync.WorkspaceResult{{Name: "A", Status: "failed", Error: long}}})
	if n := len([]rune(msg.Text)); n > 400 || msg.Workspaces[0].Reason != long {
		t.Errorf("a 1,000-rune reason gave %d runes of text; structured reason kept: %v", n, msg.Workspaces[0].Reason == long)
	}
}

// A fleet-wide outage stays a readable message: 50 lines, then how many more.
func TestMessageTextIsBounded(t *testing.T) {
	t.Parallel()
	var health []db.Health
	for i := range 2000 {
		health = append(health, db.Health{Workspace: fmt.Sprintf("W%04d", i), Instance: "bison-main", State: db.HealthFailing, Reason: "instance down"})
	}
	msg, notify := monitor.CheckMessage(health, 24*time.Hour)
	lines := strings.Split(msg.Text, "\n")
	if !notify || len(msg.Workspaces) != 2000 || len(lines) != 52 || lines[51] != "… and 1950 more (all are in the workspaces field)" {
		t.Errorf("notify %v, %d workspaces, %d lines, last %q", notify, len(msg.Workspaces), len(lines), lines[len(lines)-1])
	}
}

func TestCheckMessage(t *testing.T) {
	t.Parallel()
	msg, notify := monitor.CheckMessage(nil, 24*time.Hour)
	if notify || msg.Status != "ok" || msg.Kind != monitor.KindCheck || msg.Workspaces == nil || !strings.Contains(msg.Text, "within 24h") {
		t.Errorf("healthy: notify %v, %+v", notify, msg)
	}

	msg, notify = monitor.CheckMessage([]db.Health{
		{Workspace: "New", State: db.HealthNever, Reason: "never synced"},
		{Workspace: "Broken", State: db.HealthFailing, Reason: "last attempt 5m ago failed: HTTP 401"},
		{Workspace: "Old", State: db.HealthStale, Reason: "last successful sync 3d ago, older than 1d12h"},
		{Workspace: "Older", State: db.HealthStale, Reason: "last successful sync 9d ago, older than 1d12h"},
	}, 36*time.Hour+30*time.Minute)
	want := "bisonsync check: 4 workspaces need attention (1 never synced, 1 failing, 2 stale; max age 36h30m)\n" +
		"• New (never): never synced\n" +
		"• Broken (failing): last attempt 5m ago failed: HTTP 401\n" +
		"• Old (stale): last successful sync 3d ago, older than 1d12h\n" +
		"• Older (stale): last successful sync 9d ago, older than 1d12h"
	if !notify || msg.Status != "unhealthy" || msg.MaxAge != "36h30m0s" || msg.Text != want {
		t.Errorf("notify %v, status %s, max age %s, text:\n%s\nwant:\n%s", notify, msg.Status, msg.MaxAge, msg.Text, want)
	}
	if w := msg.Workspaces[1]; w.Name != "Broken" || w.State != "failing" || w.Status != "" {
		t.Errorf("workspace: %+v", w)
	}
}
