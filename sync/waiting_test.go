package sync_test

import (
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// A 429 with Retry-After pauses the whole instance: the engine tells it as one typed wait,
// naming the instance and when the pause ends, however many requests the pause holds.
func TestRetryAfterPauseIsOneTypedWait(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{Latency: 20 * time.Millisecond})
	v.Srv.AddFault(sim.Fault{Kind: sim.Fault429, RetryAfter: time.Second, Times: 1})
	s, ev := v.run(sync.Request{})
	if s.Status != db.RunSucceeded {
		t.Fatalf("run %s", s.Status)
	}
	var at time.Time
	for _, r := range v.Srv.Requests() {
		if r.Status == 429 {
			at = r.End
		}
	}
	if at.IsZero() {
		t.Fatal("the 429 never happened")
	}
	var waits []sync.Waiting
	for _, e := range ev.list() {
		if w, ok := e.(sync.Waiting); ok {
			waits = append(waits, w)
		}
	}
	if len(waits) != 1 {
		t.Fatalf("%d waits told for one pause, want 1: %+v", len(waits), waits)
	}
	w := waits[0]
	if w.For != sync.WaitInstancePaused || w.Instance != sim.IncidentInstance || w.Workspace == "" || w.Detail == "" {
		t.Fatalf("wait: %#v", w)
	}
	if d := w.Until.Sub(at); d < 800*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("the pause is told to end %s after the 429, want about Retry-After (1s)", d)
	}
}
