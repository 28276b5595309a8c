package report

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/safetext"
)

// CheckText prints one line per workspace needing attention: name, state, age of the last
// success, reason. Nothing is printed when all is well.
func CheckText(w io.Writer, health []db.Health) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, h := range health {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", safetext.Clean(h.Workspace), h.State, Age(h.LastSuccessAt, h.Age), safetext.Clean(h.Reason))
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

// CheckJSON prints the check as one JSON object.
func CheckJSON(w io.Writer, health []db.Health, maxAge time.Duration) error {
	out := struct {
		OK         bool             `json:"ok"`
		MaxAge     string           `json:"max_age"`
		CheckedAt  time.Time        `json:"checked_at"`
		Workspaces []checkWorkspace `json:"workspaces"`
	}{OK: len(health) == 0, MaxAge: maxAge.String(), CheckedAt: time.Now().UTC(), Workspaces: []checkWorkspace{}}
	for _, h := range health {
		cw := checkWorkspace{Name: h.Workspace, Instance: h.Instance, State: string(h.State), LastSuccessAt: h.LastSuccessAt,
			Age: Age(h.LastSuccessAt, h.Age), LastAttemptAt: h.LastAttemptAt, ConsecutiveFailures: h.ConsecutiveFailures, Reason: h.Reason}
		if h.LastSuccessAt != nil {
			s := int64(h.Age.Seconds())
			cw.AgeSeconds = &s
		}
		out.Workspaces = append(out.Workspaces, cw)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// Age renders how long ago something happened, coarsely: "45s", "3m", "5h", "18d", or
// "never" when it did not.
func Age(at *time.Time, age time.Duration) string {
	if at == nil {
		return "never"
	}
	switch {
	case age < time.Minute:
		return fmt.Sprintf("%ds", int(age.Seconds()))
	case age < time.Hour:
		return fmt.Sprintf("%dm", int(age.Minutes()))
	case age < 48*time.Hour:
		return fmt.Sprintf("%dh", int(age.Hours()))
	default:
		return fmt.Sprintf("%dd", int(age.Hours()/24))
	}
}
