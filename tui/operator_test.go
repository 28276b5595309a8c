package tui

import (
	"slices"
	"strings"
	"testing"

	"github.com/bisonsync/bisonsync/db"
)

// What operators expect from k9s, pug or lazygit, tested through the model.

// o sorts on the next column, O reverses; the sorted column's title carries ▲ or ▼.
func TestSortOnAnyColumnWithItsDirection(t *testing.T) {
	h := newFleetHarness(t)
	h.mustShow("WORKSPACE▲")
	h.key("O")
	h.mustShow("WORKSPACE▼")
	if order := visibleNames(h); order[0] != "Zeta Labs" || order[4] != "Apex Growth" {
		t.Fatalf("reversed name order %v", order)
	}
	sortOn(h, sortInstance)
	h.mustShow("INSTANCE▲")
	if order := visibleNames(h); order[4] != "Zeta Labs" {
		t.Fatalf("instance order %v", order)
	}
	sortOn(h, sortTook)
	h.mustShow("TOOK▼", "sorted by last duration, descending")
	if order := visibleNames(h); order[0] != "Apex Growth" || order[1] != "Blue Ridge" {
		t.Fatalf("duration order (slowest first) %v", order)
	}
	h.key("O")
	h.mustShow("TOOK▲")
	if order := visibleNames(h); order[4] != "Apex Growth" {
		t.Fatalf("duration order (fastest first) %v", order)
	}
}

// The filter line (a bubbles textinput) takes words of the name, status: and inst: tokens.
func TestFilterByStatusAndInstance(t *testing.T) {
	h := newFleetHarness(t)
	typeIn := func(s string) {
		h.key("/")
		for _, r := range s {
			if r == ' ' {
				h.key("space")
				continue
			}
			h.key(string(r))
		}
		h.key("enter")
	}
	typeIn("status:failing")
	if got := visibleNames(h); !slices.Equal(got, []string{"Jason Binyon"}) {
		t.Fatalf("status:failing shows %v", got)
	}
	h.mustShow("1 of 5 shown")
	h.key("esc")
	typeIn("status:stale,never")
	if got := visibleNames(h); !slices.Equal(got, []string{"Blue Ridge", "Cobalt Recruiting"}) {
		t.Fatalf("status:stale,never shows %v", got)
	}
	h.key("esc")
	typeIn("inst:two")
	if got := visibleNames(h); !slices.Equal(got, []string{"Zeta Labs"}) {
		t.Fatalf("inst:two shows %v", got)
	}
	h.key("esc")
	typeIn("status:attention r")
	if got := visibleNames(h); !slices.Equal(got, []string{"Blue Ridge", "Cobalt Recruiting"}) {
		t.Fatalf("status:attention r shows %v", got)
	}
}

// a selects every shown workspace (again: none); the count is shown under the table.
func TestSelectAllShownAndTheCount(t *testing.T) {
	h := newFleetHarness(t)
	h.key("a")
	if len(h.m.ws.selected) != 5 {
		t.Fatalf("a selected %v", h.m.ws.selected)
	}
	h.mustShow("● 5 selected")
	h.key("a")
	if len(h.m.ws.selected) != 0 {
		t.Fatalf("a again left %v", h.m.ws.selected)
	}
	h.key("/")
	h.key("B")
	h.key("l")
	h.key("enter")
	h.key("a")
	if len(h.m.ws.selected) != 1 || !h.m.ws.selected["Blue Ridge"] {
		t.Fatalf("a with a filter selected %v", h.m.ws.selected)
	}
	h.mustShow("● 1 selected")
}

// A cut list says how much is above and below.
func TestCutListsSayWhatIsBelow(t *testing.T) {
	h := newHarness(t, &fakeBackend{workspaces: bigRegistry(200)}, 80, 24)
	rows := h.m.layout().tableRows
	h.mustShow("↓ " + itoa(200-rows) + " more below")
	h.key("end")
	h.mustShow("↑ " + itoa(200-rows) + " more above")
	h.mustNotShow("more below")
}

func itoa(n int) string { return num(n) }

// The cursor comes back to the workspace the operator was on once a filter that hid it is
// cleared, and History's cursor stays on its run when newer runs arrive.
func TestCursorStaysWhereTheOperatorLeftIt(t *testing.T) {
	h := newHarness(t, historyBackend(), 120, 30)
	for range 3 {
		h.key("down")
	}
	if h.m.ws.cursorName() != "Jason Binyon" {
		t.Fatalf("cursor on %q", h.m.ws.cursorName())
	}
	h.key("/")
	h.key("Z")
	h.key("enter")
	h.key("esc")
	if h.m.ws.cursorName() != "Jason Binyon" {
		t.Fatalf("after clearing the filter the cursor is on %q", h.m.ws.cursorName())
	}
	h.key("3")
	h.key("down") // run #11
	h.b.mu.Lock()
	h.b.runs = append([]db.Run{{ID: 13, StartedAt: testNow, Status: db.RunRunning, Trigger: "headless", Host: "cron-2"}}, h.b.runs...)
	h.b.mu.Unlock()
	h.key("r")
	h.key("enter")
	h.mustShow("Run #11")
}

// A message about one view stays in it.
func TestStatusMessagesStayInTheirView(t *testing.T) {
	h := newFleetHarness(t)
	h.key("o")
	h.mustShow("sorted by instance")
	h.key("3")
	h.mustNotShow("sorted by instance")
	h.key("1")
	h.mustShow("sorted by instance")
}

// The help bar lists the keys that apply now: cancel only while a run can be cancelled,
// sync selected only with a selection.
func TestHelpBarShowsTheKeysThatApplyNow(t *testing.T) {
	h := newFleetHarness(t)
	helpBar := func() string { s := h.screen(); return s[len(s)-1] }
	if bar := helpBar(); strings.Contains(bar, "cancel run") || strings.Contains(bar, "sync selected") {
		t.Errorf("idle help bar: %q", bar)
	}
	h.key("space")
	if bar := helpBar(); !strings.Contains(bar, "sync selected") {
		t.Errorf("help bar with a selection: %q", bar)
	}
	h.b.script = blockingRun(40, make(chan struct{}))
	h.press("enter")
	h.pumpUntil("the run starts", func() bool { return h.m.run != nil && h.m.run.opened })
	if bar := helpBar(); !strings.Contains(bar, "x cancel run") {
		t.Errorf("help bar during a run: %q", bar)
	}
	h.press("x")
	h.press("y")
	h.pumpUntil("the run ends", func() bool { return !h.m.running })
	h.settle()
	if bar := helpBar(); strings.Contains(bar, "cancel run") {
		t.Errorf("help bar after the run: %q", bar)
	}
}

// The detail pane tells, for the workspace under the cursor, which key it uses (never the
// key), its last runs, its figures and its instance's pace.
func TestDetailPaneTellsKeyRunsAndPace(t *testing.T) {
	b := historyBackend()
	rps := 5.0
	b.workspaces[0].APIKey = db.NewSecret("12|AcmeSecretTokenAAAAAAAAAAAAAAwxyz")
	b.workspaces[0].Inst = db.Instance{Name: "bison-main", RequestsPerSecond: &rps}
	b.workspaces[1].APIKey = db.NewSecret("env:BISON_KEY_BLUE")
	b.workspaces[2].Inst = db.Instance{Name: "bison-main", APIKey: db.NewSecret("1|SuperAdminTokenBBBBBBBBBBBBBBBBBBB9876")}
	h := newHarness(t, b, 120, 40)
	h.mustShow("Apex Growth · bison-main · Bison id 9 · own key …wxyz", "instance bison-main: limits ≤5 req/s", "last runs: none yet")
	h.mustNotShow("AcmeSecretToken")
	h.key("down")
	h.mustShow("own key from env:BISON_KEY_BLUE")
	h.key("down")
	h.mustShow("Cobalt Recruiting · bison-main · Bison id 38 · no key: no own key, and bison-main has no super-admin key")
	h.key("down")
	h.mustShow("super-admin key …9876, one workspace at a time", "last runs: ○✗", "360 live accounts, 360 at the API",
		"error: context deadline exceeded")
	h.mustNotShow("SuperAdminToken")
}

// The help scrolls when it does not fit: nothing of it is cut off for good.
func TestHelpScrollsOnASmallTerminal(t *testing.T) {
	h := newHarness(t, &fakeBackend{workspaces: fleetRegistry()}, 80, 24)
	h.key("?")
	h.mustShow("Keys", "more lines below")
	h.mustNotShow("syncs every active workspace")
	h.key("end")
	h.mustShow("syncs every active workspace", "? or esc closes this")
	h.key("esc")
	h.mustShow("WORKSPACE")
}
