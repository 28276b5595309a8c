package sync_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// newClient is the workspace added at the source after the registry was filled.
var newClient = sim.Workspace{ID: 50, Name: "Northwind Staffing", Seed: 7, Count: 47}

// assertExactAt compares a workspace's live rows with the source, for workspaces the
// fixture's fleet does not know (added at the source later).
func (v *env) assertExactAt(id int) {
	v.t.Helper()
	got, truth := v.LiveRows(sim.IncidentInstance, id), v.TruthRows(sim.IncidentInstance, id)
	if len(truth) == 0 || !slices.Equal(got, truth) {
		v.t.Fatalf("workspace %d: %d live rows, the source has %d", id, len(got), len(truth))
	}
}

// A workspace added at the source is found by the next run (unregistered, reported, not
// synced); once registered, the run after syncs it exactly. A workspace removed at the
// source is gone. Discovery adds nothing to the run's failures.
func TestRunsDiscoverTheSource(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{})
	w := newClient
	if err := v.Srv.AddWorkspace(sim.IncidentInstance, &w); err != nil {
		t.Fatal(err)
	}
	lumen := v.Fleet.Instance(sim.IncidentInstance).WorkspaceNamed("Lumen B2B")
	v.Srv.RemoveWorkspace(sim.IncidentInstance, lumen.ID)

	s, ev := v.run(sync.Request{})
	if len(s.Discovery) != 1 {
		t.Fatalf("discovery: %+v", s.Discovery)
	}
	d := s.Discovery[0]
	if d.Listed != sim.IncidentWorkspaces || d.Problem != "" ||
		!slices.Equal(d.Unregistered, []sync.DiscoveredWorkspace{{Name: w.Name, BisonID: 50}}) ||
		!slices.Equal(d.Gone, []sync.DiscoveredWorkspace{{Name: "Lumen B2B", BisonID: lumen.ID}}) {
		t.Fatalf("discovery: %+v", d)
	}
	if !discoveredBeforeTheEnd(ev.list()) {
		t.Fatal("no WorkspacesDiscovered event between RunStarted and RunFinished")
	}
	if r := result(t, s, "Lumen B2B"); r.Status != db.WorkspaceFailed || s.WorkspacesFailed != 1 {
		t.Fatalf("Lumen B2B: %s; %d failed", r.Status, s.WorkspacesFailed)
	}

	ctx := context.Background()
	health, err := v.Store.CheckHealth(ctx, 24*time.Hour)
	if err != nil || len(health) != 1 || health[0].Workspace != "Lumen B2B" || health[0].State != db.HealthGone {
		t.Fatalf("health: %v %+v", err, health)
	}
	unreg, err := v.Store.CheckDiscovery(ctx)
	if err != nil || len(unreg) != 1 || unreg[0].Workspace != w.Name {
		t.Fatalf("unregistered: %v %+v", err, unreg)
	}

	found, _ := v.Store.Discovered(ctx, db.DiscoveredUnregistered)
	registry, _ := v.Store.Workspaces(ctx, db.Selection{IncludeInactive: true})
	if added, err := v.Store.RegisterWorkspaces(ctx, sync.RegistryNames(found, registry, true)); err != nil || len(added) != 1 {
		t.Fatalf("register: %v %v", added, err)
	}
	s, _ = v.run(sync.Request{Names: []string{w.Name}})
	if !s.OK() || len(s.Discovery[0].Unregistered) != 0 {
		t.Fatalf("after registering: %s %+v", s.Status, s.Discovery)
	}
	v.assertExactAt(50)
	v.AssertNoToken("history", v.HistoryText())
}

func discoveredBeforeTheEnd(events []sync.Event) bool {
	started, found := false, false
	for _, e := range events {
		switch e.(type) {
		case sync.RunStarted:
			started = true
		case sync.WorkspacesDiscovered:
			found = started
		case sync.RunFinished:
			return found
		}
	}
	return false
}

// An instance with auto_register registers what is new at the start of a run, which then
// syncs it, and says so.
func TestAutoRegister(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{})
	w := newClient
	if err := v.Srv.AddWorkspace(sim.IncidentInstance, &w); err != nil {
		t.Fatal(err)
	}
	v.Exec(`UPDATE ` + v.Table("bison_instances") + ` SET auto_register = true`)
	s, _ := v.run(sync.Request{})
	d := s.Discovery[0]
	if !slices.Equal(d.Registered, []sync.DiscoveredWorkspace{{Name: w.Name, BisonID: 50}}) || len(d.Unregistered) != 0 {
		t.Fatalf("discovery: %+v", d)
	}
	if r := result(t, s, w.Name); r.Status != db.WorkspaceSucceeded || r.AccountsUpserted != w.Count || !s.OK() {
		t.Fatalf("%s: %+v; run %s", w.Name, r, s.Status)
	}
	v.assertExactAt(50)
}

// An instance that cannot be listed says why, and the run goes on.
func TestDiscoveryProblems(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{})
	v.Srv.AddFault(sim.Fault{Kind: sim.FaultStatus, Status: 500, Path: sim.KindWorkspaces})
	s, _ := v.run(sync.Request{})
	if !s.OK() || !strings.Contains(s.Discovery[0].Problem, "cannot be listed") || !strings.Contains(s.Discovery[0].Problem, "HTTP 500") {
		t.Fatalf("run %s, discovery %+v", s.Status, s.Discovery)
	}
	v.Srv.ClearFaults()
	v.Exec(`UPDATE ` + v.Table("bison_instances") + ` SET api_key = NULL`)
	s, _ = v.run(sync.Request{Names: []string{"Castle Agency"}})
	if !s.OK() || !strings.Contains(s.Discovery[0].Problem, "no super-admin key") {
		t.Fatalf("run %s, discovery %+v", s.Status, s.Discovery)
	}
	insts, err := v.Store.Instances(context.Background())
	if err != nil || !strings.Contains(insts[0].ListError, "no super-admin key") {
		t.Fatalf("instances: %v %+v", err, insts)
	}
}
