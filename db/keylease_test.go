package db_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
)

// One run at a time holds an instance's super-admin key; the holder may re-claim it (a
// retry); closing the run frees it, and so does abandoning a dead run.
func TestKeyLease(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	other := dbtest.OpenStore(t, s.Schema())
	seedWorkspace(t, s, "inst", "alpha", 1)
	ctx := testContext(t)

	runA, err := s.OpenRun(ctx, db.RunSpec{Trigger: "test", Host: "host-a", PID: 1, Workspaces: []string{"alpha"}})
	if err != nil {
		t.Fatal(err)
	}
	runB, err := other.OpenRun(ctx, db.RunSpec{Trigger: "test", Host: "host-b", PID: 2, Workspaces: []string{"alpha"}})
	if err != nil {
		t.Fatal(err)
	}
	a := db.LeaseOwner{RunID: runA, Host: "host-a", PID: 1}
	b := db.LeaseOwner{RunID: runB, Host: "host-b", PID: 2}

	if res, err := s.ClaimKeyLease(ctx, "inst", "alpha", a, time.Minute); err != nil || !res.Claimed {
		t.Fatalf("first claim: %+v %v", res, err)
	}
	if res, err := s.ClaimKeyLease(ctx, "inst", "beta", a, time.Minute); err != nil || !res.Claimed {
		t.Fatalf("the holder's own re-claim: %+v %v", res, err)
	}
	res, err := other.ClaimKeyLease(ctx, "inst", "gamma", b, time.Minute)
	if err != nil || res.Claimed || !strings.Contains(res.Reason, "host-a") || !strings.Contains(res.Reason, `"beta"`) {
		t.Fatalf("a second run's claim: %+v %v", res, err)
	}
	// Another instance's key is independent.
	if res, err := other.ClaimKeyLease(ctx, "inst-2", "x", b, time.Minute); err != nil || !res.Claimed {
		t.Fatalf("another instance's key: %+v %v", res, err)
	}
	if err := s.ReleaseKeyLease(ctx, "inst", runA); err != nil {
		t.Fatal(err)
	}
	if res, err := other.ClaimKeyLease(ctx, "inst", "gamma", b, time.Minute); err != nil || !res.Claimed {
		t.Fatalf("after release: %+v", res)
	}
	// Closing a run frees its key leases.
	if _, err := other.CloseRun(ctx, runB, false, ""); err != nil {
		t.Fatal(err)
	}
	if res, err := s.ClaimKeyLease(ctx, "inst", "alpha", a, time.Minute); err != nil || !res.Claimed {
		t.Fatalf("after the holder's run closed: %+v", res)
	}
	// A dead run's key lease goes when it is abandoned.
	if _, err := s.AbandonDeadRuns(ctx, "host-a", func(int) bool { return false }, time.Minute); err != nil {
		t.Fatal(err)
	}
	runC, err := other.OpenRun(ctx, db.RunSpec{Trigger: "test", Host: "host-c", PID: 3, Workspaces: []string{"alpha"}})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := other.ClaimKeyLease(ctx, "inst", "alpha", db.LeaseOwner{RunID: runC, Host: "host-c", PID: 3}, time.Minute); err != nil || !res.Claimed {
		t.Fatalf("after the holder was abandoned: %+v", res)
	}
}

// An expired key lease is free again (its holder died without being seen).
func TestKeyLeaseExpires(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := testContext(t)
	a := db.LeaseOwner{RunID: 1, Host: "a", PID: 1}
	b := db.LeaseOwner{RunID: 2, Host: "b", PID: 2}
	// Long enough for the second claim to come while the lease lives, on a loaded machine
	// too (50 ms failed once in 20 runs beside other suites).
	const ttl = 2 * time.Second
	claimed := time.Now()
	if res, err := s.ClaimKeyLease(ctx, "inst", "w", a, ttl); err != nil || !res.Claimed {
		t.Fatalf("first claim refused: %+v %v", res, err)
	}
	if res, err := s.ClaimKeyLease(ctx, "inst", "w", b, time.Minute); err != nil || res.Claimed || res.Reason == "" {
		t.Fatalf("a live lease: %+v %v, want refused with a reason", res, err)
	}
	time.Sleep(time.Until(claimed.Add(ttl + 100*time.Millisecond)))
	if res, err := s.ClaimKeyLease(ctx, "inst", "w", b, time.Minute); err != nil || !res.Claimed {
		t.Fatalf("an expired lease was not taken over: %+v", res)
	}
}
