package db_test

import (
	"fmt"
	"testing"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
)

// BenchmarkWriteProgress is one write of a run's live progress at 2,000 workspaces: the
// run's counters plus the figures of the workspaces that changed since the last write, all
// of them (a worst case: the writer sends only those that changed) or the 32 under way.
//
//	go test ./db -run '^$' -bench WriteProgress -benchtime 200x
func BenchmarkWriteProgress(b *testing.B) {
	const workspaces = 2_000
	s := dbtest.NewStore(b)
	ctx := testContext(b)
	names := make([]string, workspaces)
	for i := range names {
		names[i] = fmt.Sprintf("Workspace %04d", i)
	}
	for _, changed := range []int{32, workspaces} {
		b.Run(fmt.Sprintf("changed=%d", changed), func(b *testing.B) {
			runID, err := s.OpenRun(ctx, db.RunSpec{Trigger: "bench", Host: "h", PID: 1, Workspaces: names})
			if err != nil {
				b.Fatal(err)
			}
			exec(b, s, `UPDATE {schema}.sync_run_workspaces SET status = 'running' WHERE run_id = $1`, runID)
			page := 0
			for b.Loop() {
				page++
				p := db.RunProgress{RunID: runID, CurrentWorkspace: names[page%workspaces]}
				for i := range changed {
					p.Workspaces = append(p.Workspaces, db.WorkspaceProgress{Workspace: names[(page*7+i)%workspaces],
						PagesFetched: page, PagesTotal: 30, AccountsExpected: 433, AccountsFetched: 15 * page})
				}
				if err := s.WriteProgress(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/write")
		})
	}
}
