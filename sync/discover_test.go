package sync

import (
	"fmt"
	"testing"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/db"
)

func TestCompareListing(t *testing.T) {
	registry := []db.Workspace{
		{Name: "Castle", Instance: "main", BisonID: 2},
		{Name: "Parked", Instance: "main", BisonID: 3, IsActive: false},
		{Name: "Vanished", Instance: "main", BisonID: 9, IsActive: true},
		{Name: "Elsewhere", Instance: "other", BisonID: 5},
	}
	listed := []bison.WorkspaceInfo{
		{ID: 2, Name: "Castle Agency"}, // renamed at the source: still registered, by id
		{ID: 3, Name: "Parked"},
		{ID: 5, Name: "New Client"}, // id 5 is registered, but on another instance
		{ID: 5, Name: "New Client"}, // listed twice
		{ID: 7, Name: "Another"},
	}
	got := CompareListing("main", listed, registry)
	want := []string{"gone 9 Vanished", "registered 2 Castle Agency", "registered 3 Parked",
		"unregistered 7 Another", "unregistered 5 New Client"}
	if got.Instance != "main" || len(got.Workspaces) != len(want) {
		t.Fatalf("%+v", got)
	}
	for i, w := range got.Workspaces {
		if s := fmt.Sprintf("%s %d %s", w.State, w.BisonID, w.Name); s != want[i] || w.Instance != "main" {
			t.Errorf("%d: %s, want %s", i, s, want[i])
		}
	}
	if empty := CompareListing("main", nil, nil); len(empty.Workspaces) != 0 {
		t.Fatalf("nothing listed, nothing registered: %+v", empty)
	}
	if all := CompareListing("main", nil, registry); len(all.Workspaces) != 3 {
		t.Fatalf("an empty listing makes every row of the instance gone: %+v", all)
	}
}

func TestRegistryNames(t *testing.T) {
	registry := []db.Workspace{{Name: "Castle Agency"}}
	found := []db.DiscoveredWorkspace{
		{Instance: "main", BisonID: 5, Name: "New Client"},
		{Instance: "two", BisonID: 8, Name: "Castle Agency"}, // taken in the registry
		{Instance: "two", BisonID: 9, Name: "New Client"},    // taken by the first
		{Instance: "two", BisonID: 10, Name: ""},
	}
	got := RegistryNames(found, registry, false)
	want := []string{"New Client", "Castle Agency (two #8)", "New Client (two #9)", "workspace #10 of two"}
	for i, nw := range got {
		if nw.Name != want[i] || nw.Active || nw.Instance != found[i].Instance || nw.BisonID != found[i].BisonID {
			t.Errorf("%d: %+v, want name %q", i, nw, want[i])
		}
	}
}
