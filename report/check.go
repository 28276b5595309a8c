package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/human"
	"github.com/bisonsync/bisonsync/internal/safetext"
)

// Check is one --check: what was checked, and what was found.
type Check struct {
	Schema    string
	Host      string // where the database is, as db.Store.Host names it
	MaxAge    time.Duration
	CheckedAt time.Time
	// Active is how many active workspaces the registry holds.
	Active int
	// Health lists the active workspaces that are not ok, as db.CheckHealth returns them,
	// and the workspaces at the source that the registry lacks (state unregistered), as
	// db.CheckDiscovery does.
	Health []db.Health
	// Problem is a problem of the registry itself (it has no active workspace), in
	// sentences; "" when there is none.
	Problem string
	// Instances are the instances whose workspaces could not be listed, and why: what is
	// new there cannot be seen. Shown, without changing the exit code.
	Instances []InstanceNote
}

// InstanceNote is an instance that could not be listed.
type InstanceNote struct {
	Name    string `json:"name"`
	Problem string `json:"problem"`
}

// countedStates are the states the summary counts, in the order it lists them.
var countedStates = []db.HealthState{db.HealthOK, db.HealthWarning, db.HealthStale, db.HealthFailing, db.HealthNever,
	db.HealthWrongKey, db.HealthGone, db.HealthUnregistered}

// Counts returns how many workspaces are in each state: the active ones of the registry
// (those not listed in Health are ok) and the unregistered ones at the source.
func (c Check) Counts() map[db.HealthState]int {
	counts := make(map[db.HealthState]int, len(countedStates))
	for _, s := range countedStates {
		counts[s] = 0
	}
	for _, h := range c.Health {
		counts[h.State]++
	}
	// The registry was counted in another statement: never let a workspace added between
	// the two make "ok" negative.
	counts[db.HealthOK] = max(0, c.Active-(len(c.Health)-counts[db.HealthUnregistered]))
	return counts
}

// Summary is the one-line count: "26 workspaces: 22 ok, 3 stale, 1 failing". States with no
// workspace are left out, except ok.
func (c Check) Summary() string {
	if c.Active == 0 && len(c.Health) == 0 {
		return "0 workspaces: the registry has no active workspace"
	}
	counts := c.Counts()
	total := 0
	var parts []string
	for _, s := range countedStates {
		total += counts[s]
		if counts[s] > 0 || s == db.HealthOK {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	noun := "workspaces"
	if total == 1 {
		noun = "workspace"
	}
	return fmt.Sprintf("%d %s: %s", total, noun, strings.Join(parts, ", "))
}

// NeedsAttention reports whether the check calls for exit 1: a workspace stale, failing or
// never synced, or a registry with no active workspace. Warnings alone do not.
func (c Check) NeedsAttention() bool {
	if c.Problem != "" {
		return true
	}
	for _, h := range c.Health {
		if h.State.NeedsAttention() {
			return true
		}
	}
	return false
}

// header names what was checked.
func (c Check) header() string {
	return fmt.Sprintf("bisonsync check: schema %s on %s, max age %s, at %s", c.Schema, c.Host,
		human.Setting(c.MaxAge), c.CheckedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
}

// CheckText prints a header, the one-line summary, the registry's problem if it has one,
// then one line per workspace that is not ok (those needing attention first, then the
// warnings): name, state, age of the last success, reason.
func CheckText(w io.Writer, c Check) {
	fmt.Fprintln(w, c.header())
	fmt.Fprintln(w, c.Summary())
	if c.Problem != "" {
		fmt.Fprintln(w, safetext.Clean(c.Problem))
	}
	if len(c.Health) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "WORKSPACE\tSTATE\tLAST SUCCESS\tREASON")
		for _, h := range c.Health {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", safetext.Clean(h.Workspace), h.State, age(h), safetext.Clean(h.Reason))
		}
		tw.Flush()
	}
	for _, in := range c.Instances {
		fmt.Fprintf(w, "instance %s %s\n", safetext.Clean(in.Name), safetext.Clean(in.Problem))
	}
}

type checkWorkspace struct {
	Name                string     `json:"name"`
	Instance            string     `json:"instance"`
	BisonID             int        `json:"bison_id"`
	State               string     `json:"state"`
	LastSuccessAt       *time.Time `json:"last_success_at"`
	AgeSeconds          *int64     `json:"age_seconds"`
	Age                 string     `json:"age"`
	LastAttemptAt       *time.Time `json:"last_attempt_at"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	Reason              string     `json:"reason"`
}

// checkJSON is the --check --json object. ok is false when the check needs attention;
// workspaces lists those that need it, warnings those that only carry a warning.
type checkJSON struct {
	OK         bool                   `json:"ok"`
	Schema     string                 `json:"schema"`
	MaxAge     string                 `json:"max_age"`
	CheckedAt  time.Time              `json:"checked_at"`
	Summary    string                 `json:"summary"`
	Total      int                    `json:"total"`
	Counts     map[db.HealthState]int `json:"counts"`
	Problem    string                 `json:"problem,omitempty"`
	Workspaces []checkWorkspace       `json:"workspaces"`
	Warnings   []checkWorkspace       `json:"warnings"`
	// Instances that could not be listed: their new workspaces cannot be seen.
	Instances []InstanceNote `json:"instances"`
}

// CheckJSON prints the check as one JSON object, with the same counts as the summary line.
func CheckJSON(w io.Writer, c Check) error {
	out := checkJSON{OK: !c.NeedsAttention(), Schema: c.Schema, MaxAge: c.MaxAge.String(), CheckedAt: c.CheckedAt.UTC(),
		Summary: c.Summary(), Counts: c.Counts(), Problem: c.Problem,
		Workspaces: []checkWorkspace{}, Warnings: []checkWorkspace{}, Instances: c.Instances}
	if out.Instances == nil {
		out.Instances = []InstanceNote{}
	}
	for _, n := range out.Counts {
		out.Total += n
	}
	for _, h := range c.Health {
		if h.State.NeedsAttention() {
			out.Workspaces = append(out.Workspaces, toCheck(h))
		} else {
			out.Warnings = append(out.Warnings, toCheck(h))
		}
	}
	return writeJSON(w, out)
}

// writeJSON writes v indented, with & < > as themselves: the output is read by people and
// by programs, never embedded in HTML.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func toCheck(h db.Health) checkWorkspace {
	cw := checkWorkspace{Name: h.Workspace, Instance: h.Instance, BisonID: h.BisonID, State: string(h.State), LastSuccessAt: h.LastSuccessAt,
		Age: age(h), LastAttemptAt: h.LastAttemptAt, ConsecutiveFailures: h.ConsecutiveFailures, Reason: h.Reason}
	if h.LastSuccessAt != nil {
		s := int64(h.Age.Seconds())
		cw.AgeSeconds = &s
	}
	return cw
}

// age is the age of a workspace's last success, "never", or "-" for a workspace that is not
// in the registry.
func age(h db.Health) string {
	if h.State == db.HealthUnregistered {
		return "-"
	}
	if h.LastSuccessAt == nil {
		return "never"
	}
	return human.Age(h.Age)
}
