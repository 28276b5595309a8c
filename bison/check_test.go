package bison

import (
	"strings"
	"testing"
	"time"
)

// The paging facts a page may carry, at their boundaries: what is possible passes, what is
// not is refused saying what was seen.
func TestPageCheckBoundaries(t *testing.T) {
	rows := func(ids ...int64) []Account {
		out := make([]Account, len(ids))
		for i, id := range ids {
			out[i] = Account{ID: id}
		}
		return out
	}
	fifteen := make([]int64, PageSize)
	for i := range fifteen {
		fifteen[i] = int64(i + 1)
	}
	for _, tc := range []struct {
		name string
		p    Page
		err  string // "" when the page must pass
	}{
		{"an empty workspace", Page{CurrentPage: 1, LastPage: 1, Total: 0}, ""},
		{"a negative total", Page{CurrentPage: 1, LastPage: 1, Total: -1}, "impossible paging facts"},
		{"last_page 0", Page{CurrentPage: 1, LastPage: 0, Total: 0}, "impossible paging facts"},
		{"current_page 0", Page{CurrentPage: 0, LastPage: 1, Total: 0}, "impossible paging facts"},
		{"as many pages as accounts", Page{CurrentPage: 1, LastPage: 15, Total: 15, Accounts: rows(1)}, ""},
		{"more pages than accounts", Page{CurrentPage: 1, LastPage: 16, Total: 15, Accounts: rows(1)}, "last_page 16 with a total of 15"},
		{"two pages for no account", Page{CurrentPage: 1, LastPage: 2, Total: 0}, "last_page 2 with a total of 0"},
		{"a full page", Page{CurrentPage: 1, LastPage: 1, Total: 15, Accounts: rows(fifteen...)}, ""},
		{"one row too many", Page{CurrentPage: 1, LastPage: 2, Total: 16, Accounts: rows(append(fifteen, 16)...)}, "16 rows on one page"},
		{"an empty page past the end", Page{CurrentPage: 3, LastPage: 2, Total: 20}, ""},
		{"a row past the end", Page{CurrentPage: 3, LastPage: 2, Total: 20, Accounts: rows(1)}, "1 rows on page 3, beyond last_page 2"},
		{"account id 1", Page{CurrentPage: 1, LastPage: 1, Total: 1, Accounts: rows(1)}, ""},
		{"account id 0", Page{CurrentPage: 1, LastPage: 1, Total: 2, Accounts: rows(5, 0)}, "row 2 has no account id"},
		{"an account twice", Page{CurrentPage: 1, LastPage: 1, Total: 3, Accounts: rows(4, 5, 4)}, "rows 1 and 3 are both account 4"},
	} {
		err := tc.p.check()
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.err)
		}
	}
}

// Retry-After at its edges: what cannot be a wait is 0, an HTTP date is rounded up to the
// second so that no request goes early.
func TestRetryAfterEdges(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	date := func(t time.Time) string { return t.Format("Mon, 02 Jan 2006 15:04:05 GMT") }
	for _, tc := range []struct {
		header string
		now    time.Time
		want   time.Duration
	}{
		{"", now, 0},
		{"0", now, 0},
		{"-5", now, 0},
		{"soon", now, 0},
		{"2.5", now, 2500 * time.Millisecond},
		{"1e12", now, 1e6 * time.Second},
		{date(now), now, 0}, // the date is now: no wait
		{date(now), now.Add(-time.Nanosecond), time.Second}, // a moment ahead: the whole second
		{date(now.Add(3 * time.Second)), now, 4 * time.Second},
		{date(now.Add(-time.Minute)), now, 0},
	} {
		if got := parseRetryAfter(tc.header, tc.now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) at %s = %s, want %s", tc.header, tc.now.Format(time.RFC3339Nano), got, tc.want)
		}
	}
}
