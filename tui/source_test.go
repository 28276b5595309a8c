package tui

import (
	"context"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// sourceFake is the fake backend with the source: unregistered workspaces, registering,
// minting.
type sourceFake struct {
	*fakeBackend
	mu           stdsync.Mutex
	unregistered []db.DiscoveredWorkspace
	registered   []string
	mints        int
}

func (f *sourceFake) Unregistered(context.Context) ([]db.DiscoveredWorkspace, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]db.DiscoveredWorkspace(nil), f.unregistered...), nil
}

func (f *sourceFake) Register(_ context.Context, d db.DiscoveredWorkspace) (string, error) {
	f.mu.Lock()
	f.registered = append(f.registered, d.Name)
	f.unregistered = nil
	f.mu.Unlock()
	f.fakeBackend.mu.Lock()
	f.workspaces = append(f.workspaces, db.Workspace{Name: d.Name, Instance: d.Instance, BisonID: d.BisonID, IsActive: true})
	f.fakeBackend.mu.Unlock()
	return d.Name, nil
}

func (f *sourceFake) MintKeys(context.Context) ([]sync.KeyResult, error) {
	f.mu.Lock()
	f.mints++
	f.mu.Unlock()
	return []sync.KeyResult{{Workspace: "Jason Binyon", Outcome: sync.KeyMinted, Key: "…abcd"},
		{Workspace: "Blue Ridge", Outcome: sync.KeyFailed, Detail: "not minted: HTTP 502"}}, nil
}

// An unregistered workspace is a row of its own (symbol and word), gone and wrong-key rows
// say so with the reason; R registers the row under the cursor after a question, K mints
// keys after a question that says credentials will be created in Email Bison.
func TestSourceRowsAndKeys(t *testing.T) {
	reg := fleetRegistry()
	reg[0].GoneSince = ago(3 * time.Hour)                                               // Apex Growth
	reg[1].KeyStatus, reg[1].APIKey = db.KeyWrong, db.NewSecret("12|abcdefghijklmnopq") // Blue Ridge
	b := &sourceFake{fakeBackend: &fakeBackend{workspaces: reg},
		unregistered: []db.DiscoveredWorkspace{{Instance: "bison-main", BisonID: 50, Name: "Northwind Staffing", Since: testNow.Add(-time.Hour)}}}
	h := newHarnessOn(t, b, b.fakeBackend, 160, 30)
	for name, want := range map[string]string{"Northwind Staffing": "+ unregistered", "Apex Growth": "∅ gone", "Blue Ridge": "≠ wrong-key"} {
		if line := h.line(name); !strings.Contains(line, want) {
			t.Errorf("row of %s lacks %q: %q", name, want, line)
		}
	}
	if line := h.line("Apex Growth"); !strings.Contains(line, "no longer lists") {
		t.Errorf("gone row without its reason: %q", line)
	}

	for h.m.ws.cursorName() != "Northwind Staffing" {
		h.key("down")
	}
	h.key("enter")
	h.mustShow("not in the registry: R registers it")
	h.key("R")
	h.mustShow("Register Northwind Staffing (instance bison-main, id 50)")
	h.key("y")
	h.pumpUntil("registered", func() bool { return len(h.m.ws.rows) == 6 && !h.m.ws.rows[5].unregistered })
	h.mustShow("registered Northwind Staffing")

	h.key("K")
	h.mustShow("Mint keys: create 5 API keys in Email Bison (credentials")
	h.key("n")
	if b.mints != 0 {
		t.Fatal("minted without a yes")
	}
	h.key("K")
	h.key("y")
	h.pumpUntil("minted", func() bool { return strings.Contains(h.m.status.text, "minted") })
	h.mustShow("1 key minted, verified and stored", "1 failed: Blue Ridge: not minted: HTTP 502")
}
