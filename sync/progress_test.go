package sync_test

import (
	"context"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/sync"
)

// runSnapshot is what another program sees of the latest run.
type runSnapshot struct {
	status                  string
	total, done, synced     int
	current                 string
	progressed              bool // progress_at is set
	pagesOfRunning, running int  // pages fetched by running workspaces, and how many run
}

func (v *env) snapshot(ctx context.Context) (runSnapshot, bool) {
	var s runSnapshot
	err := v.Store.Pool().QueryRow(ctx, `SELECT r.status, r.workspaces_total,
		r.workspaces_succeeded + r.workspaces_failed + r.workspaces_cancelled + r.workspaces_skipped,
		r.accounts_synced, coalesce(r.current_workspace, ''), r.progress_at IS NOT NULL,
		(SELECT coalesce(sum(w.pages_fetched), 0) FROM `+v.Table("sync_run_workspaces")+` w WHERE w.run_id = r.id AND w.status = 'running'),
		(SELECT count(*) FROM `+v.Table("sync_run_workspaces")+` w WHERE w.run_id = r.id AND w.status = 'running')
		FROM `+v.Table("sync_runs")+` r ORDER BY r.id DESC LIMIT 1`).Scan(&s.status, &s.total, &s.done, &s.synced,
		&s.current, &s.progressed, &s.pagesOfRunning, &s.running)
	return s, err == nil
}

// A run moves in the database while it goes: its counters, the workspace named as current,
// and the pages of the workspaces under way, so that another program (the dashboard's
// progress bar) sees it move.
func TestRunProgressIsVisibleWhileItGoes(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.GenerateFleet(13, 12, 1_500), sim.Options{Latency: 60 * time.Millisecond})
	v.cfg.Workers = 3
	v.cfg.DefaultMaxInFlight = 3
	v.cfg.ProgressInterval = 200 * time.Millisecond

	done := make(chan sync.Summary)
	go func() {
		s, _ := v.run(sync.Request{})
		done <- s
	}()
	ctx := context.Background()
	var sawPartial, sawCurrent, sawPages bool
	var summary sync.Summary
	for finished := false; !finished; {
		select {
		case summary = <-done:
			finished = true
		case <-time.After(100 * time.Millisecond):
		}
		s, ok := v.snapshot(ctx)
		if !ok || s.status != "running" {
			continue
		}
		sawPartial = sawPartial || (s.done > 0 && s.done < s.total && s.synced > 0 && s.progressed)
		sawCurrent = sawCurrent || s.current != ""
		sawPages = sawPages || (s.running > 0 && s.pagesOfRunning > 0)
	}
	if !sawPartial || !sawCurrent || !sawPages {
		t.Errorf("while the run went: counters moving %v, a current workspace %v, pages of running workspaces %v; want all",
			sawPartial, sawCurrent, sawPages)
	}
	s, _ := v.snapshot(ctx)
	if s.status != "succeeded" || s.done != 12 || s.total != 12 || s.synced != 1_500 || summary.AccountsSynced != 1_500 {
		t.Errorf("after the run: %+v (summary %s, %d accounts)", s, summary.Status, summary.AccountsSynced)
	}
}
