package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// jsonLines decodes a JSON log, one object a line.
func jsonLines(t *testing.T, out *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		lines = append(lines, m)
	}
	return lines
}

// JSON log lines carry durations as numbers with the unit in the key, every figure as a
// field, & as itself; a cancelled workspace is a warning, a failed one an error.
func TestJSONLogFields(t *testing.T) {
	var out bytes.Buffer
	l, _ := NewLogger(&out, "json", time.Second)
	l.Observe(sync.Retrying{Workspace: "Harbor & Finch", Scope: sync.ScopeRequest, Op: "list page 2", Attempt: 1, Reason: "HTTP 503", Wait: 400 * time.Millisecond})
	l.Observe(sync.WorkspaceFinished{Result: sync.WorkspaceResult{Name: "Harbor & Finch", Status: db.WorkspaceCancelled,
		PagesFetched: 3, Duration: 1500 * time.Millisecond, Error: "interrupted by SIGTERM"}})
	l.Observe(sync.WorkspaceFinished{Result: sync.WorkspaceResult{Name: "Lumen", Status: db.WorkspaceFailed, Error: "HTTP 500"}})
	if strings.Contains(out.String(), `\u0026`) {
		t.Fatalf("& escaped:\n%s", out.String())
	}
	lines := jsonLines(t, &out)
	retry, cancelled, failed := lines[0], lines[1], lines[2]
	if retry["wait_ms"] != 400.0 || retry["reason"] != "HTTP 503" || retry["workspace"] != "Harbor & Finch" {
		t.Errorf("retry line: %v", retry)
	}
	if cancelled["level"] != "WARN" || cancelled["duration_ms"] != 1500.0 || cancelled["pages_fetched"] != 3.0 || cancelled["status"] != "cancelled" {
		t.Errorf("cancelled workspace: %v", cancelled)
	}
	if failed["level"] != "ERROR" {
		t.Errorf("failed workspace: %v", failed)
	}
	var text bytes.Buffer
	tl, _ := NewLogger(&text, "text", time.Second)
	tl.Observe(sync.WorkspaceFinished{Result: sync.WorkspaceResult{Name: "A", Status: db.WorkspaceSucceeded, Duration: 3900 * time.Millisecond}})
	if !strings.Contains(text.String(), "duration=3.9s") {
		t.Errorf("text durations are for people:\n%s", text.String())
	}
}

// Retries of one cause for one workspace collapse into their first line and one closing
// line with the count and what came next.
func TestRetriesCollapse(t *testing.T) {
	var out bytes.Buffer
	l, _ := NewLogger(&out, "json", time.Second)
	for p := 2; p <= 13; p++ {
		l.Observe(sync.Retrying{Workspace: "Castle", Scope: sync.ScopeRequest, Op: "list page " + string(rune('0'+p%10)), Attempt: 1, Reason: "HTTP 429", Wait: time.Second})
		l.Observe(sync.Retrying{Workspace: "Other", Scope: sync.ScopeRequest, Op: "list page 1", Attempt: 1, Reason: "HTTP 429", Wait: time.Second})
	}
	l.Observe(sync.Retrying{Workspace: "Castle", Scope: sync.ScopeRequest, Op: "list page 9", Attempt: 2, Reason: "HTTP 503", Wait: time.Second})
	l.Observe(sync.WorkspaceFinished{Result: sync.WorkspaceResult{Name: "Castle", Status: db.WorkspaceSucceeded}})
	l.Observe(sync.RunFinished{Summary: sync.Summary{RunID: 7, Status: db.RunSucceeded, WorkspacesTotal: 2, WorkspacesSucceeded: 2}})

	var got []string
	for _, m := range jsonLines(t, &out) {
		line := m["msg"].(string)
		if ws, ok := m["workspace"].(string); ok {
			line += " " + ws
		}
		if n, ok := m["count"].(float64); ok {
			line += " " + m["reason"].(string) + " x" + string(rune('0'+int(n)/10)) + string(rune('0'+int(n)%10)) + " " + m["outcome"].(string)
		}
		got = append(got, line)
	}
	want := []string{
		"retrying Castle", "retrying Other",
		"retried Castle HTTP 429 x12 another cause", "retrying Castle",
		"workspace finished Castle",
		"retried Other HTTP 429 x12 run finished",
		"run finished",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines:\n%s\nwant:\n%s\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), out.String())
	}
}

// The run's closing line says why the run ended as it did, never error="".
func TestRunFinishedReason(t *testing.T) {
	cases := []struct {
		s    sync.Summary
		want string
	}{
		{sync.Summary{WorkspacesTotal: 3, WorkspacesSucceeded: 3}, "every workspace succeeded"},
		{sync.Summary{}, "no workspace selected"},
		{sync.Summary{WorkspacesTotal: 5, WorkspacesFailed: 4, WorkspacesSucceeded: 1, Workspaces: []sync.WorkspaceResult{
			{Name: "A", Status: db.WorkspaceFailed}, {Name: "B", Status: db.WorkspaceFailed}, {Name: "C", Status: db.WorkspaceSucceeded},
			{Name: "D", Status: db.WorkspaceFailed}, {Name: "E", Status: db.WorkspaceFailed}}}, "4 failed: A, B, D and 1 more"},
		{sync.Summary{Error: "interrupted by SIGTERM", Interrupted: true, WorkspacesCancelled: 2}, "interrupted by SIGTERM; 2 cancelled"},
	}
	for _, tc := range cases {
		var out bytes.Buffer
		l, _ := NewLogger(&out, "text", time.Second)
		l.Observe(sync.RunFinished{Summary: tc.s})
		if !strings.Contains(out.String(), `reason="`+tc.want+`"`) || strings.Contains(out.String(), "error=") {
			t.Errorf("closing line %s; want reason %q", out.String(), tc.want)
		}
	}
}
