package tui

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/safetext"
)

// Styles use the 16 ANSI colours, which the terminal's own theme maps to something
// readable on light and dark backgrounds alike, plus bold and reverse. Colour never carries
// meaning alone: every status has a symbol and a word. Under NO_COLOR the program's colour
// profile drops the colours and keeps the decorations.
var (
	styleBold    = lipgloss.NewStyle().Bold(true)
	styleFaint   = lipgloss.NewStyle().Faint(true)
	styleCursor  = lipgloss.NewStyle().Reverse(true)
	styleTab     = lipgloss.NewStyle().Bold(true).Reverse(true)
	styleOK      = lipgloss.NewStyle().Foreground(lipgloss.Green)
	styleWarn    = lipgloss.NewStyle().Foreground(lipgloss.Yellow)
	styleBad     = lipgloss.NewStyle().Foreground(lipgloss.Red).Bold(true)
	styleNever   = lipgloss.NewStyle().Foreground(lipgloss.Magenta)
	styleRunning = lipgloss.NewStyle().Foreground(lipgloss.Cyan)
	styleBanner  = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Yellow)
	styleAsk     = lipgloss.NewStyle().Bold(true).Reverse(true)
)

// Status symbols. Each is shown with its word ("✓ ok", "✗ failing").
const (
	symOK        = "✓"
	symFailed    = "✗"
	symStale     = "!"
	symNever     = "?"
	symRunning   = "»"
	symQueued    = "·"
	symWaiting   = "↻"
	symPending   = "~" // started or queued, waiting for something before its first page
	symCancelled = "○"
	symSkipped   = "-"
	symThrottled = "↓" // an instance paused or slowed down after a 429
	symRising    = "↗" // an instance's pace going back up
	symAsked     = "⇠" // a run asked for through sync_requests, by whom
	symSelected  = "●"
	symCursor    = "›"
)

// clean makes a string from the API or the database safe to draw.
func clean(s string) string { return safetext.Clean(s) }

// fit truncates s (plain text) to w cells with an ellipsis, or pads it with spaces to w.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-sw)
}

// fitRight is fit, aligned right.
func fitRight(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return strings.Repeat(" ", w-sw) + s
}

// clip cuts a (possibly styled) line to w cells.
func clip(s string, w int) string {
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// spread puts left and right on one line of width w, dropping right when both do not fit.
func spread(left, right string, w int) string {
	lw, rw := ansi.StringWidth(left), ansi.StringWidth(right)
	if right == "" || lw+rw+1 > w {
		return clip(left, w)
	}
	return left + strings.Repeat(" ", w-lw-rw) + right
}

// wrap breaks plain text into lines of at most w cells.
func wrap(s string, w int) []string {
	if w <= 0 {
		return nil
	}
	return strings.Split(ansi.Wrap(s, w, " /-_"), "\n")
}

// num formats an integer with thousands separators: 4,839.
func num(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// when renders a moment for the history: "11-29 06:05:08" in local time.
func when(t time.Time) string { return t.In(zone).Format("01-02 15:04:05") }

// clock renders a moment of today: "06:05:08" in local time.
func clock(t time.Time) string { return t.In(zone).Format("15:04:05") }

// zone is the time zone moments are shown in: the local one. Golden tests pin it.
var zone = time.Local

// bar2 draws a bar of w cells with two filled parts: done (█) and, after it, flight (▓), both
// fractions of the whole; the rest is ░. Hand-written: the bubbles progress bar draws one
// fraction, and the run's bar must keep finished work apart from work that a cancel drops.
func bar2(done, flight float64, w int) string {
	if w <= 0 {
		return ""
	}
	d := min(int(done*float64(w)), w)
	f := min(int((done+flight)*float64(w)), w) - d
	return strings.Repeat("█", d) + strings.Repeat("▓", max(f, 0)) + strings.Repeat("░", w-d-max(f, 0))
}

// plural returns "1 workspace" or "3 workspaces".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return num(n) + " " + many
}

// styleKind names a status style, so that panes pick a meaning and one place picks colours.
type styleKind int

const (
	styleKindPlain styleKind = iota
	styleKindOK
	styleKindWarn
	styleKindBad
	styleKindNever
	styleKindRunning
	styleKindFaint
)

func (k styleKind) render(s string) string {
	switch k {
	case styleKindOK:
		return styleOK.Render(s)
	case styleKindWarn:
		return styleWarn.Render(s)
	case styleKindBad:
		return styleBad.Render(s)
	case styleKindNever:
		return styleNever.Render(s)
	case styleKindRunning:
		return styleRunning.Render(s)
	case styleKindFaint:
		return styleFaint.Render(s)
	}
	return s
}

// outcome renders a workspace's status in a run (sync_run_workspaces.status) with its
// symbol, and its style.
func outcome(status db.WorkspaceStatus) (string, styleKind) {
	switch status {
	case db.WorkspaceSucceeded:
		return symOK + " ok", styleKindOK
	case db.WorkspaceFailed:
		return symFailed + " failed", styleKindBad
	case db.WorkspaceCancelled:
		return symCancelled + " cancelled", styleKindWarn
	case db.WorkspaceSkipped:
		return symSkipped + " skipped", styleKindFaint
	case db.WorkspaceRunning:
		return symRunning + " running", styleKindRunning
	case db.WorkspaceQueued:
		return symQueued + " queued", styleKindRunning
	}
	return clean(string(status)), styleKindPlain
}

// runOutcome renders a run's status (sync_runs.status) with its symbol, and its style.
func runOutcome(status db.RunStatus) (string, styleKind) {
	switch status {
	case db.RunSucceeded:
		return symOK + " succeeded", styleKindOK
	case db.RunPartial:
		return symStale + " partial", styleKindWarn
	case db.RunFailed:
		return symFailed + " failed", styleKindBad
	case db.RunCancelled:
		return symCancelled + " cancelled", styleKindWarn
	case db.RunAbandoned:
		return symFailed + " abandoned", styleKindBad
	case db.RunRunning:
		return symRunning + " running", styleKindRunning
	}
	return clean(string(status)), styleKindPlain
}

// pack joins parts with " · " into lines of at most w cells, starting a new line where the
// next part does not fit; a part wider than w is clipped. Parts may be styled.
func pack(parts []string, w int) []string { return packSep(parts, " · ", w) }

// packSep is pack with another separator.
func packSep(parts []string, sep string, w int) []string {
	sw := ansi.StringWidth(sep)
	var lines []string
	cur, curW := "", 0
	for _, p := range parts {
		pw := ansi.StringWidth(p)
		switch {
		case cur == "":
			cur, curW = p, pw
		case curW+sw+pw <= w:
			cur, curW = cur+sep+p, curW+sw+pw
		default:
			lines = append(lines, clip(cur, w))
			cur, curW = p, pw
		}
	}
	if cur != "" {
		lines = append(lines, clip(cur, w))
	}
	return lines
}

// durationBar draws d as a bar of up to w cells, longest filling them all; a bar never
// vanishes for a duration above zero.
func durationBar(d, longest time.Duration, w int) string {
	if w <= 0 {
		return ""
	}
	n := 0
	if longest > 0 && d > 0 {
		n = max(int(float64(d)/float64(longest)*float64(w)+0.5), 1)
	}
	n = min(n, w)
	return styleKindRunning.render(strings.Repeat("▬", n)) + strings.Repeat(" ", w-n)
}

// sparkLevels are a sparkline's eight heights.
var sparkLevels = []rune("▁▂▃▄▅▆▇█")

// sparkline draws values, one cell each, from the lowest (▁) to the highest (█) among them.
func sparkline(values []float64) string {
	if len(values) == 0 {
		return ""
	}
	lo, hi := slices.Min(values), slices.Max(values)
	var b strings.Builder
	for _, v := range values {
		i := len(sparkLevels) - 1
		if hi > lo {
			i = int((v - lo) / (hi - lo) * float64(len(sparkLevels)-1))
		}
		b.WriteRune(sparkLevels[i])
	}
	return b.String()
}

// heat is one cell telling how far along 0..1 a fraction is (▁ to █); past 1 it is a full
// block.
func heat(f float64) string {
	i := int(max(min(f, 1), 0) * float64(len(sparkLevels)-1))
	return string(sparkLevels[i])
}
