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

// Names and errors come from the API and the database: neither the log nor --check may pass
// an escape sequence to the terminal.
func TestUntrustedTextCannotDriveTheTerminal(t *testing.T) {
	evil := "Evil\x1b[2J\x1b]0;pwned\x07 Corp"
	var out bytes.Buffer
	for _, format := range []string{"text", "json"} {
		l, err := NewLogger(&out, format, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		l.Observe(sync.WorkspaceStarted{Workspace: evil, Attempt: 1})
		l.Observe(sync.WorkspaceFinished{Result: sync.WorkspaceResult{Name: evil, Status: db.WorkspaceFailed, Error: "bad \x1b[31mred"}})
	}
	CheckText(&out, Check{Active: 1, Health: []db.Health{{Workspace: evil, State: db.HealthFailing, Reason: "reason \x1b[1mbold"}}})
	if strings.ContainsRune(out.String(), 0x1b) || strings.ContainsRune(out.String(), 0x07) {
		t.Fatalf("an escape sequence reached the output:\n%q", out.String())
	}
	if _, err := NewLogger(&out, "xml", 0); err == nil {
		t.Fatal("an unknown log format was accepted")
	}
}

// Page lines are rate-limited per workspace; the first and the last page always show.
func TestPageLinesAreRateLimited(t *testing.T) {
	var out bytes.Buffer
	l, _ := NewLogger(&out, "text", time.Hour)
	for p := 1; p <= 29; p++ {
		l.Observe(sync.PageFetched{Workspace: "Jason Binyon", Page: p, LastPage: 29, PagesFetched: p})
	}
	if n := strings.Count(out.String(), "page fetched"); n != 3 { // page 1, one due, page 29
		t.Fatalf("%d page lines for 29 pages:\n%s", n, out.String())
	}
}

// The check prints a header and a one-line count also when all is well; the JSON form has
// the same counts, and & stays &.
func TestCheckSummary(t *testing.T) {
	never := db.Health{Workspace: "Lumen B2B", State: db.HealthNever, Reason: "never synced"}
	failing := db.Health{Workspace: "Harbor & Finch", State: db.HealthFailing, Reason: "HTTP 500"}
	stale := db.Health{Workspace: "Apex", State: db.HealthStale, Reason: "old"}
	warn := db.Health{Workspace: "Kinetic", State: db.HealthWarning, Reason: "shared accounts"}
	gone := db.Health{Workspace: "Lumen", State: db.HealthGone, Reason: "no longer listed"}
	wrongKey := db.Health{Workspace: "Castle", State: db.HealthWrongKey, Reason: "serves Summit"}
	unregistered := db.Health{Workspace: "Northwind", State: db.HealthUnregistered, Reason: "not in the registry"}
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		check     Check
		summary   string
		attention bool
	}{
		{Check{Active: 26}, "26 workspaces: 26 ok", false},
		{Check{Active: 26, Health: []db.Health{failing, stale, stale, stale}}, "26 workspaces: 22 ok, 3 stale, 1 failing", true},
		{Check{Active: 2, Health: []db.Health{warn}}, "2 workspaces: 1 ok, 1 warning", false},
		{Check{Active: 1, Health: []db.Health{never}}, "1 workspace: 0 ok, 1 never", true},
		{Check{Problem: "schema x has no active workspace"}, "0 workspaces: the registry has no active workspace", true},
		{Check{Active: 26, Health: []db.Health{gone, wrongKey, unregistered}}, "27 workspaces: 24 ok, 1 wrong-key, 1 gone, 1 unregistered", true},
		{Check{Problem: "schema x has no active workspace", Health: []db.Health{unregistered}}, "1 workspace: 0 ok, 1 unregistered", true},
	}
	for _, tc := range cases {
		tc.check.Schema, tc.check.Host, tc.check.MaxAge, tc.check.CheckedAt = "public", "db:5432/postgres", 24*time.Hour, at
		var text, js bytes.Buffer
		CheckText(&text, tc.check)
		lines := strings.Split(strings.TrimSuffix(text.String(), "\n"), "\n")
		if lines[0] != "bisonsync check: schema public on db:5432/postgres, max age 24h, at 2026-05-01 12:00:00 UTC" ||
			lines[1] != tc.summary || tc.check.NeedsAttention() != tc.attention {
			t.Errorf("check %+v:\n%s", tc.check, text.String())
		}
		if len(tc.check.Health) > 0 && len(lines) != 3+len(tc.check.Health)+min(1, len(tc.check.Problem)) {
			t.Errorf("want one line per workspace that is not ok, after a heading:\n%s", text.String())
		}
		if err := CheckJSON(&js, tc.check); err != nil {
			t.Fatal(err)
		}
		var got struct {
			OK      bool
			Summary string
			Total   int
			Counts  map[string]int
		}
		if err := json.Unmarshal(js.Bytes(), &got); err != nil || got.OK == tc.attention || got.Summary != tc.summary ||
			got.Total != tc.check.Active+tc.check.Counts()[db.HealthUnregistered] || len(got.Counts) != 8 {
			t.Errorf("JSON of %+v: %v\n%s", tc.check, err, js.String())
		}
		if strings.Contains(js.String(), `\u0026`) {
			t.Errorf("& escaped in JSON:\n%s", js.String())
		}
	}
}

// A change of pace is one line, with its facts as fields.
func TestPaceChangeIsOneLine(t *testing.T) {
	var out bytes.Buffer
	l, _ := NewLogger(&out, "json", time.Second)
	l.Observe(sync.PaceChanged{Instance: "main", From: sync.Pace{RequestsPerSecond: 20, InFlight: 32},
		To: sync.Pace{RequestsPerSecond: 14.4, InFlight: 18}, Reason: "HTTP 429 (Retry-After 1s)"})
	line := out.String()
	for _, want := range []string{`"instance":"main"`, `"requests_per_second":14.4`, `"in_flight":18`, `"previous_in_flight":32`,
		`pace of instance main cut: 20 requests/s, 32 in flight -> 14.4 requests/s, 18 in flight (HTTP 429 (Retry-After 1s))`} {
		if !strings.Contains(line, want) {
			t.Errorf("the pace line lacks %s:\n%s", want, line)
		}
	}
	if n := strings.Count(line, "\n"); n != 1 {
		t.Errorf("%d lines for one change of pace", n)
	}
}
