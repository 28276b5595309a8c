package sync

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/db"
)

func TestQueueOrder(t *testing.T) {
	size := func(n int) *int { return &n }
	plans := []planned{
		{ws: db.Workspace{Name: "small", EstimatedAccounts: size(20)}},
		{ws: db.Workspace{Name: "big", EstimatedAccounts: size(500)}},
		{ws: db.Workspace{Name: "new"}}, // unknown size counts as large
		{ws: db.Workspace{Name: "sa-1", EstimatedAccounts: size(300)}, exclusiveKey: "k"},
		{ws: db.Workspace{Name: "sa-2", EstimatedAccounts: size(250)}, exclusiveKey: "k"},
	}
	q := newQueue(plans)
	want := []string{"new", "sa-1", "sa-2", "big", "small"} // the key's chain weighs 550
	if !slices.Equal(q.order, want) {
		t.Fatalf("order %v, want %v", q.order, want)
	}
	// Two workspaces on one key never run together; the other jobs go past the waiting one.
	ctx := context.Background()
	var got []string
	var held []*job
	for range 4 {
		j := q.next(ctx)
		got = append(got, j.plan.ws.Name)
		held = append(held, j)
	}
	if got[1] != "sa-1" || got[2] != "big" || got[3] != "small" {
		t.Fatalf("handed out %v while sa-1 holds the key", got)
	}
	if q.done(held[1]) { // sa-1 finishes: sa-2 may start
		t.Error("sa-1's chain reported over while sa-2 waits on the key")
	}
	sa2 := q.next(ctx)
	if sa2.plan.ws.Name != "sa-2" {
		t.Fatalf("next after sa-1 is %s", sa2.plan.ws.Name)
	}
	if !q.done(sa2) {
		t.Error("the last workspace of the chain did not report the chain over")
	}
	if q.done(held[2]) {
		t.Error("a workspace with its own key reported a chain over")
	}
	q.done(held[0])
	q.done(held[3])
	if j := q.next(ctx); j != nil {
		t.Fatalf("an empty queue handed out %s", j.plan.ws.Name)
	}
}

// Equal sizes keep the plan's order; a chain outweighs a single workspace of its own size.
func TestQueueTiesAndOverflow(t *testing.T) {
	size := func(n int) *int { return &n }
	plans := []planned{
		{ws: db.Workspace{Name: "a", EstimatedAccounts: size(100)}},
		{ws: db.Workspace{Name: "b", EstimatedAccounts: size(100)}},
		{ws: db.Workspace{Name: "c", EstimatedAccounts: size(150)}},
		{ws: db.Workspace{Name: "k1", EstimatedAccounts: size(100)}, exclusiveKey: "k"},
		{ws: db.Workspace{Name: "k2", EstimatedAccounts: size(60)}, exclusiveKey: "k"},
	}
	if got, want := newQueue(plans).order, []string{"k1", "k2", "c", "a", "b"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	if got := satAdd(math.MaxInt-1, 5); got != math.MaxInt {
		t.Errorf("satAdd overflowed: %d", got)
	}
	if got := satAdd(math.MaxInt-5, 5); got != math.MaxInt {
		t.Errorf("satAdd(MaxInt-5, 5) = %d", got)
	}
	if got := satAdd(3, 4); got != 7 {
		t.Errorf("satAdd(3, 4) = %d", got)
	}
}

// A job put back waits for its time at the back of the queue; others go past it meanwhile,
// and next wakes up when the time comes rather than sleeping on.
func TestQueueRequeueWaits(t *testing.T) {
	plans := []planned{{ws: db.Workspace{Name: "retry"}}, {ws: db.Workspace{Name: "other"}}}
	q := newQueue(plans)
	ctx := context.Background()
	first := q.next(ctx)
	start := time.Now()
	q.requeue(first, 150*time.Millisecond)
	if j := q.next(ctx); j.plan.ws.Name != "other" {
		t.Fatalf("went to %s before the waiting job's time", j.plan.ws.Name)
	}
	j := q.next(ctx)
	if waited := time.Since(start); j != first || waited < 150*time.Millisecond || waited > time.Second {
		t.Fatalf("got %s after %s, want the requeued job after 150ms", j.plan.ws.Name, waited)
	}
	q.requeue(j, time.Hour)
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if j := q.next(cctx); j != nil {
		t.Fatal("a job waiting an hour was handed out")
	}
}

func TestSameAccounts(t *testing.T) {
	l := func(ids ...int64) *listing {
		m := map[int64]db.Account{}
		for _, id := range ids {
			m[id] = db.Account{ID: id}
		}
		return &listing{accounts: m}
	}
	for _, tc := range []struct {
		a, b *listing
		want bool
	}{
		{l(1, 2, 3), l(3, 2, 1), true},
		{l(), l(), true},
		{l(1, 2), l(1, 2, 3), false},
		{l(1, 2, 3), l(1, 2), false},
		{l(1, 2, 3), l(1, 2, 4), false},
		{nil, l(1), false},
		{l(1), nil, false},
	} {
		if got := sameAccounts(tc.a, tc.b); got != tc.want {
			t.Errorf("sameAccounts(%v, %v) = %v", tc.a, tc.b, got)
		}
	}
}

// The deletion guard of a workspace takes its own percent when it has one, the run's
// otherwise, and none when the operator accepted its deletions for this run.
func TestWorkspaceGuard(t *testing.T) {
	pct := 50.0
	r := &run{engine: &Engine{cfg: Config{DeletionGuardPercent: 20, DeletionGuardMin: 10}}}
	own := &workspaceSync{run: r, plan: planned{ws: db.Workspace{Name: "own", DeletionGuardPercent: &pct}}}
	if g := own.guard(); g == nil || g.Percent != 50 || g.Min != 10 {
		t.Errorf("own percent: %+v", g)
	}
	def := &workspaceSync{run: r, plan: planned{ws: db.Workspace{Name: "default"}}}
	if g := def.guard(); g == nil || g.Percent != 20 {
		t.Errorf("default percent: %+v", g)
	}
	r.req.AllowDeletions = []string{"own"}
	if g := own.guard(); g != nil {
		t.Errorf("accepted deletions still guarded: %+v", g)
	}
}
