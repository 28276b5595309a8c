package sim

import (
	"slices"
	"sort"
)

// accountSet is the immutable state of one workspace's accounts at one moment. Readers
// load it through an atomic pointer and never lock; writers build a new one.
//
// It is a window [lo, hi) of generated accounts followed by explicit ones (extra), whose ids
// are all above the generated ones. That shape absorbs the common mutations without
// copying a large workspace into memory: drift removes the lowest ids (lo moves up) and
// adds the highest (appended to extra). Anything else materializes the workspace first.
type accountSet struct {
	gen    *generator
	lo, hi int
	extra  []Account
}

func (s *accountSet) len() int { return s.hi - s.lo + len(s.extra) }

// pristine reports whether the set is still exactly its generated accounts, which is what
// lets Fleet describe it by (Seed, Count) instead of copying it.
func (s *accountSet) pristine() bool {
	return s.gen != nil && s.lo == 0 && s.hi == s.gen.count && s.gen.count > 0 && len(s.extra) == 0
}

// at returns the k-th account in id order. Generated accounts share immutable tag slices.
func (s *accountSet) at(k int) Account {
	n := s.hi - s.lo
	if k < n {
		return s.gen.account(s.lo + k)
	}
	return s.extra[k-n]
}

// appendRange appends accounts [from, to) to dst.
func (s *accountSet) appendRange(dst []Account, from, to int) []Account {
	for k := from; k < to; k++ {
		dst = append(dst, s.at(k))
	}
	return dst
}

// find returns the account with that id.
func (s *accountSet) find(id int64) (Account, bool) {
	if s.hi > s.lo {
		if i, ok := s.gen.index(id); ok {
			if i >= s.lo && i < s.hi {
				return s.gen.account(i), true
			}
			return Account{}, false
		}
	}
	k := sort.Search(len(s.extra), func(k int) bool { return s.extra[k].ID >= id })
	if k < len(s.extra) && s.extra[k].ID == id {
		return s.extra[k], true
	}
	return Account{}, false
}

// inGenerated reports whether id falls inside the live generated window's id range.
func (s *accountSet) inGenerated(id int64) bool {
	if s.hi <= s.lo {
		return false
	}
	return id >= s.gen.id(s.lo) && id <= s.gen.id(s.hi-1)
}

// all returns every account in id order, tags cloned so callers may edit them.
func (s *accountSet) all() []Account {
	out := make([]Account, s.len())
	for k := range out {
		out[k] = cloneAccount(s.at(k))
	}
	return out
}

// materialized returns an equivalent set with every account explicit.
func (s *accountSet) materialized() *accountSet {
	if s.hi <= s.lo {
		return s
	}
	ex := make([]Account, 0, s.len())
	ex = s.appendRange(ex, 0, s.len())
	return &accountSet{gen: s.gen, extra: ex}
}

// withoutLowest drops the n lowest ids.
func (s *accountSet) withoutLowest(n int) *accountSet {
	out := *s
	gen := min(n, out.hi-out.lo)
	out.lo += gen
	n -= gen
	n = min(n, len(out.extra))
	out.extra = slices.Clone(out.extra[n:])
	return &out
}

// withAppended adds accounts whose ids are above every id in the set.
func (s *accountSet) withAppended(accs []Account) *accountSet {
	out := *s
	out.extra = append(slices.Clip(slices.Clone(s.extra)), accs...)
	return &out
}

// without drops the accounts with those ids and reports how many it dropped.
func (s *accountSet) without(ids []int64) (*accountSet, int) {
	drop := make(map[int64]bool, len(ids))
	for _, id := range ids {
		drop[id] = true
	}
	base := s
	for id := range drop {
		if s.inGenerated(id) {
			base = s.materialized()
			break
		}
	}
	out := &accountSet{gen: base.gen, lo: base.lo, hi: base.hi}
	out.extra = make([]Account, 0, len(base.extra))
	removed := 0
	for _, a := range base.extra {
		if drop[a.ID] {
			removed++
			continue
		}
		out.extra = append(out.extra, a)
	}
	return out, removed
}

// with replaces the account with a's id, or inserts it in id order.
func (s *accountSet) with(a Account) *accountSet {
	base := s
	if s.hi > s.lo && a.ID <= s.gen.id(s.hi-1) { // extra must stay above the generated ids

		base = s.materialized()
	}
	out := &accountSet{gen: base.gen, lo: base.lo, hi: base.hi, extra: slices.Clone(base.extra)}
	k := sort.Search(len(out.extra), func(k int) bool { return out.extra[k].ID >= a.ID })
	if k < len(out.extra) && out.extra[k].ID == a.ID {
		out.extra[k] = a
	} else {
		out.extra = slices.Insert(out.extra, k, a)
	}
	return out
}

// maxID is the highest id in the set, 0 when empty.
func (s *accountSet) maxID() int64 {
	if n := len(s.extra); n > 0 {
		return s.extra[n-1].ID
	}
	if s.hi > s.lo {
		return s.gen.id(s.hi - 1)
	}
	return 0
}
