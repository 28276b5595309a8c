package sync_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/demo"
	"github.com/bisonsync/bisonsync/sync"
)

// The incident's starting point (360 rows 18 days old, jason@ at 4, 73 vanished accounts)
// becomes the truth: 43, and exactly the 73 marked deleted.
func TestStaleIncidentDataIsRepaired(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{})
	vanished, err := demo.SeedIncident(context.Background(), v.Store, v.Srv)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := v.run(sync.Request{Names: []string{sim.IncidentLargest}})
	jason := result(t, s, sim.IncidentLargest)
	// Every account is written but those whose stale row happened to match the source.
	if s.Status != "succeeded" || jason.AccountsDeleted != demo.IncidentVanished ||
		jason.AccountsUpserted+jason.AccountsUnchanged != 433 || jason.AccountsUpserted < 433-demo.IncidentStaleRows {
		t.Fatalf("run %s: %+v", s.Status, jason)
	}
	v.AssertExact(sim.IncidentLargest)
	rows, err := v.Store.Pool().Query(context.Background(), `SELECT bison_account_id FROM "`+v.Store.Schema()+
		`".email_accounts_raw WHERE deleted_at IS NOT NULL ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var deleted []int64
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		deleted = append(deleted, id)
	}
	if fmt.Sprint(deleted) != fmt.Sprint(vanished) {
		t.Fatalf("marked deleted %v, want exactly the vanished %v", deleted, vanished)
	}
}

// Transient trouble of every kind is ridden out with exact data.
func TestTransientFaultsEndExact(t *testing.T) {
	t.Parallel()
	fleet := sim.IncidentFleet()
	jason := fleet.Instance(sim.IncidentInstance).WorkspaceNamed(sim.IncidentLargest)
	castle := fleet.Instance(sim.IncidentInstance).Workspaces[0]
	cases := map[string]func(v *env){
		"5xx on every third request": func(v *env) {
			v.Srv.AddFault(sim.Fault{Kind: sim.FaultStatus, Status: 503, Every: 3})
		},
		"429 with Retry-After and a token bucket": func(v *env) {
			v.Srv.AddFault(sim.Fault{Kind: sim.Fault429, RetryAfter: time.Second, Times: 2, Workspace: jason.ID})
			// The server allows 200 requests a second; the instance is configured just
			// under, as an operator would once the limit is known: the odd 429 of the
			// bucket is still ridden out, but the run is not a series of pauses.
			v.Srv.SetRateLimit(sim.IncidentInstance, 200, 20)
			rps := float32(180)
			v.setInstanceRPS(sim.IncidentInstance, rps)
		},
		"a page that hangs on its first attempts": func(v *env) {
			v.Srv.AddFault(sim.Fault{Kind: sim.FaultHang, Times: 2, Workspace: jason.ID, Page: 17})
		},
		"connection resets": func(v *env) {
			v.Srv.AddFault(sim.Fault{Kind: sim.FaultReset, Times: 3, Workspace: castle.ID})
			v.Srv.AddFault(sim.Fault{Kind: sim.FaultReset, Times: 1, Workspace: jason.ID, Page: 9})
		},
	}
	for name, arm := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v := newEnv(t, sim.IncidentFleet(), sim.Options{Latency: 2 * time.Millisecond, Jitter: 2 * time.Millisecond})
			v.cfg.Client.RequestTimeout = 300 * time.Millisecond
			arm(v)
			s, ev := v.run(sync.Request{})
			if s.Status != db.RunSucceeded {
				t.Fatalf("run %s: %+v", s.Status, s.Workspaces)
			}
			v.AssertExact()
			// The fault bit: the simulator answered some requests badly (a reset on a reused
			// connection may be retried by net/http itself, without a Retrying event).
			bitten := 0
			for _, r := range v.Srv.Requests() {
				if r.Fault != 0 {
					bitten++
				}
			}
			if bitten == 0 {
				t.Fatal("no request met the fault")
			}
			assertEventsComplete(t, ev.list(), s)
		})
	}
}

// The 429's Retry-After holds every request to the instance, from every workspace. The 429
// is the very first answer of the run, so nearly all of the run's requests are still to be
// sent when it arrives: none may go out before the second has passed.
func TestRetryAfterHoldsTheInstance(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{Latency: 20 * time.Millisecond})
	v.Srv.AddFault(sim.Fault{Kind: sim.Fault429, RetryAfter: time.Second, Times: 1})
	s, _ := v.run(sync.Request{})
	if s.Status != db.RunSucceeded {
		t.Fatalf("run %s", s.Status)
	}
	reqs := v.Srv.Requests()
	var at time.Time
	for _, r := range reqs {
		if r.Status == 429 {
			at = r.End
		}
	}
	if at.IsZero() {
		t.Fatal("the 429 never happened")
	}
	held := 0
	for _, r := range reqs {
		// Requests already on the wire when the 429 was answered may land a moment later.
		if r.Start.After(at.Add(100*time.Millisecond)) && r.Start.Before(at.Add(time.Second)) {
			t.Fatalf("a %s request for workspace %d was sent %s after the 429, before Retry-After passed", r.Kind, r.Workspace, r.Start.Sub(at))
		}
		if !r.Start.Before(at.Add(time.Second)) {
			held++
		}
	}
	if held < len(reqs)/2 {
		t.Fatalf("only %d of %d requests came after the pause: the 429 arrived too late to test anything", held, len(reqs))
	}
}

// assertEventsComplete checks the stream a consumer saw: the run's start first, its end last
// with the summary the caller got, and each workspace's final event with its final status.
func assertEventsComplete(t *testing.T, evs []sync.Event, s sync.Summary) {
	t.Helper()
	if len(evs) < 2 {
		t.Fatalf("%d events", len(evs))
	}
	if st, ok := evs[0].(sync.RunStarted); !ok || st.RunID != s.RunID || len(st.Workspaces) != len(s.Workspaces) {
		t.Errorf("first event %#v, want RunStarted of run %d with %d workspaces", evs[0], s.RunID, len(s.Workspaces))
	}
	if fin, ok := evs[len(evs)-1].(sync.RunFinished); !ok || fin.Summary.RunID != s.RunID || fin.Summary.Status != s.Status {
		t.Errorf("last event %#v, want RunFinished of run %d", evs[len(evs)-1], s.RunID)
	}
	finished := map[string]db.WorkspaceStatus{}
	for _, e := range evs {
		if f, ok := e.(sync.WorkspaceFinished); ok {
			if _, dup := finished[f.Result.Name]; dup {
				t.Errorf("%s finished twice", f.Result.Name)
			}
			finished[f.Result.Name] = f.Result.Status
		}
	}
	for _, w := range s.Workspaces {
		if finished[w.Name] != w.Status {
			t.Errorf("%s: finished event %q, summary %q", w.Name, finished[w.Name], w.Status)
		}
	}
}

// A rejected key, a workspace that fails for good at page 20 of 29, and one that answers
// HTML: each fails with a clear reason and keeps its previous rows exactly; the rest succeed.
func TestFailuresKeepPreviousRows(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{})
	inst := v.Fleet.Instance(sim.IncidentInstance)
	jason := inst.WorkspaceNamed(sim.IncidentLargest)
	var keyed []*sim.Workspace
	for _, w := range inst.Workspaces {
		if w.Key != "" && w.NumAccounts() > 30 {
			keyed = append(keyed, w)
		}
	}
	rejected, html := keyed[0], keyed[1]

	// A first full sync gives every workspace rows to lose.
	if s, _ := v.run(sync.Request{}); s.Status != "succeeded" {
		t.Fatalf("first run %s", s.Status)
	}
	// Then the source moves on (so a wrongful write would show) and trouble starts.
	before := map[string]string{}
	for _, w := range []*sim.Workspace{jason, rejected, html} {
		before[w.Name] = v.Snapshot(inst.Name, w.ID)
		v.Srv.RemoveAccounts(inst.Name, w.ID, v.Srv.Accounts(inst.Name, w.ID)[0].ID)
		v.Srv.AddAccounts(inst.Name, w.ID, 2)
	}
	v.Srv.SetWorkspaceKey(inst.Name, rejected.ID, "1|rotated-key-the-registry-does-not-know-yet")
	v.Srv.AddFault(sim.Fault{Kind: sim.FaultStatus, Status: 500, Workspace: jason.ID, Page: 20})
	v.Srv.AddFault(sim.Fault{Kind: sim.FaultHTML, Workspace: html.ID})

	s, _ := v.run(sync.Request{})
	if s.Status != "partial" || s.OK() {
		t.Fatalf("run %s, want partial", s.Status)
	}
	wantErr := map[string]string{
		rejected.Name: "was rejected (HTTP 401)",
		jason.Name:    "list page 20",
		html.Name:     "malformed response",
	}
	for name, want := range wantErr {
		r := result(t, s, name)
		if r.Status != db.WorkspaceFailed || !strings.Contains(r.Error, want) || !strings.Contains(r.Error, "nothing was written") {
			t.Fatalf("%s: %s %q, want failed with %q", name, r.Status, r.Error, want)
		}
		if r.AccountsUpserted != 0 || r.AccountsDeleted != 0 {
			t.Fatalf("%s wrote rows: %+v", name, r)
		}
	}
	if r := result(t, s, rejected.Name); r.Attempts != 1 {
		t.Fatalf("a rejected key was tried %d times", r.Attempts)
	}
	if r := result(t, s, jason.Name); r.Attempts != 3 {
		t.Fatalf("a transient failure was tried %d times, want 3", r.Attempts)
	}
	for _, w := range []*sim.Workspace{jason, rejected, html} {
		if v.Snapshot(inst.Name, w.ID) != before[w.Name] {
			t.Fatalf("%s: rows changed although it failed", w.Name)
		}
	}
	succeeded := 0
	for _, w := range s.Workspaces {
		if w.Status == db.WorkspaceSucceeded {
			succeeded++
		}
	}
	if succeeded != sim.IncidentWorkspaces-3 {
		t.Fatalf("%d workspaces succeeded, want %d", succeeded, sim.IncidentWorkspaces-3)
	}
	// The registry says so too.
	var status, lastErr string
	if err := v.Store.Pool().QueryRow(context.Background(), `SELECT last_sync_status, last_sync_error FROM "`+v.Store.Schema()+
		`".client_registry WHERE workspace_name = $1`, rejected.Name).Scan(&status, &lastErr); err != nil {
		t.Fatal(err)
	}
	if status != "failed" || !strings.Contains(lastErr, "401") {
		t.Fatalf("registry of %s: %s %q", rejected.Name, status, lastErr)
	}
}

// Accounts added and removed while a workspace is paged: the data ends as the source stood at
// some moment of the run, or the workspace fails with nothing written; a live account is
// never marked deleted. "Some moment": pages are fetched concurrently, so a change made after
// the last page was answered (the simulator fires it after a given page is served, which may
// be the last one to go out) is the next sync's news. Every account live before and after the
// run must be there, and nothing that was never live.
func TestDriftNeverDeletesLiveAccounts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		drift sim.Drift
		exact bool // whether the engine must absorb it (vs. may fail)
	}{
		{"removal shifts pages once", sim.Drift{AfterPage: 3, Remove: 2}, true},
		{"additions once", sim.Drift{AfterPage: 5, Add: 4}, true},
		{"balanced add and remove", sim.Drift{AfterPage: 2, Remove: 1, Add: 1}, true},
		{"balanced, three times", sim.Drift{AfterPage: 10, Remove: 2, Add: 2, Times: 3}, true},
		{"drift that never stops", sim.Drift{Remove: 1, Add: 1, Times: -1}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newEnv(t, sim.IncidentFleet(), sim.Options{})
			v.cfg.Attempts = 2
			inst := v.Fleet.Instance(sim.IncidentInstance)
			jason := inst.WorkspaceNamed(sim.IncidentLargest)
			if s, _ := v.run(sync.Request{Names: []string{jason.Name}}); s.Status != "succeeded" {
				t.Fatalf("first run %s", s.Status)
			}
			before := v.Snapshot(inst.Name, jason.ID)
			liveBefore := map[int64]bool{}
			for _, a := range v.Srv.Accounts(inst.Name, jason.ID) {
				liveBefore[a.ID] = true
			}
			d := tc.drift
			d.Instance, d.Workspace = inst.Name, jason.ID
			stop := v.Srv.AddDrift(d)
			s, _ := v.run(sync.Request{Names: []string{jason.Name}})
			stop()
			r := result(t, s, jason.Name)
			switch {
			case r.Status == db.WorkspaceSucceeded:
				stored := v.liveIDs(inst.Name, jason.ID)
				liveAfter := map[int64]bool{}
				for _, a := range v.Srv.Accounts(inst.Name, jason.ID) {
					liveAfter[a.ID] = true
					if liveBefore[a.ID] && !slices.Contains(stored, a.ID) {
						t.Fatalf("account %d, live all along, is missing", a.ID)
					}
				}
				for _, id := range stored {
					if !liveBefore[id] && !liveAfter[id] {
						t.Fatalf("account %d was never live at the source", id)
					}
				}
			case tc.exact:
				t.Fatalf("%s: %s %q, want the drift absorbed", tc.name, r.Status, r.Error)
			default:
				// A drift that never stops ends in one of two explained refusals, nothing
				// written: the list never settles (incomplete), or so many accounts really went
				// while it was paged (each confirmed gone with a 404) that the deletion guard
				// holds them for review (seen once in 120 runs: 116 of 433).
				if !strings.Contains(r.Error, "incomplete") && !strings.Contains(r.Error, "held for review") {
					t.Fatalf("failed without saying incomplete or held for review: %q", r.Error)
				}
				if v.Snapshot(inst.Name, jason.ID) != before {
					t.Fatal("rows changed although the workspace failed")
				}
			}
			// Whatever happened: no account live at the source is marked deleted.
			var deletedLive int
			truth := v.Srv.Accounts(inst.Name, jason.ID)
			ids := make([]int64, len(truth))
			for i, a := range truth {
				ids[i] = a.ID
			}
			if err := v.Store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM "`+v.Store.Schema()+
				`".email_accounts_raw WHERE deleted_at IS NOT NULL AND bison_account_id = ANY($1)`, ids).Scan(&deletedLive); err != nil {
				t.Fatal(err)
			}
			if deletedLive != 0 {
				t.Fatalf("%d accounts live at the source are marked deleted", deletedLive)
			}
		})
	}
}

// Six workspaces behind one super-admin key: no row lands under the wrong workspace, and the
// key never serves two workspaces at the same moment.
func TestSharedSuperAdminKeyIsSerialised(t *testing.T) {
	t.Parallel()
	fleet := sim.IncidentFleet()
	v := newEnv(t, fleet, sim.Options{Latency: 3 * time.Millisecond, Jitter: 3 * time.Millisecond})
	inst := fleet.Instance(sim.IncidentInstance)
	var shared []string
	for _, w := range inst.Workspaces {
		if w.Key == "" {
			shared = append(shared, w.Name)
		}
	}
	if len(shared) != 6 {
		t.Fatalf("the incident fleet has %d workspaces on the super-admin key, want 6", len(shared))
	}
	s, _ := v.run(sync.Request{})
	if s.Status != "succeeded" {
		t.Fatalf("run %s", s.Status)
	}
	v.AssertExact()
	var superReqs []sim.Request
	for _, r := range v.Srv.Requests() {
		if r.SuperAdmin {
			superReqs = append(superReqs, r)
		}
	}
	if len(superReqs) < 6 {
		t.Fatalf("only %d super-admin requests", len(superReqs))
	}
	for i, a := range superReqs {
		for _, b := range superReqs[i+1:] {
			if a.Workspace != b.Workspace && a.Start.Before(b.End) && b.Start.Before(a.End) {
				t.Fatalf("the super-admin key served workspaces %d and %d at the same time", a.Workspace, b.Workspace)
			}
		}
	}
}
