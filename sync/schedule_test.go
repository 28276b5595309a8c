package sync

import (
	"context"
	"slices"
	"testing"

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
	q.done(held[1]) // sa-1 finishes: sa-2 may start
	if j := q.next(ctx); j.plan.ws.Name != "sa-2" {
		t.Fatalf("next after sa-1 is %s", j.plan.ws.Name)
	}
}
