package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// The test side decodes with its own types, not the server's wire structs, so a field the
// server forgets or misnames shows up as a failure instead of agreeing with itself.

type tPage struct {
	Data  []tAccount `json:"data"`
	Links struct {
		First string  `json:"first"`
		Last  string  `json:"last"`
		Prev  *string `json:"prev"`
		Next  *string `json:"next"`
	} `json:"links"`
	Meta struct {
		CurrentPage int    `json:"current_page"`
		From        *int   `json:"from"`
		LastPage    int    `json:"last_page"`
		PerPage     int    `json:"per_page"`
		To          *int   `json:"to"`
		Total       int    `json:"total"`
		Path        string `json:"path"`
	} `json:"meta"`
}

type tAccount struct {
	ID                       int64  `json:"id"`
	Email                    string `json:"email"`
	Name                     string `json:"name"`
	Status                   string `json:"status"`
	Type                     string `json:"type"`
	DailyLimit               int    `json:"daily_limit"`
	EmailsSentCount          int    `json:"emails_sent_count"`
	TotalRepliedCount        int    `json:"total_replied_count"`
	UniqueRepliedCount       int    `json:"unique_replied_count"`
	BouncedCount             int    `json:"bounced_count"`
	UnsubscribedCount        int    `json:"unsubscribed_count"`
	InterestedLeadsCount     int    `json:"interested_leads_count"`
	TotalOpenedCount         int    `json:"total_opened_count"`
	UniqueOpenedCount        int    `json:"unique_opened_count"`
	TotalLeadsContactedCount int    `json:"total_leads_contacted_count"`
	Tags                     []struct {
		ID      int    `json:"id"`
		Name    string `json:"name"`
		Default bool   `json:"default"`
	} `json:"tags"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

// contractFields are the fields CONTRACT.md section 1 names for a sender email.
var contractFields = []string{
	"id", "email", "name", "status", "type", "daily_limit", "emails_sent_count",
	"total_replied_count", "unique_replied_count", "bounced_count", "unsubscribed_count",
	"interested_leads_count", "total_opened_count", "unique_opened_count",
	"total_leads_contacted_count", "tags", "created_at", "updated_at",
}

var testClient = &http.Client{Timeout: 10 * time.Second}

// do sends one request and returns status, headers and body.
func do(t testing.TB, method, url, token string, body any) (int, http.Header, []byte) {
	t.Helper()
	resp, err := send(method, url, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp.StatusCode, resp.Header, b
}

func send(method, url, token string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return testClient.Do(req)
}

func pageURL(s *Server, inst string, page int) string {
	return s.BaseURL(inst) + "/sender-emails?page=" + strconv.Itoa(page) + "&per_page=15"
}

// getPage fetches and decodes one list page, failing the test on anything but 200.
func getPage(t testing.TB, s *Server, inst, token string, page int) tPage {
	t.Helper()
	status, _, body := do(t, http.MethodGet, pageURL(s, inst, page), token, nil)
	if status != http.StatusOK {
		t.Fatalf("page %d: status %d: %s", page, status, body)
	}
	var p tPage
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("page %d: decode: %v\n%s", page, err, body)
	}
	return p
}

// switchTo selects a workspace for a super-admin key and returns the status.
func switchTo(t testing.TB, s *Server, inst, token string, team any) int {
	t.Helper()
	status, _, _ := do(t, http.MethodPost, s.BaseURL(inst)+"/workspaces/v1.1/switch-workspace", token,
		map[string]any{"team_id": team})
	return status
}

// fetchAll pages naively through whatever the key serves, following links.next.
func fetchAll(t testing.TB, s *Server, inst, token string) (ids []int64, lastTotal int) {
	t.Helper()
	for page := 1; ; page++ {
		p := getPage(t, s, inst, token, page)
		for _, a := range p.Data {
			ids = append(ids, a.ID)
		}
		lastTotal = p.Meta.Total
		if p.Links.Next == nil {
			return ids, lastTotal
		}
		if page > 100000 {
			t.Fatal("paging does not end")
		}
	}
}

// smallFleet is a hand-made fleet: one instance, three workspaces of 40, 7 and 0 accounts;
// workspace 30 has no key of its own.
func smallFleet() *Fleet {
	return &Fleet{Instances: []*Instance{
		{
			Name:          "alpha",
			SuperAdminKey: "1|SuperAdminKeyAlphaAAAAAAAAAAAAAAAAAAAAAAAAAA",
			Workspaces: []*Workspace{
				{ID: 10, Name: "Ten", Key: "11|WorkspaceTenKeyBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", Seed: 1, Count: 40},
				{ID: 20, Name: "Twenty", Key: "12|WorkspaceTwentyKeyCCCCCCCCCCCCCCCCCCCCCCCCCC", Seed: 2, Count: 7},
				{ID: 30, Name: "Thirty", Accounts: []Account{}},
			},
		},
		{
			Name:          "beta",
			SuperAdminKey: "2|SuperAdminKeyBetaDDDDDDDDDDDDDDDDDDDDDDDDDDDD",
			Workspaces: []*Workspace{
				{ID: 10, Name: "Beta Ten", Key: "21|BetaWorkspaceTenKeyEEEEEEEEEEEEEEEEEEEEEEEEEE", Seed: 3, Count: 20},
			},
		},
	}}
}

const (
	alphaSuper = "1|SuperAdminKeyAlphaAAAAAAAAAAAAAAAAAAAAAAAAAA"
	alphaTen   = "11|WorkspaceTenKeyBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
	alphaTwen  = "12|WorkspaceTwentyKeyCCCCCCCCCCCCCCCCCCCCCCCCCC"
	betaSuper  = "2|SuperAdminKeyBetaDDDDDDDDDDDDDDDDDDDDDDDDDDDD"
	betaTen    = "21|BetaWorkspaceTenKeyEEEEEEEEEEEEEEEEEEEEEEEEEE"
)

func newSmall(t testing.TB, opts Options) *Server {
	t.Helper()
	s := NewServer(smallFleet(), opts)
	t.Cleanup(s.Close)
	return s
}

func idSet(ids []int64) map[int64]bool {
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func accountIDs(accs []Account) []int64 {
	ids := make([]int64, len(accs))
	for i, a := range accs {
		ids[i] = a.ID
	}
	return ids
}

func mustEqual[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func describe(p tPage) string {
	return fmt.Sprintf("page %d/%d total %d rows %d", p.Meta.CurrentPage, p.Meta.LastPage, p.Meta.Total, len(p.Data))
}
