package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// dialog is the console's one confirmation dialog: every question (full sync, held
// deletions, cancel, quit) is asked through it. It shows the question whole, wrapped to its
// width and scrollable (a bubbles viewport) when longer than the screen allows, and takes an
// answer only once every line of it has been on screen: a "yes" before that is refused with
// the reason, never applied.
type dialog struct {
	title string
	text  string // the question, whole, plain and cleaned
	yes   string // what yes does, in a few words ("start the full sync")
	no    string // what no means ("not now")
	onYes func(m *model) tea.Cmd

	focusYes bool // the highlighted answer, which enter gives; no at first
	vp       viewport.Model
	shown    bool // drawn: the terminal is large enough
	seenAll  bool // every line of the question has been on screen
	refused  bool // a yes came before the whole question was seen
	wrapW    int  // the width the text was last wrapped to
}

func newDialog(title, text, yes, no string, onYes func(m *model) tea.Cmd) *dialog {
	return &dialog{title: title, text: text, yes: yes, no: no, onYes: onYes, vp: viewport.New()}
}

// dialogChrome is what the dialog takes around its text: two border rows, the title and a
// blank line above it, a blank line, the answers and the hint below.
const dialogChrome = 7

// layout fits the dialog into a body of w x h cells (Update calls it, through settle).
func (d *dialog) layout(w, h int, fits bool) {
	d.shown = fits
	if !fits {
		return
	}
	inner := min(w-4, 76) - 4 // border and padding
	if inner != d.wrapW {
		d.wrapW = inner
		d.vp.SetWidth(inner)
		d.vp.SetContentLines(wrapLines(d.text, inner))
	}
	d.vp.SetHeight(max(min(d.vp.TotalLineCount(), h-dialogChrome), 1))
	d.noteSeen()
}

func (d *dialog) noteSeen() {
	if d.shown && d.vp.AtBottom() {
		d.seenAll = true
	}
}

// answer is what a key press did to the dialog.
type answer int

const (
	answerNone answer = iota
	answerYes
	answerNo
)

// key handles a key press: scrolling, moving the highlight, or answering.
func (d *dialog) key(k string) answer {
	switch k {
	case "y", "Y":
		return d.sayYes()
	case "n", "N", "esc", "q":
		return answerNo
	case "enter":
		if d.focusYes {
			return d.sayYes()
		}
		return answerNo
	case "tab", "shift+tab", "left", "right", "h", "l":
		d.focusYes = !d.focusYes
	case "up", "k":
		d.vp.ScrollUp(1)
	case "down", "j", "space":
		d.vp.ScrollDown(1)
	case "pgup", "ctrl+b":
		d.vp.PageUp()
	case "pgdown", "ctrl+f":
		d.vp.PageDown()
	case "home", "g":
		d.vp.GotoTop()
	case "end", "G":
		d.vp.GotoBottom()
	}
	d.noteSeen()
	return answerNone
}

func (d *dialog) sayYes() answer {
	if !d.seenAll {
		d.refused = true
		return answerNone
	}
	return answerYes
}

// view draws the dialog centred in a body of w x h cells.
func (d *dialog) view(w, h int) []string {
	inner := d.wrapW
	var b strings.Builder
	b.WriteString(styleBold.Render(clip(d.title, inner)) + "\n\n")
	b.WriteString(d.vp.View() + "\n\n")
	b.WriteString(d.buttons(inner) + "\n")
	b.WriteString(d.hint(inner))
	box := lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1).Width(inner + 4).Render(b.String())
	return strings.Split(lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, box), "\n")
}

func (d *dialog) buttons(w int) string {
	yes, no := " y: "+d.yes+" ", " n: "+d.no+" "
	if d.focusYes {
		yes = styleAsk.Render(yes)
	} else {
		no = styleAsk.Render(no)
	}
	return clip(yes+"   "+no, w)
}

// hint says how to answer, or why an answer is not taken yet.
func (d *dialog) hint(w int) string {
	below := d.vp.TotalLineCount() - d.vp.YOffset() - d.vp.Height()
	switch {
	case !d.seenAll && d.refused:
		return styleKindWarn.render(clip(fmt.Sprintf("Read the whole question first: %d more lines below (↓ pgdn end).", below), w))
	case !d.seenAll:
		return styleFaint.Render(clip(fmt.Sprintf("↓ %d more lines below: read to the end to answer (↓ pgdn end)", below), w))
	case below > 0:
		return styleFaint.Render(clip(fmt.Sprintf("[y/n] · ↓ %d more lines · enter answers the highlighted", below), w))
	}
	return styleFaint.Render(clip("[y/n] · enter answers the highlighted · esc is no", w))
}

// wrapLines wraps plain text, paragraph by paragraph, to w cells.
func wrapLines(s string, w int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		if para == "" {
			out = append(out, "")
			continue
		}
		out = append(out, strings.Split(ansi.Wrap(para, w, " /-_"), "\n")...)
	}
	return out
}
