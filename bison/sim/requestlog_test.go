package sim

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRequestLog(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	getPage(t, s, "alpha", alphaTen, 2)
	switchTo(t, s, "alpha", alphaSuper, 20)
	getPage(t, s, "alpha", alphaSuper, 1)
	do(t, http.MethodGet, pageURL(s, "alpha", 1), "", nil)
	getPage(t, s, "beta", betaTen, 1)

	reqs := s.Requests()
	mustEqual(t, "requests", len(reqs), 5)
	want := []Request{
		{Instance: "alpha", KeyID: "…BBBB", Workspace: 10, Kind: KindList, Page: 2, Status: 200},
		{Instance: "alpha", KeyID: "…AAAA", SuperAdmin: true, Workspace: 20, Kind: KindSwitch, Status: 200},
		{Instance: "alpha", KeyID: "…AAAA", SuperAdmin: true, Workspace: 20, Kind: KindList, Page: 1, Status: 200},
		{Instance: "alpha", Kind: KindList, Page: 1, Status: 401},
		{Instance: "beta", KeyID: "…EEEE", Workspace: 10, Kind: KindList, Page: 1, Status: 200},
	}
	for i, w := range want {
		got := reqs[i]
		if got.End.Before(got.Start) || got.Start.IsZero() {
			t.Errorf("request %d: start %v end %v", i, got.Start, got.End)
		}
		got.Start, got.End = time.Time{}, time.Time{}
		if got != w {
			t.Errorf("request %d = %+v, want %+v", i, got, w)
		}
	}
	for _, r := range reqs {
		for _, tok := range []string{alphaTen, alphaSuper, betaTen} {
			if strings.Contains(r.KeyID, tok[:8]) {
				t.Errorf("request log holds a token: %q", r.KeyID)
			}
		}
	}

	s.ResetRequests()
	mustEqual(t, "after reset", len(s.Requests()), 0)
}

func TestMaxInFlight(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{Latency: 80 * time.Millisecond})
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			getPage(t, s, "alpha", alphaTen, 1)
		}()
	}
	getPage(t, s, "beta", betaTen, 1)
	wg.Wait()
	mustEqual(t, "max in flight on alpha", s.MaxInFlight("alpha"), 6)
	mustEqual(t, "max in flight on beta", s.MaxInFlight("beta"), 1)
	mustEqual(t, "in flight now", s.InFlight("alpha"), 0)
	s.ResetRequests()
	mustEqual(t, "max in flight after reset", s.MaxInFlight("alpha"), 0)
}

func TestRequestLogIsBounded(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{RequestLogLimit: 3})
	for page := 1; page <= 5; page++ {
		getPage(t, s, "alpha", alphaTen, page)
	}
	reqs := s.Requests()
	mustEqual(t, "kept", len(reqs), 3)
	mustEqual(t, "oldest kept", reqs[0].Page, 3)
	mustEqual(t, "newest kept", reqs[2].Page, 5)
}
