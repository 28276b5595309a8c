package sim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/bisonsync/bisonsync/bison/sim"
)

// A super-admin key must select a workspace before it lists it; the list then comes back
// 15 rows at a time.
func ExampleNewServer() {
	fleet := sim.IncidentFleet()
	srv := sim.NewServer(fleet, sim.Options{})
	defer srv.Close()

	bison := fleet.Instance(sim.IncidentInstance)
	jason := bison.WorkspaceNamed(sim.IncidentLargest)
	call := func(method, path, body string) *http.Response {
		req, _ := http.NewRequest(method, srv.BaseURL(bison.Name)+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+bison.SuperAdminKey)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		return resp
	}

	resp := call(http.MethodPost, "/workspaces/v1.1/switch-workspace", fmt.Sprintf(`{"team_id": %d}`, jason.ID))
	resp.Body.Close()
	fmt.Println("switch:", resp.StatusCode)

	resp = call(http.MethodGet, "/sender-emails?page=1&per_page=100", "")
	defer resp.Body.Close()
	var page struct {
		Data []struct{ Email string }
		Meta struct {
			LastPage int `json:"last_page"`
			Total    int
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&page)
	fmt.Println("rows:", len(page.Data), "pages:", page.Meta.LastPage, "total:", page.Meta.Total)
	// Output:
	// switch: 200
	// rows: 15 pages: 29 total: 433
}

// Drift makes a naive client skip live accounts while its count still looks right.
func ExampleServer_AddDrift() {
	fleet := sim.GenerateFleet(1, 3, 150)
	srv := sim.NewServer(fleet, sim.Options{})
	defer srv.Close()
	in := fleet.Instances[0]
	var ws *sim.Workspace
	for _, w := range in.Workspaces {
		if w.Key != "" && (ws == nil || w.NumAccounts() > ws.NumAccounts()) {
			ws = w
		}
	}
	srv.AddDrift(sim.Drift{Instance: in.Name, Workspace: ws.ID, AfterPage: 1, Remove: 2, Add: 2})

	seen := map[float64]bool{}
	total := 0
	for page := 1; ; page++ {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/sender-emails?page=%d", srv.BaseURL(in.Name), page), nil)
		req.Header.Set("Authorization", "Bearer "+ws.Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		for _, row := range body["data"].([]any) {
			seen[row.(map[string]any)["id"].(float64)] = true
		}
		total = int(body["meta"].(map[string]any)["total"].(float64))
		if body["links"].(map[string]any)["next"] == nil {
			break
		}
	}
	missed := 0
	for _, a := range srv.Accounts(in.Name, ws.ID) {
		if !seen[float64(a.ID)] {
			missed++
		}
	}
	fmt.Println("fetched:", len(seen), "meta.total:", total, "live accounts missed:", missed)
	// Output:
	// fetched: 129 meta.total: 129 live accounts missed: 2
}
