package sim

import (
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

var sanctumShape = regexp.MustCompile(`^[0-9]+\|[A-Za-z0-9]{40}$`)

func TestIncidentFleetFigures(t *testing.T) {
	t.Parallel()
	f := IncidentFleet()
	mustEqual(t, "instances", len(f.Instances), 1)
	in := f.Instances[0]
	mustEqual(t, "instance name", in.Name, IncidentInstance)
	if !sanctumShape.MatchString(in.SuperAdminKey) {
		t.Errorf("super-admin key is not shaped like a Sanctum token")
	}
	mustEqual(t, "workspaces", f.NumWorkspaces(), 26)
	mustEqual(t, "accounts", f.NumAccounts(), 4839)

	noKey := 0
	for _, w := range in.Workspaces {
		if w.Key == "" {
			noKey++
		} else if !sanctumShape.MatchString(w.Key) {
			t.Errorf("workspace %q key is not shaped like a Sanctum token", w.Name)
		}
		if w.Name == IncidentLargest {
			continue
		}
		if n := w.NumAccounts(); n < 15 || n > 200 {
			t.Errorf("workspace %q has %d accounts, want 15..200", w.Name, n)
		}
	}
	mustEqual(t, "workspaces without a key", noKey, 6)

	jb := in.WorkspaceNamed(IncidentLargest)
	if jb == nil {
		t.Fatal("no Jason Binyon workspace")
	}
	mustEqual(t, "Jason Binyon accounts", jb.NumAccounts(), 433)
	mustEqual(t, "Jason Binyon pages", (jb.NumAccounts()+PageSize-1)/PageSize, 29)

	jason := 0
	split := map[string]int{}
	for _, a := range jb.Accounts {
		if a.Email == IncidentEmail {
			jason++
			mustEqual(t, "jason@ emails_sent_count", a.EmailsSentCount, 43)
		}
		split[reseller(a.Tags)]++
	}
	mustEqual(t, "accounts named "+IncidentEmail, jason, 1)
	mustEqual(t, "CheapInboxes", split["cheapinboxes"], 200)
	mustEqual(t, "Zapmail", split["zapmail"], 100)
	mustEqual(t, "Mailr", split["mailr"], 100)
	mustEqual(t, "other", split[""], 33)

	// Same on every call: the demo and the tests rely on it.
	g := IncidentFleet()
	if g.Instances[0].SuperAdminKey != in.SuperAdminKey || g.Instances[0].Workspaces[5].Accounts[7].Email != in.Workspaces[5].Accounts[7].Email {
		t.Error("IncidentFleet differs between calls")
	}
}

// reseller classifies tags the way the contract derives `reseller`: trimmed, case-insensitive.
func reseller(tags []Tag) string {
	for _, tg := range tags {
		n := strings.ToLower(strings.TrimSpace(tg.Name))
		for _, r := range []string{"cheapinboxes", "zapmail", "mailr"} {
			if strings.HasPrefix(n, r) {
				return r
			}
		}
	}
	return ""
}

func TestIncidentFleetTagsAreMessy(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, w := range IncidentFleet().Instances[0].Workspaces {
		for _, a := range w.Accounts {
			for _, tg := range a.Tags {
				names[tg.Name] = true
			}
		}
	}
	for _, want := range []string{"Mailr", "CheapInboxes - 1", "CheapInboxes - 2", "Microsoft ", "Google", "zapmail", "Zapmail"} {
		if !names[want] {
			t.Errorf("no account tagged %q", want)
		}
	}
}

func TestGeneratedAccountsArePlausible(t *testing.T) {
	t.Parallel()
	f := GenerateFleet(7, 40, 6000)
	statuses, types := map[string]int{}, map[string]int{}
	noTags, twoTags := 0, 0
	ids := map[int64]bool{}
	for _, in := range f.Instances {
		for _, w := range in.Workspaces {
			emails := map[string]bool{}
			prev := int64(0)
			for i := range w.NumAccounts() {
				a := w.AccountAt(i)
				if a.ID <= prev {
					t.Fatalf("workspace %d: ids not ascending at %d", w.ID, i)
				}
				prev = a.ID
				if ids[a.ID] {
					t.Fatalf("account id %d in two workspaces", a.ID)
				}
				ids[a.ID] = true
				if emails[a.Email] {
					t.Errorf("workspace %d: email %s twice", w.ID, a.Email)
				}
				emails[a.Email] = true
				if !regexp.MustCompile(`^[a-z]+(\.[a-z]+[0-9]*)?@[a-z0-9.-]+\.[a-z]+$`).MatchString(a.Email) {
					t.Errorf("implausible email %q", a.Email)
				}
				checkCounters(t, a)
				statuses[a.Status]++
				types[a.Type]++
				switch len(a.Tags) {
				case 0:
					noTags++
				case 2:
					twoTags++
				}
				if a.UpdatedAt.Before(a.CreatedAt) {
					t.Errorf("account %d updated before created", a.ID)
				}
			}
		}
	}
	if statuses[StatusConnected] < 6000*8/10 {
		t.Errorf("only %d of 6000 accounts connected", statuses[StatusConnected])
	}
	for _, s := range []string{StatusDisconnected, StatusFailed, StatusNotConnected} {
		if statuses[s] == 0 {
			t.Errorf("no account %q", s)
		}
	}
	for _, ty := range []string{TypeGoogle, TypeMicrosoft, TypeSMTP} {
		if types[ty] == 0 {
			t.Errorf("no account of type %q", ty)
		}
	}
	if noTags == 0 || twoTags == 0 {
		t.Errorf("accounts without tags: %d, with two: %d; want some of each", noTags, twoTags)
	}
}

func checkCounters(t *testing.T, a Account) {
	t.Helper()
	ok := a.UniqueRepliedCount <= a.TotalRepliedCount && a.TotalRepliedCount <= a.EmailsSentCount &&
		a.InterestedLeadsCount <= a.UniqueRepliedCount && a.BouncedCount <= a.EmailsSentCount &&
		a.UnsubscribedCount <= a.EmailsSentCount && a.UniqueOpenedCount <= a.TotalOpenedCount &&
		a.TotalLeadsContactedCount <= a.EmailsSentCount && a.DailyLimit > 0
	for _, n := range []int{a.EmailsSentCount, a.BouncedCount, a.TotalOpenedCount, a.UnsubscribedCount} {
		ok = ok && n >= 0
	}
	if !ok {
		t.Errorf("implausible counters: %+v", a)
	}
}

func TestGenerateFleetTotalsAndSkew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ ws, accounts, instances int }{
		{1, 1, 1}, {26, 4839, 1}, {500, 500, 1}, {501, 20000, 2}, {2000, 1_000_000, 4},
	} {
		f := GenerateFleet(42, tc.ws, tc.accounts)
		mustEqual(t, "instances", len(f.Instances), tc.instances)
		mustEqual(t, "workspaces", f.NumWorkspaces(), tc.ws)
		mustEqual(t, "accounts", f.NumAccounts(), tc.accounts)
		names := map[string]bool{}
		smallest, largest, noKey := tc.accounts, 0, 0
		for _, in := range f.Instances {
			for _, w := range in.Workspaces {
				smallest, largest = min(smallest, w.NumAccounts()), max(largest, w.NumAccounts())
				if names[w.Name] {
					t.Errorf("workspace name %q twice", w.Name)
				}
				names[w.Name] = true
				if w.Key == "" {
					noKey++
				}
			}
		}
		if smallest < 1 {
			t.Errorf("%d/%d: a workspace has no account", tc.ws, tc.accounts)
		}
		if tc.ws == 2000 {
			mean := tc.accounts / tc.ws
			if largest < 5*mean || smallest > mean/3 {
				t.Errorf("sizes not skewed: smallest %d, largest %d, mean %d", smallest, largest, mean)
			}
			if noKey == 0 || noKey > tc.ws/10 {
				t.Errorf("%d workspaces without a key, want a few", noKey)
			}
		}
	}
}

func TestGenerateFleetIsDeterministic(t *testing.T) {
	t.Parallel()
	a, b, c := GenerateFleet(99, 30, 3000), GenerateFleet(99, 30, 3000), GenerateFleet(100, 30, 3000)
	same := func(x, y *Fleet) bool {
		for i, in := range x.Instances {
			if in.SuperAdminKey != y.Instances[i].SuperAdminKey {
				return false
			}
			for j, w := range in.Workspaces {
				v := y.Instances[i].Workspaces[j]
				if w.Name != v.Name || w.Key != v.Key || w.NumAccounts() != v.NumAccounts() {
					return false
				}
				for k := range w.NumAccounts() {
					p, q := w.AccountAt(k), v.AccountAt(k)
					if p.ID != q.ID || p.Email != q.Email || p.EmailsSentCount != q.EmailsSentCount ||
						!p.CreatedAt.Equal(q.CreatedAt) || reseller(p.Tags) != reseller(q.Tags) {
						return false
					}
				}
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("same seed gave different fleets")
	}
	if same(a, c) {
		t.Error("different seeds gave the same fleet")
	}

	// The server serves exactly the generated accounts.
	s := NewServer(a, Options{})
	defer s.Close()
	w := a.Instances[0].Workspaces[3]
	got := s.Accounts(a.Instances[0].Name, w.ID)
	mustEqual(t, "served accounts", len(got), w.NumAccounts())
	for k := range got {
		if want := w.AccountAt(k); got[k].ID != want.ID || got[k].Email != want.Email {
			t.Fatalf("account %d: server has %d %s, fleet %d %s", k, got[k].ID, got[k].Email, want.ID, want.Email)
		}
	}
}

// TestMillionAccountFleetIsCheap checks the lazy design: building and serving a fleet of a
// million accounts keeps the heap small and pages of its largest workspace come back.
func TestMillionAccountFleetIsCheap(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f := GenerateFleet(1, 2000, 1_000_000)
	s := NewServer(f, Options{})
	defer s.Close()
	built := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("2,000 workspaces, 1,000,000 accounts: built in %v, heap +%d KiB", built, grown/1024)
	if grown > 20<<20 {
		t.Errorf("heap grew by %d MiB, want < 20", grown>>20)
	}
	if built > 2*time.Second {
		t.Errorf("took %v to build", built)
	}

	var big *Workspace
	var inst string
	for _, in := range f.Instances {
		for _, w := range in.Workspaces {
			if big == nil || w.NumAccounts() > big.NumAccounts() {
				big, inst = w, in.Name
			}
		}
	}
	key := big.Key
	if key == "" {
		key = f.Instance(inst).SuperAdminKey
		if st := switchTo(t, s, inst, key, big.ID); st != http.StatusOK {
			t.Fatalf("switch: %d", st)
		}
	}
	last := (big.NumAccounts() + PageSize - 1) / PageSize
	p := getPage(t, s, inst, key, last)
	mustEqual(t, "total", p.Meta.Total, big.NumAccounts())
	mustEqual(t, "last page", p.Meta.LastPage, last)
	mustEqual(t, "last row", p.Data[len(p.Data)-1].ID, big.AccountAt(big.NumAccounts()-1).ID)
}
