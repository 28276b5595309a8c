package sim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestThrottleWithoutRetryAfter(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	s.SetThrottle("alpha", RateLimit{RequestsPerSecond: 1, Burst: 1})
	getPage(t, s, "alpha", alphaTen, 1)
	st, h, _ := do(t, http.MethodGet, pageURL(s, "alpha", 1), alphaTen, nil)
	mustEqual(t, "status beyond the burst", st, 429)
	if v, ok := h["Retry-After"]; ok {
		t.Errorf("Retry-After = %q, want none", v)
	}
	last := s.Requests()[1]
	mustEqual(t, "logged Retry-After", last.RetryAfter, time.Duration(0))

	s.SetThrottle("alpha", RateLimit{RequestsPerSecond: 1, Burst: 1, RetryAfter: true})
	getPage(t, s, "alpha", alphaTen, 1)
	st, h, _ = do(t, http.MethodGet, pageURL(s, "alpha", 1), alphaTen, nil)
	mustEqual(t, "status", st, 429)
	mustEqual(t, "Retry-After", h.Get("Retry-After"), "1")
	reqs := s.Requests()
	mustEqual(t, "logged Retry-After", reqs[len(reqs)-1].RetryAfter, time.Second)
}

func TestHostileFaults(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	page := func(t *testing.T, f Fault, n int) tPage {
		t.Helper()
		remove := s.AddFault(f)
		defer remove()
		st, _, body := do(t, http.MethodGet, pageURL(s, "alpha", n), alphaTen, nil)
		mustEqual(t, "status", st, 200)
		var p tPage
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		return p
	}
	t.Run("nul", func(t *testing.T) {
		p := page(t, Fault{Kind: FaultNUL, Key: alphaTen}, 1)
		a := p.Data[0]
		if !strings.Contains(a.Name, "\x00") || !strings.Contains(a.Email, "\x00") || !strings.Contains(a.Tags[0].Name, "\x00") {
			t.Errorf("no NUL in %q %q %q", a.Name, a.Email, a.Tags[0].Name)
		}
		if strings.Contains(p.Data[1].Name, "\x00") {
			t.Error("the second row has a NUL too")
		}
	})
	t.Run("big counter", func(t *testing.T) {
		a := page(t, Fault{Kind: FaultBigCounter, Key: alphaTen}, 1).Data[0]
		if a.EmailsSentCount <= 1<<31 || a.DailyLimit <= 1<<31 {
			t.Errorf("counters %d, %d not above 2^31", a.EmailsSentCount, a.DailyLimit)
		}
	})
	t.Run("huge last page", func(t *testing.T) {
		p := page(t, Fault{Kind: FaultHugeLastPage, Key: alphaTen}, 1)
		mustEqual(t, "last_page", p.Meta.LastPage, 1_000_000)
		if p.Meta.Total > 100 {
			t.Errorf("total %d", p.Meta.Total)
		}
	})
	t.Run("growing last page", func(t *testing.T) {
		remove := s.AddFault(Fault{Kind: FaultGrowingLastPage, Key: alphaTen})
		defer remove()
		var lasts []int
		for n := 1; n <= 3; n++ {
			_, _, body := do(t, http.MethodGet, pageURL(s, "alpha", n), alphaTen, nil)
			var p tPage
			_ = json.Unmarshal(body, &p)
			lasts = append(lasts, p.Meta.LastPage)
		}
		if lasts[1] != lasts[0]+1 || lasts[2] != lasts[1]+1 {
			t.Errorf("last_page %v, want one more on every page", lasts)
		}
	})
}

func TestRedirectEchoAndOversizeFaults(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	t.Run("redirect", func(t *testing.T) {
		remove := s.AddFault(Fault{Kind: FaultRedirect, Location: "http://127.0.0.1:1/elsewhere"})
		defer remove()
		req, _ := http.NewRequest(http.MethodGet, pageURL(s, "alpha", 1), nil)
		req.Header.Set("Authorization", "Bearer "+alphaTen)
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		mustEqual(t, "status", resp.StatusCode, http.StatusFound)
		mustEqual(t, "location", resp.Header.Get("Location"), "http://127.0.0.1:1/elsewhere")
	})
	t.Run("echo token", func(t *testing.T) {
		remove := s.AddFault(Fault{Kind: FaultEchoToken})
		defer remove()
		st, _, body := do(t, http.MethodGet, pageURL(s, "alpha", 1), alphaTen, nil)
		mustEqual(t, "status", st, 401)
		b := string(body)
		if i := strings.Index(b, alphaTen); i < 100 || i > 119 {
			t.Errorf("the token starts at %d, want it across the 120th character", i)
		}
		for _, form := range []string{alphaTen[:len(alphaTen)-4], url.QueryEscape(alphaTen), strings.ReplaceAll(alphaTen, "|", `\u007c`)} {
			if !strings.Contains(b, form) {
				t.Errorf("body lacks %q", form)
			}
		}
		if !json.Valid(body) {
			t.Error("echo body is not JSON")
		}
	})
	t.Run("oversize", func(t *testing.T) {
		remove := s.AddFault(Fault{Kind: FaultOversize, Size: 64 << 10})
		defer remove()
		st, _, body := do(t, http.MethodGet, pageURL(s, "alpha", 1), alphaTen, nil)
		mustEqual(t, "status", st, 200)
		mustEqual(t, "size", len(body), 64<<10)
	})
}
