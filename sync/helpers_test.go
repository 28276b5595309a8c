package sync_test

import (
	"context"
	"fmt"
	"sort"
	stdsync "sync"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
	"github.com/bisonsync/bisonsync/demo"
	"github.com/bisonsync/bisonsync/sync"
)

// env is one end-to-end setup: a simulated fleet over loopback, a fresh schema on the real
// database with the fleet registered, and an engine configured for quick tests.
type env struct {
	t     testing.TB
	srv   *sim.Server
	fleet *sim.Fleet
	store *db.Store
	cfg   sync.Config
}

func newEnv(t testing.TB, fleet *sim.Fleet, opts sim.Options) *env {
	t.Helper()
	srv := sim.NewServer(fleet, opts)
	t.Cleanup(srv.Close)
	store := dbtest.NewStore(t)
	if err := demo.Register(context.Background(), store, srv, fleet); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, fleet: fleet, store: store, cfg: sync.Config{
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
	s, err := sync.New(v.store, v.cfg).Run(context.Background(), req)
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

// liveRows reads a workspace's live rows as comparable lines, ordered by account id.
func (v *env) liveRows(instance string, wsID int) []string {
	v.t.Helper()
	rows, err := v.store.Pool().Query(context.Background(), fmt.Sprintf(`
		SELECT bison_account_id, email_address, status, emails_sent_count, unique_replied_count,
		       bounced_count, total_leads_contacted_count, coalesce(array_to_string(tags, ','), '')
		FROM %s.email_accounts_raw
		WHERE bison_instance = $1 AND workspace_id = $2 AND deleted_at IS NULL
		ORDER BY bison_account_id`, `"`+v.store.Schema()+`"`), instance, wsID)
	if err != nil {
		v.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int64
		var email, status, tags string
		var sent, uniq, bounced, contacted int
		if err := rows.Scan(&id, &email, &status, &sent, &uniq, &bounced, &contacted, &tags); err != nil {
			v.t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d %s %s sent=%d uniq=%d bounced=%d contacted=%d tags=%s", id, email, status, sent, uniq, bounced, contacted, tags))
	}
	if err := rows.Err(); err != nil {
		v.t.Fatal(err)
	}
	return out
}

// truthRows is the simulator's ground truth in the same form as liveRows.
func (v *env) truthRows(instance string, wsID int) []string {
	var out []string
	accounts := v.srv.Accounts(instance, wsID)
	sort.Slice(accounts, func(i, j int) bool { return accounts[i].ID < accounts[j].ID })
	for _, a := range accounts {
		var tags string
		for i, t := range a.Tags {
			if i > 0 {
				tags += ","
			}
			tags += t.Name
		}
		out = append(out, fmt.Sprintf("%d %s %s sent=%d uniq=%d bounced=%d contacted=%d tags=%s", a.ID, a.Email, a.Status,
			a.EmailsSentCount, a.UniqueRepliedCount, a.BouncedCount, a.TotalLeadsContactedCount, tags))
	}
	return out
}

// assertExact checks that every workspace of the fleet holds exactly the ground truth.
func (v *env) assertExact(names ...string) {
	v.t.Helper()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for _, in := range v.fleet.Instances {
		for _, w := range in.Workspaces {
			if len(names) > 0 && !want[w.Name] {
				continue
			}
			got, truth := v.liveRows(in.Name, w.ID), v.truthRows(in.Name, w.ID)
			if len(got) != len(truth) {
				v.t.Fatalf("workspace %s: %d live rows, the source has %d", w.Name, len(got), len(truth))
			}
			for i := range got {
				if got[i] != truth[i] {
					v.t.Fatalf("workspace %s row %d:\n got %s\nwant %s", w.Name, i, got[i], truth[i])
				}
			}
		}
	}
}

// snapshot returns every row of email_accounts_raw, all columns, for "nothing changed" checks.
func (v *env) snapshot(instance string, wsID int) []string {
	v.t.Helper()
	rows, err := v.store.Pool().Query(context.Background(), fmt.Sprintf(`
		SELECT r::text FROM %s.email_accounts_raw r WHERE bison_instance = $1 AND workspace_id = $2
		ORDER BY bison_account_id`, `"`+v.store.Schema()+`"`), instance, wsID)
	if err != nil {
		v.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			v.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func (v *env) setInstanceRPS(instance string, rps float32) {
	v.t.Helper()
	if _, err := v.store.Pool().Exec(context.Background(), `UPDATE "`+v.store.Schema()+
		`".bison_instances SET requests_per_second = $2 WHERE name = $1`, instance, rps); err != nil {
		v.t.Fatal(err)
	}
}
