package bison_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/bison/sim"
)

// leaks returns the first piece of token, of 8 or more characters, that text holds in any
// form a server might echo it (plain, query-escaped, base64 at any alignment), or "". It is
// written apart from the client's scrubber, so the two do not share a mistake.
func leaks(text, token string) string {
	forms := []string{token, url.QueryEscape(token)}
	for shift := range 3 {
		forms = append(forms, base64.StdEncoding.EncodeToString([]byte(token[shift:]))[:4*((len(token)-shift)/3)])
	}
	for _, f := range forms {
		for i := 0; i+8 <= len(f); i++ {
			if strings.Contains(text, f[i:i+8]) {
				return f[i : i+8]
			}
		}
	}
	return ""
}

// Every text the client produces about a server that echoes the token, in every way a
// careless server could and with every status, is free of any 8-character piece of it.
func TestEchoedTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	for _, status := range []int{401, 403, 404, 422, 500, 503, 200} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, bison.Options{MaxAttempts: 2}, bison.Limits{})
			w := f.keyed(t)
			f.srv.AddFault(sim.Fault{Kind: sim.FaultEchoToken, Status: status})
			var mu sync.Mutex
			var texts []string
			s := f.session(w, w.Key, func(r bison.Retry) {
				mu.Lock()
				texts = append(texts, fmt.Sprintf("%+v", r))
				mu.Unlock()
			})
			_, err1 := s.ListPage(context.Background(), 1)
			_, err2 := s.GetAccount(context.Background(), 1)
			err3 := s.SwitchWorkspace(context.Background())
			for _, err := range []error{err1, err2, err3} {
				if err == nil {
					t.Fatal("an echoing server gave no error")
				}
				for e := err; e != nil; e = errors.Unwrap(e) {
					texts = append(texts, e.Error(), fmt.Sprintf("%v|%+v|%#v", e, e, e))
				}
			}
			for _, text := range texts {
				if piece := leaks(text, w.Key); piece != "" {
					t.Fatalf("%q leaks %q of the token", text, piece)
				}
			}
		})
	}
}

// The exported scrubber catches each form the simulator echoes, and leaves other text be.
func TestScrub(t *testing.T) {
	t.Parallel()
	const token = "77|Xk9vQ2mZpL4rT8wYb6nC1dF3gH5jK7sA0eU2iO4q"
	key := bison.NewKey(token)
	cases := map[string]string{
		"plain":          "token " + token + " end",
		"prefix":         "token " + token[:len(token)-4] + " and hint …iO4q",
		"secret half":    token[3:],
		"query":          "?api_token=" + url.QueryEscape(token),
		"query lower":    "?api_token=" + strings.ToLower(url.QueryEscape(token)[:5]) + token[3:],
		"json escaped":   `"` + strings.ReplaceAll(token, "|", `\u007c`) + `"`,
		"base64":         base64.StdEncoding.EncodeToString([]byte("Authorization: Bearer " + token)),
		"base64 url":     base64.URLEncoding.EncodeToString([]byte("x" + token)),
		"middle piece":   "…" + token[10:18] + "…",
		"two pieces":     token[3:12] + " and " + token[20:30],
		"piece in words": "abc" + token[5:14] + "def",
	}
	for name, text := range cases {
		got := bison.Scrub(text, key)
		if piece := leaks(got, token); piece != "" {
			t.Errorf("%s: Scrub(%q) = %q still holds %q", name, text, got, piece)
		}
	}
	for _, text := range []string{"", "plain words", "Xk9vQ2m is seven", "HTTP 429 after 5 attempts"} {
		if got := bison.Scrub(text, key); got != text {
			t.Errorf("Scrub(%q) = %q, want it unchanged", text, got)
		}
	}
	if got := bison.Scrub("a "+token, bison.NewKey("other|key-aaaaaaaaaaaa"), key); strings.Contains(got, token[3:11]) {
		t.Errorf("the second key was not scrubbed: %q", got)
	}
}

// A redirect is refused before anything reaches where it points: the key stays home.
func TestRedirectIsRefused(t *testing.T) {
	t.Parallel()
	var reached atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		fmt.Fprint(w, `{"data":[],"meta":{"current_page":1,"last_page":1,"total":0}}`)
	}))
	t.Cleanup(elsewhere.Close)
	f := newFixture(t, bison.Options{}, bison.Limits{})
	w := f.keyed(t)
	f.srv.AddFault(sim.Fault{Kind: sim.FaultRedirect, Location: elsewhere.URL + "/steal/api/sender-emails?page=1&token=" + w.Key})
	_, err := f.session(w, w.Key, nil).ListPage(context.Background(), 1)
	var re *bison.RedirectError
	if !errors.As(err, &re) || !bison.IsPermanent(err) {
		t.Fatalf("a redirect gave %T %v, want a permanent *RedirectError", err, err)
	}
	want := elsewhere.URL + "/steal/api/sender-emails"
	if re.Location != want || re.Status != http.StatusFound || strings.Contains(err.Error(), "?") {
		t.Fatalf("redirect error %q (location %q), want it to name %s without the query", err, re.Location, want)
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("the redirect target received %d requests", n)
	}
	if n := len(f.srv.Requests()); n != 1 {
		t.Fatalf("a redirect was retried: %d requests", n)
	}
}

func TestValidateBaseURL(t *testing.T) {
	t.Parallel()
	for _, good := range []string{"https://send.example.com/api", "http://127.0.0.1:8080/api", "https://h/api/"} {
		if err := bison.ValidateBaseURL("main", good); err != nil {
			t.Errorf("ValidateBaseURL(%q) = %v", good, err)
		}
	}
	for raw, want := range map[string]string{
		"":                                "is empty",
		"   ":                             "is empty",
		"ftp://send.example.com/api":      "https:// or http://",
		"send.example.com/api":            "https:// or http://",
		"https:///api":                    "no host",
		"https://:443/api":                "no host",
		"http://[::1%zz]/api":             "not a URL",
		"https://user:s3cret@h/api":       "user name or password",
		"https://h/api?api_token=s3cret":  "query or fragment",
		"https://send.example.com:99999/": "bad port",
	} {
		err := bison.ValidateBaseURL("main", raw)
		var ce *bison.ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `instance "main"`) {
			t.Errorf("ValidateBaseURL(%q) = %v, want a ConfigError saying %q", raw, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ValidateBaseURL(%q) repeats the secret: %v", raw, err)
		}
	}
}

// A base_url that cannot work fails every request at once, without a network attempt.
func TestBadBaseURLFailsAtOnce(t *testing.T) {
	t.Parallel()
	var retries atomic.Int64
	s := bison.NewClient(bison.Options{}).Instance("main", "send.example.com/api", bison.Limits{}).
		Session(bison.NewKey("1|abcdefghijklmnop"), bison.Workspace{Name: "w", ID: 1}, func(bison.Retry) { retries.Add(1) })
	start := time.Now()
	_, err := s.ListPage(context.Background(), 1)
	var ce *bison.ConfigError
	if !errors.As(err, &ce) || !bison.IsPermanent(err) || retries.Load() != 0 || time.Since(start) > time.Second {
		t.Fatalf("bad base_url: %T %v after %d retries and %s", err, err, retries.Load(), time.Since(start))
	}
}

// A 404 on the first page, with a base_url lacking /api, says what is probably wrong.
func TestNotFoundHintsAtMissingAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, bison.Options{}, bison.Limits{})
	w := f.keyed(t)
	inst := f.client.Instance("main", f.srv.URL()+"/"+sim.IncidentInstance, bison.Limits{})
	_, err := inst.Session(bison.NewKey(w.Key), bison.Workspace{Name: w.Name, ID: w.ID}, nil).ListPage(context.Background(), 1)
	var nf *bison.NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "/api") {
		t.Fatalf("404 without /api: %v", err)
	}
	if _, err := f.session(w, w.Key, nil).GetAccount(context.Background(), 1); err == nil || strings.Contains(err.Error(), "/api") {
		t.Fatalf("a 404 with /api in base_url hints at it: %v", err)
	}
}

// Hostile pages through the whole client: each ends as the right error, or as a page whose
// hostile part is defused and recorded.
func TestHostilePages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		opts  bison.Options
		fault sim.Fault
		check func(t *testing.T, p *bison.Page, err error)
	}{
		{"body over the size limit", bison.Options{}, sim.Fault{Kind: sim.FaultOversize},
			wantMalformed("response larger than 8 MiB")},
		{"body over a small limit", bison.Options{MaxBodyBytes: 32 << 10}, sim.Fault{Kind: sim.FaultOversize, Size: 40 << 10},
			wantMalformed("response larger than 32768 bytes")},
		{"huge last_page", bison.Options{}, sim.Fault{Kind: sim.FaultHugeLastPage}, wantMalformed("last_page 1000000")},
		{"data not a list", bison.Options{}, sim.Fault{Kind: sim.FaultDataNotList}, wantMalformed(`"data"`)},
		{"truncated", bison.Options{}, sim.Fault{Kind: sim.FaultTruncated}, wantMalformed("")},
		{"NUL in text fields", bison.Options{}, sim.Fault{Kind: sim.FaultNUL}, func(t *testing.T, p *bison.Page, err error) {
			if err != nil {
				t.Fatal(err)
			}
			a := p.Accounts[0]
			for _, s := range []string{a.Name, a.Email, a.Status, a.Tags[0].Name} {
				if strings.ContainsAny(s, "\x00\x07\x1b") {
					t.Fatalf("control characters kept: %q", s)
				}
			}
			fields := map[string]bool{}
			for _, st := range p.Stripped {
				if st.AccountID != a.ID || st.Removed < 1 {
					t.Fatalf("stripped record %+v, want account %d", st, a.ID)
				}
				fields[st.Field] = true
			}
			if !fields["name"] || !fields["email"] || !fields["status"] || !fields["tags[0].name"] || len(p.Stripped) != 4 {
				t.Fatalf("stripped %v", p.Stripped)
			}
		}},
		{"counters above 2^31", bison.Options{}, sim.Fault{Kind: sim.FaultBigCounter}, func(t *testing.T, p *bison.Page, err error) {
			if err != nil {
				t.Fatal(err)
			}
			a := p.Accounts[0]
			if a.EmailsSentCount != 1<<33+1 || a.DailyLimit != 1<<31+7 || a.TotalOpenedCount != 1<<40+3 {
				t.Fatalf("counters %d %d %d", a.EmailsSentCount, a.DailyLimit, a.TotalOpenedCount)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.opts, bison.Limits{})
			w := f.keyed(t)
			tc.fault.Workspace = w.ID
			f.srv.AddFault(tc.fault)
			p, err := f.session(w, w.Key, nil).ListPage(context.Background(), 1)
			tc.check(t, p, err)
		})
	}
}

func wantMalformed(says string) func(*testing.T, *bison.Page, error) {
	return func(t *testing.T, _ *bison.Page, err error) {
		t.Helper()
		var m *bison.MalformedError
		if !errors.As(err, &m) || !strings.Contains(err.Error(), says) {
			t.Fatalf("got %T %v, want a MalformedError saying %q", err, err, says)
		}
	}
}
