package main

import (
	"context"
	"fmt"

	"github.com/bisonsync/bisonsync/bison"
	"github.com/bisonsync/bisonsync/db"
)

// registryState is what a run or a check needs to know of the registry before it starts:
// an empty one is a problem to report, never a healthy silence (issue 12).
type registryState struct {
	schema     string
	active     int // workspaces with is_active
	inactive   int
	instances  int  // rows of bison_instances
	superAdmin bool // some instance has a super-admin key, so `register --all` can list its workspaces
	// badURLs are the base_url problems of instances active workspaces use: configuration
	// errors to fix before anything is sent (exit 2), not 15 retries of "network error".
	badURLs []error
}

// readRegistry counts the registry's workspaces and instances.
func readRegistry(ctx context.Context, store *db.Store) (registryState, error) {
	st := registryState{schema: store.Schema()}
	all, err := store.Workspaces(ctx, db.Selection{IncludeInactive: true})
	if err != nil {
		return st, fmt.Errorf("read client_registry of schema %q: %w", store.Schema(), err)
	}
	for _, w := range all {
		if w.IsActive {
			st.active++
		} else {
			st.inactive++
		}
	}
	instances, err := store.Instances(ctx)
	if err != nil {
		return st, fmt.Errorf("read bison_instances of schema %q: %w", store.Schema(), err)
	}
	st.instances = len(instances)
	for _, in := range instances {
		st.superAdmin = st.superAdmin || !in.APIKey.IsZero()
		if err := bison.ValidateBaseURL(in.Name, in.BaseURL); err != nil && in.InUse {
			st.badURLs = append(st.badURLs, err)
		}
	}
	return st, nil
}

// emptyProblem says, when the registry has no active workspace, that it has none and how to
// add one; "" when it has some.
func (st registryState) emptyProblem() string {
	if st.active > 0 {
		return ""
	}
	msg := fmt.Sprintf("schema %q has no active workspace in client_registry: nothing to sync or check", st.schema)
	if st.inactive > 0 {
		msg += fmt.Sprintf(" (%d registered, all with is_active = false)", st.inactive)
	}
	switch {
	case st.superAdmin:
		return msg + ".\nAdd the workspaces of your instances with: bisonsync register --all" + st.schemaFlag()
	case st.instances == 0:
		return msg + ".\nAdd an Email Bison instance to bison_instances, then its workspaces to client_registry" +
			" (INSERT statements in the README's Configuration)."
	default:
		return msg + ".\nAdd workspaces with SQL (see the README's Configuration), e.g.\n" +
			"    INSERT INTO " + st.schema + ".client_registry (workspace_name, bison_instance, bison_workspace_id, bison_api_key)\n" +
			"    VALUES ('Castle Agency', 'main', 2, 'env:BISON_KEY_CASTLE');\n" +
			"or give an instance its super-admin key (bison_instances.api_key) and run: bisonsync register --all" + st.schemaFlag()
	}
}

func (st registryState) schemaFlag() string {
	if st.schema == db.DefaultSchema {
		return ""
	}
	return " --schema " + st.schema
}

// emptyRegistryError is a run with nothing to sync: exit 1.
type emptyRegistryError struct{ problem string }

func (e *emptyRegistryError) Error() string { return e.problem }
