package sync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

func outcomes(rs []sync.KeyResult) map[string]sync.KeyResult {
	m := map[string]sync.KeyResult{}
	for _, r := range rs {
		m[r.Workspace] = r
	}
	return m
}

// keys mint gives every workspace on the super-admin key a working key of its own, leaves
// the others alone, is idempotent, and the next full sync makes no switch-workspace call
// and is exact. A mint that fails for one workspace fails only that one.
func TestMintKeysEndsTheChain(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{})
	e := sync.New(v.Store, v.cfg)
	ctx := context.Background()
	lumen := v.Fleet.Instance(sim.IncidentInstance).WorkspaceNamed("Lumen B2B")
	v.Srv.AddFault(sim.Fault{Kind: sim.FaultStatus, Status: 502, Path: sim.KindMint, Workspace: lumen.ID, Times: 1})
	res, err := e.MintKeys(ctx, sync.MintRequest{})
	if err != nil || len(res) != 6 {
		t.Fatalf("mint: %v, %d results", err, len(res))
	}
	for _, r := range res {
		want := sync.KeyMinted
		if r.Workspace == lumen.Name {
			want = sync.KeyFailed
		}
		if r.Outcome != want || (want == sync.KeyMinted && (!strings.HasPrefix(r.Key, "…") || !strings.Contains(r.Detail, "verified and stored"))) {
			t.Errorf("%s: %+v", r.Workspace, r)
		}
	}
	res, _ = e.MintKeys(ctx, sync.MintRequest{})
	if len(res) != 1 || res[0].Workspace != lumen.Name || res[0].Outcome != sync.KeyMinted {
		t.Fatalf("second mint: %+v", res)
	}
	res, _ = e.MintKeys(ctx, sync.MintRequest{Names: []string{sim.IncidentLargest}})
	if len(res) != 1 || res[0].Outcome != sync.KeyKept {
		t.Fatalf("a workspace with a key: %+v", res)
	}
	out, _ := json.Marshal(res)
	v.AssertNoToken("results", fmt.Sprintf("%v %s", res, out))
	if n := len(v.Srv.MintedKeys()); n != 6 {
		t.Fatalf("%d keys minted at the source, want 6 (one per workspace, none twice)", n)
	}

	v.Srv.ResetRequests()
	s, _ := v.run(sync.Request{})
	if !s.OK() || s.WorkspacesSucceeded != sim.IncidentWorkspaces {
		t.Fatalf("run %s", s.Status)
	}
	for _, r := range v.Srv.Requests() {
		if r.Kind == sim.KindSwitch || (r.SuperAdmin && r.Kind != sim.KindWorkspaces) {
			t.Fatalf("a %s request with the super-admin key after minting", r.Kind)
		}
	}
	v.AssertExact()
	v.AssertNoToken("history", v.HistoryText())
}

// keys check passes a correct fleet, finds a key pasted into the wrong row (naming the
// workspace it serves) and a refused key; the wrong key then stops its workspace's syncs
// until the key changes.
func TestCheckKeys(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{})
	e := sync.New(v.Store, v.cfg)
	ctx := context.Background()
	res, err := e.CheckKeys(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[sync.KeyOutcome]int{}
	for _, r := range res {
		counts[r.Outcome]++
	}
	if counts[sync.KeyOK] != 20 || counts[sync.KeySkipped] != 6 {
		t.Fatalf("a correct fleet: %v", counts)
	}

	in := v.Fleet.Instance(sim.IncidentInstance)
	castle, summit, harbor := in.WorkspaceNamed("Castle Agency"), in.WorkspaceNamed("Summit Outreach"), in.WorkspaceNamed("Harbor & Finch")
	v.Exec(`UPDATE `+v.Table("client_registry")+` SET bison_api_key = $1 WHERE workspace_name = $2`, summit.Key, castle.Name)
	v.Srv.SetWorkspaceKey(sim.IncidentInstance, harbor.ID, "77|a-key-the-registry-does-not-know-yet")
	res, _ = e.CheckKeys(ctx, nil)
	got := outcomes(res)
	if r := got[castle.Name]; r.Outcome != sync.KeyWrong || !strings.Contains(r.Detail, `serves the accounts of workspace "Summit Outreach"`) {
		t.Fatalf("pasted key: %+v", r)
	}
	if got[summit.Name].Outcome != sync.KeyOK || got[harbor.Name].Outcome != sync.KeyRejected {
		t.Fatalf("summit %+v, harbor %+v", got[summit.Name], got[harbor.Name])
	}
	health, _ := v.Store.CheckHealth(ctx, 24*time.Hour)
	states := map[string]db.HealthState{}
	for _, h := range health {
		states[h.Workspace] = h.State
	}
	if states[castle.Name] != db.HealthWrongKey {
		t.Fatalf("health: %v", states)
	}

	before := v.Snapshot(sim.IncidentInstance, castle.ID)
	s, _ := v.run(sync.Request{Names: []string{castle.Name}})
	if r := result(t, s, castle.Name); r.Status != db.WorkspaceFailed || !strings.Contains(r.Error, "serves another workspace's accounts") {
		t.Fatalf("the wrong-key workspace synced: %+v", r)
	}
	if v.Snapshot(sim.IncidentInstance, castle.ID) != before {
		t.Fatal("the wrong-key workspace's rows changed")
	}
	v.Exec(`UPDATE `+v.Table("client_registry")+` SET bison_api_key = $1 WHERE workspace_name = $2`, castle.Key, castle.Name)
	if s, _ = v.run(sync.Request{Names: []string{castle.Name}}); !s.OK() {
		t.Fatalf("after the key was fixed: %+v", s.Workspaces)
	}
	v.AssertNoToken("history", v.HistoryText(), "77|a-key-the-registry-does-not-know-yet")
}

// The simulator's mis-scoped key (one that serves another workspace) is found too.
func TestCheckKeysMisScoped(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{})
	in := v.Fleet.Instance(sim.IncidentInstance)
	a, b := in.WorkspaceNamed("Kinetic Demand"), in.WorkspaceNamed(sim.IncidentLargest)
	v.Srv.SetKeyScope(sim.IncidentInstance, a.ID, b.ID)
	res, err := sync.New(v.Store, v.cfg).CheckKeys(context.Background(), []string{a.Name})
	if err != nil || len(res) != 1 || res[0].Outcome != sync.KeyWrong {
		t.Fatalf("%v %+v", err, res)
	}
}

// A run finds a key that serves another workspace when that workspace came through the
// super-admin key in the same run: recorded wrong-key, shown by check, left out next time.
func TestRunFindsAWrongKey(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{})
	in := v.Fleet.Instance(sim.IncidentInstance)
	a, b := in.WorkspaceNamed("Kinetic Demand"), in.WorkspaceNamed(sim.IncidentLargest)
	v.Srv.SetKeyScope(sim.IncidentInstance, a.ID, b.ID)
	v.run(sync.Request{})
	health, _ := v.Store.CheckHealth(context.Background(), 24*time.Hour)
	var found *db.Health
	for i := range health {
		if health[i].Workspace == a.Name {
			found = &health[i]
		}
	}
	if found == nil || found.State != db.HealthWrongKey || !strings.Contains(found.Reason, `first page was that of workspace "Jason Binyon"`) {
		t.Fatalf("health of %s: %+v", a.Name, found)
	}
	s, _ := v.run(sync.Request{Names: []string{a.Name, b.Name}})
	if r := result(t, s, a.Name); r.Status != db.WorkspaceFailed || result(t, s, b.Name).Status != db.WorkspaceSucceeded {
		t.Fatalf("second run: %+v", s.Workspaces)
	}
}
