package db

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// The decision is tested without a database, exhaustively on small workspaces: every
// assignment of up to four accounts over the states below, under guards chosen so that
// every share a workspace of up to four accounts can lose falls on, below and above a
// threshold (all 43 of them up to three accounts, ten at four, to keep the test quick). An independent oracle (the rules written out plainly, the guard in exact
// integer arithmetic) says what must happen; invariants that must hold whatever the rules
// say are checked on every plan.

// dbState is what the database holds for an account. Hashes stand for values: a live row
// holds the list's values or others; a deleted row holds the list's (it must be written
// anyway, to restore it).
type dbState int

const (
	noRow dbState = iota
	liveRow
	changedRow // live, holding other values than the list's (a different hash)
	deletedRow // marked deleted, holding the list's values
	numDBStates
)

func (s dbState) String() string { return [...]string{"no row", "live", "changed", "deleted"}[s] }

func (s dbState) live() bool { return s == liveRow || s == changedRow }

// accountCase is one account of a generated workspace.
type accountCase struct {
	db        dbState
	listed    bool
	confirmed bool // in ConfirmedAbsent
}

// testGuard is a guard whose percent is the fraction num/den, so the oracle can judge it
// exactly.
type testGuard struct {
	num, den int
	min      int
}

func (g testGuard) guard() *DeletionGuard {
	return &DeletionGuard{Percent: float64(g.num) / float64(g.den), Min: g.min}
}

// trips is the guard's rule in integers: at least min deletions, and more than num/den
// percent of size.
func (g testGuard) trips(would, size int) bool {
	return would >= g.min && size > 0 && would*100*g.den > g.num*size
}

// fewGuards are the guards tried on the largest workspaces (there are many of those): each
// share of four accounts on, below and above a threshold, and the engine's minimum of 10.
func fewGuards() []*testGuard {
	return []*testGuard{nil, {0, 1, 0}, {25, 1, 0}, {25, 1, 2}, {100, 3, 1}, {50, 1, 2}, {50, 1, 3},
		{75, 1, 0}, {100, 1, 0}, {20, 1, 10}}
}

func smallGuards() []*testGuard {
	out := []*testGuard{nil}
	for _, pct := range [][2]int{{0, 1}, {25, 1}, {100, 3}, {50, 1}, {200, 3}, {75, 1}, {100, 1}} {
		for _, min := range []int{0, 1, 2, 3, 4, 10} {
			out = append(out, &testGuard{num: pct[0], den: pct[1], min: min})
		}
	}
	return out
}

// allWorkspaces calls f with every workspace of up to n accounts (ids 1..k).
func allWorkspaces(n int, f func([]accountCase)) {
	var states []accountCase
	for db := range numDBStates {
		for _, listed := range []bool{false, true} {
			for _, confirmed := range []bool{false, true} {
				states = append(states, accountCase{db: db, listed: listed, confirmed: confirmed})
			}
		}
	}
	ws := make([]accountCase, 0, n)
	var rec func()
	rec = func() {
		f(ws)
		if len(ws) == n {
			return
		}
		for _, s := range states {
			ws = append(ws, s)
			rec()
			ws = ws[:len(ws)-1]
		}
	}
	rec()
}

// inputFor builds the decision's input for a generated workspace. The list is in descending
// id order, so that positions and ids differ.
func inputFor(ws []accountCase, g *testGuard) planInput {
	in := planInput{workspace: "ws", stored: map[int64]storedRow{}}
	for i := len(ws) - 1; i >= 0; i-- {
		id := int64(i + 1)
		c := ws[i]
		if c.listed {
			in.ids = append(in.ids, id)
			in.hashes = append(in.hashes, 1000+id)
		}
		if c.confirmed {
			in.confirmedAbsent = append(in.confirmedAbsent, id)
		}
		switch c.db {
		case liveRow, deletedRow:
			in.stored[id] = storedRow{deleted: c.db == deletedRow, hash: 1000 + id, hashed: true}
		case changedRow:
			in.stored[id] = storedRow{hash: 2000 + id, hashed: true}
		}
	}
	in.expected = len(in.ids)
	if g != nil {
		in.guard = g.guard()
	}
	return in
}

// oracle is what must happen, written out from the rules.
type oracle struct {
	unconfirmed    []int64 // non-empty: *UnconfirmedAbsenceError with these ids
	massDeletion   bool
	insert, update []int64
	restored       int
	unchanged      int
	deletions      []int64
	would, size    int
	firstSync      bool
}

func judge(ws []accountCase, g *testGuard) oracle {
	var o oracle
	live, listed := 0, 0
	o.firstSync = true
	for i, c := range ws {
		id := int64(i + 1)
		if c.db != noRow {
			o.firstSync = false
		}
		if c.db.live() {
			live++
		}
		if c.listed {
			listed++
		}
		switch {
		case c.listed && c.db == noRow:
			o.insert = append(o.insert, id)
		case c.listed && c.db == liveRow:
			o.unchanged++
		case c.listed:
			o.update = append(o.update, id)
			if c.db == deletedRow {
				o.restored++
			}
		case c.db.live() && !c.confirmed:
			o.unconfirmed = append(o.unconfirmed, id)
			o.deletions = append(o.deletions, id)
		case c.db.live():
			o.deletions = append(o.deletions, id)
		}
	}
	o.would, o.size = len(o.deletions), max(live, listed)
	o.massDeletion = len(o.unconfirmed) == 0 && g != nil && g.trips(o.would, o.size)
	return o
}

func TestPlanCommitExhaustive(t *testing.T) {
	t.Parallel()
	cases := 0
	allWorkspaces(4, func(ws []accountCase) {
		guards := smallGuards()
		if len(ws) == 4 {
			guards = fewGuards()
		}
		for _, g := range guards {
			cases++
			in := inputFor(ws, g)
			p, err := planCommit(in)
			if msg := checkPlan(ws, in, g, p, err); msg != "" {
				t.Fatalf("workspace %s, guard %+v: %s", describe(ws), g, msg)
			}
		}
	})
	t.Logf("%d decisions", cases)
}

// checkPlan compares a decision with the oracle and checks the invariants; it returns what
// is wrong, or "".
func checkPlan(ws []accountCase, in planInput, g *testGuard, p commitPlan, err error) string {
	if msg := checkInvariants(ws, in, p, err); msg != "" {
		return msg
	}
	want := judge(ws, g)
	var ue *UnconfirmedAbsenceError
	var me *MassDeletionError
	switch {
	case len(want.unconfirmed) > 0:
		if !errors.As(err, &ue) || !slices.Equal(ue.IDs, want.unconfirmed) || ue.Workspace != "ws" {
			return fmt.Sprintf("err = %v, want *UnconfirmedAbsenceError for %v", err, want.unconfirmed)
		}
		return ""
	case want.massDeletion:
		if !errors.As(err, &me) || me.Would != want.would || me.Size != want.size ||
			!slices.Equal(me.IDs, want.deletions) || me.Guard != *in.guard {
			return fmt.Sprintf("err = %v, want *MassDeletionError (%d of %d)", err, want.would, want.size)
		}
		return ""
	case err != nil:
		return fmt.Sprintf("err = %v, want a plan", err)
	}
	got := func(pos []int) []int64 {
		ids := make([]int64, len(pos))
		for i, k := range pos {
			ids[i] = in.ids[k]
		}
		slices.Sort(ids)
		return ids
	}
	switch {
	case !slices.Equal(got(p.insert), want.insert):
		return fmt.Sprintf("inserts %v, want %v", got(p.insert), want.insert)
	case !slices.Equal(got(p.update), want.update):
		return fmt.Sprintf("updates %v, want %v", got(p.update), want.update)
	case p.restored != want.restored:
		return fmt.Sprintf("restored %d, want %d", p.restored, want.restored)
	case p.unchanged != want.unchanged:
		return fmt.Sprintf("unchanged %d, want %d", p.unchanged, want.unchanged)
	case !slices.Equal(p.deletions, want.deletions):
		return fmt.Sprintf("deletions %v, want %v", p.deletions, want.deletions)
	case p.firstSync != want.firstSync:
		return fmt.Sprintf("firstSync %v, want %v", p.firstSync, want.firstSync)
	}
	return ""
}

// checkInvariants holds whatever the rules: a plan never marks deleted a listed account, an
// unconfirmed one or a row that is not live; it writes every listed account at most once and
// every one whose row does not already hold its values; a refusal is one of the refusals.
func checkInvariants(ws []accountCase, in planInput, p commitPlan, err error) string {
	if err != nil {
		var ue *UnconfirmedAbsenceError
		var me *MassDeletionError
		if !errors.As(err, &ue) && !errors.As(err, &me) {
			return fmt.Sprintf("unexpected refusal %v", err)
		}
		return ""
	}
	for _, id := range p.deletions {
		c := ws[id-1]
		switch {
		case c.listed:
			return fmt.Sprintf("marks listed account %d deleted", id)
		case !c.confirmed:
			return fmt.Sprintf("marks unconfirmed account %d deleted", id)
		case !c.db.live():
			return fmt.Sprintf("marks account %d deleted, which is %s", id, c.db)
		}
	}
	if !slices.IsSorted(p.deletions) {
		return fmt.Sprintf("deletions %v not ascending", p.deletions)
	}
	seen := map[int]bool{}
	for _, k := range slices.Concat(p.insert, p.update) {
		if seen[k] {
			return fmt.Sprintf("position %d written twice", k)
		}
		seen[k] = true
		if row, ok := in.stored[in.ids[k]]; ok && !row.deleted && row.hashed && row.hash == in.hashes[k] {
			return fmt.Sprintf("rewrites account %d, whose row already holds the list's values", in.ids[k])
		}
	}
	if len(seen)+p.unchanged != len(in.ids) {
		return fmt.Sprintf("writes %d and leaves %d of %d listed accounts", len(seen), p.unchanged, len(in.ids))
	}
	if p.firstSync && (len(p.update) > 0 || len(p.deletions) > 0) {
		return "a first sync that updates or deletes"
	}
	return ""
}

func describe(ws []accountCase) string {
	s := "["
	for i, c := range ws {
		s += fmt.Sprintf(" %d:%s", i+1, c.db)
		if c.listed {
			s += ",listed"
		}
		if c.confirmed {
			s += ",confirmed"
		}
	}
	return s + " ]"
}

// Incomplete lists are refused before anything else is looked at.
func TestPlanCommitIncomplete(t *testing.T) {
	t.Parallel()
	stored := map[int64]storedRow{1: {}, 2: {}}
	for _, c := range []struct {
		name     string
		ids      []int64
		expected int
		distinct int
	}{
		{"short of the total", []int64{1}, 2, 1},
		{"more than the total", []int64{1, 2, 3}, 2, 3},
		{"a repeated id", []int64{1, 1}, 2, 1},
		{"a repeated id hiding a missing one", []int64{1, 2, 2}, 3, 2},
		{"empty against a total", nil, 1, 0},
	} {
		_, err := planCommit(planInput{workspace: "ws", ids: c.ids, expected: c.expected, stored: stored,
			confirmedAbsent: []int64{1, 2, 3}})
		var ie *IncompleteError
		if !errors.As(err, &ie) || ie.Listed != len(c.ids) || ie.Distinct != c.distinct || ie.Expected != c.expected {
			t.Errorf("%s: err = %v, want *IncompleteError", c.name, err)
		}
	}
	if _, err := planCommit(planInput{workspace: "ws", stored: stored, confirmedAbsent: []int64{1, 2}}); err != nil {
		t.Errorf("an empty list with every absence confirmed: %v", err)
	}
}

// The guard as the engine configures it: at least Min (10) deletions and more than Percent
// of the workspace (20% by default, or the workspace's own percent), the workspace's size
// being the larger of its live rows and its new list. Exactly Percent is allowed.
func TestPlanCommitGuard(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name              string
		live, gone, added int
		guard             DeletionGuard
		refused           bool
	}{
		{"exactly 20% of 50", 50, 10, 0, DeletionGuard{20, 10}, false},
		{"just over 20% of 50", 50, 11, 0, DeletionGuard{20, 10}, true},
		{"25% but fewer than the minimum", 36, 9, 0, DeletionGuard{20, 10}, false},
		{"25% at the minimum", 40, 10, 0, DeletionGuard{20, 10}, true},
		{"all of a small workspace", 9, 9, 0, DeletionGuard{20, 10}, false},
		{"churn in a growing workspace (360 to 433, 73 gone)", 360, 73, 146, DeletionGuard{20, 10}, false},
		{"the same loss without the growth", 360, 73, 0, DeletionGuard{20, 10}, true},
		{"workspace percent 50: exactly half", 100, 50, 0, DeletionGuard{50, 10}, false},
		{"workspace percent 50: one more", 100, 51, 0, DeletionGuard{50, 10}, true},
		{"workspace percent 5: 6 of 100, under the minimum", 100, 6, 0, DeletionGuard{5, 10}, false},
		{"workspace percent 5: 10 of 100", 100, 10, 0, DeletionGuard{5, 10}, true},
		{"percent 100 never trips", 1000, 1000, 0, DeletionGuard{100, 10}, false},
	} {
		in := planInput{workspace: "ws", stored: map[int64]storedRow{}}
		for id := int64(1); id <= int64(c.live); id++ {
			in.stored[id] = storedRow{}
			if id <= int64(c.gone) {
				in.confirmedAbsent = append(in.confirmedAbsent, id)
			} else {
				in.ids = append(in.ids, id)
			}
		}
		for k := range c.added {
			in.ids = append(in.ids, int64(c.live+1+k))
		}
		in.expected, in.guard = len(in.ids), &c.guard
		p, err := planCommit(in)
		var me *MassDeletionError
		switch {
		case c.refused && !errors.As(err, &me):
			t.Errorf("%s: err = %v, want *MassDeletionError", c.name, err)
		case c.refused && (me.Would != c.gone || me.Size != max(c.live, len(in.ids)) || len(me.IDs) != c.gone):
			t.Errorf("%s: %+v", c.name, me)
		case !c.refused && (err != nil || len(p.deletions) != c.gone):
			t.Errorf("%s: err = %v, %d deletions, want %d", c.name, err, len(p.deletions), c.gone)
		}
	}
}

// A row without a hash (written by another tool, or changed by one since) is rewritten even
// when the number in row_hash happens to equal the list's: only a hash bisonsync wrote
// vouches for the row.
func TestPlanCommitRewritesUnhashedRows(t *testing.T) {
	t.Parallel()
	p, err := planCommit(planInput{workspace: "ws", ids: []int64{1, 2, 3}, hashes: []int64{0, 7, 9},
		expected: 3, stored: map[int64]storedRow{1: {}, 2: {hash: 7, hashed: true}, 3: {hash: 9}}})
	if err != nil || !slices.Equal(p.update, []int{0, 2}) || p.unchanged != 1 {
		t.Errorf("plan %+v, %v: want accounts 1 and 3 rewritten, 2 unchanged", p, err)
	}
}

// What a plan reports counts what it writes: rows inserted and updated (restores among
// them), those left alone, and the deletions.
func TestCommitPlanResult(t *testing.T) {
	p := commitPlan{insert: []int{0, 1}, update: []int{2, 3, 4}, unchanged: 7, restored: 1, deletions: []int64{9}}
	want := CommitResult{Upserted: 5, Inserted: 2, Unchanged: 7, Deleted: 1, Restored: 1}
	if got := p.result(); got != want {
		t.Errorf("result() = %+v, want %+v", got, want)
	}
}
