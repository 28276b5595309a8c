package sim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestFaultKinds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		fault  Fault
		status int
		check  func(t *testing.T, h http.Header, body []byte)
	}{
		{"500", Fault{Kind: FaultStatus, Status: 500}, 500, bodyContains(`"Server Error"`)},
		{"502 from the proxy", Fault{Kind: FaultStatus, Status: 502}, 502, bodyContains("502 Bad Gateway")},
		{"503", Fault{Kind: FaultStatus, Status: 503}, 503, nil},
		{"custom body", Fault{Kind: FaultStatus, Status: 500, Body: `{"message":"SQLSTATE[HY000]"}`}, 500, bodyContains("SQLSTATE")},
		{"429 seconds", Fault{Kind: Fault429, RetryAfter: 1500 * time.Millisecond}, 429, func(t *testing.T, h http.Header, _ []byte) {
			mustEqual(t, "Retry-After", h.Get("Retry-After"), "2")
		}},
		{"429 date", Fault{Kind: Fault429, RetryAfter: 3 * time.Second, RetryAfterDate: true}, 429, func(t *testing.T, h http.Header, _ []byte) {
			at, err := http.ParseTime(h.Get("Retry-After"))
			if err != nil {
				t.Fatalf("Retry-After %q is not an HTTP date: %v", h.Get("Retry-After"), err)
			}
			if d := time.Until(at); d < time.Second || d > 5*time.Second {
				t.Errorf("Retry-After date is %v away, want about 3s", d)
			}
		}},
		{"429 bare", Fault{Kind: Fault429}, 429, func(t *testing.T, h http.Header, _ []byte) {
			if v, ok := h["Retry-After"]; ok {
				t.Errorf("Retry-After = %q, want absent", v)
			}
		}},
		{"html", Fault{Kind: FaultHTML}, 200, func(t *testing.T, h http.Header, body []byte) {
			if !strings.HasPrefix(h.Get("Content-Type"), "text/html") || json.Valid(body) {
				t.Errorf("want an HTML body, got %s %.40s", h.Get("Content-Type"), body)
			}
		}},
		{"truncated", Fault{Kind: FaultTruncated}, 200, func(t *testing.T, _ http.Header, body []byte) {
			if json.Valid(body) || len(body) < 100 {
				t.Errorf("want a truncated JSON body, got %d bytes, valid %v", len(body), json.Valid(body))
			}
		}},
		{"data not a list", Fault{Kind: FaultDataNotList}, 200, func(t *testing.T, _ http.Header, body []byte) {
			var env struct {
				Data json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(body, &env); err != nil || !strings.HasPrefix(string(env.Data), "{") {
				t.Errorf("want data as an object, got %.60s (%v)", env.Data, err)
			}
			var p tPage
			if json.Unmarshal(body, &p) == nil {
				t.Error("a client decoding data into a list should fail")
			}
		}},
		{"401", Fault{Kind: Fault401}, 401, bodyContains("Unauthenticated.")},
		{"403", Fault{Kind: Fault403}, 403, bodyContains("unauthorized")},
		{"delay", Fault{Kind: FaultDelay, Delay: 30 * time.Millisecond}, 200, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSmall(t, Options{})
			s.AddFault(tc.fault)
			start := time.Now()
			status, h, body := do(t, http.MethodGet, pageURL(s, "alpha", 1), alphaTen, nil)
			mustEqual(t, "status", status, tc.status)
			if tc.check != nil {
				tc.check(t, h, body)
			}
			if tc.fault.Kind == FaultDelay && time.Since(start) < tc.fault.Delay {
				t.Errorf("delay fault answered after %v", time.Since(start))
			}
			reqs := s.Requests()
			mustEqual(t, "logged fault", reqs[0].Fault, tc.fault.Kind)
			mustEqual(t, "logged status", reqs[0].Status, tc.status)
		})
	}
}

func bodyContains(s string) func(*testing.T, http.Header, []byte) {
	return func(t *testing.T, _ http.Header, body []byte) {
		if !strings.Contains(string(body), s) {
			t.Errorf("body %q lacks %q", body, s)
		}
	}
}

func TestFaultHangUntilClientGivesUp(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	s.AddFault(Fault{Kind: FaultHang, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, pageURL(s, "alpha", 1), nil)
	req.Header.Set("Authorization", "Bearer "+alphaTen)
	start := time.Now()
	if _, err := testClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Errorf("gave up after %v: the server answered instead of hanging", d)
	}
	getPage(t, s, "alpha", alphaTen, 1) // Times: 1, so the next request is served
}

func TestFaultReset(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	s.AddFault(Fault{Kind: FaultReset, Times: 1})
	_, err := send(http.MethodGet, pageURL(s, "alpha", 1), alphaTen, nil)
	if err == nil {
		t.Fatal("a reset connection gave a response")
	}
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Logf("reset surfaced as %v", err)
	}
	getPage(t, s, "alpha", alphaTen, 1)
	reqs := s.Requests()
	mustEqual(t, "status of the reset request", reqs[0].Status, 0)
	mustEqual(t, "fault", reqs[0].Fault, FaultReset)
}

func TestFaultSelection(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	statusOf := func(token string, page int) int {
		st, _, _ := do(t, http.MethodGet, pageURL(s, "alpha", page), token, nil)
		return st
	}

	t.Run("times", func(t *testing.T) {
		remove := s.AddFault(Fault{Kind: FaultStatus, Status: 503, Times: 2, Key: alphaTen})
		defer remove()
		got := []int{statusOf(alphaTen, 1), statusOf(alphaTen, 1), statusOf(alphaTen, 1)}
		mustEqual(t, "statuses", strings.Trim(strconv.Itoa(got[0])+","+strconv.Itoa(got[1])+","+strconv.Itoa(got[2]), ","), "503,503,200")
	})
	t.Run("every", func(t *testing.T) {
		remove := s.AddFault(Fault{Kind: FaultStatus, Status: 502, Every: 3, Key: alphaTen})
		defer remove()
		var got []string
		for range 6 {
			got = append(got, strconv.Itoa(statusOf(alphaTen, 1)))
		}
		mustEqual(t, "statuses", strings.Join(got, ","), "200,200,502,200,200,502")
	})
	t.Run("page, workspace and removal", func(t *testing.T) {
		remove := s.AddFault(Fault{Kind: FaultStatus, Status: 500, Instance: "alpha", Workspace: 10, Path: KindList, Page: 2})
		mustEqual(t, "page 1", statusOf(alphaTen, 1), 200)
		mustEqual(t, "page 2", statusOf(alphaTen, 2), 500)
		mustEqual(t, "other workspace page 2", statusOf(alphaTwen, 2), 200)
		st, _, _ := do(t, http.MethodGet, s.BaseURL("alpha")+"/sender-emails/"+itoa(s.Accounts("alpha", 10)[0].ID), alphaTen, nil)
		mustEqual(t, "single account", st, 200)
		remove()
		mustEqual(t, "page 2 after removal", statusOf(alphaTen, 2), 200)
	})
	t.Run("workspace served to a super-admin key", func(t *testing.T) {
		remove := s.AddFault(Fault{Kind: Fault403, Workspace: 20})
		defer remove()
		mustEqual(t, "switch to 20", switchTo(t, s, "alpha", alphaSuper, 20), 403)
	})
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	s := newSmall(t, Options{})
	s.SetRateLimit("alpha", 1, 3)
	var statuses []int
	var retryAfter string
	for range 5 {
		st, h, _ := do(t, http.MethodGet, pageURL(s, "alpha", 1), alphaTen, nil)
		statuses = append(statuses, st)
		if st == 429 {
			retryAfter = h.Get("Retry-After")
		}
	}
	mustEqual(t, "served within the burst", countOf(statuses, 200), 3)
	mustEqual(t, "throttled", countOf(statuses, 429), 2)
	if n, err := strconv.Atoi(retryAfter); err != nil || n < 1 {
		t.Errorf("Retry-After = %q, want whole seconds >= 1", retryAfter)
	}
	// The limit is per instance, whatever the key: the super-admin key is throttled too,
	// and the other instance is not.
	st, _, _ := do(t, http.MethodGet, pageURL(s, "alpha", 1), alphaSuper, nil)
	mustEqual(t, "super-admin key on the same instance", st, 429)
	getPage(t, s, "beta", betaTen, 1)

	s.SetRateLimit("alpha", 0, 0)
	getPage(t, s, "alpha", alphaTen, 1)
	for _, r := range s.Requests() {
		if r.Status == 429 && r.Workspace != 0 {
			t.Errorf("a throttled request was served for workspace %d", r.Workspace)
		}
	}
}

func countOf(xs []int, x int) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}
