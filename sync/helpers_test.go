package sync_test

import (
	"context"
	stdsync "sync"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/internal/fleettest"
	"github.com/bisonsync/bisonsync/sync"
)

// env is one end-to-end setup: the shared fixture (a simulated fleet registered in a fresh
// schema) and an engine configuration tuned for quick tests.
type env struct {
	*fleettest.Fixture
	t   testing.TB
	cfg sync.Config
	// observe, when set, also sees the events of runs started by startRun.
	observe func(sync.Event)
}

func newEnv(t testing.TB, fleet *sim.Fleet, opts sim.Options) *env {
	t.Helper()
	return &env{Fixture: fleettest.New(t, fleet, opts), t: t, cfg: sync.Config{
		Trigger:      "test",
		RetryBackoff: 10 * time.Millisecond,
		StallTimeout: 5 * time.Second,
		Client:       bison.Options{RequestTimeout: 2 * time.Second, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond},
	}}
}

// events collects every event of a run, safe for the engine's goroutines.
type events struct {
	mu  stdsync.Mutex
	all []sync.Event
}

func (e *events) observe(ev sync.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
}

func (e *events) list() []sync.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]sync.Event(nil), e.all...)
}

func (v *env) run(req sync.Request) (sync.Summary, *events) {
	v.t.Helper()
	ev := &events{}
	req.Observer = ev.observe
	s, err := sync.New(v.Store, v.cfg).Run(context.Background(), req)
	if err != nil {
		v.t.Fatalf("run: %v", err)
	}
	return s, ev
}

func result(t testing.TB, s sync.Summary, name string) sync.WorkspaceResult {
	t.Helper()
	for _, w := range s.Workspaces {
		if w.Name == name {
			return w
		}
	}
	t.Fatalf("workspace %q is not in the summary", name)
	return sync.WorkspaceResult{}
}

func (v *env) setInstanceRPS(instance string, rps float32) {
	v.t.Helper()
	v.Exec(`UPDATE `+v.Table("bison_instances")+` SET requests_per_second = $2 WHERE name = $1`, instance, rps)
}

// liveIDs lists a workspace's live rows by account id.
func (v *env) liveIDs(instance string, wsID int) []int64 {
	v.t.Helper()
	rows, err := v.Store.Pool().Query(context.Background(), `SELECT bison_account_id FROM `+v.Table("email_accounts_raw")+
		` WHERE bison_instance = $1 AND workspace_id = $2 AND deleted_at IS NULL ORDER BY 1`, instance, wsID)
	if err != nil {
		v.t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			v.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}
