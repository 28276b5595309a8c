package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// SummaryJSON prints the run summary (the --json output of a run, CONTRACT.md §5) as one
// JSON object.
func SummaryJSON(w io.Writer, s sync.Summary) error {
	if err := writeJSON(w, s); err != nil {
		return fmt.Errorf("write the summary: %w", err)
	}
	return nil
}

// RunReason says in a sentence why a run ended as it did: the interruption or deadline, the
// workspaces that failed (named, a few) and those cancelled, or that all went well.
func RunReason(s sync.Summary) string {
	var parts []string
	if s.Error != "" {
		parts = append(parts, s.Error)
	}
	if s.WorkspacesFailed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed: %s", s.WorkspacesFailed, names(s, db.WorkspaceFailed, 3)))
	}
	if s.WorkspacesCancelled > 0 {
		parts = append(parts, fmt.Sprintf("%d cancelled", s.WorkspacesCancelled))
	}
	if len(parts) > 0 {
		return strings.Join(parts, "; ")
	}
	switch {
	case s.WorkspacesTotal == 0:
		return "no workspace selected"
	case s.WorkspacesSkipped > 0:
		return fmt.Sprintf("every workspace succeeded or was skipped (%d held by another process)", s.WorkspacesSkipped)
	}
	return "every workspace succeeded"
}

// names lists up to limit workspaces of the run with status, and how many more there are.
func names(s sync.Summary, status db.WorkspaceStatus, limit int) string {
	var out []string
	more := 0
	for _, w := range s.Workspaces {
		if w.Status != status {
			continue
		}
		if len(out) == limit {
			more++
			continue
		}
		out = append(out, w.Name)
	}
	list := strings.Join(out, ", ")
	if more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	return list
}
