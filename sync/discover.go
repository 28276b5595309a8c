package sync

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	stdsync "sync"
	"time"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/db"
)

// Discovery: every run (and every check) lists each instance's workspaces with its
// super-admin key, one request per instance, and compares the listing with the registry.
// What the source has and the registry lacks is unregistered; what the registry holds and
// the source no longer lists is gone. An instance with auto_register registers what is new.

// Discovery is the engine's view of the database for discovery.
type Discovery interface {
	Instances(ctx context.Context) ([]db.Instance, error)
	RecordListing(ctx context.Context, l db.Listing) error
	RecordListingFailure(ctx context.Context, instance, problem string) error
	RegisterWorkspaces(ctx context.Context, ws []db.NewWorkspace) ([]string, error)
}

// DiscoveredWorkspace is a workspace discovery names. JSON names are part of the --json
// summary.
type DiscoveredWorkspace struct {
	Name    string `json:"name"`
	BisonID int    `json:"bison_id"`
}

// InstanceDiscovery is what the listing of one instance found. JSON names are part of the
// --json summary.
type InstanceDiscovery struct {
	Instance string `json:"instance"`
	// Listed is how many workspaces the instance lists; 0 when it could not be listed.
	Listed int `json:"listed"`
	// Unregistered are at the source and not in the registry (after Registered was added).
	Unregistered []DiscoveredWorkspace `json:"unregistered"`
	// Gone are registry rows whose workspace the source no longer lists.
	Gone []DiscoveredWorkspace `json:"gone"`
	// Registered were added to the registry by this discovery (the instance's
	// auto_register), under these names.
	Registered []DiscoveredWorkspace `json:"registered,omitempty"`
	// Problem says why the instance cannot be listed, or what went wrong recording the
	// listing; "" when all went well.
	Problem string `json:"problem,omitempty"`
}

// DiscoverOptions tune a discovery.
type DiscoverOptions struct {
	// Register registers the new workspaces of instances with auto_register (runs do;
	// checks and the register command leave it to the operator).
	Register bool
}

// CompareListing is the heart of discovery, a pure function: the listing of one instance
// against the registry's rows (active or not; rows of other instances are ignored), by Bison
// id. Each listed workspace comes back registered or unregistered, with the name the source
// gives it; each registry row the listing lacks comes back gone, with its registry name.
// Ordered by state, then name.
func CompareListing(instance string, listed []bison.WorkspaceInfo, registry []db.Workspace) db.Listing {
	inRegistry := map[int]db.Workspace{}
	for _, w := range registry {
		if w.Instance == instance {
			inRegistry[w.BisonID] = w
		}
	}
	atSource := map[int]bool{}
	out := db.Listing{Instance: instance}
	for _, w := range listed {
		if atSource[w.ID] {
			continue // listed twice
		}
		atSource[w.ID] = true
		state := db.DiscoveredUnregistered
		if _, ok := inRegistry[w.ID]; ok {
			state = db.DiscoveredRegistered
		}
		out.Workspaces = append(out.Workspaces, db.DiscoveredWorkspace{Instance: instance, BisonID: w.ID, Name: w.Name, State: state})
	}
	for id, w := range inRegistry {
		if !atSource[id] {
			out.Workspaces = append(out.Workspaces, db.DiscoveredWorkspace{Instance: instance, BisonID: id, Name: w.Name, State: db.DiscoveredGone})
		}
	}
	slices.SortFunc(out.Workspaces, func(a, b db.DiscoveredWorkspace) int {
		return cmp.Or(cmp.Compare(a.State, b.State), cmp.Compare(a.Name, b.Name), cmp.Compare(a.BisonID, b.BisonID))
	})
	return out
}

// RegistryNames chooses the registry name of each workspace to register: its name at the
// source, unless the registry (or an earlier one of found) has it, then "NAME (INSTANCE
// #ID)" ("workspace #ID of INSTANCE" when it has none). A pure function; found are
// unregistered workspaces of any instance.
func RegistryNames(found []db.DiscoveredWorkspace, registry []db.Workspace, active bool) []db.NewWorkspace {
	taken := make(map[string]bool, len(registry)+len(found))
	for _, w := range registry {
		taken[w.Name] = true
	}
	out := make([]db.NewWorkspace, 0, len(found))
	for _, f := range found {
		name := f.Name
		switch {
		case name == "":
			name = fmt.Sprintf("workspace #%d of %s", f.BisonID, f.Instance)
		case taken[name]:
			name = fmt.Sprintf("%s (%s #%d)", f.Name, f.Instance, f.BisonID)
		}
		taken[name] = true
		out = append(out, db.NewWorkspace{Name: name, Instance: f.Instance, BisonID: f.BisonID, Active: active})
	}
	return out
}

// discoverTimeout bounds the discovery of one instance: one request, and its retries.
const discoverTimeout = 20 * time.Second

// Discover lists the workspaces of every instance with its super-admin key, concurrently,
// compares each listing with the registry and records it; with opts.Register, instances
// with auto_register register what is new. An instance that cannot be listed (no
// super-admin key, a failed request) says why in its Problem and never fails the others.
// The error is for a registry that cannot be read at all.
func (e *Engine) Discover(ctx context.Context, opts DiscoverOptions) ([]InstanceDiscovery, error) {
	instances, err := e.store.Instances(ctx)
	if err != nil {
		return nil, fmt.Errorf("discover workspaces: %w", err)
	}
	return e.discover(ctx, instances, opts)
}

// discover is Discover once the instances are known.
func (e *Engine) discover(ctx context.Context, instances []db.Instance, opts DiscoverOptions) ([]InstanceDiscovery, error) {
	if len(instances) == 0 {
		return []InstanceDiscovery{}, nil
	}
	registry, err := e.store.Workspaces(ctx, db.Selection{IncludeInactive: true})
	if err != nil {
		return nil, fmt.Errorf("discover workspaces: %w", err)
	}
	out := make([]InstanceDiscovery, len(instances))
	var wg stdsync.WaitGroup
	for i, in := range instances {
		wg.Go(func() {
			ictx, cancel := context.WithTimeout(ctx, discoverTimeout)
			defer cancel()
			out[i] = e.discoverInstance(ictx, in, registry, opts.Register && in.AutoRegister)
		})
	}
	wg.Wait()
	return out, nil
}

// discoverInstance lists one instance, records what it found and, when register is set,
// registers its new workspaces.
func (e *Engine) discoverInstance(ctx context.Context, in db.Instance, registry []db.Workspace, register bool) InstanceDiscovery {
	d := InstanceDiscovery{Instance: in.Name, Unregistered: []DiscoveredWorkspace{}, Gone: []DiscoveredWorkspace{}}
	listed, problem := e.listInstance(ctx, in)
	if problem != "" {
		d.Problem = "cannot be listed: " + problem
		if err := e.store.RecordListingFailure(context.WithoutCancel(ctx), in.Name, d.Problem); err != nil {
			d.Problem += fmt.Sprintf(" (and recording it failed: %v)", err)
		}
		return d
	}
	d.Listed = len(listed)
	listing := CompareListing(in.Name, listed, registry)
	if register {
		d.Registered, d.Problem = e.autoRegister(ctx, &listing, registry)
	}
	if err := e.store.RecordListing(ctx, listing); err != nil {
		d.Problem = joinNonEmpty([]string{d.Problem, fmt.Sprintf("the listing was not recorded: %v", err)})
	}
	for _, w := range listing.Workspaces {
		switch w.State {
		case db.DiscoveredUnregistered:
			d.Unregistered = append(d.Unregistered, DiscoveredWorkspace{Name: w.Name, BisonID: w.BisonID})
		case db.DiscoveredGone:
			d.Gone = append(d.Gone, DiscoveredWorkspace{Name: w.Name, BisonID: w.BisonID})
		}
	}
	return d
}

// listInstance asks the instance for its workspaces with its super-admin key; the problem
// says why it could not.
func (e *Engine) listInstance(ctx context.Context, in db.Instance) ([]bison.WorkspaceInfo, string) {
	key, problem := e.superAdminKey(in)
	if problem != "" {
		return nil, problem + ", so workspaces added there cannot be found"
	}
	listed, err := e.instance(in).ListWorkspaces(ctx, key)
	if err != nil {
		return nil, bison.Scrub(err.Error(), key)
	}
	return listed, ""
}

// autoRegister registers the listing's unregistered workspaces (active) and marks them
// registered in it; it returns them under their registry names.
func (e *Engine) autoRegister(ctx context.Context, listing *db.Listing, registry []db.Workspace) ([]DiscoveredWorkspace, string) {
	var found []db.DiscoveredWorkspace
	for _, w := range listing.Workspaces {
		if w.State == db.DiscoveredUnregistered {
			found = append(found, w)
		}
	}
	if len(found) == 0 {
		return nil, ""
	}
	added, err := e.store.RegisterWorkspaces(ctx, RegistryNames(found, registry, true))
	if err != nil {
		return nil, fmt.Sprintf("auto_register: %v", err)
	}
	var out []DiscoveredWorkspace
	for _, nw := range RegistryNames(found, registry, true) {
		if !slices.Contains(added, nw.Name) {
			continue // registered meanwhile by another process
		}
		out = append(out, DiscoveredWorkspace{Name: nw.Name, BisonID: nw.BisonID})
		for i := range listing.Workspaces {
			if listing.Workspaces[i].BisonID == nw.BisonID {
				listing.Workspaces[i].State = db.DiscoveredRegistered
			}
		}
	}
	return out, ""
}
