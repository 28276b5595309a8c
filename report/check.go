package report

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/human"
	"github.com/bisonsync/bisonsync/internal/safetext"
)

// CheckText prints one line per workspace that is not ok (db.CheckHealth's order: those
// needing attention, then the warnings): name, state, age of the last success, reason.
// Nothing is printed when all is well.
func CheckText(w io.Writer, health []db.Health) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, h := range health {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", safetext.Clean(h.Workspace), h.State, age(h), safetext.Clean(h.Reason))
	}
	tw.Flush()
}

type checkWorkspace struct {
	Name                string     `json:"name"`
	Instance            string     `json:"instance"`
	State               string     `json:"state"`
	LastSuccessAt       *time.Time `json:"last_success_at"`
	AgeSeconds          *int64     `json:"age_seconds"`
	Age                 string     `json:"age"`
	LastAttemptAt       *time.Time `json:"last_attempt_at"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	Reason              string     `json:"reason"`
}

// CheckJSON prints the check as one JSON object; ok is false only for workspaces that need
// attention, warnings are listed apart.
func CheckJSON(w io.Writer, health []db.Health, maxAge time.Duration) error {
	out := struct {
		OK         bool             `json:"ok"`
		MaxAge     string           `json:"max_age"`
		CheckedAt  time.Time        `json:"checked_at"`
		Workspaces []checkWorkspace `json:"workspaces"`
		Warnings   []checkWorkspace `json:"warnings"`
	}{OK: !NeedsAttention(health), MaxAge: maxAge.String(), CheckedAt: time.Now().UTC(), Workspaces: []checkWorkspace{}, Warnings: []checkWorkspace{}}
	for _, h := range health {
		if h.State.NeedsAttention() {
			out.Workspaces = append(out.Workspaces, toCheck(h))
		} else {
			out.Warnings = append(out.Warnings, toCheck(h))
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func toCheck(h db.Health) checkWorkspace {
	cw := checkWorkspace{Name: h.Workspace, Instance: h.Instance, State: string(h.State), LastSuccessAt: h.LastSuccessAt,
		Age: age(h), LastAttemptAt: h.LastAttemptAt, ConsecutiveFailures: h.ConsecutiveFailures, Reason: h.Reason}
	if h.LastSuccessAt != nil {
		s := int64(h.Age.Seconds())
		cw.AgeSeconds = &s
	}
	return cw
}

// NeedsAttention reports whether any of the workspaces needs attention: --check's exit 1.
func NeedsAttention(health []db.Health) bool {
	for _, h := range health {
		if h.State.NeedsAttention() {
			return true
		}
	}
	return false
}

// age is the age of a workspace's last success, or "never".
func age(h db.Health) string {
	if h.LastSuccessAt == nil {
		return "never"
	}
	return human.Age(h.Age)
}
