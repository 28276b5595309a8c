package db_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
)

// A listing is recorded per instance: states keep their start while they last, rows it no
// longer mentions go, and what the registry gained or lost since is read correctly.
func TestRecordListing(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := testContext(t)
	seedWorkspace(t, s, "main", "Castle", 2)
	seedWorkspace(t, s, "main", "Vanished", 9)
	listing := db.Listing{Instance: "main", Workspaces: []db.DiscoveredWorkspace{
		{BisonID: 2, Name: "Castle Agency", State: db.DiscoveredRegistered},
		{BisonID: 5, Name: "New Client", State: db.DiscoveredUnregistered},
		{BisonID: 6, Name: "Gone Client", State: db.DiscoveredUnregistered},
		{BisonID: 9, Name: "Vanished", State: db.DiscoveredGone},
	}}
	if err := s.RecordListing(ctx, listing); err != nil {
		t.Fatal(err)
	}
	exec(t, s, `UPDATE {schema}.discovered_workspaces SET state_since = now() - interval '2 days'`)
	listing.Workspaces = listing.Workspaces[:2]
	listing.Workspaces = append(listing.Workspaces, db.DiscoveredWorkspace{BisonID: 9, Name: "Vanished", State: db.DiscoveredGone})
	if err := s.RecordListing(ctx, listing); err != nil {
		t.Fatal(err)
	}
	got, err := s.Discovered(ctx, db.DiscoveredUnregistered, db.DiscoveredGone)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "New Client" || got[1].Name != "Vanished" {
		t.Fatalf("discovered: %+v", got)
	}
	if age := time.Since(got[0].Since); age < 47*time.Hour || got[0].FirstSeenAt == nil || got[1].LastSeenAt != nil {
		t.Fatalf("unregistered since %v ago, first seen %v; gone last seen %v", age, got[0].FirstSeenAt, got[1].LastSeenAt)
	}
	insts, err := s.Instances(ctx)
	if err != nil || len(insts) != 1 || insts[0].ListedAt == nil || insts[0].AutoRegister {
		t.Fatalf("instances: %v %+v", err, insts)
	}
	if err := s.RecordListingFailure(ctx, "main", "HTTP 500"); err != nil {
		t.Fatal(err)
	}
	if insts, _ = s.Instances(ctx); insts[0].ListError != "HTTP 500" || insts[0].ListedAt == nil {
		t.Fatalf("after a failed listing: %+v", insts[0])
	}

	// The registry row of the gone workspace is judged gone; the unregistered one is
	// reported by CheckDiscovery until the registry holds it.
	health, err := s.CheckHealth(ctx, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if h := find(health, "Vanished"); h == nil || h.State != db.HealthGone || !strings.Contains(h.Reason, "no longer lists workspace id 9") {
		t.Fatalf("gone: %+v", h)
	}
	unreg, err := s.CheckDiscovery(ctx)
	if err != nil || len(unreg) != 1 || unreg[0].State != db.HealthUnregistered || unreg[0].BisonID != 5 ||
		!strings.Contains(unreg[0].Reason, `bisonsync register "New Client"`) {
		t.Fatalf("unregistered: %v %+v", err, unreg)
	}
	exec(t, s, `INSERT INTO {schema}.client_registry (workspace_name, bison_instance, bison_workspace_id) VALUES ('By Hand', 'main', 5)`)
	exec(t, s, `DELETE FROM {schema}.client_registry WHERE workspace_name = 'Vanished'`)
	if got, _ := s.Discovered(ctx, db.DiscoveredUnregistered, db.DiscoveredGone); len(got) != 0 {
		t.Fatalf("after the registry changed: %+v", got)
	}
}

func find(hs []db.Health, name string) *db.Health {
	for i := range hs {
		if hs[i].Workspace == name {
			return &hs[i]
		}
	}
	return nil
}

// RegisterWorkspaces adds what is new and leaves what the registry holds by name or by id.
func TestRegisterWorkspaces(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := testContext(t)
	seedWorkspace(t, s, "main", "Castle", 2)
	if err := s.RecordListing(ctx, db.Listing{Instance: "main", Workspaces: []db.DiscoveredWorkspace{
		{BisonID: 5, Name: "New", State: db.DiscoveredUnregistered}}}); err != nil {
		t.Fatal(err)
	}
	added, err := s.RegisterWorkspaces(ctx, []db.NewWorkspace{
		{Name: "New", Instance: "main", BisonID: 5, Active: true},
		{Name: "Parked", Instance: "main", BisonID: 6},
		{Name: "Castle", Instance: "main", BisonID: 7, Active: true}, // the name is taken
		{Name: "Other", Instance: "main", BisonID: 2, Active: true},  // the id is taken
	})
	if err != nil || strings.Join(added, ",") != "New,Parked" {
		t.Fatalf("added %v, %v", added, err)
	}
	all, err := s.Workspaces(ctx, db.Selection{IncludeInactive: true})
	if err != nil || len(all) != 3 || !all[1].IsActive || all[2].IsActive || !all[2].APIKey.IsZero() {
		t.Fatalf("registry: %v %+v", err, all)
	}
	if got, _ := s.Discovered(ctx, db.DiscoveredRegistered); len(got) != 1 || got[0].BisonID != 5 {
		t.Fatalf("discovered after registering: %+v", got)
	}
}

// Key health: a rejection keeps the start of its streak, a new key starts unjudged, and a
// minted key is stored only over the key it replaces.
func TestKeyHealth(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := testContext(t)
	seedWorkspace(t, s, "main", "A", 2)
	read := func() db.Workspace {
		t.Helper()
		ws, err := s.Workspaces(ctx, db.Selection{Names: []string{"A"}})
		if err != nil {
			t.Fatal(err)
		}
		return ws[0]
	}
	for range 2 {
		if err := s.RecordKeyHealth(ctx, "A", db.KeyRejected, ""); err != nil {
			t.Fatal(err)
		}
	}
	first := read()
	exec(t, s, `UPDATE {schema}.client_registry SET key_rejected_since = key_rejected_since - interval '1 day'`)
	_ = s.RecordKeyHealth(ctx, "A", db.KeyRejected, "")
	if w := read(); w.KeyStatus != db.KeyRejected || first.KeyRejectedSince == nil || time.Since(*w.KeyRejectedSince) < 23*time.Hour {
		t.Fatalf("rejected streak: %+v", w)
	}
	_ = s.RecordKeyHealth(ctx, "A", db.KeyWrong, "it serves B")
	if w := read(); w.KeyStatus != db.KeyWrong || w.KeyRejectedSince != nil || w.KeyDetail != "it serves B" {
		t.Fatalf("wrong key: %+v", w)
	}
	exec(t, s, `UPDATE {schema}.client_registry SET bison_api_key = 'env:NEW_KEY'`)
	if w := read(); w.KeyStatus != "" || w.KeyCheckedAt != nil || w.KeyDetail != "" {
		t.Fatalf("after a new key by hand: %+v", w)
	}
	ok, err := s.StoreWorkspaceKey(ctx, "A", db.Secret{}, db.NewSecret("5|minted-token-abcdefghij"), "minted")
	if err != nil || ok {
		t.Fatalf("stored over a key that changed: %v %v", ok, err)
	}
	ok, err = s.StoreWorkspaceKey(ctx, "A", db.NewSecret("env:NEW_KEY"), db.NewSecret("5|minted-token-abcdefghij"), "minted")
	if w := read(); err != nil || !ok || w.KeyStatus != db.KeyOK || w.KeyCheckedAt == nil || w.APIKey.Hint() != "…ghij" {
		t.Fatalf("stored: %v %v %+v", ok, err, w)
	}
}
