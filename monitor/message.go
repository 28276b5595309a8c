package monitor

import (
	"fmt"
	"strings"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/human"
	"github.com/bisonsync/bisonsync/internal/safetext"
	"github.com/bisonsync/bisonsync/sync"
)

// Kind says what a Message reports on.
type Kind string

// Message kinds.
const (
	KindRun   Kind = "run"   // a sync run ended with failures or cancellations
	KindCheck Kind = "check" // a check found stale, failing or never-synced workspaces
)

// Message is one notification. Text is what a Slack incoming webhook shows; the other fields
// carry the same facts for receivers that parse them.
type Message struct {
	// Text is a headline, then one line per workspace (at most maxTextLines of them), made
	// safe to show: control characters removed, Slack's &, < and > escaped.
	Text string `json:"text"`
	Kind Kind   `json:"kind"`
	// RunID is the run's id; 0 (and omitted) in a check.
	RunID int64 `json:"run_id,omitempty"`
	// Status is the run's status (succeeded, partial, failed, cancelled) in a run; "ok" or
	// "unhealthy" in a check.
	Status string `json:"status"`
	// MaxAge is the age past which a workspace is stale, in a check: "24h0m0s".
	MaxAge string `json:"max_age,omitempty"`
	// Workspaces lists every workspace that needs attention, as the data has it (not
	// truncated, not escaped): Text may leave some out, this never does.
	Workspaces []WorkspaceNote `json:"workspaces"`
}

// WorkspaceNote is one workspace that needs attention.
type WorkspaceNote struct {
	Name     string `json:"name"`
	Instance string `json:"instance"`
	// Status is the workspace's status in the run (failed, cancelled), or what the run's
	// discovery found (unregistered, gone); empty in a check.
	Status string `json:"status,omitempty"`
	// State is the workspace's state in a check (never, failing, stale); empty in a run.
	State  string `json:"state,omitempty"`
	Reason string `json:"reason"`
}

// db.HealthWarning marks, in a check, a workspace that is otherwise healthy but whose last sync
// left a warning.

// Statuses of a check message.
const (
	checkOK        = "ok"
	checkUnhealthy = "unhealthy"
)

// Bounds of Text. Slack cuts messages beyond about 40,000 characters, and a fleet-wide outage
// of 2,000 workspaces would pass that; past a screenful, more lines help nobody anyway. The
// Workspaces field keeps them all.
const (
	maxTextLines   = 50
	maxReasonRunes = 300
)

// RunMessage describes a finished run. The bool reports whether there is anything to
// notify: a workspace failed or was cancelled, one left a warning (its key may serve another
// workspace's data), or the run did not succeed.
func RunMessage(s sync.Summary) (Message, bool) {
	msg := Message{Kind: KindRun, RunID: s.RunID, Status: string(s.Status), Workspaces: []WorkspaceNote{}}
	var failed, cancelled, warned int
	for _, w := range s.Workspaces {
		switch {
		case w.Status == db.WorkspaceFailed:
			failed++
		case w.Status == db.WorkspaceCancelled:
			cancelled++
		case w.Warning != "":
			warned++
			msg.Workspaces = append(msg.Workspaces, WorkspaceNote{Name: w.Name, Instance: w.Instance, Status: string(db.HealthWarning), Reason: w.Warning})
			continue
		default:
			continue
		}
		msg.Workspaces = append(msg.Workspaces, WorkspaceNote{Name: w.Name, Instance: w.Instance, Status: string(w.Status), Reason: runReason(w)})
	}

	discovered := discoveryNotes(s.Discovery)
	msg.Workspaces = append(msg.Workspaces, discovered...)

	// "1 of 26 workspaces failed, 2 cancelled"
	var counts []string
	for _, c := range []struct {
		n    int
		verb string
	}{{failed, "failed"}, {cancelled, "cancelled"}, {warned, "with a warning"}} {
		switch {
		case c.n == 0:
		case len(counts) == 0:
			counts = append(counts, fmt.Sprintf("%d of %d workspaces %s", c.n, len(s.Workspaces), c.verb))
		default:
			counts = append(counts, fmt.Sprintf("%d %s", c.n, c.verb))
		}
	}
	headline := fmt.Sprintf("bisonsync run %d %s", s.RunID, s.Status)
	if len(counts) > 0 {
		headline += ": " + strings.Join(counts, ", ")
	}
	if len(discovered) > 0 {
		headline += fmt.Sprintf("; %d at the source need the registry's attention", len(discovered))
	}
	if s.Error != "" {
		headline += "; run error: " + clip(s.Error)
	}
	lines := make([]string, len(msg.Workspaces))
	for i, w := range msg.Workspaces {
		lines[i] = workspaceLine(w.Name, w.Status, w.Reason)
	}
	msg.Text = text(headline, lines)

	notify := len(msg.Workspaces) > 0 || (s.Status != "" && s.Status != db.RunSucceeded)
	return msg, notify
}

// runReason is why a workspace did not succeed. The engine always records one; the fallback
// keeps a line readable should it not.
func runReason(w sync.WorkspaceResult) string {
	if w.Error != "" {
		return w.Error
	}
	if w.Status == db.WorkspaceCancelled {
		return "the run ended before the workspace finished"
	}
	return "no reason recorded"
}

// CheckMessage describes a health check: h as CheckHealth returns it, judged against maxAge,
// possibly followed by workspaces in state "warning" (healthy, but their last sync left a
// warning). The bool reports whether there is anything to notify.
func CheckMessage(h []db.Health, maxAge time.Duration) (Message, bool) {
	msg := Message{Kind: KindCheck, Status: checkOK, MaxAge: maxAge.String(), Workspaces: []WorkspaceNote{}}
	byState := map[db.HealthState]int{}
	lines := make([]string, len(h))
	for i, w := range h {
		byState[w.State]++
		msg.Workspaces = append(msg.Workspaces, WorkspaceNote{Name: w.Workspace, Instance: w.Instance, State: string(w.State), Reason: w.Reason})
		lines[i] = workspaceLine(w.Workspace, string(w.State), w.Reason)
	}
	if len(h) == 0 {
		msg.Text = fmt.Sprintf("bisonsync check: every active workspace synced within %s", human.Setting(maxAge))
		return msg, false
	}

	msg.Status = checkUnhealthy
	if byState[db.HealthWarning] == len(h) {
		msg.Status = string(db.HealthWarning)
	}
	var counts []string
	for _, st := range []struct {
		state db.HealthState
		words string
	}{{db.HealthNever, "never synced"}, {db.HealthFailing, "failing"}, {db.HealthStale, "stale"},
		{db.HealthWrongKey, "with a key of another workspace"}, {db.HealthGone, "gone from the source"},
		{db.HealthUnregistered, "not in the registry"}, {db.HealthWarning, "with a warning"}} {
		if n := byState[st.state]; n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, st.words))
		}
	}
	noun := "workspaces need"
	if len(h) == 1 {
		noun = "workspace needs"
	}
	headline := fmt.Sprintf("bisonsync check: %d %s attention (%s; max age %s)", len(h), noun, strings.Join(counts, ", "), human.Setting(maxAge))
	msg.Text = text(headline, lines)
	return msg, true
}

// workspaceLine is one line of Text: "• Castle Agency (failed): reason".
func workspaceLine(name, status, reason string) string {
	return slackEscape(fmt.Sprintf("• %s (%s): %s", safetext.Clean(name), safetext.Clean(status), clip(reason)))
}

// text joins the headline (made safe here) and at most maxTextLines lines (already safe),
// saying how many were left out.
func text(headline string, lines []string) string {
	var b strings.Builder
	b.WriteString(slackEscape(safetext.Clean(headline)))
	for i, l := range lines {
		if i == maxTextLines {
			fmt.Fprintf(&b, "\n… and %d more (all are in the workspaces field)", len(lines)-maxTextLines)
			break
		}
		b.WriteString("\n")
		b.WriteString(l)
	}
	return b.String()
}

// clip makes untrusted text one line of at most maxReasonRunes runes, without control
// characters. It does not escape: the caller escapes whole lines, after the cut, so that an
// entity such as &amp; is never cut in half.
func clip(s string) string {
	s = strings.Join(strings.Fields(safetext.Clean(s)), " ")
	if r := []rune(s); len(r) > maxReasonRunes {
		s = string(r[:maxReasonRunes-1]) + "…"
	}
	return s
}

// slackEscape escapes the three characters Slack gives a meaning to in message text: left
// alone, a workspace named "<!channel>" would page a whole channel.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
