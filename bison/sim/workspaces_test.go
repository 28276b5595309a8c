package sim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

type tTeams struct {
	Data []struct {
		ID           int     `json:"id"`
		Name         string  `json:"name"`
		PersonalTeam bool    `json:"personal_team"`
		Main         bool    `json:"main"`
		ParentID     *int    `json:"parent_id"`
		CreatedAt    string  `json:"created_at"`
		UpdatedAt    string  `json:"updated_at"`
		Extra        *string `json:"logo"`
	} `json:"data"`
}

func teamsOf(t *testing.T, srv *Server, key string) (int, tTeams) {
	t.Helper()
	status, _, body := do(t, http.MethodGet, srv.BaseURL(IncidentInstance)+"/workspaces/v1.1", key, nil)
	var out tTeams
	if status == http.StatusOK {
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("listing: %v: %s", err, body)
		}
	}
	return status, out
}

// The listing shows every workspace, to the super-admin key only, and follows workspaces
// added and removed at the source.
func TestListingFollowsTheSource(t *testing.T) {
	t.Parallel()
	fleet := IncidentFleet()
	srv := NewServer(fleet, Options{})
	defer srv.Close()
	in := fleet.Instances[0]
	status, teams := teamsOf(t, srv, in.SuperAdminKey)
	if status != 200 || len(teams.Data) != IncidentWorkspaces || teams.Data[0].Name != in.Workspaces[0].Name || teams.Data[0].CreatedAt == "" {
		t.Fatalf("listing: %d, %d workspaces: %+v", status, len(teams.Data), teams.Data[:1])
	}
	if status, _ := teamsOf(t, srv, in.Workspaces[0].Key); status != http.StatusForbidden {
		t.Fatalf("a workspace key lists workspaces: %d", status)
	}
	if status, _ := teamsOf(t, srv, "1|unknown-token-abcdefghijkl"); status != http.StatusUnauthorized {
		t.Fatalf("an unknown key lists workspaces: %d", status)
	}

	if err := srv.AddWorkspace(IncidentInstance, &Workspace{ID: 50, Name: "New Client", Seed: 3, Count: 40}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddWorkspace(IncidentInstance, &Workspace{ID: 50, Name: "Twice"}); err == nil {
		t.Fatal("a workspace id added twice")
	}
	jason := in.WorkspaceNamed(IncidentLargest)
	if !srv.RemoveWorkspace(IncidentInstance, jason.ID) || srv.RemoveWorkspace(IncidentInstance, jason.ID) {
		t.Fatal("RemoveWorkspace: want true once, then false")
	}
	_, teams = teamsOf(t, srv, in.SuperAdminKey)
	names := map[string]bool{}
	for _, w := range teams.Data {
		names[w.Name] = true
	}
	if len(teams.Data) != IncidentWorkspaces || !names["New Client"] || names[IncidentLargest] {
		t.Fatalf("after add and remove: %v", names)
	}
	// The new workspace is reachable with a switch, and its accounts do not collide.
	if got := srv.NumAccounts(IncidentInstance, 50); got != 40 {
		t.Fatalf("new workspace has %d accounts", got)
	}
	if status, _, _ := do(t, http.MethodPost, srv.BaseURL(IncidentInstance)+"/workspaces/v1.1/switch-workspace", in.SuperAdminKey, map[string]int{"team_id": jason.ID}); status != http.StatusNotFound {
		t.Fatalf("switch to a removed workspace: %d", status)
	}
}

// A minted token works as the workspace's key at once, is never the same twice, and is
// refused once its workspace is deleted.
func TestMintedTokensServeTheirWorkspace(t *testing.T) {
	t.Parallel()
	fleet := IncidentFleet()
	srv := NewServer(fleet, Options{})
	defer srv.Close()
	in := fleet.Instances[0]
	jason := in.WorkspaceNamed(IncidentLargest)
	mintURL := srv.BaseURL(IncidentInstance) + "/workspaces/v1.1/11/api-tokens"
	var tokens []string
	for range 2 {
		status, _, body := do(t, http.MethodPost, mintURL, in.SuperAdminKey, map[string]string{"name": "bisonsync"})
		var out struct {
			Data struct {
				ID    int    `json:"id"`
				Name  string `json:"name"`
				Token string `json:"plain_text_token"`
			} `json:"data"`
		}
		if status != 200 || json.Unmarshal(body, &out) != nil || out.Data.Name != "bisonsync" || !strings.Contains(out.Data.Token, "|") {
			t.Fatalf("mint: %d %s", status, body)
		}
		tokens = append(tokens, out.Data.Token)
	}
	if tokens[0] == tokens[1] || len(srv.MintedKeys()) != 2 {
		t.Fatalf("tokens %d distinct, %d minted", len(tokens), len(srv.MintedKeys()))
	}
	page := getPage(t, srv, IncidentInstance, tokens[0], 1)
	if page.Meta.Total != jason.NumAccounts() {
		t.Fatalf("the minted key serves %d accounts, want Jason Binyon's %d", page.Meta.Total, jason.NumAccounts())
	}
	for _, c := range []struct {
		key, body string
		want      int
	}{
		{in.Workspaces[0].Key, `{"name":"x"}`, http.StatusForbidden},
		{in.SuperAdminKey, `{}`, http.StatusUnprocessableEntity},
	} {
		if status, _, _ := do(t, http.MethodPost, mintURL, c.key, json.RawMessage(c.body)); status != c.want {
			t.Fatalf("mint with body %s: %d, want %d", c.body, status, c.want)
		}
	}
	if status, _, _ := do(t, http.MethodPost, srv.BaseURL(IncidentInstance)+"/workspaces/v1.1/999/api-tokens", in.SuperAdminKey, map[string]string{"name": "x"}); status != http.StatusNotFound {
		t.Fatalf("mint for no workspace: %d", status)
	}
	srv.RemoveWorkspace(IncidentInstance, jason.ID)
	if status, _, _ := do(t, http.MethodGet, srv.BaseURL(IncidentInstance)+"/sender-emails", tokens[1], nil); status != http.StatusUnauthorized {
		t.Fatalf("a minted key of a deleted workspace: %d", status)
	}
}

// SetKeyScope makes a workspace's key serve another workspace's accounts.
func TestMisScopedKey(t *testing.T) {
	t.Parallel()
	fleet := IncidentFleet()
	srv := NewServer(fleet, Options{})
	defer srv.Close()
	in := fleet.Instances[0]
	a, b := in.Workspaces[0], in.Workspaces[1]
	if !srv.SetKeyScope(IncidentInstance, a.ID, b.ID) {
		t.Fatal("SetKeyScope failed")
	}
	page := getPage(t, srv, IncidentInstance, a.Key, 1)
	if page.Meta.Total != b.NumAccounts() {
		t.Fatalf("%s's key serves %d accounts, want %s's %d", a.Name, page.Meta.Total, b.Name, b.NumAccounts())
	}
}
