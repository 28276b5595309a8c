package sync

import (
	"context"
	"fmt"
	"strings"
	stdsync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/db"
)

// waitStore is a memStore whose super-admin key is held by another process for the first
// keyBusy claims, and whose database is unreachable for the first dbDown starts.
type waitStore struct {
	*memStore
	mu              stdsync.Mutex
	keyBusy, dbDown int
}

func (s *waitStore) ClaimKeyLease(ctx context.Context, instance, ws string, o db.LeaseOwner, ttl time.Duration) (db.ClaimResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keyBusy > 0 {
		s.keyBusy--
		return db.ClaimResult{Reason: `in use by run 4 on host-b (pid 77) for workspace "Other"`}, nil
	}
	return s.memStore.ClaimKeyLease(ctx, instance, ws, o, ttl)
}

func (s *waitStore) StartWorkspace(ctx context.Context, runID int64, ws string, attempt int) error {
	s.mu.Lock()
	down := s.dbDown > 0
	if down {
		s.dbDown--
	}
	s.mu.Unlock()
	if down {
		return fmt.Errorf("record the start of %s: %w", ws, syscall.ECONNREFUSED)
	}
	return s.memStore.StartWorkspace(ctx, runID, ws, attempt)
}

// collect gathers a run's events.
type collect struct {
	mu  stdsync.Mutex
	all []Event
}

func (c *collect) observe(e Event) {
	c.mu.Lock()
	c.all = append(c.all, e)
	c.mu.Unlock()
}

func (c *collect) waits() []Waiting {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Waiting
	for _, e := range c.all {
		if w, ok := e.(Waiting); ok {
			out = append(out, w)
		}
	}
	return out
}

// A workspace whose super-admin key another process holds is told as one typed wait, however
// many times it asks again, with who holds the key; it then syncs.
func TestWaitingForABusyKeyIsTypedAndToldOnce(t *testing.T) {
	shared := workspace("Shared", 7)
	shared.APIKey = db.Secret{}
	shared.Inst.APIKey = db.NewSecret("1|unit-super-admin-key")
	ms := newMemStore(shared)
	store := &waitStore{memStore: ms, keyBusy: 3}
	e := unitEngine(t, ms, map[string]*memSource{"Shared": {ids: ids(1, 20)}}, nil)
	e.store = store
	var c collect
	s := runUnit(t, e, Request{Observer: c.observe})
	if got := resultOf(t, s, "Shared"); got.Status != db.WorkspaceSucceeded || got.Attempts != 1 {
		t.Fatalf("Shared: %s after %d attempts (%s)", got.Status, got.Attempts, got.Error)
	}
	waits := c.waits()
	if len(waits) != 1 {
		t.Fatalf("%d waits told, want 1: %+v", len(waits), waits)
	}
	w := waits[0]
	if w.For != WaitKeyBusy || w.Workspace != "Shared" || w.Instance != "unit" || w.Detail != `in use by run 4 on host-b (pid 77) for workspace "Other"` || !w.Until.IsZero() {
		t.Fatalf("wait: %#v", w)
	}
	if want := `waiting for the super-admin key: in use by run 4`; !strings.HasPrefix(w.String(), want) {
		t.Errorf("in words: %q", w.String())
	}
}

// An unreachable database is one typed wait of the whole run, with the host, the error and
// how long the run waits for it; the workspaces go on once it answers.
func TestWaitingForTheDatabaseIsTypedAndToldOncePerOutage(t *testing.T) {
	ms := newMemStore(workspace("A", 1), workspace("B", 2))
	store := &waitStore{memStore: ms, dbDown: 4}
	e := unitEngine(t, ms, map[string]*memSource{"A": {ids: ids(1, 5)}, "B": {ids: ids(6, 9)}},
		func(c *Config) { c.DatabaseOutage = 30 * time.Second })
	e.store = store
	var c collect
	before := time.Now()
	s := runUnit(t, e, Request{Observer: c.observe})
	if s.Status != db.RunSucceeded {
		t.Fatalf("run %s: %+v", s.Status, s.Workspaces)
	}
	waits := c.waits()
	if len(waits) != 1 {
		t.Fatalf("%d waits told, want 1 for the outage: %+v", len(waits), waits)
	}
	w := waits[0]
	if w.For != WaitDatabase || w.Workspace != "" || !strings.HasPrefix(w.Detail, "memory: ") || !strings.Contains(w.Detail, "connection refused") {
		t.Fatalf("wait: %#v", w)
	}
	if d := w.Until.Sub(before); d < 30*time.Second || d > 35*time.Second {
		t.Errorf("the wait ends %s after the run started, want the outage allowance (30s)", d)
	}
}
