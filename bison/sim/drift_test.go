package sim

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestDriftSkipsARowOnNaivePaging reproduces the production hazard: accounts removed
// from the front after page 1 shift later rows back, so a client paging on never sees some
// live accounts, while additions can make the count look right.
func TestDriftSkipsARowOnNaivePaging(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		fleet    func() *Fleet
		inst     string
		ws       int
		key      string
		explicit bool
	}{
		{"generated workspace", smallFleet, "alpha", 10, alphaTen, false},
		{"explicit workspace", IncidentFleet, IncidentInstance, 2, IncidentFleet().Instances[0].Workspace(2).Key, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(tc.fleet(), Options{})
			defer s.Close()
			before := s.Accounts(tc.inst, tc.ws)
			s.AddDrift(Drift{Instance: tc.inst, Workspace: tc.ws, AfterPage: 1, Remove: 3, Add: 3})

			ids, total := fetchAll(t, s, tc.inst, tc.key)
			after := s.Accounts(tc.inst, tc.ws)

			mustEqual(t, "ground truth size", len(after), len(before))
			mustEqual(t, "meta.total on the last page", total, len(after))
			if !slices.Equal(accountIDs(after[:len(after)-3]), accountIDs(before[3:])) {
				t.Error("drift did not remove the 3 lowest ids")
			}
			for _, a := range after[len(after)-3:] {
				if a.ID <= before[len(before)-1].ID {
					t.Errorf("added account %d is not above every earlier id", a.ID)
				}
				checkCounters(t, a)
			}
			got := idSet(ids)
			var skipped []int64
			for _, a := range after {
				if !got[a.ID] {
					skipped = append(skipped, a.ID)
				}
			}
			want := accountIDs(before[PageSize : PageSize+3])
			if !slices.Equal(skipped, want) {
				t.Errorf("live accounts a naive client missed: %v, want %v", skipped, want)
			}
			// The count looks right: the trap the contract warns about.
			mustEqual(t, "distinct rows fetched", len(got), total)

			// A live account it missed is still there when asked for directly.
			st, _, _ := do(t, http.MethodGet, s.BaseURL(tc.inst)+"/sender-emails/"+itoa(skipped[0]), tc.key, nil)
			mustEqual(t, "GET skipped account", st, 200)
			st, _, _ = do(t, http.MethodGet, s.BaseURL(tc.inst)+"/sender-emails/"+itoa(before[0].ID), tc.key, nil)
			mustEqual(t, "GET removed account", st, 404)

			// Times defaults to 1: a second pass sees a stable list.
			ids2, total2 := fetchAll(t, s, tc.inst, tc.key)
			mustEqual(t, "second pass", len(ids2), total2)
			if !slices.Equal(ids2, accountIDs(after)) {
				t.Error("second pass differs from ground truth")
			}
		})
	}
}

func TestDriftTimesAndAnyPage(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	s.AddDrift(Drift{Instance: "alpha", Workspace: 20, Add: 1, Times: -1})
	for range 3 {
		getPage(t, s, "alpha", alphaTwen, 1)
	}
	mustEqual(t, "accounts after 3 pages with an endless drift", s.NumAccounts("alpha", 20), 10)

	remove := s.AddDrift(Drift{Instance: "alpha", Workspace: 10, AfterPage: 2, Remove: 1, Times: 2})
	for range 3 {
		getPage(t, s, "alpha", alphaTen, 2)
	}
	mustEqual(t, "accounts after a drift that fires twice", s.NumAccounts("alpha", 10), 38)
	remove()
}

func TestDirectMutation(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	orig := s.Accounts("alpha", 10)

	added := s.AddAccounts("alpha", 10, 2)
	mustEqual(t, "added", len(added), 2)
	if added[0].ID <= orig[len(orig)-1].ID || added[1].ID <= added[0].ID {
		t.Errorf("added ids %d, %d not new highest", added[0].ID, added[1].ID)
	}
	mustEqual(t, "removed", s.RemoveAccounts("alpha", 10, orig[5].ID, added[0].ID, 12345678), 2)

	changed := orig[7]
	changed.EmailsSentCount = 999
	changed.Status = StatusFailed
	s.SetAccount("alpha", 10, changed)
	fresh, _ := s.SetAccount("alpha", 10, Account{Email: "new@example.com", Name: "New"})

	truth := s.Accounts("alpha", 10)
	mustEqual(t, "size", len(truth), 40+2-2+1)
	if !slices.IsSortedFunc(truth, func(a, b Account) int { return int(a.ID - b.ID) }) {
		t.Error("ground truth not sorted by id")
	}
	a, ok := s.Account("alpha", 10, changed.ID)
	if !ok || a.EmailsSentCount != 999 || a.Status != StatusFailed {
		t.Errorf("SetAccount not applied: %+v", a)
	}
	if fresh.ID <= added[1].ID {
		t.Errorf("SetAccount with ID 0 got id %d, want a new highest", fresh.ID)
	}

	ids, total := fetchAll(t, s, "alpha", alphaTen)
	mustEqual(t, "served total", total, len(truth))
	if !slices.Equal(ids, accountIDs(truth)) {
		t.Error("served ids differ from ground truth")
	}
	if w, _ := s.Workspace("alpha", 10); w.NumAccounts() != len(truth) || w.Accounts == nil {
		t.Errorf("Workspace snapshot of a mutated workspace: %d accounts", w.NumAccounts())
	}
	if w, _ := s.Workspace("alpha", 20); w.Accounts != nil || w.Count != 7 {
		t.Error("Workspace snapshot of an untouched generated workspace should stay generated")
	}

	// Served state can be restarted from a snapshot.
	s2 := NewServer(s.Fleet(), Options{})
	defer s2.Close()
	if !slices.Equal(accountIDs(s2.Accounts("alpha", 10)), accountIDs(truth)) {
		t.Error("NewServer(s.Fleet()) serves different accounts")
	}
}

func TestMutationWhileServing(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{Latency: time.Millisecond})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				p := getPage(t, s, "alpha", alphaTen, 2)
				if len(p.Data) > PageSize {
					t.Error("page too long")
				}
			}
		}()
	}
	for i := range 50 {
		accs := s.AddAccounts("alpha", 10, 1)
		if i%2 == 0 {
			s.RemoveAccounts("alpha", 10, accs[0].ID)
		}
		s.SetWorkspaceName("alpha", 10, "Ten "+itoa(int64(i)))
	}
	close(stop)
	wg.Wait()
	mustEqual(t, "accounts", s.NumAccounts("alpha", 10), 65)
}
