package tui

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/human"
)

// The detail pane under the workspaces table tells about the workspace under the cursor:
// what it is and which key it uses, when it last synced, its last runs and its instance's
// pace, and its last error.

// recentRunsShown is how many of a workspace's runs the detail pane draws as symbols.
const recentRunsShown = 12

// wsRunsCache keeps the latest runs read for workspaces, to draw the detail pane without a
// read at every frame. An entry is read again once the registry has been re-read since.
type wsRunsCache struct {
	rows map[string]cachedRuns
	want string // the workspace whose runs were asked for last
}

type cachedRuns struct {
	rows []db.RunWorkspace
	gen  int // the registry read it was read after
}

// detailRows is the pane's height: four lines on a tall terminal, two otherwise.
func (m *model) detailRows() int {
	if m.height >= 30 {
		return 4
	}
	return 2
}

// detailDueMsg asks for the runs of the workspace under the cursor, once the cursor has
// rested on it a moment.
type detailDueMsg struct{ name string }

// detailDelay is how long the cursor rests on a workspace before its runs are read.
const detailDelay = 150 * time.Millisecond

// followCursor asks for the runs of the workspace under the cursor when they are not known
// since the last registry read (Update calls it after every message).
func (m *model) followCursor() tea.Cmd {
	if m.view != viewWorkspaces || m.detailRows() < 4 {
		return nil
	}
	name := m.ws.cursorName()
	if name == "" || name == m.cache.want {
		return nil
	}
	if c, ok := m.cache.rows[name]; ok && c.gen == m.ws.gen {
		return nil
	}
	m.cache.want = name
	if !m.cfg.timers {
		return m.c.loadWorkspaceRuns(name)
	}
	return tea.Tick(detailDelay, func(time.Time) tea.Msg { return detailDueMsg{name: name} })
}

func (m *model) onDetailDue(msg detailDueMsg) tea.Cmd {
	if msg.name != m.ws.cursorName() {
		m.cache.want = ""
		return nil
	}
	return m.c.loadWorkspaceRuns(msg.name)
}

// remember keeps a workspace's runs for the detail pane.
func (m *model) remember(name string, rows []db.RunWorkspace) {
	if m.cache.rows == nil {
		m.cache.rows = map[string]cachedRuns{}
	}
	m.cache.rows[name] = cachedRuns{rows: rows, gen: m.ws.gen}
	if m.cache.want == name {
		m.cache.want = ""
	}
}

// wsDetail is the pane's lines.
func (m *model) wsDetail() []string {
	n := m.detailRows()
	out := make([]string, 0, n)
	r := m.ws.current()
	if r == nil {
		return make([]string, n)
	}
	out = append(out, pack([]string{styleBold.Render(r.name), r.instance, fmt.Sprintf("Bison id %d", r.ws.BisonID), keyKind(r.ws)}, m.width)[0])
	if n >= 4 {
		out = append(out, pack(m.lastSyncParts(r), m.width)[0], m.runsAndPace(r))
	}
	return append(out, m.errorLine(r))
}

// keyKind says which key a workspace uses, never the key: its own (by its hint or env:VAR),
// or its instance's super-admin key.
func keyKind(w db.Workspace) string {
	if !w.APIKey.IsZero() {
		if v, ok := w.APIKey.EnvVar(); ok {
			return "own key from env:" + clean(v)
		}
		return "own key " + clean(w.APIKey.Hint())
	}
	switch v, ok := w.Inst.APIKey.EnvVar(); {
	case w.Inst.APIKey.IsZero():
		return "no key: no own key, and " + clean(w.Instance) + " has no super-admin key"
	case ok:
		return "super-admin key (env:" + clean(v) + "), one workspace at a time"
	}
	return "super-admin key " + clean(w.Inst.APIKey.Hint()) + ", one workspace at a time"
}

func (m *model) lastSyncParts(r *wsRow) []string {
	w := r.ws
	var parts []string
	if w.LastSuccessAt != nil {
		parts = append(parts, "last success "+when(*w.LastSuccessAt)+" ("+human.Since(w.LastSuccessAt, m.now)+" ago)")
	} else {
		parts = append(parts, "never synced successfully")
	}
	accounts := num(w.LiveAccounts) + " live accounts"
	if api, known := m.apiTotal(r); known {
		accounts += ", " + num(api) + " at the API"
	}
	parts = append(parts, accounts)
	if w.LastAttemptAt != nil && w.LastStatus != "" {
		a := fmt.Sprintf("last attempt %s ago %s", human.Since(w.LastAttemptAt, m.now), clean(string(w.LastStatus)))
		if w.LastDuration != nil {
			a += " in " + human.Duration(*w.LastDuration)
		}
		if w.ConsecutiveFailures > 1 {
			a += fmt.Sprintf(" (%d failures in a row)", w.ConsecutiveFailures)
		}
		parts = append(parts, a)
	}
	return parts
}

// runsAndPace is the workspace's last runs as outcome symbols (oldest left) and its
// instance's pace: its limits, and a pause the current run knows of.
func (m *model) runsAndPace(r *wsRow) string {
	runs := "last runs: reading…"
	if c, ok := m.cache.rows[r.ws.Name]; ok {
		runs = "last runs: " + outcomeStrip(c.rows, recentRunsShown)
	}
	return clip(runs+" · "+m.pace(r), m.width)
}

// outcomeStrip draws runs (newest first) as their outcome symbols, oldest left.
func outcomeStrip(rows []db.RunWorkspace, n int) string {
	if len(rows) == 0 {
		return "none yet"
	}
	var b strings.Builder
	for i := min(n, len(rows)) - 1; i >= 0; i-- {
		sym, kind := outcome(rows[i].Status)
		b.WriteString(kind.render(strings.Fields(sym)[0]))
	}
	return b.String() + styleFaint.Render(" (newest right; h: its runs)")
}

// pace describes the instance: its limits as configured, its pace now (the run's, else the
// learnt one) and whether it is throttled (instances.go).
func (m *model) pace(r *wsRow) string {
	v, ok := m.instanceView(r.instance)
	if !ok {
		v = instanceView{name: r.instance, learnt: learntPace(r.ws.Inst)}
	}
	if v.inst.Name == "" {
		v.inst = r.ws.Inst
	}
	s := "instance " + r.instance + ": "
	if mk := v.marker(m.now); mk != "" {
		kind := styleKindRunning
		if v.throttled() {
			kind = styleKindWarn
		}
		s += kind.render(mk) + "; "
	}
	if v.live != nil || v.learnt != nil {
		s += "pace " + v.paceWords() + "; "
	}
	return s + "limits " + limitsWords(v.inst)
}

// errorLine is the workspace's last error (e shows it whole), or the registry's read error.
func (m *model) errorLine(r *wsRow) string {
	if m.ws.err != "" {
		return styleKindBad.render(clip(m.ws.err, m.width))
	}
	if r.errText == "" {
		return styleFaint.Render("no error recorded")
	}
	text := r.errText
	kind := styleKindBad
	switch {
	case r.ws.LastStatus == db.WorkspaceCancelled:
		kind = styleKindWarn
	case r.ws.LastError != "":
		text = "error: " + text
	}
	if ansi.StringWidth(text) > m.width {
		return kind.render(clip(text, m.width-14)) + styleFaint.Render(" e: full text")
	}
	return kind.render(text)
}
