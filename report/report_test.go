package report

import (
	"bytes"
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
	CheckText(&out, []db.Health{{Workspace: evil, State: db.HealthFailing, Reason: "reason \x1b[1mbold"}})
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
