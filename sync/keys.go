package sync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/db"
)

// Keys: a workspace without a key of its own queues behind its instance's super-admin key,
// one workspace at a time; the API mints a key per workspace (MintKeys), and a key pasted
// into the wrong row is found by comparing what it serves with what the super-admin key
// sees of the workspace (CheckKeys).

// Keys is the engine's view of the database for key health and new keys.
type Keys interface {
	RecordKeyHealth(ctx context.Context, workspace string, status db.KeyStatus, detail string) error
	StoreWorkspaceKey(ctx context.Context, workspace string, old, key db.Secret, detail string) (bool, error)
}

// KeyOutcome is what became of one workspace in keys mint or keys check.
type KeyOutcome string

// Key outcomes.
const (
	KeyMinted     KeyOutcome = "minted"     // a new key, verified and stored
	KeyKept       KeyOutcome = "kept"       // it has a key of its own: left alone
	KeyFailed     KeyOutcome = "failed"     // nothing stored, or nothing checked: Detail says why
	KeyOK         KeyOutcome = "ok"         // its key serves its own workspace
	KeyWrong      KeyOutcome = "wrong-key"  // its key serves another workspace's accounts
	KeyRejected   KeyOutcome = "rejected"   // the API refuses its key
	KeyUnverified KeyOutcome = "unverified" // its key works; whose accounts it serves is unknown
	KeySkipped    KeyOutcome = "skipped"    // no key of its own: nothing to check
)

// Problem reports whether the outcome makes keys mint or keys check exit 1.
func (o KeyOutcome) Problem() bool {
	return o == KeyFailed || o == KeyWrong || o == KeyRejected
}

// KeyResult is one workspace's outcome in keys mint or keys check. It never holds a token:
// Key is the hint ("…" and the last four characters).
type KeyResult struct {
	Workspace string     `json:"workspace"`
	Instance  string     `json:"instance"`
	Outcome   KeyOutcome `json:"outcome"`
	Key       string     `json:"key,omitempty"`
	Detail    string     `json:"detail"`
}

// MintRequest chooses the workspaces keys mint works on.
type MintRequest struct {
	// Names are the workspaces (registry names); empty: every active workspace that relies
	// on its instance's super-admin key.
	Names []string
	// Replace mints a new key for a workspace that has one; otherwise it is left alone.
	Replace bool
}

// mintParallel bounds the workspaces minted at once; the instances' limiters bound the
// requests.
const mintParallel = 8

// MintKeys mints a workspace key for each chosen workspace with its instance's super-admin
// key, checks that the new key serves a page, and stores it in client_registry.bison_api_key,
// judged ok. A failure for one workspace does not stop the others. Results are in the
// order of the registry; the error is for a registry that cannot be read.
func (e *Engine) MintKeys(ctx context.Context, req MintRequest) ([]KeyResult, error) {
	workspaces, err := e.store.Workspaces(ctx, db.Selection{Names: req.Names})
	if err != nil {
		return nil, fmt.Errorf("read the registry: %w", err)
	}
	if len(req.Names) == 0 {
		var onAdmin []db.Workspace
		for _, w := range workspaces {
			if w.APIKey.IsZero() {
				onAdmin = append(onAdmin, w)
			}
		}
		workspaces = onAdmin
	}
	out := make([]KeyResult, len(workspaces))
	var g errgroup.Group
	g.SetLimit(mintParallel)
	for i, w := range workspaces {
		g.Go(func() error {
			out[i] = e.mintOne(ctx, w, req.Replace)
			return nil
		})
	}
	_ = g.Wait()
	return out, nil
}

// mintOne mints, verifies and stores one workspace's key.
func (e *Engine) mintOne(ctx context.Context, w db.Workspace, replace bool) KeyResult {
	res := KeyResult{Workspace: w.Name, Instance: w.Instance, Outcome: KeyFailed}
	if !w.APIKey.IsZero() && !replace {
		res.Outcome, res.Key = KeyKept, w.APIKey.Hint()
		res.Detail = "has a key of its own: left alone (--replace mints a new one)"
		return res
	}
	admin, problem := e.superAdminKey(w.Inst)
	if problem != "" {
		res.Detail = "not minted: " + problem
		return res
	}
	inst := e.instance(w.Inst)
	m, err := inst.MintKey(ctx, admin, w.BisonID, tokenName(w.Name))
	if err != nil {
		res.Detail = "not minted: " + bison.Scrub(err.Error(), admin)
		return res
	}
	res.Key = m.Key.Hint()
	revoke := fmt.Sprintf("revoke token %d (%q) in Email Bison", m.ID, m.Name)
	if _, err := inst.Session(m.Key, bison.Workspace{Name: w.Name, ID: w.BisonID}, nil).ListPage(ctx, 1); err != nil {
		res.Detail = fmt.Sprintf("minted, but the new key does not serve a page (%s); not stored: %s",
			bison.Scrub(err.Error(), admin, m.Key), revoke)
		return res
	}
	stored, err := e.store.StoreWorkspaceKey(context.WithoutCancel(ctx), w.Name, w.APIKey,
		db.NewSecret(m.Key.Token()), fmt.Sprintf("minted by bisonsync keys mint (token %d) and verified", m.ID))
	switch {
	case err != nil:
		res.Detail = fmt.Sprintf("minted, but not stored (%v): %s", err, revoke)
	case !stored:
		res.Detail = "minted, but not stored: the workspace's key was changed meanwhile; " + revoke
	default:
		res.Outcome = KeyMinted
		res.Detail = fmt.Sprintf("minted key %s (token %d, %q), verified and stored: the workspace no longer waits for the super-admin key",
			m.Key.Hint(), m.ID, m.Name)
		if !w.APIKey.IsZero() {
			res.Detail += fmt.Sprintf("; the key it replaces (%s) still works until revoked in Email Bison", w.APIKey.Hint())
		}
	}
	return res
}

// tokenName is what Email Bison shows for a minted token: who made it, for which workspace,
// when.
func tokenName(workspace string) string {
	r := []rune(workspace)
	if len(r) > 60 {
		r = append(r[:59], '…')
	}
	return fmt.Sprintf("bisonsync: %s (%s)", string(r), time.Now().UTC().Format("2006-01-02"))
}

// superAdminKey resolves an instance's super-admin key, or says why it cannot be used.
func (e *Engine) superAdminKey(in db.Instance) (bison.Key, string) {
	if in.APIKey.IsZero() {
		return bison.Key{}, fmt.Sprintf("instance %s has no super-admin key (bison_instances.api_key)", in.Name)
	}
	token, err := in.APIKey.Resolve(e.cfg.LookupEnv)
	if err != nil {
		return bison.Key{}, fmt.Sprintf("the super-admin key of instance %s cannot be used: %v", in.Name, err)
	}
	return bison.NewKey(token), ""
}

// wrongKeyError is why a workspace whose key serves another workspace is not synced: its
// pages would land another workspace's accounts under it.
func wrongKeyError(ws db.Workspace) error {
	return fmt.Errorf("its API key %s serves another workspace's accounts (%s): not synced, so that they do not land under it; "+
		"replace the key (bisonsync keys mint --replace --workspace %q), then run keys check", ws.APIKey.Hint(), ws.KeyDetail, ws.Name)
}

// noteKeyHealth keeps what an attempt learned of the workspace's own key: refused (a
// rejection streak starts or goes on), or serving again after a refusal (the streak ends).
// A refused super-admin key is the instance's, not the workspace's: not noted here.
func (r *run) noteKeyHealth(ctx context.Context, p planned, err error) {
	if p.superAdmin {
		return
	}
	var auth *bison.AuthError
	var status db.KeyStatus
	var detail string
	switch {
	case errors.As(err, &auth):
		status, detail = db.KeyRejected, fmt.Sprintf("refused in run %d (HTTP %d)", r.id, auth.Status)
	case err == nil && p.ws.KeyStatus == db.KeyRejected:
		status, detail = db.KeyOK, fmt.Sprintf("served run %d", r.id)
	default:
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := r.engine.store.RecordKeyHealth(rctx, p.ws.Name, status, detail); err != nil {
		r.emit(Notice{Workspace: p.ws.Name, Level: LevelWarn, Message: fmt.Sprintf("the key's health was not recorded: %v", err)})
	}
}

// keyMismatch follows a first page identical to that of another workspace of the instance
// in this run. When one of the two came through the super-admin key after the switch (the
// instance's own view of that workspace), the other's key serves that workspace: it is
// recorded wrong-key, which --check shows and which stops the next runs from syncing it.
// When both came through keys of their own, which is wrong cannot be told: the warning
// says so, and keys check settles it.
func (r *run) keyMismatch(ctx context.Context, p planned, other string) {
	op, ok := r.plans[other]
	if !ok || p.superAdmin == op.superAdmin {
		return
	}
	wrong, served := p, op
	if p.superAdmin {
		wrong, served = op, p
	}
	detail := fmt.Sprintf("in run %d its first page was that of workspace %q, fetched through the super-admin key", r.id, served.ws.Name)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := r.engine.store.RecordKeyHealth(rctx, wrong.ws.Name, db.KeyWrong, detail); err != nil {
		r.emit(Notice{Workspace: wrong.ws.Name, Level: LevelWarn, Message: fmt.Sprintf("the key's health was not recorded: %v", err)})
		return
	}
	r.emit(Notice{Workspace: wrong.ws.Name, Level: LevelWarn, Message: fmt.Sprintf("its API key %s serves another workspace (%s): recorded as wrong-key; "+
		"the next runs leave it out until its key is replaced", wrong.key.Hint(), detail)})
}

// byName indexes the plans by workspace name.
func byName(plans []planned) map[string]planned {
	m := make(map[string]planned, len(plans))
	for _, p := range plans {
		m[p.ws.Name] = p
	}
	return m
}
