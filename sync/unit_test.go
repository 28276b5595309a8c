package sync

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/db"
)

// Unit tests of the engine against memStore and memSource: no PostgreSQL, no HTTP.

// An account the database holds as live is marked deleted only when the source answers 404
// for it; one still live at the source but skipped by the listing is never deleted.
func TestAbsencesAreConfirmedOneByOne(t *testing.T) {
	t.Parallel()
	store := newMemStore(workspace("acme", 1))
	store.live["acme"] = ids(1, 20)
	src := &memSource{ids: ids(1, 18)} // 19 and 20 vanished: both answer 404
	s := runUnit(t, unitEngine(t, store, map[string]*memSource{"acme": src}, nil), Request{})
	if r := resultOf(t, s, "acme"); r.Status != db.WorkspaceSucceeded {
		t.Fatalf("acme: %s %s", r.Status, r.Error)
	}
	in, _ := store.commit("acme")
	if !slices.Equal(in.ConfirmedAbsent, []int64{19, 20}) {
		t.Errorf("confirmed absent %v, want [19 20]", in.ConfirmedAbsent)
	}
	slices.Sort(src.gets)
	if !slices.Equal(slices.Compact(src.gets), []int64{19, 20}) {
		t.Errorf("asked the source for %v, want each absence once: [19 20]", src.gets)
	}
}

// The listing skips account 20 on every pass (its total agrees with what it serves), but
// GET /sender-emails/20 says it is live: the workspace must not be committed with 20 deleted.
func TestAnAbsenceLiveAtTheSourceIsNeverDeleted(t *testing.T) {
	t.Parallel()
	store := newMemStore(workspace("acme", 1))
	store.live["acme"] = ids(1, 20)
	src := &memSource{ids: ids(1, 19), alive: map[int64]bool{20: true}}
	s := runUnit(t, unitEngine(t, store, map[string]*memSource{"acme": src}, nil), Request{})
	if in, ok := store.commit("acme"); ok && slices.Contains(in.ConfirmedAbsent, 20) {
		t.Fatalf("account 20, live at the source, was committed as absent: %+v", in.ConfirmedAbsent)
	}
	if r := resultOf(t, s, "acme"); r.Status == db.WorkspaceSucceeded {
		in, _ := store.commit("acme")
		if !slices.Contains(accountIDs(in.Accounts), 20) {
			t.Fatalf("acme succeeded without account 20 in its list")
		}
	}
}

func accountIDs(list []db.Account) []int64 {
	var out []int64
	for _, a := range list {
		out = append(out, a.ID)
	}
	return out
}

func TestListingConsistent(t *testing.T) {
	t.Parallel()
	three := map[int64]db.Account{1: {}, 2: {}, 3: {}}
	for _, tc := range []struct {
		name string
		l    listing
		want bool
	}{
		{"count matches a steady total", listing{accounts: three, total: 3, minTotal: 3, maxTotal: 3}, true},
		{"fewer than the total", listing{accounts: three, total: 4, minTotal: 4, maxTotal: 4}, false},
		{"more than the total", listing{accounts: three, total: 2, minTotal: 2, maxTotal: 2}, false},
		{"total moved during the pass", listing{accounts: three, total: 3, minTotal: 2, maxTotal: 3}, false},
	} {
		if got := tc.l.consistent(); got != tc.want {
			t.Errorf("%s: consistent() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A total that never matches what the listing serves (a lying count) fails the workspace as
// incomplete after its passes, and nothing is committed.
func TestALyingTotalIsNeverCommitted(t *testing.T) {
	t.Parallel()
	store := newMemStore(workspace("acme", 1))
	src := &memSource{ids: ids(1, 30), total: func() int { return 31 }}
	s := runUnit(t, unitEngine(t, store, map[string]*memSource{"acme": src}, func(c *Config) { c.Attempts = 2 }), Request{})
	r := resultOf(t, s, "acme")
	if r.Status != db.WorkspaceFailed || !strings.Contains(r.Error, "incomplete") || r.Attempts != 2 {
		t.Fatalf("acme: %s after %d attempts: %s", r.Status, r.Attempts, r.Error)
	}
	if _, ok := store.commit("acme"); ok {
		t.Fatal("an incomplete list was committed")
	}
	if s.Status != db.RunFailed {
		t.Errorf("run status %s, want failed", s.Status)
	}
}

// Every selected workspace ends in a final state, with the attempts it took: transient
// failures are retried at the back of the queue, permanent ones are not, and a workspace
// held by another process is skipped.
func TestEveryWorkspaceEndsWithAnExplainedStatus(t *testing.T) {
	t.Parallel()
	store := newMemStore(workspace("ok", 1), workspace("flaky", 2), workspace("down", 3), workspace("badkey", 4), workspace("held", 5))
	store.heldBy["held"] = "held by run 3 on host-b"
	var flakyTries atomic.Int32
	unavailable := &bison.TransientError{Req: bison.Request{Op: "list page 1"}, Status: 503, Reason: "HTTP 503", Attempts: 5}
	sources := map[string]*memSource{
		"ok": {ids: ids(1, 40)},
		"flaky": {ids: ids(100, 130), beforePage: func(_ context.Context, n int) error {
			if n == 1 && flakyTries.Add(1) <= 2 {
				return unavailable
			}
			return nil
		}},
		"down":   {beforePage: func(context.Context, int) error { return unavailable }},
		"badkey": {beforePage: func(context.Context, int) error { return &bison.AuthError{Status: 401} }},
	}
	s := runUnit(t, unitEngine(t, store, sources, nil), Request{})
	want := map[string]struct {
		status   db.WorkspaceStatus
		attempts int
		err      string
	}{
		"ok":     {db.WorkspaceSucceeded, 1, ""},
		"flaky":  {db.WorkspaceSucceeded, 3, ""},
		"down":   {db.WorkspaceFailed, 3, "gave up after 3 attempts"},
		"badkey": {db.WorkspaceFailed, 1, "was rejected (HTTP 401)"},
		"held":   {db.WorkspaceSkipped, 1, "held by run 3"},
	}
	for name, w := range want {
		r := resultOf(t, s, name)
		if r.Status != w.status || r.Attempts != w.attempts || !strings.Contains(r.Error, w.err) {
			t.Errorf("%s: %s after %d attempts (%q), want %s after %d (%q)", name, r.Status, r.Attempts, r.Error, w.status, w.attempts, w.err)
		}
		if w.status != db.WorkspaceSucceeded {
			if o, ok := store.outcomes[name]; !ok || o.Status != w.status || o.Error == "" {
				t.Errorf("%s: recorded outcome %+v, want %s with a reason", name, o, w.status)
			}
		}
	}
	if s.Status != db.RunPartial || !store.closed {
		t.Errorf("run %s (closed %v), want partial", s.Status, store.closed)
	}
}

// When the database cannot close the run, the summary still carries the status the contract
// gives the outcomes, decided by the same rule.
func TestRunStatusWhenClosingFails(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		sources map[string]*memSource
		want    db.RunStatus
	}{
		{"none succeeded", map[string]*memSource{"a": {beforePage: func(context.Context, int) error { return &bison.AuthError{Status: 403} }}}, db.RunFailed},
		{"all succeeded", map[string]*memSource{"a": {ids: ids(1, 3)}}, db.RunSucceeded},
	} {
		store := newMemStore(workspace("a", 1))
		store.closeErr = errors.New("connection reset by peer")
		s, err := unitEngine(t, store, tc.sources, nil).Run(context.Background(), Request{})
		if err == nil || !strings.Contains(s.Error, "closing the run failed") {
			t.Errorf("%s: err %v, summary error %q", tc.name, err, s.Error)
		}
		if s.Status != tc.want {
			t.Errorf("%s: status %s, want %s", tc.name, s.Status, tc.want)
		}
	}
}

// A workspace whose source stops answering is failed by the watchdog, with a reason, well
// before the run's own context would end it.
func TestTheWatchdogFailsAStalledWorkspace(t *testing.T) {
	t.Parallel()
	store := newMemStore(workspace("hung", 1), workspace("fine", 2))
	sources := map[string]*memSource{
		"hung": {beforePage: func(ctx context.Context, _ int) error { <-ctx.Done(); return ctx.Err() }},
		"fine": {ids: ids(1, 5)},
	}
	e := unitEngine(t, store, sources, func(c *Config) { c.StallTimeout = 200 * time.Millisecond; c.Attempts = 1 })
	start := time.Now()
	s := runUnit(t, e, Request{})
	r := resultOf(t, s, "hung")
	if r.Status != db.WorkspaceFailed || !strings.Contains(r.Error, "stalled: no progress for") {
		t.Fatalf("hung: %s %q, want failed as stalled", r.Status, r.Error)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the stall took %s to be noticed", took)
	}
	if resultOf(t, s, "fine").Status != db.WorkspaceSucceeded {
		t.Error("a healthy workspace suffered from a stalled one")
	}
}

func TestRunThatCannotStartSaysSo(t *testing.T) {
	t.Parallel()
	e := unitEngine(t, newMemStore(), nil, nil)
	e.running = true
	_, err := e.Run(context.Background(), Request{})
	var notStarted *NotStartedError
	if !errors.As(err, &notStarted) || !errors.Is(err, ErrRunInProgress) {
		t.Fatalf("err = %v, want a *NotStartedError wrapping ErrRunInProgress", err)
	}
}
