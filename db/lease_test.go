package db_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
)

// Many goroutines over several pools (as several processes would) fight over a few
// workspaces; at no moment may two of them hold the same one.
func TestLeaseExclusiveUnderContention(t *testing.T) {
	t.Parallel()
	first := dbtest.NewStore(t)
	stores := []*db.Store{first}
	for range 3 {
		stores = append(stores, dbtest.OpenStore(t, first.Schema()))
	}
	workspaces := []string{"alpha", "bravo", "charlie"}
	for i, w := range workspaces {
		seedWorkspace(t, first, "inst", w, i+1)
	}
	ctx := testContext(t)

	holders := make(map[string]*atomic.Int32)
	for _, w := range workspaces {
		holders[w] = new(atomic.Int32)
	}
	var (
		claims   atomic.Int64
		refusals atomic.Int64
		wg       sync.WaitGroup
	)
	const workersPerStore, rounds = 6, 25
	for si, s := range stores {
		for wi := range workersPerStore {
			runID := int64(si*100 + wi + 1)
			wg.Go(func() {
				owner := db.LeaseOwner{RunID: runID, Host: fmt.Sprintf("host-%d", si), PID: wi}
				for r := range rounds {
					ws := workspaces[(wi+r)%len(workspaces)]
					res, err := s.ClaimLease(ctx, ws, owner, time.Minute, 0)
					if err != nil {
						t.Error(err)
						return
					}
					if !res.Claimed {
						refusals.Add(1)
						if !strings.HasPrefix(res.Reason, "held by run ") && res.Reason != "claimed by another process a moment ago" {
							t.Errorf("refusal reason %q", res.Reason)
						}
						continue
					}
					claims.Add(1)
					if n := holders[ws].Add(1); n != 1 {
						t.Errorf("%d holders of %s at once", n, ws)
					}
					time.Sleep(time.Millisecond)
					holders[ws].Add(-1)
					if err := s.ReleaseLease(ctx, ws, runID); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	if claims.Load() == 0 || refusals.Load() == 0 {
		t.Errorf("claims=%d refusals=%d: the test did not exercise contention", claims.Load(), refusals.Load())
	}
	t.Logf("claims=%d refusals=%d", claims.Load(), refusals.Load())
}

func TestLeaseExpiresAndIsTakenOver(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	seedWorkspace(t, s, "inst", "ws", 1)
	ctx := testContext(t)
	a := db.LeaseOwner{RunID: 1, Host: "host-a", PID: 11}
	b := db.LeaseOwner{RunID: 2, Host: "host-b", PID: 22}

	// Long enough for the claims below to come while the lease lives, on a loaded machine too.
	const ttl = 2 * time.Second
	if res, err := s.ClaimLease(ctx, "ws", a, ttl, 0); err != nil || !res.Claimed {
		t.Fatalf("first claim: %+v, %v", res, err)
	}
	res, err := s.ClaimLease(ctx, "ws", b, time.Minute, 0)
	if err != nil || res.Claimed {
		t.Fatalf("claim while held: %+v, %v", res, err)
	}
	if !strings.HasPrefix(res.Reason, "held by run 1 on host-a (pid 11) until ") {
		t.Errorf("reason = %q", res.Reason)
	}
	// The holder may re-claim (a retry within its run).
	reclaimed := time.Now()
	if res, err := s.ClaimLease(ctx, "ws", a, ttl, 0); err != nil || !res.Claimed {
		t.Fatalf("re-claim by holder: %+v, %v", res, err)
	}

	time.Sleep(time.Until(reclaimed.Add(ttl + 200*time.Millisecond)))
	if res, err := s.ClaimLease(ctx, "ws", b, time.Minute, 0); err != nil || !res.Claimed {
		t.Fatalf("claim after expiry: %+v, %v", res, err)
	}
	if err := s.RenewLease(ctx, "ws", 1, time.Minute); !errors.Is(err, db.ErrLeaseLost) {
		t.Errorf("renew by the old holder: %v, want ErrLeaseLost", err)
	}
	if err := s.RenewLease(ctx, "ws", 2, time.Minute); err != nil {
		t.Errorf("renew by the new holder: %v", err)
	}
	accounts := makeAccounts(3, 1, 0)
	_, err = s.CommitWorkspace(ctx, db.CommitInput{RunID: 1, Workspace: "ws", Instance: "inst",
		WorkspaceID: 1, Accounts: accounts, Expected: 3})
	if !errors.Is(err, db.ErrLeaseLost) {
		t.Errorf("commit by the old holder: %v, want ErrLeaseLost", err)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.email_accounts_raw`); n != 0 {
		t.Errorf("%d rows written by a commit without the lease", n)
	}
	// Releasing someone else's lease does nothing.
	if err := s.ReleaseLease(ctx, "ws", 1); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.workspace_leases WHERE run_id = 2`); n != 1 {
		t.Errorf("run 2's lease was released by run 1")
	}
}

func TestLeaseStaleConditionedClaim(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	seedWorkspace(t, s, "inst", "fresh", 1)
	seedWorkspace(t, s, "inst", "old", 2)
	seedWorkspace(t, s, "inst", "never", 3)
	ctx := testContext(t)
	commit := func(ws string, id int, at time.Time) {
		t.Helper()
		if _, err := s.CommitWorkspace(ctx, db.CommitInput{Workspace: ws, Instance: "inst",
			WorkspaceID: id, Accounts: makeAccounts(2, 1, 0), Expected: 2, SyncedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	commit("fresh", 1, time.Time{})
	commit("old", 2, time.Now().Add(-2*time.Hour))

	owner := db.LeaseOwner{RunID: 7, Host: "h", PID: 1}
	res, err := s.ClaimLease(ctx, "fresh", owner, time.Minute, time.Hour)
	if err != nil || res.Claimed {
		t.Fatalf("stale-only claim of a fresh workspace: %+v, %v", res, err)
	}
	if !strings.HasPrefix(res.Reason, "synced ") || !strings.HasSuffix(res.Reason, " ago by another process") {
		t.Errorf("reason = %q", res.Reason)
	}
	for _, ws := range []string{"old", "never"} {
		if res, err := s.ClaimLease(ctx, ws, owner, time.Minute, time.Hour); err != nil || !res.Claimed {
			t.Errorf("stale-only claim of %s: %+v, %v", ws, res, err)
		}
	}
	// Without the condition, a fresh workspace is claimed (an explicit sync).
	if res, err := s.ClaimLease(ctx, "fresh", owner, time.Minute, 0); err != nil || !res.Claimed {
		t.Errorf("unconditional claim: %+v, %v", res, err)
	}
	if _, err := s.ClaimLease(ctx, "nope", owner, time.Minute, 0); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("claim of an unknown workspace: %v, want ErrNotFound", err)
	}
}

// Several hosts split a --stale run by re-checking staleness when they claim. A claim that
// races with another process's commit waits for it (the registry row is locked) and then
// sees the new success: the freshly synced workspace is left alone, not synced twice.
func TestLeaseStaleRecheckWaitsForACommit(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	seedWorkspace(t, s, "inst", "racing", 1)
	ctx := testContext(t)
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	registry := pgx.Identifier{s.Schema(), "client_registry"}.Sanitize()
	// What another process's commit does: lock the registry row, record its success.
	if _, err := tx.Exec(ctx, `SELECT 1 FROM `+registry+` WHERE workspace_name = 'racing' FOR NO KEY UPDATE`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE `+registry+` SET last_successful_sync_at = now() WHERE workspace_name = 'racing'`); err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		res db.ClaimResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := s.ClaimLease(ctx, "racing", db.LeaseOwner{RunID: 9, Host: "h", PID: 1}, time.Minute, time.Hour)
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		t.Fatalf("the claim did not wait for the commit in progress: %+v %v", o.res, o.err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	o := <-done
	if o.err != nil || o.res.Claimed || !strings.Contains(o.res.Reason, "by another process") {
		t.Fatalf("after the commit: %+v %v, want refused as synced by another process", o.res, o.err)
	}
}
