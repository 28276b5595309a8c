package sim

import (
	"slices"
	"sync/atomic"
)

// Drift moves a workspace's data while it is being paged, as production's did: right after
// page AfterPage of the workspace has been served (to any key), Remove accounts with the
// lowest ids disappear, shifting later pages back so that a client paging on skips rows,
// and Add new accounts appear with new highest ids.
type Drift struct {
	Instance  string
	Workspace int
	// AfterPage is the page whose serving triggers the drift; 0 means any page.
	AfterPage int
	Remove    int
	Add       int
	// Times is how many times the drift fires; 0 means once, negative means forever.
	Times int
}

type driftRule struct {
	d    Drift
	left atomic.Int64
}

// AddDrift arms d until it has fired Times times or remove is called.
func (s *Server) AddDrift(d Drift) (remove func()) {
	r := &driftRule{d: d}
	switch {
	case d.Times == 0:
		r.left.Store(1)
	case d.Times < 0:
		r.left.Store(-1)
	default:
		r.left.Store(int64(d.Times))
	}
	s.ruleMu.Lock()
	next := append(slices.Clone(*s.drifts.Load()), r)
	s.drifts.Store(&next)
	s.ruleMu.Unlock()
	return func() {
		s.ruleMu.Lock()
		next := slices.DeleteFunc(slices.Clone(*s.drifts.Load()), func(x *driftRule) bool { return x == r })
		s.drifts.Store(&next)
		s.ruleMu.Unlock()
	}
}

// driftAfter fires the drifts armed for this page of this workspace.
func (s *Server) driftAfter(ws *workspace, page int) {
	for _, r := range *s.drifts.Load() {
		d := &r.d
		if d.Instance != ws.inst.name || d.Workspace != ws.id || (d.AfterPage != 0 && d.AfterPage != page) {
			continue
		}
		if !r.take() {
			continue
		}
		ws.mutate(func(set *accountSet) *accountSet {
			if d.Remove > 0 {
				set = set.withoutLowest(d.Remove)
			}
			if d.Add > 0 {
				set = set.withAppended(ws.newAccounts(d.Add))
			}
			return set
		})
	}
}

// take consumes one firing, reporting whether one was left.
func (r *driftRule) take() bool {
	for {
		n := r.left.Load()
		if n < 0 {
			return true
		}
		if n == 0 {
			return false
		}
		if r.left.CompareAndSwap(n, n-1) {
			return true
		}
	}
}
