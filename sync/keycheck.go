package sync

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	stdsync "sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/db"
)

// firstPage is a workspace's first page as one key saw it: its account ids, sorted, and
// meta.total; or the error that stopped it.
type firstPage struct {
	ids   []int64
	total int
	err   error
}

func pageOf(p *bison.Page, err error) firstPage {
	if err != nil {
		return firstPage{err: err}
	}
	ids := make([]int64, len(p.Accounts))
	for i, a := range p.Accounts {
		ids[i] = a.ID
	}
	slices.Sort(ids)
	return firstPage{ids: ids, total: p.Total}
}

// shares reports whether two sorted id lists have an id in common.
func shares(a, b []int64) bool {
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			return true
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return false
}

// judgeKey decides, without I/O, what a workspace's own key serves: own is its first page
// with its key, view the instance's (the super-admin key's, after the switch) or nil when
// there is none, with why in viewGone; others are the views of other workspaces, to name the
// one a wrong key serves. Accounts belong to one workspace, so pages that share no account
// are two workspaces; pages that share some but differ are one workspace moving.
func judgeKey(own firstPage, view *firstPage, viewGone string, others map[string]firstPage) (KeyOutcome, string) {
	var auth *bison.AuthError
	switch {
	case errors.As(own.err, &auth):
		return KeyRejected, fmt.Sprintf("the API refuses it (HTTP %d)", auth.Status)
	case own.err != nil:
		return KeyFailed, fmt.Sprintf("could not be checked: %v", own.err)
	case view == nil:
		return KeyUnverified, "it serves a page; whose cannot be told: " + viewGone
	case view.err != nil:
		return KeyUnverified, fmt.Sprintf("it serves a page; whose cannot be told: the instance's view failed: %v", view.err)
	case len(own.ids) == 0 && len(view.ids) == 0:
		return KeyOK, "the workspace has no accounts: its key serves an empty list, as it should"
	case shares(own.ids, view.ids):
		return KeyOK, fmt.Sprintf("its first page matches the instance's view (%d accounts in all)", own.total)
	}
	for name, o := range others {
		if o.err == nil && shares(own.ids, o.ids) {
			return KeyWrong, fmt.Sprintf("it serves the accounts of workspace %q", name)
		}
	}
	return KeyWrong, fmt.Sprintf("its first page (%d accounts in all) shares no account with the workspace's own (%d in all)", own.total, view.total)
}

// CheckKeys checks the key of each named workspace (default: every active one): its first
// page with its own key against the instance's view of the workspace through the
// super-admin key, after the switch, holding the key's lease as a sync does. Workspaces
// without a key of their own are skipped. Outcomes ok, wrong-key and rejected are recorded
// in the registry. The error is for a registry that cannot be read.
func (e *Engine) CheckKeys(ctx context.Context, names []string) ([]KeyResult, error) {
	workspaces, err := e.store.Workspaces(ctx, db.Selection{Names: names})
	if err != nil {
		return nil, fmt.Errorf("read the registry: %w", err)
	}
	own := e.ownPages(ctx, workspaces)
	views, gone := e.instanceViews(ctx, workspaces, own)
	out := make([]KeyResult, len(workspaces))
	for i, w := range workspaces {
		out[i] = KeyResult{Workspace: w.Name, Instance: w.Instance, Key: w.APIKey.Hint(), Outcome: KeySkipped,
			Detail: "no key of its own: the instance's super-admin key serves it"}
		p, ok := own[w.Name]
		if !ok {
			out[i].Key = ""
			continue
		}
		var view *firstPage
		if v, ok := views[w.Name]; ok {
			view = &v
		}
		others := map[string]firstPage{}
		for name, v := range views {
			if name != w.Name {
				others[name] = v
			}
		}
		out[i].Outcome, out[i].Detail = judgeKey(p, view, gone[w.Instance], others)
		e.recordKeyCheck(ctx, &out[i])
	}
	return out, nil
}

// recordKeyCheck keeps a definite outcome in the registry.
func (e *Engine) recordKeyCheck(ctx context.Context, r *KeyResult) {
	status := map[KeyOutcome]db.KeyStatus{KeyOK: db.KeyOK, KeyWrong: db.KeyWrong, KeyRejected: db.KeyRejected}[r.Outcome]
	if status == "" {
		return
	}
	if err := e.store.RecordKeyHealth(context.WithoutCancel(ctx), r.Workspace, status, "keys check: "+r.Detail); err != nil {
		r.Detail += fmt.Sprintf(" (not recorded: %v)", err)
	}
}

// ownPages fetches page 1 of every workspace that has a key of its own, with that key.
func (e *Engine) ownPages(ctx context.Context, workspaces []db.Workspace) map[string]firstPage {
	out := map[string]firstPage{}
	var mu stdsync.Mutex
	var g errgroup.Group
	g.SetLimit(mintParallel)
	for _, w := range workspaces {
		if w.APIKey.IsZero() {
			continue
		}
		g.Go(func() error {
			var p firstPage
			if token, err := w.APIKey.Resolve(e.cfg.LookupEnv); err != nil {
				p.err = err
			} else {
				s := e.instance(w.Inst).Session(bison.NewKey(token), bison.Workspace{Name: w.Name, ID: w.BisonID}, nil)
				p = pageOf(s.ListPage(ctx, 1))
			}
			mu.Lock()
			out[w.Name] = p
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	return out
}

// keyCheckWait bounds the wait for a super-admin key another process is using.
const keyCheckWait = time.Minute

// instanceViews fetches, per instance and through its super-admin key, page 1 of each
// workspace whose own key served a page: the instance's view of the workspace. Instances
// are done in parallel, the workspaces of one in turn (the key serves one at a time). gone
// says, per instance, why it has no views.
func (e *Engine) instanceViews(ctx context.Context, workspaces []db.Workspace, own map[string]firstPage) (map[string]firstPage, map[string]string) {
	byInstance := map[string][]db.Workspace{}
	for _, w := range workspaces {
		if p, ok := own[w.Name]; ok && p.err == nil {
			byInstance[w.Instance] = append(byInstance[w.Instance], w)
		}
	}
	views, gone := map[string]firstPage{}, map[string]string{}
	var mu stdsync.Mutex
	var wg stdsync.WaitGroup
	for inst, wss := range byInstance {
		wg.Go(func() {
			got, why := e.viewsOf(ctx, wss)
			mu.Lock()
			defer mu.Unlock()
			gone[inst] = why
			for name, p := range got {
				views[name] = p
			}
		})
	}
	wg.Wait()
	return views, gone
}

// viewsOf fetches the instance's view of each workspace (all of one instance) under the
// lease of its super-admin key, which a sync holds the same way: the key's selected
// workspace is server-side state, shared by every process.
func (e *Engine) viewsOf(ctx context.Context, wss []db.Workspace) (map[string]firstPage, string) {
	in := wss[0].Inst
	admin, problem := e.superAdminKey(in)
	if problem != "" {
		return nil, problem
	}
	owner := db.LeaseOwner{RunID: -1 - rand.Int64N(1<<62), Host: e.cfg.Host, PID: e.cfg.PID}
	defer func() {
		release, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		_ = e.store.ReleaseKeyLease(release, in.Name, owner.RunID)
	}()
	out := map[string]firstPage{}
	for _, w := range wss {
		if why := e.holdKey(ctx, in.Name, w.Name, owner); why != "" {
			return out, why
		}
		s := e.instance(in).Session(admin, bison.Workspace{Name: w.Name, ID: w.BisonID}, nil)
		if err := s.SwitchWorkspace(ctx); err != nil {
			out[w.Name] = firstPage{err: errors.New(bison.Scrub(err.Error(), admin))}
			continue
		}
		p := pageOf(s.ListPage(ctx, 1))
		if p.err != nil {
			p.err = errors.New(bison.Scrub(p.err.Error(), admin))
		}
		out[w.Name] = p
	}
	return out, ""
}

// holdKey claims (or renews) the lease of the instance's super-admin key, waiting up to
// keyCheckWait for another process to finish with it; "" once held, else why not.
func (e *Engine) holdKey(ctx context.Context, instance, workspace string, o db.LeaseOwner) string {
	deadline := time.Now().Add(keyCheckWait)
	for {
		claim, err := e.store.ClaimKeyLease(ctx, instance, workspace, o, e.cfg.LeaseTTL)
		switch {
		case err != nil:
			return fmt.Sprintf("the lease of the super-admin key could not be claimed: %v", err)
		case claim.Claimed:
			return ""
		case time.Now().After(deadline):
			return fmt.Sprintf("the super-admin key stayed in use for %s (%s): try again", keyCheckWait, claim.Reason)
		}
		select {
		case <-ctx.Done():
			return ctx.Err().Error()
		case <-time.After(keyPoll):
		}
	}
}
