package sync_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// serving is a ServeRequests loop running for a test, with what it said.
type serving struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     stdsync.Mutex
	served []string // "serving sync request(s) …" notices
	runs   []sync.Summary
}

func (v *env) serve(t *testing.T, opts sync.ServeOptions) *serving {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{cancel: cancel, done: make(chan struct{})}
	opts.Observer = func(ev sync.Event) {
		if n, ok := ev.(sync.Notice); ok && strings.HasPrefix(n.Message, "serving ") {
			s.mu.Lock()
			s.served = append(s.served, n.Message)
			s.mu.Unlock()
		}
	}
	opts.Finished = func(sum sync.Summary) {
		s.mu.Lock()
		s.runs = append(s.runs, sum)
		s.mu.Unlock()
	}
	engine := sync.New(v.Store, v.cfg)
	go func() {
		defer close(s.done)
		if _, err := sync.ServeRequests(ctx, engine, v.Store, opts); err != nil {
			t.Errorf("ServeRequests: %v", err)
		}
	}()
	t.Cleanup(s.stop)
	return s
}

func (s *serving) stop() {
	s.cancel()
	<-s.done
}

func (v *env) ask(workspace any) int64 {
	v.t.Helper()
	return int64(v.Int(`INSERT INTO `+v.Table("sync_requests")+` (requested_by, workspace_name) VALUES ('test', $1) RETURNING id`, workspace))
}

// settled waits until request id is done or refused, and returns its status, run and error.
func (v *env) settled(id int64, within time.Duration) (status string, runID int64, errText string) {
	v.t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := v.Store.Pool().QueryRow(context.Background(), `SELECT status, coalesce(run_id, 0), coalesce(error, '')
			FROM `+v.Table("sync_requests")+` WHERE id = $1`, id).Scan(&status, &runID, &errText)
		if err != nil {
			v.t.Fatal(err)
		}
		if status == "done" || status == "refused" {
			return status, runID, errText
		}
		if time.Now().After(deadline) {
			v.t.Fatalf("request %d still %s after %s", id, status, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A request inserted while a serving loop runs (polling every 2 s, the default) is done
// within 15 s with its run's id; one for a workspace nobody registered is refused, saying so.
func TestServeRequestsRunsWhatIsAsked(t *testing.T) {
	t.Parallel()
	fleet := sim.GenerateFleet(21, 5, 400)
	v := newEnv(t, fleet, sim.Options{})
	s := v.serve(t, sync.ServeOptions{})
	ws := fleet.Instances[0].Workspaces[2]

	id := v.ask(ws.Name)
	status, runID, errText := v.settled(id, 15*time.Second)
	if status != "done" || runID == 0 || errText != "" {
		t.Fatalf("request for %s: %s, run %d, error %q; want done with a run", ws.Name, status, runID, errText)
	}
	trigger := v.Strings(`SELECT trigger || ' ' || workspaces_total || ' ' || status FROM `+v.Table("sync_runs")+` WHERE id = $1`, runID)
	if len(trigger) != 1 || trigger[0] != "request 1 succeeded" {
		t.Errorf("its run: %v, want one workspace, trigger request, succeeded", trigger)
	}
	v.AssertExact(ws.Name)

	unknown := v.ask("Nobody At All")
	status, runID, errText = v.settled(unknown, 15*time.Second)
	if status != "refused" || runID != 0 || !strings.Contains(errText, "Nobody At All") {
		t.Errorf("request for an unknown workspace: %s, run %d, %q; want refused, naming it", status, runID, errText)
	}
	every := v.ask(nil)
	if status, runID, _ = v.settled(every, 15*time.Second); status != "done" || runID == 0 {
		t.Errorf("request for every workspace: %s, run %d", status, runID)
	}
	v.AssertExact()
	s.stop()
	if len(s.runs) != 2 {
		t.Errorf("%d requested runs reported to Finished, want 2", len(s.runs))
	}
}

// Requests for the same work are merged: those waiting together are claimed together, and
// one arriving while the run goes finishes with it; all get the same run id.
func TestServeRequestsMergesTheSameWork(t *testing.T) {
	t.Parallel()
	fleet := sim.GenerateFleet(22, 3, 600)
	v := newEnv(t, fleet, sim.Options{Latency: 150 * time.Millisecond})
	v.cfg.DefaultMaxInFlight = 2
	ws := fleet.Instances[0].Workspaces[0].Name
	first, second := v.ask(ws), v.ask(" "+ws+" ")
	v.serve(t, sync.ServeOptions{Poll: 200 * time.Millisecond})
	// Once its run is under way, ask again.
	deadline := time.Now().Add(10 * time.Second)
	for v.Int(`SELECT count(*) FROM `+v.Table("sync_requests")+` WHERE id = $1 AND run_id IS NOT NULL AND status = 'running'`, first) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the first request's run did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	late := v.ask(ws)
	_, run1, _ := v.settled(first, 20*time.Second)
	_, run2, _ := v.settled(second, 20*time.Second)
	status, run3, _ := v.settled(late, 20*time.Second)
	if run1 == 0 || run2 != run1 || run3 != run1 || status != "done" {
		t.Errorf("runs %d, %d, %d (late one %s): want one run for all three", run1, run2, run3, status)
	}
	if n := v.Int(`SELECT count(*) FROM ` + v.Table("sync_runs") + ` WHERE trigger = 'request'`); n != 1 {
		t.Errorf("%d requested runs, want 1", n)
	}
}

// Two serving loops (two processes) never both claim one request.
func TestServeRequestsTwoLoopsClaimOnce(t *testing.T) {
	t.Parallel()
	fleet := sim.GenerateFleet(23, 8, 400)
	v := newEnv(t, fleet, sim.Options{Latency: 5 * time.Millisecond})
	var ids []int64
	for i, ws := range fleet.Instances[0].Workspaces {
		ids = append(ids, v.ask(ws.Name))
		if i%3 == 0 {
			ids = append(ids, v.ask(ws.Name)) // a duplicate, merged
		}
	}
	a := v.serve(t, sync.ServeOptions{Poll: 50 * time.Millisecond, Owner: "host-a:1"})
	b := v.serve(t, sync.ServeOptions{Poll: 50 * time.Millisecond, Owner: "host-b:2"})
	for _, id := range ids {
		if status, runID, errText := v.settled(id, 30*time.Second); status != "done" || runID == 0 {
			t.Errorf("request %d: %s, run %d, %q", id, status, runID, errText)
		}
	}
	a.stop()
	b.stop()
	claims := map[string]int{}
	for _, list := range [][]string{a.served, b.served} {
		for _, msg := range list {
			for _, f := range strings.FieldsFunc(msg, func(r rune) bool { return r == ' ' || r == ',' || r == ':' }) {
				if strings.HasPrefix(f, "#") {
					claims[f]++
				}
			}
		}
	}
	for _, id := range ids {
		if n := claims[fmt.Sprintf("#%d", id)]; n > 1 {
			t.Errorf("request %d was claimed %d times", id, n)
		}
	}
	if len(a.runs) == 0 || len(b.runs) == 0 {
		t.Logf("note: one loop served everything (a %d runs, b %d runs)", len(a.runs), len(b.runs))
	}
}

func TestRequestOutcome(t *testing.T) {
	t.Parallel()
	ok := sync.Summary{RunID: 7, Status: db.RunSucceeded, Workspaces: []sync.WorkspaceResult{{Name: "A", Status: db.WorkspaceSucceeded}}}
	partial := sync.Summary{RunID: 8, Status: db.RunPartial, Workspaces: []sync.WorkspaceResult{
		{Name: "A", Status: db.WorkspaceSucceeded}, {Name: "B", Status: db.WorkspaceFailed, Error: "HTTP 401"}}}
	unknown := &sync.NotStartedError{Err: fmt.Errorf("select workspaces: %w", &db.UnknownWorkspacesError{Names: []string{"Zed"}})}
	down := &sync.NotStartedError{Err: errors.New("open run: connection refused")}
	tests := []struct {
		name     string
		s        sync.Summary
		err      error
		stopping bool
		want     db.RequestOutcome
	}{
		{"succeeded", ok, nil, false, db.RequestOutcome{Status: db.RequestDone, RunID: 7}},
		{"partial", partial, nil, false, db.RequestOutcome{Status: db.RequestDone, RunID: 8,
			Error: "run 8 ended partial, 1 of 2 workspaces did not succeed (B failed: HTTP 401)"}},
		{"unknown workspace", sync.Summary{}, unknown, false, db.RequestOutcome{Status: db.RequestRefused, Error: "unknown workspace(s): Zed: not in client_registry"}},
		{"database down", sync.Summary{}, down, false, db.RequestOutcome{Status: db.RequestRefused, Error: down.Error()}},
		{"stopping before the run", sync.Summary{}, down, true, db.RequestOutcome{Status: db.RequestPending}},
		{"engine busy", sync.Summary{}, &sync.NotStartedError{Err: sync.ErrRunInProgress}, false, db.RequestOutcome{Status: db.RequestPending}},
		{"interrupted", sync.Summary{RunID: 9, Interrupted: true, Status: db.RunCancelled}, nil, true, db.RequestOutcome{Status: db.RequestPending}},
	}
	for _, tt := range tests {
		if got := sync.RequestOutcome(tt.s, tt.err, tt.stopping); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
