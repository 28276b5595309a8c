package tui

import (
	"fmt"
	"strings"

	"github.com/bisonsync/bisonsync/internal/human"
)

// The workspaces view: the registry's header, the table, and the pane under it.

func (m *model) workspacesBody(l layout) []string {
	p := &m.ws
	out := make([]string, 0, l.body)
	out = append(out, m.wsHeader()...)
	if m.cfg.banner != "" {
		out = append(out, styleBanner.Render(clip(m.cfg.banner, m.width)))
	}
	if m.running && m.run != nil || m.following() {
		out = append(out, styleKindRunning.render(clip(m.runOneLine()+" · tab shows it", m.width)))
	}
	if line := m.requestsLine(); line != "" {
		out = append(out, line)
	}
	if p.filtering() {
		out = append(out, p.input.View()+styleFaint.Render(fmt.Sprintf("   %d of %d shown", len(p.visible), len(p.rows))))
	}
	if p.loaded && len(p.rows) == 0 {
		return append(out, m.emptyRegistry()...)
	}
	cols := wsLayout(m.width)
	out = append(out, styleBold.Render(clip(cols.header(p.sort), m.width)))

	rows := l.tableRows
	switch {
	case !p.loaded && p.err != "":
		out = append(out, styleKindBad.render(p.err))
		return out
	case !p.loaded:
		out = append(out, m.spin.View()+" reading the registry…")
		return out
	case len(p.visible) == 0:
		out = append(out, "No workspace matches the filter (esc clears it).")
		return out
	}
	start := p.offset
	for i := start; i < len(p.visible) && i < start+rows; i++ {
		out = append(out, m.wsRowLine(cols, &p.rows[p.visible[i]], i == p.cursor))
	}
	for len(out) < l.body-1-m.detailRows() {
		out = append(out, "")
	}
	out = append(out, m.wsSummary(rows))
	return append(out, m.wsDetail()...)
}

// wsSummary is the line under the table: what is cut off above and below, how many are
// shown and selected.
func (m *model) wsSummary(rows int) string {
	p := &m.ws
	var parts []string
	if p.offset > 0 {
		parts = append(parts, fmt.Sprintf("↑ %d more above", p.offset))
	}
	if below := len(p.visible) - p.offset - rows; below > 0 {
		parts = append(parts, fmt.Sprintf("↓ %d more below", below))
	}
	shown := fmt.Sprintf("%d shown", len(p.visible))
	if len(p.visible) < len(p.rows) {
		shown = fmt.Sprintf("%d of %d shown", len(p.visible), len(p.rows))
	}
	parts = append(parts, shown)
	if n := len(p.selected); n > 0 {
		parts = append(parts, styleBold.Render(fmt.Sprintf("%s %d selected", symSelected, n))+" (s syncs them, esc clears)")
	}
	return styleFaint.Render(clip(strings.Join(parts, " · "), m.width))
}

// emptyRegistry explains an empty registry in place of the table: it is a problem to fix,
// never a healthy silence.
func (m *model) emptyRegistry() []string {
	text := []string{
		fmt.Sprintf("Schema %s has no active workspace: nothing is being kept in sync.", m.cfg.schema),
		"",
		"To add workspaces, either:",
		"• let bisonsync find them, when an instance has a super-admin key (bison_instances.api_key):",
		"      bisonsync register --all",
		"• or insert them yourself (README.md, \"Instances and workspaces\"):",
		"      INSERT INTO bison_instances (name, base_url, api_key)",
		"        VALUES ('main', 'https://send.example.com/api', 'env:BISON_MAIN_ADMIN_KEY');",
		"      INSERT INTO client_registry (workspace_name, bison_instance, bison_workspace_id, bison_api_key)",
		"        VALUES ('Castle Agency', 'main', 2, 'env:BISON_KEY_CASTLE');",
		"",
		"Workspaces with is_active = false are left out. The registry is read again every " + human.Setting(refreshEvery) + "; r reads it now.",
	}
	out := []string{""}
	for i, line := range text {
		if i == 0 {
			out = append(out, styleKindBad.render(symFailed+" ")+styleBold.Render(line))
			continue
		}
		out = append(out, wrap(line, m.width)...)
	}
	return out
}

// wsHeader sums the registry up: counts, accounts, the last full run, the database and
// when it was read. It takes two lines, in shorter words on a narrow terminal, and a third
// only when even those do not fit.
func (m *model) wsHeader() []string {
	var lines []string
	for _, compact := range []bool{false, true} {
		lines = append(pack(m.headerCounts(compact), m.width), pack(m.headerWhere(compact), m.width)...)
		if len(lines) <= 2 {
			break
		}
	}
	return lines
}

func (m *model) headerCounts(compact bool) []string {
	c := m.ws.counts
	parts := []string{plural(c.total, "workspace", "workspaces")}
	never := "never synced"
	if compact {
		never = "never"
	}
	switch {
	case m.ws.loaded && c.total == 0:
		parts = []string{styleKindBad.render(symFailed + " no active workspace: nothing is kept in sync")}
	case m.ws.loaded && c.stale+c.failing+c.never == 0:
		parts = append(parts, styleKindOK.render(symOK+" all fresh"))
	default:
		parts = append(parts,
			styleKindWarn.render(fmt.Sprintf("%s %d stale", symStale, c.stale)),
			styleKindBad.render(fmt.Sprintf("%s %d failing", symFailed, c.failing)),
			styleKindNever.render(fmt.Sprintf("%s %d %s", symNever, c.never, never)))
	}
	switch {
	case m.ws.loaded && c.total == 0:
		return parts
	case compact:
		return append(parts, num(c.live)+" accounts")
	}
	return append(parts, fmt.Sprintf("%s accounts (API %s)", num(c.live), m.fleetAPITotal()))
}

// apiTotal is a workspace's account count at the source as last seen: the current (or last)
// run's, when that run fetched the workspace after the registry's last success, else the
// registry's (the last complete fetch).
func (m *model) apiTotal(r *wsRow) (int, bool) {
	if m.run != nil {
		if w := m.run.ws[r.ws.Name]; w != nil && (r.ws.LastSuccessAt == nil || w.startedAt.After(*r.ws.LastSuccessAt)) {
			if n, guessed, unknown := w.expected(); !guessed && !unknown {
				return n, true
			}
		}
	}
	if r.ws.EstimatedAccounts != nil {
		return *r.ws.EstimatedAccounts, true
	}
	return 0, false
}

// estimateOf is a workspace's account count at its last complete fetch, from the registry.
func (m *model) estimateOf(name string) (int, bool) {
	if r := m.ws.row(name); r != nil && r.ws.EstimatedAccounts != nil {
		return *r.ws.EstimatedAccounts, true
	}
	return 0, false
}

// fleetAPITotal sums the workspaces' API totals as last seen, "+" when some are unknown.
func (m *model) fleetAPITotal() string {
	total, unknown := 0, false
	for i := range m.ws.rows {
		n, known := m.apiTotal(&m.ws.rows[i])
		total += n
		unknown = unknown || !known
	}
	if unknown {
		return num(total) + "+"
	}
	return num(total)
}

func (m *model) headerWhere(compact bool) []string {
	refreshed := "not read yet"
	if m.ws.loaded {
		refreshed = "refreshed " + clock(m.ws.loadedAt)
		if compact {
			refreshed = "read at " + clock(m.ws.loadedAt)
		}
	}
	if m.ws.err != "" && m.ws.loaded {
		refreshed = styleKindBad.render(symFailed + " refresh failed (see below)")
	}
	return []string{m.lastFullRun(compact), "db " + m.cfg.where, refreshed}
}

// lastFullRun describes the newest run that covered every active workspace (as many
// workspaces as the registry has active now) among the recent runs.
func (m *model) lastFullRun(compact bool) string {
	runs := m.ws.runs
	if len(runs) == 0 {
		switch {
		case m.ws.loaded && compact:
			return "no run yet"
		case m.ws.loaded:
			return "no run recorded yet"
		}
		return "runs not read yet"
	}
	for _, r := range runs {
		if r.WorkspacesTotal >= m.ws.counts.total && m.ws.counts.total > 0 {
			status, kind := runOutcome(r.Status)
			label := "last full run "
			if compact {
				label = "full run "
			}
			return label + kind.render(fmt.Sprintf("#%d %s", r.ID, status)) + " " + human.Since(&r.StartedAt, m.now) + " ago"
		}
	}
	return fmt.Sprintf("no full run among the last %d runs", len(runs))
}

func (m *model) wsRowLine(c wsColumns, r *wsRow, isCursor bool) string {
	ls, prog := m.run.live(r.ws.Name, m.ws.loadedAt)
	mark, sel := " ", " "
	if isCursor {
		mark = symCursor
	}
	if m.ws.selected[r.ws.Name] {
		sel = symSelected
	}
	name := fit(r.name, c.name)
	if isCursor {
		name = styleCursor.Render(name)
	}
	status, kind := statusCell(r, ls, prog)
	api, known := m.apiTotal(r)
	line := mark + sel + name + " " + fit(r.instance, c.instance) + " " + fitRight(accountsCell(r.ws.LiveAccounts, api, known), c.accounts) + " " +
		fitRight(ageCell(r.ws, m.now, m.cfg.staleAfter), c.age) + " " + fitRight(tookCell(r.ws), c.took) + " " + kind.render(fit(status, c.status))
	if c.err > 0 && r.errText != "" {
		line += " " + styleFaint.Render(fit(r.errText, c.err))
	}
	return line
}
