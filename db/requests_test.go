package db_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
)

// request inserts a request as another program would and returns its id.
func request(t testing.TB, s *db.Store, workspace any) int64 {
	t.Helper()
	return int64(queryInt(t, s, `INSERT INTO {schema}.sync_requests (requested_by, workspace_name) VALUES ('dashboard', $1) RETURNING id`, workspace))
}

func requestState(t testing.TB, s *db.Store, id int64) string {
	t.Helper()
	var out string
	if err := s.Pool().QueryRow(testContext(t), fmt.Sprintf(`SELECT status || ' run=' || coalesce(run_id::text, '-') || ' by=' || coalesce(claimed_by, '-') || ' err=' || coalesce(error, '-')
		FROM %q.sync_requests WHERE id = $1`, s.Schema()), id).Scan(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func claimedIDs(list []db.SyncRequest) []int64 {
	out := make([]int64, len(list))
	for i, r := range list {
		out[i] = r.ID
	}
	return out
}

func TestClaimRequestsMergesTheSameWork(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := testContext(t)
	a := request(t, s, "Acme")
	all := request(t, s, nil)
	c := request(t, s, " Acme ") // the same workspace, loosely typed
	d := request(t, s, "Zeta")

	got, err := s.ClaimRequests(ctx, "h:1")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(claimedIDs(got), []int64{a, c}) || got[0].Workspace != "Acme" || got[1].Workspace != "Acme" {
		t.Fatalf("first claim %+v, want %d and %d for Acme", got, a, c)
	}
	got, _ = s.ClaimRequests(ctx, "h:1")
	if !slices.Equal(claimedIDs(got), []int64{all, d}) || got[0].Workspace != "" {
		t.Fatalf("second claim %+v, want %d (every workspace) with %d merged", got, all, d)
	}
	if got, _ := s.ClaimRequests(ctx, "h:1"); len(got) != 0 {
		t.Fatalf("third claim %+v, want none", got)
	}

	// Arriving while the run goes: merged into it, finished with it.
	e := request(t, s, "Acme")
	other := request(t, s, "Zeta")
	merged, err := s.MergeRequests(ctx, "h:1", "Acme", 41)
	if err != nil || !slices.Equal(merged, []int64{e}) {
		t.Fatalf("merge into a run of Acme: %v, %v; want [%d]", merged, err, e)
	}
	if err := s.FinishRequests(ctx, "someone else:2", []int64{a, c, e}, db.RequestOutcome{Status: db.RequestDone, RunID: 41}); err != nil {
		t.Fatal(err)
	}
	if st := requestState(t, s, a); st != "running run=- by=h:1 err=-" {
		t.Errorf("finished by a process that does not hold it: %s", st)
	}
	if err := s.AttachRequests(ctx, "h:1", []int64{a, c}, 41); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRequests(ctx, "h:1", []int64{a, c, e}, db.RequestOutcome{Status: db.RequestDone, RunID: 41}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{a, c, e} {
		if st := requestState(t, s, id); st != "done run=41 by=h:1 err=-" {
			t.Errorf("request %d: %s", id, st)
		}
	}
	if st := requestState(t, s, other); st != "pending run=- by=- err=-" {
		t.Errorf("a request for another workspace was touched: %s", st)
	}
	if err := s.FinishRequests(ctx, "h:1", []int64{all, d}, db.RequestOutcome{Status: db.RequestRefused, Error: "unknown workspace(s): Zeta"}); err != nil {
		t.Fatal(err)
	}
	if st := requestState(t, s, d); st != "refused run=- by=h:1 err=unknown workspace(s): Zeta" {
		t.Errorf("refused: %s", st)
	}
}

// Two serving processes claiming at once never take the same request.
func TestClaimRequestsOnceAcrossProcesses(t *testing.T) {
	t.Parallel()
	schema := dbtest.NewSchema(t)
	stores := []*db.Store{dbtest.OpenStore(t, schema), dbtest.OpenStore(t, schema), dbtest.OpenStore(t, schema)}
	ctx := testContext(t)
	if err := stores[0].Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 150
	for i := range n {
		request(t, stores[0], fmt.Sprintf("Workspace %d", i%60)) // some merge, most not
	}
	var mu sync.Mutex
	claims := map[int64][]string{}
	var wg sync.WaitGroup
	for p, s := range stores {
		wg.Go(func() {
			owner := fmt.Sprintf("host:%d", p)
			for {
				got, err := s.ClaimRequests(ctx, owner)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, r := range got {
					claims[r.ID] = append(claims[r.ID], owner)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claims) != n {
		t.Errorf("%d requests claimed, want %d", len(claims), n)
	}
	for id, owners := range claims {
		if len(owners) != 1 {
			t.Errorf("request %d claimed by %v", id, owners)
		}
	}
}

func TestRecoverRequestsOfDeadProcesses(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := testContext(t)
	noRun := request(t, s, "A")
	abandoned := request(t, s, "B")
	closed := request(t, s, "C")
	fresh := request(t, s, "D")
	for range 4 {
		if _, err := s.ClaimRequests(ctx, "dead:1"); err != nil {
			t.Fatal(err)
		}
	}
	runA, runC := int64(queryInt(t, s, `INSERT INTO {schema}.sync_runs (status, finished_at) VALUES ('abandoned', now()) RETURNING id`)),
		int64(queryInt(t, s, `INSERT INTO {schema}.sync_runs (status, finished_at) VALUES ('partial', now() - interval '1 hour') RETURNING id`))
	exec(t, s, `UPDATE {schema}.sync_requests SET claimed_at = now() - interval '1 hour' WHERE id = $1`, noRun)
	exec(t, s, `UPDATE {schema}.sync_requests SET run_id = $2 WHERE id = $1`, abandoned, runA)
	exec(t, s, `UPDATE {schema}.sync_requests SET run_id = $2 WHERE id = $1`, closed, runC)
	if err := s.RecoverRequests(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{
		noRun:     "pending run=- by=- err=-",
		abandoned: "pending run=- by=- err=-",
		closed:    fmt.Sprintf("done run=%d by=dead:1 err=the serving process stopped before recording this request; run %d had ended partial", runC, runC),
		fresh:     "running run=- by=dead:1 err=-",
	}
	for id, w := range want {
		if got := requestState(t, s, id); got != w {
			t.Errorf("request %d: %s, want %s", id, got, w)
		}
	}
}
