package sync

import (
	"errors"
	"strings"
	"testing"

	"github.com/bisonsync/bisonsync/bison"
)

func TestJudgeKey(t *testing.T) {
	page := func(total int, ids ...int64) firstPage { return firstPage{ids: ids, total: total} }
	view := func(p firstPage) *firstPage { return &p }
	others := map[string]firstPage{"Summit": page(187, 40, 41, 42), "Broken": {err: errors.New("x")}}
	for _, c := range []struct {
		name string
		own  firstPage
		view *firstPage
		want KeyOutcome
		has  string
	}{
		{"same page", page(20, 1, 2, 3), view(page(20, 1, 2, 3)), KeyOK, "matches"},
		{"moving data", page(21, 1, 2, 3), view(page(20, 2, 3, 4)), KeyOK, "matches"},
		{"both empty", page(0), view(page(0)), KeyOK, "no accounts"},
		{"another workspace's", page(187, 40, 41, 42), view(page(20, 1, 2, 3)), KeyWrong, `"Summit"`},
		{"someone's", page(9, 90, 91), view(page(20, 1, 2, 3)), KeyWrong, "shares no account"},
		{"an empty one's", page(0), view(page(20, 1, 2)), KeyWrong, "shares no account"},
		{"refused", firstPage{err: &bison.AuthError{Status: 401}}, nil, KeyRejected, "HTTP 401"},
		{"not checked", firstPage{err: errors.New("timeout")}, view(page(1, 1)), KeyFailed, "timeout"},
		{"no view", page(3, 1), nil, KeyUnverified, "no super-admin key"},
		{"view failed", page(3, 1), &firstPage{err: errors.New("HTTP 500")}, KeyUnverified, "HTTP 500"},
	} {
		got, detail := judgeKey(c.own, c.view, "no super-admin key", others)
		if got != c.want || !strings.Contains(detail, c.has) {
			t.Errorf("%s: %s %q, want %s with %q", c.name, got, detail, c.want, c.has)
		}
	}
	for o, problem := range map[KeyOutcome]bool{KeyFailed: true, KeyWrong: true, KeyRejected: true, KeyOK: false,
		KeyMinted: false, KeyKept: false, KeyUnverified: false, KeySkipped: false} {
		if o.Problem() != problem {
			t.Errorf("%s.Problem() = %v", o, !problem)
		}
	}
}

func TestShares(t *testing.T) {
	for _, tc := range []struct {
		a, b []int64
		want bool
	}{
		{[]int64{5}, []int64{5}, true},
		{[]int64{1, 3, 9}, []int64{2, 9}, true},
		{[]int64{1, 3}, []int64{2, 4}, false},
		{nil, []int64{1}, false},
		{[]int64{7}, nil, false},
	} {
		if got := shares(tc.a, tc.b); got != tc.want {
			t.Errorf("shares(%v, %v) = %v", tc.a, tc.b, got)
		}
	}
}
