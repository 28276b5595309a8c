package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// The source, as the console shows it: workspaces the instances list and the registry
// lacks (unregistered rows, registered with R after a question), and keys of their own for
// the workspaces that queue behind the super-admin key (K, after a question that says a
// credential will be created in Email Bison). A backend that cannot do these (the model
// tests' plain fake) shows no such rows and refuses the keys.

// sourceBackend is what the console needs of the source besides the backend.
type sourceBackend interface {
	// Unregistered returns the workspaces the latest listings found at the source and
	// not in the registry.
	Unregistered(ctx context.Context) ([]db.DiscoveredWorkspace, error)
	// Register adds a workspace found at the source to the registry (active) and returns
	// its registry name; "" when the registry already held it.
	Register(ctx context.Context, d db.DiscoveredWorkspace) (string, error)
	// MintKeys mints, verifies and stores a key for every active workspace that relies on
	// its instance's super-admin key.
	MintKeys(ctx context.Context) ([]sync.KeyResult, error)
}

func (b storeBackend) Unregistered(ctx context.Context) ([]db.DiscoveredWorkspace, error) {
	return b.store.Discovered(ctx, db.DiscoveredUnregistered)
}

func (b storeBackend) Register(ctx context.Context, d db.DiscoveredWorkspace) (string, error) {
	registry, err := b.store.Workspaces(ctx, db.Selection{IncludeInactive: true})
	if err != nil {
		return "", err
	}
	chosen := sync.RegistryNames([]db.DiscoveredWorkspace{d}, registry, true)
	added, err := b.store.RegisterWorkspaces(ctx, chosen)
	if err != nil || len(added) == 0 {
		return "", err
	}
	return added[0], nil
}

func (b storeBackend) MintKeys(ctx context.Context) ([]sync.KeyResult, error) {
	return b.engine.MintKeys(ctx, sync.MintRequest{})
}

// Symbols of the rows discovery and the key checks add; each goes with its word.
const (
	symUnregistered = "+"
	symGone         = "∅"
	symWrongKey     = "≠"
)

// sourceTimeout bounds registering and minting (a mint is two requests per workspace).
const sourceTimeout = 2 * time.Minute

type (
	// registeredMsg: a workspace found at the source was registered (as name), or not.
	registeredMsg struct {
		source, name string
		err          error
	}
	// mintedMsg: keys were minted for the workspaces on the super-admin key.
	mintedMsg struct {
		results []sync.KeyResult
		err     error
	}
)

// sourceCmd runs f against the source backend, unless the console is closing.
func (c *console) sourceCmd(f func(ctx context.Context, b sourceBackend) tea.Msg) tea.Cmd {
	sb, ok := c.b.(sourceBackend)
	if !ok {
		return nil
	}
	return func() tea.Msg {
		if !c.enter() {
			return nil
		}
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(c.ctx, sourceTimeout)
		defer cancel()
		return f(ctx, sb)
	}
}

// unregistered reads the unregistered workspaces for a registry read; nil without a
// source backend.
func (c *console) unregistered(ctx context.Context) ([]db.DiscoveredWorkspace, error) {
	if sb, ok := c.b.(sourceBackend); ok {
		return sb.Unregistered(ctx)
	}
	return nil, nil
}

// addUnregistered appends a row per workspace at the source that the registry lacks.
func (p *wsPane) addUnregistered(found []db.DiscoveredWorkspace, at time.Time) {
	for _, d := range found {
		h := db.UnregisteredHealth(d, at)
		r := wsRow{ws: db.Workspace{Name: d.Name, Instance: d.Instance, BisonID: d.BisonID}, name: clean(d.Name),
			instance: clean(d.Instance), errText: clean(h.Reason), health: h.State, unregistered: true}
		r.lower = strings.ToLower(r.name)
		p.rows = append(p.rows, r)
	}
}

// sourceCell is the status of a row that discovery or the key checks decided; ok false
// for the others.
func sourceCell(r *wsRow) (string, styleKind, bool) {
	switch r.health {
	case db.HealthUnregistered:
		return symUnregistered + " unregistered", styleKindWarn, true
	case db.HealthGone:
		return symGone + " gone", styleKindBad, true
	case db.HealthWrongKey:
		return symWrongKey + " wrong-key", styleKindBad, true
	}
	return "", 0, false
}

// onSourceKey answers R and K.
func (m *model) onSourceKey(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.keys.Register) {
		return m.askRegister()
	}
	return m.askMint()
}

// askRegister offers to register the unregistered workspace under the cursor.
func (m *model) askRegister() tea.Cmd {
	r := m.ws.current()
	if r == nil || !r.unregistered {
		m.setStatus("R registers a workspace shown as "+symUnregistered+" unregistered: move the cursor onto one", styleKindPlain)
		return nil
	}
	d := db.DiscoveredWorkspace{Instance: r.ws.Instance, BisonID: r.ws.BisonID, Name: r.ws.Name}
	m.confirm = newDialog("Register a workspace",
		fmt.Sprintf("Register %s (instance %s, id %d) in client_registry, active, so that runs sync it?", r.name, r.instance, d.BisonID),
		"register it", "not now",
		func(m *model) tea.Cmd {
			m.setStatus("registering "+r.name+"…", styleKindPlain)
			return m.c.sourceCmd(func(ctx context.Context, b sourceBackend) tea.Msg {
				name, err := b.Register(ctx, d)
				return registeredMsg{source: d.Name, name: name, err: err}
			})
		})
	return nil
}

// askMint offers to mint keys for the workspaces that rely on the super-admin key.
func (m *model) askMint() tea.Cmd {
	if _, ok := m.c.b.(sourceBackend); !ok {
		m.setStatus("keys cannot be minted from this console", styleKindWarn)
		return nil
	}
	var names []string
	for _, r := range m.ws.rows {
		if !r.unregistered && r.ws.APIKey.IsZero() {
			names = append(names, r.name)
		}
	}
	if len(names) == 0 {
		m.setStatus("every workspace has a key of its own: nothing to mint", styleKindOK)
		return nil
	}
	m.confirm = newDialog("Mint keys",
		fmt.Sprintf("Mint keys: create %s in Email Bison (credentials, shown nowhere; revoke them there when done) for %s, and store them in client_registry?",
			plural(len(names), "API key", "API keys"), strings.Join(names, ", ")),
		"create the keys", "not now",
		func(m *model) tea.Cmd {
			m.setStatus(fmt.Sprintf("minting %s…", plural(len(names), "key", "keys")), styleKindPlain)
			return m.c.sourceCmd(func(ctx context.Context, b sourceBackend) tea.Msg {
				res, err := b.MintKeys(ctx)
				return mintedMsg{results: res, err: err}
			})
		})
	return nil
}

// onRegistered says what became of a registration and reads the registry again.
func (m *model) onRegistered(msg registeredMsg) tea.Cmd {
	switch {
	case msg.err != nil:
		m.setStatus(fmt.Sprintf("%s not registered: %s", clean(msg.source), clean(msg.err.Error())), styleKindBad)
	case msg.name == "":
		m.setStatus(clean(msg.source)+" was registered meanwhile", styleKindPlain)
	default:
		m.setStatus(fmt.Sprintf("registered %s: the next run syncs it", clean(msg.name)), styleKindOK)
	}
	return m.forceReload()
}

// onMinted says how the minting went and reads the registry again.
func (m *model) onMinted(msg mintedMsg) tea.Cmd {
	if msg.err != nil {
		m.setSticky("no key minted: "+clean(msg.err.Error()), styleKindBad)
		return m.forceReload()
	}
	var minted int
	var failed []string
	for _, r := range msg.results {
		switch {
		case r.Outcome == sync.KeyMinted:
			minted++
		case r.Outcome.Problem():
			failed = append(failed, clean(r.Workspace)+": "+clean(r.Detail))
		}
	}
	text := fmt.Sprintf("%s minted, verified and stored: those workspaces no longer wait for the super-admin key (S: full sync)",
		plural(minted, "key", "keys"))
	kind := styleKindOK
	if len(failed) > 0 {
		text += fmt.Sprintf("; %d failed: %s", len(failed), strings.Join(failed, "; "))
		kind = styleKindBad
	}
	m.setSticky(text, kind)
	return m.forceReload()
}
