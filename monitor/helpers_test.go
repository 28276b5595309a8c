package monitor_test

import (
	"context"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/internal/fleettest"
	"github.com/bisonsync/bisonsync/sync"
)

// fleet is the incident fleet registered in a fresh schema, with an engine tuned for quick
// tests.
type fleet struct {
	*fleettest.Fixture
	engine *sync.Engine
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	f := fleettest.New(t, sim.IncidentFleet(), sim.Options{})
	return &fleet{Fixture: f, engine: sync.New(f.Store, sync.Config{
		Trigger:      "test",
		RetryBackoff: 10 * time.Millisecond,
		StallTimeout: 5 * time.Second,
		Client:       bison.Options{RequestTimeout: 2 * time.Second, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond},
	})}
}

func (f *fleet) run(t *testing.T) sync.Summary {
	t.Helper()
	s, err := f.engine.Run(context.Background(), sync.Request{})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return s
}

// breakKey gives the first workspace with a key of its own a new key at the source, one the
// registry does not have: its next sync fails with HTTP 401. It returns that workspace.
func (f *fleet) breakKey(t *testing.T) *sim.Workspace {
	t.Helper()
	inst := f.Fleet.Instance(sim.IncidentInstance)
	for _, w := range inst.Workspaces {
		if w.Key != "" {
			if !f.Srv.SetWorkspaceKey(inst.Name, w.ID, "5|a-new-key-the-registry-does-not-have-yet-xx") {
				t.Fatalf("the simulator refused to rekey %s", w.Name)
			}
			return w
		}
	}
	t.Fatal("no workspace of the incident fleet has its own key")
	return nil
}

// cleanThenBroken makes a clean run, then breaks one workspace's key and runs again.
func (f *fleet) cleanThenBroken(t *testing.T) (clean, broken sync.Summary, victim *sim.Workspace) {
	t.Helper()
	clean = f.run(t)
	if clean.Status != "succeeded" {
		t.Fatalf("first run %s: %+v", clean.Status, clean.Workspaces)
	}
	victim = f.breakKey(t)
	broken = f.run(t)
	if broken.Status != "partial" || broken.WorkspacesFailed != 1 {
		t.Fatalf("second run %s with %d failed, want partial with 1", broken.Status, broken.WorkspacesFailed)
	}
	return clean, broken, victim
}
