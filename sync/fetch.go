package sync

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	stdsync "sync"

	"golang.org/x/sync/errgroup"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/db"
)

// listing is a workspace's account list as one or more passes saw it.
type listing struct {
	accounts        map[int64]db.Account
	rows            int // rows received, repeats included
	total           int // meta.total of the most recently received page
	minTotal        int
	maxTotal        int
	lastPage        int
	confirmedAbsent []int64
}

// consistent: the distinct count matches the API's total and the total did not move while
// the pass ran. Necessary, not sufficient (CONTRACT.md §1): absences are confirmed as well.
func (l *listing) consistent() bool {
	return l.minTotal == l.maxTotal && len(l.accounts) == l.total
}

type incompleteError struct {
	fetched, expected, passes int
	detail                    string
}

func (e *incompleteError) Error() string {
	msg := fmt.Sprintf("incomplete: fetched %d of %d accounts", e.fetched, e.expected)
	if e.detail != "" {
		msg += " (" + e.detail + ")"
	}
	return msg + fmt.Sprintf(" after %d passes", e.passes)
}

// completeList fetches the workspace until its list is complete and reconciled (CONTRACT.md
// §1, §4.2). A pass is trusted when its distinct count matches a total that did not move, and
// every account the database holds as live but the list lacks is confirmed gone at the
// source. Once drift has been seen in an attempt, a trusted pass must also be confirmed by
// the next one returning the same accounts: drift that shifts pages already fetched leaves
// no other trace, since removals and additions can balance.
func (w *workspaceSync) completeList(ctx context.Context) (*listing, error) {
	cfg := w.run.engine.cfg
	name := w.plan.ws.Name
	checks := cfg.MaxAbsenceChecks
	var prev *listing
	driftSeen, steady := false, true
	for pass := 1; pass <= cfg.Passes; pass++ {
		guess := w.guessPages()
		if prev != nil {
			guess = prev.lastPage
		}
		cur, err := w.fetchPass(ctx, pass, guess)
		if err != nil {
			return nil, err
		}
		fetchedIDs := len(cur.accounts)
		recovered, err := w.recoverSkipped(ctx, prev, cur, &checks)
		if err != nil {
			return nil, err
		}
		steady = steady && (prev == nil || sameAccounts(prev, cur))
		switch {
		case !cur.consistent() || recovered > 0:
			driftSeen = true
			w.run.emit(Notice{Workspace: name, Level: LevelWarn, Message: fmt.Sprintf(
				"pass %d: %s (%d skipped rows recovered): fetching again", pass, cur.mismatch(fetchedIDs), recovered)})
		case driftSeen && !sameAccounts(prev, cur):
			w.run.emit(Notice{Workspace: name, Level: LevelInfo, Message: fmt.Sprintf(
				"pass %d: %d accounts, as the total says; fetching once more to confirm the list has settled", pass, len(cur.accounts))})
		default:
			missed, err := w.confirmAbsences(ctx, cur, &checks)
			if err != nil {
				return nil, err
			}
			if missed == 0 {
				return cur, nil
			}
			driftSeen = true
			w.run.emit(Notice{Workspace: name, Level: LevelWarn, Message: fmt.Sprintf(
				"pass %d: %d account(s) live at the source were missing from the list: fetching again", pass, missed)})
		}
		prev = cur
	}
	detail := prev.mismatch(len(prev.accounts))
	if steady && prev.minTotal == prev.maxTotal {
		detail = fmt.Sprintf("every pass served the same %d accounts while the API's total said %d: the total does not match the list",
			len(prev.accounts), prev.total)
	}
	return nil, &incompleteError{fetched: len(prev.accounts), expected: prev.total, passes: cfg.Passes, detail: detail}
}

// recoverSkipped asks the source for each account the previous pass saw and this one did
// not (skipped by a shifting page boundary, or really gone) and adds the live ones to cur.
func (w *workspaceSync) recoverSkipped(ctx context.Context, prev, cur *listing, checks *int) (int, error) {
	if prev == nil {
		return 0, nil
	}
	var suspects []int64
	for id := range prev.accounts {
		if _, ok := cur.accounts[id]; !ok {
			suspects = append(suspects, id)
		}
	}
	live, _, err := w.checkAccounts(ctx, suspects, checks)
	if err != nil {
		return 0, err
	}
	for _, a := range live {
		cur.accounts[a.ID] = a
	}
	return len(live), nil
}

// mismatch says what a pass whose count disagrees with the API's total actually saw, given
// the distinct accounts it fetched.
func (l *listing) mismatch(distinct int) string {
	switch {
	case l.minTotal != l.maxTotal:
		return fmt.Sprintf("the API's total moved from %d to %d while the list was paged (%d distinct accounts)", l.minTotal, l.maxTotal, distinct)
	case l.rows > distinct:
		return fmt.Sprintf("%d rows came back more than once across pages (%d rows, %d distinct accounts, total %d)",
			l.rows-distinct, l.rows, distinct, l.total)
	case distinct < l.total:
		return fmt.Sprintf("%d distinct accounts where the API's total says %d", distinct, l.total)
	default:
		return fmt.Sprintf("%d distinct accounts, more than the API's total of %d", distinct, l.total)
	}
}

func sameAccounts(a, b *listing) bool {
	if a == nil || b == nil || len(a.accounts) != len(b.accounts) {
		return false
	}
	for id := range a.accounts {
		if _, ok := b.accounts[id]; !ok {
			return false
		}
	}
	return true
}

// confirmAbsences checks, one by one at the source, the accounts the database holds as live
// that the list lacks. Those that answer 404 are recorded as confirmed absent; those still
// live are added to the list and counted as missed (the list was not complete after all).
func (w *workspaceSync) confirmAbsences(ctx context.Context, l *listing, checks *int) (missed int, err error) {
	p := w.plan
	liveIDs, err := w.run.engine.store.LiveAccountIDs(ctx, p.ws.Instance, p.ws.BisonID)
	if err != nil {
		return 0, fmt.Errorf("read the workspace's live accounts: %w", err)
	}
	var absent []int64
	for _, id := range liveIDs {
		if _, ok := l.accounts[id]; !ok {
			absent = append(absent, id)
		}
	}
	if len(absent) == 0 {
		return 0, nil
	}
	live, gone, err := w.checkAccounts(ctx, absent, checks)
	if err != nil {
		return 0, err
	}
	for _, a := range live {
		l.accounts[a.ID] = a
	}
	l.confirmedAbsent = gone
	if len(gone) > 0 {
		w.run.emit(Notice{Workspace: p.ws.Name, Level: LevelInfo, Message: fmt.Sprintf("%d account(s) confirmed gone at the source (404)", len(gone))})
	}
	return len(live), nil
}

// speculativePages is the fewest pages a workspace of unknown size on a shared super-admin
// key asks for with its first page. Such a workspace holds the key, and so the whole chain
// behind it, for every round trip: asking for page 1 alone and then the rest costs one round
// trip more than asking for a window at once. Pages past the end cost an empty answer.
const speculativePages = 8

// guessPages is how many pages the last complete fetch implies; when it is unknown, 1, or,
// for a workspace on a shared super-admin key, a round's worth: the requests the instance
// accepts in flight now (at least speculativePages). Then the chain costs two round trips a
// workspace (the switch, the pages) for a workspace that fits in the slots it finds free;
// the pages asked for past the end are bounded by the pace the server accepts, which a 429
// narrows. (Half a round, measured on the incident fleet: 1.52x the bound at 32 in flight
// against 1.40x, the chain's pages then waiting behind the other workspaces' as often.)
func (w *workspaceSync) guessPages() int {
	if est := w.plan.ws.EstimatedAccounts; est != nil && *est > 0 {
		return (*est + bison.PageSize - 1) / bison.PageSize
	}
	if w.plan.superAdmin {
		return max(speculativePages, w.plan.inst.Limiter().Pace().InFlight)
	}
	return 1
}

// reserve holds this attempt's share of the run's account budget before its accounts are
// collected, so that memory is bounded by workers × largest workspace, not by the fleet.
// The first pass decides the share; the attempt gives it back when it ends.
func (w *workspaceSync) reserve(ctx context.Context, total int) error {
	if w.reserved > 0 {
		return nil
	}
	weight := int64(min(max(total, 1), w.run.engine.cfg.AccountBudget))
	if err := w.run.budget.Acquire(ctx, weight); err != nil {
		return err
	}
	w.reserved = weight
	return nil
}

// checkAccounts asks the source for each id: live ones come back as accounts, 404s as gone.
func (w *workspaceSync) checkAccounts(ctx context.Context, ids []int64, budget *int) (live []db.Account, gone []int64, err error) {
	if len(ids) == 0 {
		return nil, nil, nil
	}
	if len(ids) > *budget {
		return nil, nil, fmt.Errorf("%d accounts would need confirming one by one, more than the %d allowed (MaxAbsenceChecks)", len(ids), *budget)
	}
	*budget -= len(ids)
	var mu stdsync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.plan.inst.Limiter().MaxInFlight())
	for _, id := range ids {
		g.Go(func() error {
			a, err := w.src.GetAccount(gctx, id)
			var nf *bison.NotFoundError
			switch {
			case errors.As(err, &nf):
				mu.Lock()
				gone = append(gone, id)
				mu.Unlock()
			case err != nil:
				return err
			default:
				if a.ID != id {
					return fmt.Errorf("get account %d of workspace %q answered account %d", id, w.plan.ws.Name, a.ID)
				}
				mu.Lock()
				live = append(live, toRow(*a))
				mu.Unlock()
			}
			w.progress()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	slices.Sort(gone)
	return live, gone, nil
}

// fetchPass fetches every page of the workspace once, concurrently within the instance's
// limits, deduplicating by account id. With no idea of the size, page 1 goes first and tells
// last_page; with one (the last complete fetch, or the previous pass), all the pages it
// implies are asked for at once, saving a round trip: pages past the end cost an empty
// answer, and pages a later answer reveals are fetched after.
func (w *workspaceSync) fetchPass(ctx context.Context, pass int, guessPages int) (*listing, error) {
	l := &listing{accounts: make(map[int64]db.Account, guessPages*bison.PageSize), minTotal: math.MaxInt, maxTotal: -1}
	if guessPages > 1 {
		if err := w.reserve(ctx, guessPages*bison.PageSize); err != nil {
			return nil, err
		}
	}
	var mu stdsync.Mutex
	add := func(p *bison.Page) {
		w.checkPageOne(ctx, pass, p)
		mu.Lock()
		before := len(l.accounts)
		l.add(p)
		if p.CurrentPage > p.LastPage {
			// A page asked for past the end (a guess at the size): not a page of the list,
			// so neither counted nor told, or a run would show 32 pages of 29.
			mu.Unlock()
			return
		}
		ev := PageFetched{Workspace: w.plan.ws.Name, Pass: pass, Page: p.CurrentPage, LastPage: l.lastPage,
			PagesFetched: int(w.pagesFetched.Add(1)), Accounts: len(l.accounts), Total: p.Total}
		grew := len(l.accounts) > before
		mu.Unlock()
		w.lastPage.Store(int64(p.CurrentPage))
		w.pagesTotal.Store(int64(ev.LastPage))
		if grew {
			// Progress is new accounts, not requests: a server that announces one more page
			// on every page would otherwise keep the watchdog fed forever.
			w.progress()
		}
		w.noteStripped(p)
		w.run.emit(ev)
	}

	fetched, want := 0, max(guessPages, 1)
	for fetched < want {
		if err := w.fetchPages(ctx, fetched+1, want, add); err != nil {
			return nil, err
		}
		fetched = want
		// The share of memory is decided once the size is known (a no-op after a guess).
		if err := w.reserve(ctx, l.total); err != nil {
			return nil, err
		}
		want = max(want, w.boundPages(l))
	}
	return l, nil
}

// fetchPages asks for pages from to last at once, within the instance's limits.
func (w *workspaceSync) fetchPages(ctx context.Context, from, last int, add func(*bison.Page)) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.plan.inst.Limiter().MaxInFlight())
	for n := from; n <= last; n++ {
		g.Go(func() error {
			p, err := w.src.ListPage(gctx, n)
			if err != nil {
				return err
			}
			if p.CurrentPage != n {
				return fmt.Errorf("list page %d of workspace %q answered page %d", n, w.plan.ws.Name, p.CurrentPage)
			}
			add(p)
			return nil
		})
	}
	return g.Wait()
}

// add takes a page's accounts and paging facts into the pass.
func (l *listing) add(p *bison.Page) {
	for _, a := range p.Accounts {
		l.accounts[a.ID] = toRow(a)
	}
	l.rows += len(p.Accounts)
	l.total = p.Total
	l.minTotal, l.maxTotal = min(l.minTotal, p.Total), max(l.maxTotal, p.Total)
	l.lastPage = max(l.lastPage, p.LastPage)
}

// boundPages is how many pages the pass needs: the API's last_page, but never more than its
// largest total implies, with some slack for accounts added while it is paged. last_page is
// not trusted alone: 20,000 pages for a total of 40 would be 20,000 requests.
func (w *workspaceSync) boundPages(l *listing) int {
	implied := (max(l.maxTotal, 0) + bison.PageSize - 1) / bison.PageSize
	bound := implied + max(2, implied/10)
	if l.lastPage <= bound {
		return l.lastPage
	}
	w.noteOnce("last_page", fmt.Sprintf("the API says last_page %d for a total of %d accounts: fetching at most %d pages",
		l.lastPage, l.maxTotal, bound))
	return bound
}

// checkPageOne warns when a workspace's first page is the very page another workspace of the
// instance served: one of the two keys serves the other's data.
func (w *workspaceSync) checkPageOne(ctx context.Context, pass int, p *bison.Page) {
	if pass != 1 || p.CurrentPage != 1 {
		return
	}
	if other := w.run.samePageOne(w.plan.ws.Instance, w.plan.ws.Name, p); other != "" {
		w.warn(fmt.Sprintf("its first page is identical to that of %s: its API key may belong to another workspace", other))
		w.run.keyMismatch(ctx, w.plan, other)
	}
}

// noteStripped says, once per account and field, that control characters (a NUL, which
// PostgreSQL refuses in text) were removed from what the API sent.
func (w *workspaceSync) noteStripped(p *bison.Page) {
	for _, st := range p.Stripped {
		w.noteOnce(fmt.Sprintf("stripped %d %s", st.AccountID, st.Field), fmt.Sprintf(
			"account %d: %d control character(s) removed from its %s as the API sent it", st.AccountID, st.Removed, st.Field))
	}
}

// noteOnce emits a warning notice the first time key is seen in this attempt.
func (w *workspaceSync) noteOnce(key, msg string) {
	w.warnMu.Lock()
	if w.noted == nil {
		w.noted = map[string]bool{}
	}
	seen := w.noted[key]
	w.noted[key] = true
	w.warnMu.Unlock()
	if !seen {
		w.run.emit(Notice{Workspace: w.plan.ws.Name, Level: LevelWarn, Message: msg})
	}
}
