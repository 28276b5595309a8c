package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	stdsync "sync"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/db"
)

// memStore is the engine's database in memory: enough of db.Store's behaviour for unit tests
// of scheduling, retries, reconciliation and bookkeeping, with errors to inject.
type memStore struct {
	mu         stdsync.Mutex
	workspaces []db.Workspace
	live       map[string][]int64 // workspace → live account ids
	heldBy     map[string]string  // workspace → why another process holds it
	outcomes   map[string]db.WorkspaceOutcome
	commits    map[string]db.CommitInput
	starts     map[string]int // StartWorkspace calls per workspace
	closed     bool

	commitErr func(in db.CommitInput) error // nil: every commit succeeds
	closeErr  error
}

func newMemStore(ws ...db.Workspace) *memStore {
	return &memStore{workspaces: ws, live: map[string][]int64{}, heldBy: map[string]string{},
		outcomes: map[string]db.WorkspaceOutcome{}, commits: map[string]db.CommitInput{}, starts: map[string]int{}}
}

func (m *memStore) Host() string { return "memory" }

func (m *memStore) SavePace(context.Context, string, float64, int) error { return nil }

func (m *memStore) Workspaces(_ context.Context, sel db.Selection) ([]db.Workspace, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []db.Workspace
	for _, w := range m.workspaces {
		if len(sel.Names) == 0 || slices.Contains(sel.Names, w.Name) {
			out = append(out, w)
		}
	}
	return out, nil
}

func (m *memStore) ClaimLease(_ context.Context, ws string, _ db.LeaseOwner, _, _ time.Duration) (db.ClaimResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if why, ok := m.heldBy[ws]; ok {
		return db.ClaimResult{Reason: why}, nil
	}
	return db.ClaimResult{Claimed: true}, nil
}

func (m *memStore) ClaimKeyLease(context.Context, string, string, db.LeaseOwner, time.Duration) (db.ClaimResult, error) {
	return db.ClaimResult{Claimed: true}, nil
}

func (m *memStore) ReleaseKeyLease(context.Context, string, int64) error { return nil }

func (m *memStore) AbandonDeadRuns(context.Context, string, func(int) bool, time.Duration) ([]int64, error) {
	return nil, nil
}

func (m *memStore) OpenRun(context.Context, db.RunSpec) (int64, error) { return 7, nil }

func (m *memStore) Heartbeat(context.Context, int64, time.Duration) error { return nil }

func (m *memStore) StartWorkspace(_ context.Context, _ int64, ws string, _ int) error {
	m.mu.Lock()
	m.starts[ws]++
	m.mu.Unlock()
	return nil
}

func (m *memStore) FinishWorkspace(_ context.Context, o db.WorkspaceOutcome) error {
	m.mu.Lock()
	m.outcomes[o.Workspace] = o
	m.mu.Unlock()
	return nil
}

func (m *memStore) LockWaits(context.Context) ([]db.LockWait, error) { return nil, nil }

func (m *memStore) SetWarning(context.Context, int64, string, string) error { return nil }

func (m *memStore) WriteProgress(context.Context, db.RunProgress) error { return nil }

func (m *memStore) CloseRun(_ context.Context, runID int64, interrupted bool, errText string) (db.RunSummary, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	if m.closeErr != nil {
		return db.RunSummary{}, m.closeErr
	}
	var t db.RunTally
	for _, w := range m.workspaces {
		if _, ok := m.commits[w.Name]; ok {
			t.Add(db.WorkspaceSucceeded)
		} else {
			t.Add(m.outcomes[w.Name].Status)
		}
	}
	return db.RunSummary{Run: db.Run{ID: runID, Status: db.DecideRunStatus(t, interrupted), Error: errText}}, nil
}

func (m *memStore) LiveAccountIDs(_ context.Context, _ string, workspaceID int) ([]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range m.workspaces {
		if w.BisonID == workspaceID {
			return slices.Clone(m.live[w.Name]), nil
		}
	}
	return nil, nil
}

func (m *memStore) CommitWorkspace(_ context.Context, in db.CommitInput) (db.CommitResult, error) {
	if m.commitErr != nil {
		if err := m.commitErr(in); err != nil {
			return db.CommitResult{}, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commits[in.Workspace] = in
	return db.CommitResult{Upserted: len(in.Accounts), Deleted: len(in.ConfirmedAbsent)}, nil
}

func (m *memStore) HoldDeletions(context.Context, int64, string, string, int, []int64) error {
	return nil
}
func (m *memStore) AnalyzeAccounts(context.Context) error { return nil }
func (m *memStore) Overlaps(context.Context, []string, int) (map[string][]db.Overlap, error) {
	return nil, nil
}

func (m *memStore) commit(ws string) (db.CommitInput, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in, ok := m.commits[ws]
	return in, ok
}

// memSource is one workspace at the source, in memory. Pages are served from ids in order;
// page hooks can fail or change the list between pages.
type memSource struct {
	mu stdsync.Mutex
	// ids lists the accounts the listing serves, in page order.
	ids []int64
	// alive answers GET /sender-emails/{id}: true for an account that exists even if the
	// listing skips it.
	alive map[int64]bool
	// total, when set, overrides meta.total (a lying or drifting count).
	total func() int
	// beforePage runs before page n is served; an error fails the request.
	beforePage func(ctx context.Context, n int) error
	gets       []int64
}

func (s *memSource) SwitchWorkspace(context.Context) error { return nil }

func (s *memSource) ListPage(ctx context.Context, n int) (*bison.Page, error) {
	if s.beforePage != nil {
		if err := s.beforePage(ctx, n); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	total := len(s.ids)
	if s.total != nil {
		total = s.total()
	}
	last := max((len(s.ids)+bison.PageSize-1)/bison.PageSize, 1)
	p := &bison.Page{CurrentPage: n, LastPage: last, PerPage: bison.PageSize, Total: total}
	for i := (n - 1) * bison.PageSize; i < min(n*bison.PageSize, len(s.ids)); i++ {
		p.Accounts = append(p.Accounts, bison.Account{ID: s.ids[i], Email: fmt.Sprintf("a%d@example.com", s.ids[i])})
	}
	return p, nil
}

func (s *memSource) GetAccount(_ context.Context, id int64) (*bison.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets = append(s.gets, id)
	if s.alive[id] || slices.Contains(s.ids, id) {
		return &bison.Account{ID: id, Email: fmt.Sprintf("a%d@example.com", id)}, nil
	}
	return nil, &bison.NotFoundError{Req: bison.Request{Op: fmt.Sprintf("get account %d", id)}}
}

// ids returns 1..n.
func ids(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// unitEngine is an engine on store whose workspaces are served by sources, keyed by
// workspace name, with quick timings.
func unitEngine(t *testing.T, store *memStore, sources map[string]*memSource, tune func(*Config)) *Engine {
	t.Helper()
	cfg := Config{Trigger: "unit", RetryBackoff: time.Millisecond, StallTimeout: 2 * time.Second, Heartbeat: time.Hour}
	if tune != nil {
		tune(&cfg)
	}
	e := New(store, cfg)
	e.openSource = func(p planned, _ func(bison.Retry)) source {
		src, ok := sources[p.ws.Name]
		if !ok {
			t.Errorf("no source for workspace %q", p.ws.Name)
			return &memSource{}
		}
		return src
	}
	return e
}

// workspace is a registry row of the unit tests' one instance, with its own key.
func workspace(name string, id int) db.Workspace {
	return db.Workspace{Name: name, Instance: "unit", BisonID: id, APIKey: db.NewSecret("1|unit-test-key-" + name),
		IsActive: true, Inst: db.Instance{Name: "unit", BaseURL: "http://127.0.0.1:1/api"}}
}

func runUnit(t *testing.T, e *Engine, req Request) Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := e.Run(ctx, req)
	var notStarted *NotStartedError
	if errors.As(err, &notStarted) {
		t.Fatalf("run did not start: %v", err)
	}
	return s
}

func resultOf(t *testing.T, s Summary, name string) WorkspaceResult {
	t.Helper()
	for _, w := range s.Workspaces {
		if w.Name == name {
			return w
		}
	}
	t.Fatalf("workspace %q not in the summary", name)
	return WorkspaceResult{}
}
