package report

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/safetext"
)

// Warnings returns the workspaces that are otherwise healthy but carry a warning from their
// last sync (a key that may serve another workspace's data), as Health rows in state
// "warning". They are shown by --check but do not change its exit code, which the contract
// ties to stale, failing and never-synced workspaces.
func Warnings(ctx context.Context, store *db.Store, health []db.Health) ([]db.Health, error) {
	listed := map[string]bool{}
	for _, h := range health {
		listed[h.Workspace] = true
	}
	all, err := store.Workspaces(ctx, db.Selection{})
	if err != nil {
		return nil, err
	}
	var out []db.Health
	for _, w := range all {
		if w.LastWarning == "" || listed[w.Name] {
			continue
		}
		h := db.Health{Workspace: w.Name, Instance: w.Instance, State: "warning", LastSuccessAt: w.LastSuccessAt,
			LastAttemptAt: w.LastAttemptAt, Reason: w.LastWarning}
		if w.LastSuccessAt != nil {
			h.Age = time.Since(*w.LastSuccessAt)
		}
		out = append(out, h)
	}
	return out, nil
}

// CheckText prints one line per workspace needing attention: name, state, age of the last
// success, reason; then the warnings. Nothing is printed when all is well.
func CheckText(w io.Writer, health, warnings []db.Health) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, h := range append(append([]db.Health(nil), health...), warnings...) {
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

// CheckJSON prints the check as one JSON object; ok is false only for stale, failing or
// never-synced workspaces, warnings are listed apart.
func CheckJSON(w io.Writer, health, warnings []db.Health, maxAge time.Duration) error {
	out := struct {
		OK         bool             `json:"ok"`
		MaxAge     string           `json:"max_age"`
		CheckedAt  time.Time        `json:"checked_at"`
		Workspaces []checkWorkspace `json:"workspaces"`
		Warnings   []checkWorkspace `json:"warnings"`
	}{OK: len(health) == 0, MaxAge: maxAge.String(), CheckedAt: time.Now().UTC(), Workspaces: []checkWorkspace{}, Warnings: []checkWorkspace{}}
	for _, h := range health {
		out.Workspaces = append(out.Workspaces, toCheck(h))
	}
	for _, h := range warnings {
		out.Warnings = append(out.Warnings, toCheck(h))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func toCheck(h db.Health) checkWorkspace {
	cw := checkWorkspace{Name: h.Workspace, Instance: h.Instance, State: string(h.State), LastSuccessAt: h.LastSuccessAt,
		Age: Age(h.LastSuccessAt, h.Age), LastAttemptAt: h.LastAttemptAt, ConsecutiveFailures: h.ConsecutiveFailures, Reason: h.Reason}
	if h.LastSuccessAt != nil {
		s := int64(h.Age.Seconds())
		cw.AgeSeconds = &s
	}
	return cw
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
