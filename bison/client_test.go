package bison_test

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/bison/sim"
)

// fixture is the incident fleet served over loopback, with a client tuned for fast tests.
type fixture struct {
	srv    *sim.Server
	client *bison.Client
	inst   *bison.Instance
	fleet  *sim.Fleet
}

func newFixture(t *testing.T, opts bison.Options, limits bison.Limits) *fixture {
	t.Helper()
	fleet := sim.IncidentFleet()
	srv := sim.NewServer(fleet, sim.Options{})
	t.Cleanup(srv.Close)
	if opts.BaseBackoff == 0 {
		opts.BaseBackoff, opts.MaxBackoff = time.Millisecond, 5*time.Millisecond
	}
	c := bison.NewClient(opts)
	return &fixture{srv: srv, client: c, fleet: fleet, inst: c.Instance(sim.IncidentInstance, srv.BaseURL(sim.IncidentInstance), limits)}
}

// keyed returns a workspace that has its own key (no switch needed).
func (f *fixture) keyed(t *testing.T) *sim.Workspace {
	for _, w := range f.fleet.Instance(sim.IncidentInstance).Workspaces {
		if w.Key != "" && w.NumAccounts() > 2*bison.PageSize {
			return w
		}
	}
	t.Fatal("no keyed workspace with three pages in the incident fleet")
	return nil
}

func (f *fixture) session(w *sim.Workspace, key string, onRetry func(bison.Retry)) *bison.Session {
	return f.inst.Session(bison.NewKey(key), bison.Workspace{Name: w.Name, ID: w.ID}, onRetry)
}

func TestListPageMatchesGroundTruth(t *testing.T) {
	t.Parallel()
	f := newFixture(t, bison.Options{}, bison.Limits{})
	w := f.keyed(t)
	s := f.session(w, w.Key, nil)
	truth := f.srv.Accounts(sim.IncidentInstance, w.ID)
	var got []bison.Account
	p, err := s.ListPage(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; ; n++ {
		if n > 1 {
			if p, err = s.ListPage(context.Background(), n); err != nil {
				t.Fatal(err)
			}
		}
		if len(p.Accounts) > bison.PageSize || p.CurrentPage != n || p.Total != len(truth) {
			t.Fatalf("page %d: %d rows, current %d, total %d (truth %d)", n, len(p.Accounts), p.CurrentPage, p.Total, len(truth))
		}
		got = append(got, p.Accounts...)
		if p.Next == "" {
			if n != p.LastPage {
				t.Fatalf("next is null on page %d but last_page is %d", n, p.LastPage)
			}
			break
		}
	}
	if len(got) != len(truth) {
		t.Fatalf("fetched %d accounts, truth has %d", len(got), len(truth))
	}
	for i, a := range got {
		want := truth[i]
		if a.ID != want.ID || a.Email != want.Email || a.EmailsSentCount != int64(want.EmailsSentCount) ||
			a.UniqueRepliedCount != int64(want.UniqueRepliedCount) || len(a.Tags) != len(want.Tags) || !a.CreatedAt.Equal(want.CreatedAt) {
			t.Fatalf("account %d differs:\n got %+v\nwant %+v", i, a, want)
		}
	}
	// Past the last page: empty data, not an error.
	past, err := s.ListPage(context.Background(), 1000)
	if err != nil || len(past.Accounts) != 0 {
		t.Fatalf("page past the end: %v, %d rows", err, len(past.Accounts))
	}
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		fault   sim.Fault
		key     func(f *fixture, w *sim.Workspace) string
		check   func(t *testing.T, err error)
		tries   int // requests the client should have made
		switch_ bool
	}{
		{name: "401 not retried", key: func(*fixture, *sim.Workspace) string { return "9|not-a-real-key-at-all-xxxxxxxxxxxxxxxx" }, tries: 1,
			check: func(t *testing.T, err error) {
				var e *bison.AuthError
				must(t, errors.As(err, &e) && e.Status == 401, err)
			}},
		{name: "403 not retried", fault: sim.Fault{Kind: sim.Fault403}, tries: 1,
			check: func(t *testing.T, err error) {
				var e *bison.AuthError
				must(t, errors.As(err, &e) && e.Status == 403, err)
			}},
		{name: "5xx retried then given up", fault: sim.Fault{Kind: sim.FaultStatus, Status: 503}, tries: 3,
			check: func(t *testing.T, err error) {
				var e *bison.TransientError
				must(t, errors.As(err, &e) && e.Status == 503 && e.Attempts == 3, err)
			}},
		{name: "reset retried then given up", fault: sim.Fault{Kind: sim.FaultReset}, tries: 3,
			check: func(t *testing.T, err error) {
				var e *bison.TransientError
				must(t, errors.As(err, &e) && e.Status == 0, err)
			}},
		// Timeouts on every request and no other answer: the instance is unreachable.
		{name: "hang times out", fault: sim.Fault{Kind: sim.FaultHang}, tries: 3,
			check: func(t *testing.T, err error) {
				var e *bison.UnreachableError
				must(t, errors.As(err, &e) && strings.Contains(e.Error(), "timeout"), err)
			}},
		// 429s do not use up attempts: the request gives up once the instance has answered
		// nothing else for the stall window, however many tries that took.
		{name: "429 given up", fault: sim.Fault{Kind: sim.Fault429, RetryAfter: 0}, tries: -1,
			check: func(t *testing.T, err error) {
				var e *bison.RateLimitedError
				must(t, errors.As(err, &e) && e.Stalled >= 300*time.Millisecond && e.Pace.RequestsPerSecond > 0, err)
			}},
		{name: "html 200", fault: sim.Fault{Kind: sim.FaultHTML}, tries: 1,
			check: func(t *testing.T, err error) { var e *bison.MalformedError; must(t, errors.As(err, &e), err) }},
		{name: "truncated 200", fault: sim.Fault{Kind: sim.FaultTruncated}, tries: 1,
			check: func(t *testing.T, err error) { var e *bison.MalformedError; must(t, errors.As(err, &e), err) }},
		{name: "data not a list", fault: sim.Fault{Kind: sim.FaultDataNotList}, tries: 1,
			check: func(t *testing.T, err error) { var e *bison.MalformedError; must(t, errors.As(err, &e), err) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, bison.Options{MaxAttempts: 3, RequestTimeout: 100 * time.Millisecond, StallWindow: 300 * time.Millisecond}, bison.Limits{})
			w := f.keyed(t)
			key := w.Key
			if tc.key != nil {
				key = tc.key(f, w)
			}
			if tc.fault.Kind != 0 {
				tc.fault.Workspace = w.ID
				f.srv.AddFault(tc.fault)
			}
			var retries []bison.Retry
			var mu sync.Mutex
			_, err := f.session(w, key, func(r bison.Retry) { mu.Lock(); retries = append(retries, r); mu.Unlock() }).ListPage(context.Background(), 2)
			if err == nil {
				t.Fatal("expected an error")
			}
			tc.check(t, err)
			// A request the client abandoned (hang) is logged once the server notices.
			deadline := time.Now().Add(2 * time.Second)
			for len(f.srv.Requests()) < tc.tries && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			n := len(f.srv.Requests())
			switch {
			case tc.tries < 0 && (n < 1 || len(retries) < n-1):
				t.Fatalf("the server saw %d requests and the observer %d retries", n, len(retries))
			case tc.tries > 0 && n != tc.tries:
				t.Fatalf("the server saw %d requests, want %d (%d retries seen)", n, tc.tries, len(retries))
			case tc.tries > 0 && len(retries) != tc.tries-1:
				t.Fatalf("observer saw %d retries, want %d", len(retries), tc.tries-1)
			}
			if bison.IsPermanent(err) != (tc.tries == 1 && tc.name[:3] != "htm" && tc.name[:3] != "tru" && tc.name[:3] != "dat") {
				t.Fatalf("IsPermanent(%v) = %v", err, bison.IsPermanent(err))
			}
		})
	}
}

func must(t *testing.T, ok bool, err error) {
	t.Helper()
	if !ok {
		t.Fatalf("wrong error: %T %v", err, err)
	}
}

func TestTransientFaultsAreRiddenOut(t *testing.T) {
	t.Parallel()
	for _, fault := range []sim.Fault{
		{Kind: sim.FaultStatus, Status: 502, Times: 2},
		{Kind: sim.FaultReset, Times: 2},
		{Kind: sim.FaultHang, Times: 1},
		{Kind: sim.Fault429, RetryAfter: time.Second, Times: 1},
	} {
		t.Run(fault.Kind.String(), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, bison.Options{RequestTimeout: 200 * time.Millisecond}, bison.Limits{})
			w := f.keyed(t)
			fault.Workspace, fault.Page = w.ID, 2
			f.srv.AddFault(fault)
			p, err := f.session(w, w.Key, nil).ListPage(context.Background(), 2)
			if err != nil {
				t.Fatal(err)
			}
			truth := f.srv.Accounts(sim.IncidentInstance, w.ID)
			if p.Accounts[0].ID != truth[bison.PageSize].ID {
				t.Fatalf("page 2 starts at account %d, want %d", p.Accounts[0].ID, truth[bison.PageSize].ID)
			}
		})
	}
}

func TestLimiterCapsRequestsInFlight(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{1, 4, 16} {
		f := newFixture(t, bison.Options{}, bison.Limits{MaxInFlight: limit})
		f.srv.SetLatency(sim.IncidentInstance, 5*time.Millisecond, 2*time.Millisecond)
		var wg sync.WaitGroup
		for _, w := range f.fleet.Instance(sim.IncidentInstance).Workspaces {
			if w.Key == "" {
				continue
			}
			s := f.session(w, w.Key, nil)
			for n := 1; n <= 3; n++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := s.ListPage(context.Background(), n); err != nil {
						t.Error(err)
					}
				}()
			}
		}
		wg.Wait()
		if got := f.srv.MaxInFlight(sim.IncidentInstance); got > limit || got < 1 {
			t.Fatalf("limit %d: the server saw %d requests in flight at once", limit, got)
		}
		if limit > 1 && f.srv.MaxInFlight(sim.IncidentInstance) < 2 {
			t.Fatalf("limit %d: requests were never concurrent", limit)
		}
	}
}

func TestRequestsPerSecond(t *testing.T) {
	t.Parallel()
	f := newFixture(t, bison.Options{}, bison.Limits{MaxInFlight: 8, RequestsPerSecond: 50})
	w := f.keyed(t)
	s := f.session(w, w.Key, nil)
	var wg sync.WaitGroup
	for n := 1; n <= 11; n++ {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = s.ListPage(context.Background(), n) }()
	}
	wg.Wait()
	reqs := f.srv.Requests()
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].Start.Before(reqs[j].Start) })
	// 11 requests at 50/s with a burst of one span at least 10 intervals of 20ms.
	if span := reqs[len(reqs)-1].Start.Sub(reqs[0].Start); span < 190*time.Millisecond {
		t.Fatalf("11 requests at 50/s took only %s", span)
	}
}

// The super-admin key serves whatever workspace it last switched to: the client switches and
// then reads the right rows; the trap itself is the simulator's (tested there) and the
// engine's to avoid.
func TestSwitchWorkspace(t *testing.T) {
	t.Parallel()
	f := newFixture(t, bison.Options{}, bison.Limits{})
	inst := f.fleet.Instance(sim.IncidentInstance)
	jason := inst.WorkspaceNamed(sim.IncidentLargest)
	s := f.session(jason, inst.SuperAdminKey, nil)
	if err := s.SwitchWorkspace(context.Background()); err != nil {
		t.Fatal(err)
	}
	p, err := s.ListPage(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != sim.IncidentLargestAccounts || p.LastPage != 29 {
		t.Fatalf("after switching to %s: total %d, last page %d", jason.Name, p.Total, p.LastPage)
	}
	// A workspace id the instance does not have: 404, permanent.
	missing := f.inst.Session(bison.NewKey(inst.SuperAdminKey), bison.Workspace{Name: "ghost", ID: 99999}, nil)
	err = missing.SwitchWorkspace(context.Background())
	var nf *bison.NotFoundError
	if !errors.As(err, &nf) || !bison.IsPermanent(err) {
		t.Fatalf("switch to a missing workspace: %T %v", err, err)
	}
	// A single account: found, then gone.
	a, err := s.GetAccount(context.Background(), p.Accounts[0].ID)
	if err != nil || a.ID != p.Accounts[0].ID {
		t.Fatalf("get account: %v %+v", err, a)
	}
	f.srv.RemoveAccounts(sim.IncidentInstance, jason.ID, a.ID)
	if _, err := s.GetAccount(context.Background(), a.ID); !errors.As(err, &nf) {
		t.Fatalf("get a removed account: %T %v, want NotFoundError", err, err)
	}
}

func TestCancelStopsRetries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, bison.Options{RequestTimeout: 5 * time.Second}, bison.Limits{})
	w := f.keyed(t)
	f.srv.AddFault(sim.Fault{Kind: sim.FaultHang, Workspace: w.ID})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := f.session(w, w.Key, nil).ListPage(ctx, 1)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("cancelled request: %v after %s", err, time.Since(start))
	}
}

// BenchmarkFetchPage measures one page fetched over loopback and decoded (allocations
// reported): go test -run '^$' -bench FetchPage -benchmem ./bison/
func BenchmarkFetchPage(b *testing.B) {
	fleet := sim.IncidentFleet()
	srv := sim.NewServer(fleet, sim.Options{})
	defer srv.Close()
	inst := fleet.Instance(sim.IncidentInstance)
	var w *sim.Workspace
	for _, ws := range inst.Workspaces {
		if ws.Key != "" {
			w = ws
			break
		}
	}
	s := bison.NewClient(bison.Options{}).Instance(inst.Name, srv.BaseURL(inst.Name), bison.Limits{MaxInFlight: 64}).
		Session(bison.NewKey(w.Key), bison.Workspace{Name: w.Name, ID: w.ID}, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.ListPage(context.Background(), 1+i%3); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*bison.PageSize)/b.Elapsed().Seconds(), "accounts/s")
}

func BenchmarkDecodePage(b *testing.B) {
	fleet := sim.IncidentFleet()
	srv := sim.NewServer(fleet, sim.Options{})
	defer srv.Close()
	inst := fleet.Instance(sim.IncidentInstance)
	w := inst.Workspaces[0]
	req, _ := http.NewRequest("GET", srv.BaseURL(inst.Name)+"/sender-emails?page=1", nil)
	req.Header.Set("Authorization", "Bearer "+w.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 0, 1<<16)
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		body = append(body, buf[:n]...)
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bison.DecodePage(body); err != nil {
			b.Fatal(err)
		}
	}
}
