package db_test

import (
	"testing"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
)

// The console reads the requests newest first, as another program left them and as the
// serving process moved them on: pending, then running with its run, then done or refused.
func TestRecentRequestsNewestFirst(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := testContext(t)
	old := request(t, s, "Acme")
	all := request(t, s, "  ")
	claimed, err := s.ClaimRequests(ctx, "cron-1:4711")
	if err != nil || len(claimed) != 1 || claimed[0].ID != old {
		t.Fatalf("claim: %+v %v", claimed, err)
	}
	if err := s.AttachRequests(ctx, "cron-1:4711", []int64{old}, 9); err != nil {
		t.Fatal(err)
	}
	got, err := s.RecentRequests(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != all || got[1].ID != old {
		t.Fatalf("requests %+v, want %d then %d", got, all, old)
	}
	if r := got[0]; r.Status != db.RequestPending || r.Workspace != "" || r.RequestedBy != "dashboard" || r.RunID != 0 || r.RequestedAt == nil || r.ClaimedBy != "" {
		t.Errorf("pending request: %+v", r)
	}
	if r := got[1]; r.Status != db.RequestRunning || r.Workspace != "Acme" || r.RunID != 9 || r.ClaimedBy != "cron-1:4711" {
		t.Errorf("running request: %+v", r)
	}
	if err := s.FinishRequests(ctx, "cron-1:4711", []int64{old}, db.RequestOutcome{Status: db.RequestRefused, Error: "no such workspace"}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.RecentRequests(ctx, 1)
	if len(got) != 1 || got[0].ID != all {
		t.Fatalf("limit 1: %+v", got)
	}
	got, _ = s.RecentRequests(ctx, 10)
	if r := got[1]; r.Status != db.RequestRefused || r.Error != "no such workspace" || r.FinishedAt == nil {
		t.Errorf("refused request: %+v", r)
	}
}
