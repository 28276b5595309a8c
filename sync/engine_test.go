package sync_test

import (
	"context"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/sync"
)

// The incident fleet at production latency (187 ms a page) syncs completely: every workspace
// succeeds and holds exactly the source's accounts; jason@ shows 43; Jason Binyon's registry
// row shows 433 and a fresh sync.
func TestIncidentFleetSyncsExactly(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{Latency: sim.ProductionLatency, Jitter: 40 * time.Millisecond})
	s, _ := v.run(sync.Request{})
	if s.Status != "succeeded" || s.WorkspacesSucceeded != sim.IncidentWorkspaces || !s.OK() {
		t.Fatalf("run %s: %d succeeded of %d: %+v", s.Status, s.WorkspacesSucceeded, s.WorkspacesTotal, s.Workspaces)
	}
	if s.AccountsSynced != sim.IncidentAccounts {
		t.Fatalf("synced %d accounts, the fleet has %d", s.AccountsSynced, sim.IncidentAccounts)
	}
	v.AssertExact()
	jason := result(t, s, sim.IncidentLargest)
	if jason.PagesFetched != 29 || jason.AccountsExpected != 433 || jason.AccountsFetched != 433 {
		t.Fatalf("Jason Binyon: %+v", jason)
	}
	var sent, est int
	var lastSuccess time.Time
	err := v.Store.Pool().QueryRow(context.Background(), `SELECT a.emails_sent_count, r.estimated_account_count, r.last_successful_sync_at
		FROM "`+v.Store.Schema()+`".email_accounts_raw a JOIN "`+v.Store.Schema()+`".client_registry r ON r.workspace_name = a.workspace_name
		WHERE a.email_address = $1`, sim.IncidentEmail).Scan(&sent, &est, &lastSuccess)
	if err != nil {
		t.Fatal(err)
	}
	if sent != 43 || est != 433 || time.Since(lastSuccess) > time.Minute {
		t.Fatalf("jason@: sent %d, estimated %d, last success %s", sent, est, lastSuccess)
	}
}
