package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestIncidentFleetOverHTTP(t *testing.T) {
	t.Parallel()
	f := IncidentFleet()
	s := NewServer(f, Options{})
	defer s.Close()
	in := f.Instances[0]
	jb := in.WorkspaceNamed(IncidentLargest)
	if jb.Key != "" {
		t.Fatal("Jason Binyon is expected to go through the super-admin key")
	}
	if st := switchTo(t, s, IncidentInstance, in.SuperAdminKey, jb.ID); st != http.StatusOK {
		t.Fatalf("switch: %d", st)
	}
	ids, total := fetchAll(t, s, IncidentInstance, in.SuperAdminKey)
	mustEqual(t, "rows", len(ids), 433)
	mustEqual(t, "distinct", len(idSet(ids)), 433)
	mustEqual(t, "meta.total", total, 433)
	p := getPage(t, s, IncidentInstance, in.SuperAdminKey, 1)
	mustEqual(t, "last_page", p.Meta.LastPage, 29)

	found := false
	for page := 1; page <= 29 && !found; page++ {
		for _, a := range getPage(t, s, IncidentInstance, in.SuperAdminKey, page).Data {
			if a.Email == IncidentEmail {
				found = true
				mustEqual(t, "emails_sent_count", a.EmailsSentCount, 43)
			}
		}
	}
	if !found {
		t.Errorf("%s not served", IncidentEmail)
	}

	// Every workspace with a key of its own serves exactly its ground truth.
	sum := 0
	for _, w := range in.Workspaces {
		if w.Key == "" {
			switchTo(t, s, IncidentInstance, in.SuperAdminKey, w.ID)
			ids, _ = fetchAll(t, s, IncidentInstance, in.SuperAdminKey)
		} else {
			ids, _ = fetchAll(t, s, IncidentInstance, w.Key)
		}
		want := accountIDs(s.Accounts(IncidentInstance, w.ID))
		if !equalIDs(ids, want) {
			t.Errorf("workspace %q: served %d ids, ground truth %d", w.Name, len(ids), len(want))
		}
		sum += len(ids)
	}
	mustEqual(t, "accounts served", sum, 4839)
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEnvelope(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	status, h, body := do(t, http.MethodGet, pageURL(s, "alpha", 1), alphaTen, nil)
	mustEqual(t, "status", status, 200)
	mustEqual(t, "content type", h.Get("Content-Type"), "application/json")

	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"data", "links", "meta"} {
		if raw[k] == nil {
			t.Errorf("envelope lacks %q", k)
		}
	}
	var links, meta map[string]json.RawMessage
	_ = json.Unmarshal(raw["links"], &links)
	_ = json.Unmarshal(raw["meta"], &meta)
	for _, k := range []string{"first", "last", "prev", "next"} {
		if links[k] == nil {
			t.Errorf("links lacks %q", k)
		}
	}
	for _, k := range []string{"current_page", "from", "last_page", "per_page", "to", "total", "path"} {
		if meta[k] == nil {
			t.Errorf("meta lacks %q", k)
		}
	}
	var rows []map[string]json.RawMessage
	_ = json.Unmarshal(raw["data"], &rows)
	for _, k := range append(contractFields, "imap_server", "settings") {
		if rows[0][k] == nil {
			t.Errorf("account lacks %q", k)
		}
	}
	if !bytes.Contains(body, []byte(`http:\/\/`)) {
		t.Error("slashes are not escaped as PHP's json_encode does")
	}

	p := getPage(t, s, "alpha", alphaTen, 1)
	mustEqual(t, "rows", len(p.Data), 15)
	mustEqual(t, "meta.total", p.Meta.Total, 40)
	mustEqual(t, "meta.last_page", p.Meta.LastPage, 3)
	mustEqual(t, "meta.per_page", p.Meta.PerPage, 15)
	mustEqual(t, "meta.from", *p.Meta.From, 1)
	mustEqual(t, "meta.to", *p.Meta.To, 15)
	mustEqual(t, "meta.path", p.Meta.Path, s.BaseURL("alpha")+"/sender-emails")
	if p.Links.Prev != nil {
		t.Errorf("links.prev on page 1 = %q, want null", *p.Links.Prev)
	}
	if p.Links.Next == nil || *p.Links.Next != s.BaseURL("alpha")+"/sender-emails?page=2" {
		t.Errorf("links.next = %v, want absolute URL of page 2", p.Links.Next)
	}
	truth := s.Accounts("alpha", 10)
	for i, a := range p.Data {
		w := truth[i]
		if a.ID != w.ID || a.Email != w.Email || a.Name != w.Name || a.EmailsSentCount != w.EmailsSentCount ||
			len(a.Tags) != len(w.Tags) || a.CreatedAt != w.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000Z") {
			t.Errorf("row %d = %+v, ground truth %+v", i, a, w)
		}
		if i > 0 && a.ID <= p.Data[i-1].ID {
			t.Errorf("rows not in id order")
		}
	}

	last := getPage(t, s, "alpha", alphaTen, 3)
	mustEqual(t, "last page rows", len(last.Data), 10)
	if last.Links.Next != nil {
		t.Errorf("links.next on the last page = %q, want null", *last.Links.Next)
	}
}

func TestPagingEdges(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	base := s.BaseURL("alpha") + "/sender-emails"
	for _, tc := range []struct {
		name, query string
		rows, page  int
	}{
		{"per_page ignored above 15", "?page=1&per_page=100", 15, 1},
		{"smaller per_page honoured", "?page=1&per_page=5", 5, 1},
		{"no page", "", 15, 1},
		{"page zero", "?page=0", 15, 1},
		{"page negative", "?page=-3", 15, 1},
		{"page garbage", "?page=abc", 15, 1},
		{"beyond last", "?page=4", 0, 4},
		{"far beyond last", "?page=999999999999", 0, 999999999999},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := do(t, http.MethodGet, base+tc.query, alphaTen, nil)
			mustEqual(t, "status", status, 200)
			var p tPage
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			mustEqual(t, "rows", len(p.Data), tc.rows)
			mustEqual(t, "current_page", p.Meta.CurrentPage, tc.page)
			mustEqual(t, "total", p.Meta.Total, 40)
			if tc.rows == 0 {
				if !bytes.Contains(body, []byte(`"data":[]`)) {
					t.Errorf("empty page is not data: []: %.80s", body)
				}
				if p.Links.Next != nil || p.Meta.From != nil {
					t.Errorf("beyond last: next %v from %v, want null", p.Links.Next, p.Meta.From)
				}
			}
		})
	}

	// An empty workspace still has one (empty) page.
	switchTo(t, s, "alpha", alphaSuper, 30)
	p := getPage(t, s, "alpha", alphaSuper, 1)
	if len(p.Data) != 0 || p.Meta.Total != 0 || p.Meta.LastPage != 1 {
		t.Errorf("empty workspace: %s", describe(p))
	}
}

func TestSingleAccount(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	ten := s.Accounts("alpha", 10)
	twenty := s.Accounts("alpha", 20)

	status, _, body := do(t, http.MethodGet, s.BaseURL("alpha")+"/sender-emails/"+itoa(ten[3].ID), alphaTen, nil)
	mustEqual(t, "status", status, 200)
	var one struct {
		Data tAccount `json:"data"`
	}
	if err := json.Unmarshal(body, &one); err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "id", one.Data.ID, ten[3].ID)
	mustEqual(t, "email", one.Data.Email, ten[3].Email)

	for _, tc := range []struct {
		name, path string
	}{
		{"another workspace's account", "/sender-emails/" + itoa(twenty[0].ID)},
		{"unknown id", "/sender-emails/1"},
		{"not a number", "/sender-emails/abc"},
	} {
		status, _, body := do(t, http.MethodGet, s.BaseURL("alpha")+tc.path, alphaTen, nil)
		mustEqual(t, tc.name+": status", status, 404)
		if !strings.Contains(string(body), `"message"`) {
			t.Errorf("%s: body %s", tc.name, body)
		}
	}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func TestAuth(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	for _, tc := range []struct {
		name, token string
		status      int
	}{
		{"no token", "", 401},
		{"unknown token", "99|NoSuchKeyFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", 401},
		{"another instance's workspace key", betaTen, 401},
		{"another instance's super-admin key", betaSuper, 401},
		{"workspace key", alphaTen, 200},
		{"super-admin key", alphaSuper, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := do(t, http.MethodGet, pageURL(s, "alpha", 1), tc.token, nil)
			mustEqual(t, "status", status, tc.status)
			if tc.status == 401 && string(body) != `{"message":"Unauthenticated."}` {
				t.Errorf("body %s", body)
			}
		})
	}

	// A rotated key stops working at once.
	if !s.SetWorkspaceKey("alpha", 20, "77|RotatedKeyGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGG") {
		t.Fatal("SetWorkspaceKey refused")
	}
	if st, _, _ := do(t, http.MethodGet, pageURL(s, "alpha", 1), alphaTwen, nil); st != 401 {
		t.Errorf("old key: %d, want 401", st)
	}
	p := getPage(t, s, "alpha", "77|RotatedKeyGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGG", 1)
	mustEqual(t, "new key serves workspace 20", p.Meta.Total, 7)
	if s.SetWorkspaceKey("alpha", 10, alphaSuper) {
		t.Error("a key already in use was accepted")
	}
}

func TestSwitchWorkspace(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	sw := s.BaseURL("alpha") + "/workspaces/v1.1/switch-workspace"

	// Before any switch a super-admin key serves the instance's first workspace.
	mustEqual(t, "total before switch", getPage(t, s, "alpha", alphaSuper, 1).Meta.Total, 40)

	status, _, body := do(t, http.MethodPost, sw, alphaSuper, map[string]any{"team_id": 20})
	mustEqual(t, "switch status", status, 200)
	var resp struct {
		Data struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "switched id", resp.Data.ID, 20)
	mustEqual(t, "switched name", resp.Data.Name, "Twenty")
	mustEqual(t, "total after switch", getPage(t, s, "alpha", alphaSuper, 1).Meta.Total, 7)
	mustEqual(t, "SelectedWorkspace", s.SelectedWorkspace(alphaSuper), 20)

	mustEqual(t, "numeric string team_id", switchTo(t, s, "alpha", alphaSuper, "10"), 200)
	mustEqual(t, "no such workspace", switchTo(t, s, "alpha", alphaSuper, 999), 404)
	mustEqual(t, "workspace of another instance", switchTo(t, s, "beta", betaSuper, 20), 404)
	mustEqual(t, "selection kept after a failed switch", s.SelectedWorkspace(alphaSuper), 10)
	mustEqual(t, "workspace key", switchTo(t, s, "alpha", alphaTen, 20), 403)
	mustEqual(t, "unknown key", switchTo(t, s, "alpha", "", 20), 401)
	mustEqual(t, "missing team_id", switchTo(t, s, "alpha", alphaSuper, nil), 422)
	if st, _, _ := do(t, http.MethodGet, sw, alphaSuper, nil); st != http.StatusMethodNotAllowed {
		t.Errorf("GET switch: %d, want 405", st)
	}

	// Selection is per key: beta's super-admin key is unaffected by alpha's switches.
	mustEqual(t, "beta before switch", getPage(t, s, "beta", betaSuper, 1).Meta.Total, 20)
}

// TestSuperAdminTrap shows why one super-admin key must serve one workspace at a time: the
// selection is read when the response is written, so a switch made while a page is on its
// way changes whose rows that page carries.
func TestSuperAdminTrap(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	ten := idSet(accountIDs(s.Accounts("alpha", 10)))
	twenty := idSet(accountIDs(s.Accounts("alpha", 20)))

	t.Run("deterministic", func(t *testing.T) {
		mustEqual(t, "switch to 10", switchTo(t, s, "alpha", alphaSuper, 10), 200)
		remove := s.AddFault(Fault{Kind: FaultDelay, Key: alphaSuper, Path: KindList, Times: 1, Delay: 300 * time.Millisecond})
		defer remove()
		pageCh := make(chan tPage, 1)
		go func() { pageCh <- getPage(t, s, "alpha", alphaSuper, 1) }() // meant for workspace 10
		for s.InFlight("alpha") == 0 {
			time.Sleep(time.Millisecond)
		}
		mustEqual(t, "switch to 20", switchTo(t, s, "alpha", alphaSuper, 20), 200) // the other goroutine's switch
		p := <-pageCh
		for _, a := range p.Data {
			if ten[a.ID] || !twenty[a.ID] {
				t.Fatalf("row %d is not workspace 20's: the page should carry the other workspace's rows", a.ID)
			}
		}
		mustEqual(t, "meta.total", p.Meta.Total, 7)
	})

	t.Run("interleaved goroutines", func(t *testing.T) {
		s.SetLatency("alpha", 2*time.Millisecond, 2*time.Millisecond)
		defer s.SetLatency("alpha", 0, 0)
		var wrong sync.Map
		var wg sync.WaitGroup
		for _, tc := range []struct {
			ws    int
			owned map[int64]bool
		}{{10, ten}, {20, twenty}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 40 {
					if switchTo(t, s, "alpha", alphaSuper, tc.ws) != 200 {
						t.Error("switch failed")
						return
					}
					for _, a := range getPage(t, s, "alpha", alphaSuper, 1).Data {
						if !tc.owned[a.ID] {
							wrong.Store(tc.ws, true)
						}
					}
				}
			}()
		}
		wg.Wait()
		n := 0
		wrong.Range(func(any, any) bool { n++; return true })
		if n == 0 {
			t.Error("80 interleaved switch+page pairs on one key never got the other workspace's rows")
		}
	})
}

func TestLatencyAndCancellation(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{Latency: 60 * time.Millisecond, Jitter: 20 * time.Millisecond, Seed: 3})
	start := time.Now()
	getPage(t, s, "alpha", alphaTen, 1)
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("answered in %v, want at least Latency-Jitter", d)
	}

	s.SetLatency("alpha", 5*time.Second, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, pageURL(s, "alpha", 1), nil)
	req.Header.Set("Authorization", "Bearer "+alphaTen)
	_, err := testClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for s.InFlight("alpha") != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	mustEqual(t, "in flight after the client gave up", s.InFlight("alpha"), 0)
	reqs := s.Requests()
	mustEqual(t, "status of the abandoned request", reqs[len(reqs)-1].Status, 0)
}

func TestArbitraryText(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	odd := "Zoë \"Zed\" O'Brien </script> \x01\t😀 \u2028 / \\"
	a := s.Accounts("alpha", 20)[2]
	a.Name = odd
	a.Email = "zoë+test@exämple.com"
	a.Tags = []Tag{{ID: 99, Name: "  Zapmail  ", Default: true}}
	if _, ok := s.SetAccount("alpha", 20, a); !ok {
		t.Fatal("SetAccount refused")
	}
	s.SetWorkspaceName("alpha", 20, odd)

	_, _, body := do(t, http.MethodGet, pageURL(s, "alpha", 1), alphaTwen, nil)
	if bytes.ContainsRune(body, 'ë') || !bytes.Contains(body, []byte(`\u00eb`)) || !bytes.Contains(body, []byte(`\ud83d\ude00`)) {
		t.Errorf("non-ASCII not escaped as PHP does: %.300s", body)
	}
	var p tPage
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "name round trip", p.Data[2].Name, odd)
	mustEqual(t, "email round trip", p.Data[2].Email, a.Email)
	mustEqual(t, "tag round trip", p.Data[2].Tags[0].Name, "  Zapmail  ")

	status, _, body := do(t, http.MethodPost, s.BaseURL("alpha")+"/workspaces/v1.1/switch-workspace", alphaSuper, map[string]int{"team_id": 20})
	mustEqual(t, "switch", status, 200)
	var sw struct {
		Data struct{ Name string } `json:"data"`
	}
	_ = json.Unmarshal(body, &sw)
	mustEqual(t, "workspace name round trip", sw.Data.Name, odd)
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	for _, tc := range []struct {
		method, url string
		status      int
	}{
		{http.MethodGet, s.URL() + "/nosuch/api/sender-emails", 404},
		{http.MethodGet, s.BaseURL("alpha") + "/campaigns", 404},
		{http.MethodGet, s.URL() + "/alpha/sender-emails", 404},
		{http.MethodPost, pageURL(s, "alpha", 1), 405},
	} {
		if st, _, _ := do(t, tc.method, tc.url, alphaTen, nil); st != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.url, st, tc.status)
		}
	}
}

func TestClosePromptlyReleasesHangingRequests(t *testing.T) {
	t.Parallel()
	s := NewServer(smallFleet(), Options{})
	s.AddFault(Fault{Kind: FaultHang})
	errCh := make(chan error, 1)
	go func() {
		_, err := send(http.MethodGet, pageURL(s, "alpha", 1), alphaTen, nil)
		errCh <- err
	}()
	for s.InFlight("alpha") == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := <-errCh; err == nil {
		t.Error("hanging request got an answer after Close")
	}
	mustEqual(t, "in flight after Close", s.InFlight("alpha"), 0)
}
