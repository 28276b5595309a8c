package sim

import (
	"time"
)

// mutate replaces the workspace's accounts with f(current). Writers queue on the
// workspace's mutex; readers keep using the set they loaded.
func (ws *workspace) mutate(f func(*accountSet) *accountSet) {
	ws.mu.Lock()
	ws.set.Store(f(ws.set.Load()))
	ws.mu.Unlock()
}

// newAccounts makes n accounts with new ids, above any the instance ever had.
func (ws *workspace) newAccounts(n int) []Account {
	now := time.Now().UTC().Truncate(time.Second)
	accs := make([]Account, n)
	for i := range accs {
		accs[i] = ws.gen.fresh(ws.inst.nextID.Add(1)-1, now)
	}
	return accs
}

// Accounts is the ground truth: the workspace's accounts now, by id. Nil if there is no
// such workspace.
func (s *Server) Accounts(instance string, workspaceID int) []Account {
	ws := s.lookup(instance, workspaceID)
	if ws == nil {
		return nil
	}
	return ws.set.Load().all()
}

// NumAccounts is how many accounts the workspace has now (what meta.total says), without
// generating them.
func (s *Server) NumAccounts(instance string, workspaceID int) int {
	ws := s.lookup(instance, workspaceID)
	if ws == nil {
		return 0
	}
	return ws.set.Load().len()
}

// Account returns one account of the workspace as it is now.
func (s *Server) Account(instance string, workspaceID int, id int64) (Account, bool) {
	ws := s.lookup(instance, workspaceID)
	if ws == nil {
		return Account{}, false
	}
	a, ok := ws.set.Load().find(id)
	return cloneAccount(a), ok
}

// RemoveAccounts deletes accounts from the workspace and reports how many there were.
func (s *Server) RemoveAccounts(instance string, workspaceID int, ids ...int64) int {
	ws := s.lookup(instance, workspaceID)
	if ws == nil || len(ids) == 0 {
		return 0
	}
	removed := 0
	ws.mutate(func(set *accountSet) *accountSet {
		set, removed = set.without(ids)
		return set
	})
	return removed
}

// AddAccounts creates n accounts in the workspace with new highest ids and returns them.
// Nil if there is no such workspace.
func (s *Server) AddAccounts(instance string, workspaceID int, n int) []Account {
	ws := s.lookup(instance, workspaceID)
	if ws == nil || n <= 0 {
		return nil
	}
	accs := ws.newAccounts(n)
	ws.mutate(func(set *accountSet) *accountSet { return set.withAppended(accs) })
	out := make([]Account, len(accs))
	for i, a := range accs {
		out[i] = cloneAccount(a)
	}
	return out
}

// SetAccount stores a in the workspace, replacing the account with the same id or adding
// it; an ID of 0 gets a new highest id. It is the way to give an account arbitrary text
// (control characters, emoji, very long names) or counters. It returns the account as
// stored, and false if there is no such workspace. Keeping ids unique across the
// instance's workspaces is the caller's business.
func (s *Server) SetAccount(instance string, workspaceID int, a Account) (Account, bool) {
	ws := s.lookup(instance, workspaceID)
	if ws == nil {
		return Account{}, false
	}
	a = cloneAccount(a)
	if a.ID == 0 {
		a.ID = ws.inst.nextID.Add(1) - 1
	}
	for {
		next := ws.inst.nextID.Load()
		if a.ID < next || ws.inst.nextID.CompareAndSwap(next, a.ID+1) {
			break
		}
	}
	ws.mutate(func(set *accountSet) *accountSet { return set.with(a) })
	return cloneAccount(a), true
}

// SetWorkspaceName renames a workspace (what switch-workspace reports), e.g. to arbitrary
// text. False if there is no such workspace.
func (s *Server) SetWorkspaceName(instance string, workspaceID int, name string) bool {
	ws := s.lookup(instance, workspaceID)
	if ws == nil {
		return false
	}
	ws.name.Store(&name)
	return true
}

// SetWorkspaceKey replaces a workspace's key: the old one stops working at once (401) and
// key, unless "", starts serving the workspace. False if there is no such workspace or key
// is already in use.
func (s *Server) SetWorkspaceKey(instance string, workspaceID int, key string) bool {
	ws := s.lookup(instance, workspaceID)
	if ws == nil {
		return false
	}
	return s.rekey(*ws.key.Load(), key, func() *credential {
		return &credential{token: key, inst: ws.inst, ws: ws}
	}, func() { ws.key.Store(&key) })
}

// SetSuperAdminKey replaces an instance's super-admin key; the new key starts with no
// workspace selected. False if there is no such instance or key is already in use.
func (s *Server) SetSuperAdminKey(instance, key string) bool {
	in := s.instances[instance]
	if in == nil {
		return false
	}
	return s.rekey(*in.superKey.Load(), key, func() *credential {
		return &credential{token: key, inst: in}
	}, func() { in.superKey.Store(&key) })
}

// rekey swaps old for a new credential in the key table, copy-on-write.
func (s *Server) rekey(old, key string, mk func() *credential, commit func()) bool {
	s.credMu.Lock()
	defer s.credMu.Unlock()
	cur := *s.creds.Load()
	if _, used := cur[key]; used && key != old && key != "" {
		return false
	}
	next := make(map[string]*credential, len(cur)+1)
	for t, c := range cur {
		if t != old {
			next[t] = c
		}
	}
	if key != "" {
		c := mk()
		c.label = keyLabel(key)
		next[key] = c
	}
	s.creds.Store(&next)
	commit()
	return true
}

// SelectedWorkspace is the Bison id of the workspace a super-admin key serves now (its
// instance's first before any switch); 0 for an unknown or workspace key.
func (s *Server) SelectedWorkspace(key string) int {
	c := (*s.creds.Load())[key]
	if c == nil || c.ws != nil {
		return 0
	}
	if ws := c.served(); ws != nil {
		return ws.id
	}
	return 0
}

// Workspace describes a workspace as served now, in the form Fleet returns.
func (s *Server) Workspace(instance string, id int) (*Workspace, bool) {
	ws := s.lookup(instance, id)
	if ws == nil {
		return nil, false
	}
	return ws.snapshot(), true
}

// Fleet describes the fleet as served now: current names and keys; a workspace whose
// accounts are untouched is described by (Seed, Count, FirstID), any other by a copy of its
// current accounts. NewServer(s.Fleet(), opts) serves the same data.
func (s *Server) Fleet() *Fleet {
	f := &Fleet{}
	for _, in := range s.order {
		fi := &Instance{Name: in.name, SuperAdminKey: *in.superKey.Load()}
		for _, ws := range in.list() {
			fi.Workspaces = append(fi.Workspaces, ws.snapshot())
		}
		f.Instances = append(f.Instances, fi)
	}
	return f
}

func (ws *workspace) snapshot() *Workspace {
	w := &Workspace{ID: ws.id, Name: *ws.name.Load(), Key: *ws.key.Load()}
	set := ws.set.Load()
	if set.pristine() {
		w.Seed, w.Count, w.FirstID = set.gen.seed, set.gen.count, set.gen.firstID
	} else {
		w.Accounts = set.all()
	}
	return w
}
