package tui

import "charm.land/bubbles/v2/key"

// keyMap holds every key of the console. Which ones apply depends on the view; help shows
// those (see helpFor).
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding

	SyncOne, Select, SelectAll, SyncSelected, SyncAll, SyncStale, Cancel key.Binding
	Filter, Sort, Reverse, Error, WorkspaceRuns, Refresh, Deletions      key.Binding
	Register, MintKeys                                                   key.Binding

	Open, Back, Timeline key.Binding

	NextView, PrevView, Workspaces, RunView, History key.Binding
	Help, Quit                                       key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "first")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "last")),

		SyncOne:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "sync this workspace")),
		Select:       key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "select")),
		SelectAll:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "select all shown")),
		SyncSelected: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sync selected")),
		SyncAll:      key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "full sync")),
		SyncStale:    key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "sync stale+failing")),
		Cancel:       key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "cancel run")),

		Filter:        key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Sort:          key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "sort by next column")),
		Reverse:       key.NewBinding(key.WithKeys("O"), key.WithHelp("O", "reverse the sort")),
		Error:         key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "full error")),
		WorkspaceRuns: key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "its runs")),
		Refresh:       key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		Deletions:     key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "review held deletions")),
		Register:      key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "register (unregistered row)")),
		MintKeys:      key.NewBinding(key.WithKeys("K"), key.WithHelp("K", "mint keys (super-admin ones)")),

		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open run")),
		Back:     key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
		Timeline: key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "timeline / table")),

		NextView:   key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next view")),
		PrevView:   key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous view")),
		Workspaces: key.NewBinding(key.WithKeys("1"), key.WithHelp("1", "workspaces")),
		RunView:    key.NewBinding(key.WithKeys("2"), key.WithHelp("2", "run")),
		History:    key.NewBinding(key.WithKeys("3"), key.WithHelp("3", "history")),
		Help:       key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:       key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// viewKeys is the help.KeyMap of one view.
type viewKeys struct {
	short []key.Binding
	full  [][]key.Binding
}

func (v viewKeys) ShortHelp() []key.Binding  { return v.short }
func (v viewKeys) FullHelp() [][]key.Binding { return v.full }

// keyState is what decides which keys apply now.
type keyState struct {
	view       viewID
	hist       histMode
	running    bool // the console's own run is going
	cancelable bool // ... and not being cancelled already
	selected   int  // workspaces selected
	narrowed   bool // a filter or a selection esc would clear
}

// helpFor returns the keys of a view: short, those that apply now (a key that would only be
// refused is left out: no "x cancel run" once the run is over); full, every key of the view.
func (k keyMap) helpFor(st keyState) viewKeys {
	all := k.viewKeys(st.view, st.hist)
	now := k
	now.Cancel.SetEnabled(st.cancelable)
	for _, b := range []*key.Binding{&now.SyncOne, &now.SyncAll, &now.SyncStale, &now.Deletions} {
		b.SetEnabled(!st.running)
	}
	now.SyncSelected.SetEnabled(!st.running && st.selected > 0)
	if st.view == viewWorkspaces {
		now.Back.SetEnabled(st.narrowed)
	}
	return viewKeys{short: now.viewKeys(st.view, st.hist).short, full: all.full}
}

func (k keyMap) viewKeys(v viewID, hm histMode) viewKeys {
	nav := []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
	global := []key.Binding{k.NextView, k.PrevView, k.Workspaces, k.RunView, k.History, k.Help, k.Quit}
	runs := []key.Binding{k.SyncAll, k.SyncStale, k.Cancel}
	switch v {
	case viewRun:
		log := []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
		return viewKeys{
			short: []key.Binding{k.Help, k.Quit, k.NextView, k.Cancel, k.Timeline, k.SyncAll, k.SyncStale, k.Up},
			full:  [][]key.Binding{append(log, k.Timeline), runs, global},
		}
	case viewHistory:
		var local []key.Binding
		switch hm {
		case histRun:
			local = []key.Binding{k.Timeline, k.Error, k.Refresh, k.Back}
		case histWorkspace:
			local = []key.Binding{k.Open, k.Error, k.Refresh, k.Back}
		default:
			local = []key.Binding{k.Open, k.Error, k.Refresh}
		}
		short := append([]key.Binding{k.Help, k.Quit, k.NextView}, local...)
		return viewKeys{short: short, full: [][]key.Binding{nav, local, append(runs, global...)}}
	default:
		sel := []key.Binding{k.SyncOne, k.Select, k.SelectAll, k.SyncSelected, k.SyncAll, k.SyncStale, k.Cancel}
		look := []key.Binding{k.Filter, k.Sort, k.Reverse, k.Error, k.WorkspaceRuns, k.Deletions, k.Register, k.MintKeys, k.Refresh, k.Back}
		return viewKeys{
			short: []key.Binding{k.Help, k.Quit, k.NextView, k.SyncOne, k.Select, k.SyncSelected, k.SyncAll, k.SyncStale, k.Cancel, k.Filter, k.Sort, k.Back},
			full:  [][]key.Binding{nav, sel, look, global},
		}
	}
}
