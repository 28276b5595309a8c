package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/bisonsync/bisonsync/db"
)

// nameFlag is one flag's workspace names, as typed.
type nameFlag struct {
	flag  string // "--workspace"
	names *[]string
}

// resolveNameFlags replaces the workspace names of --workspace and --allow-deletions with the
// registry's spelling, before anything runs. A name that matches no workspace, or several,
// is bad usage: a misspelt --allow-deletions used to apply nothing and exit 0.
func resolveNameFlags(ctx context.Context, store *db.Store, o *options) error {
	if len(o.workspaces) == 0 && len(o.allowDeletions) == 0 {
		return nil
	}
	registry, err := store.Workspaces(ctx, db.Selection{IncludeInactive: true})
	if err != nil {
		return &dbError{err: fmt.Errorf("read the workspace names of schema %q: %w", store.Schema(), err)}
	}
	var problems []string
	for _, f := range []nameFlag{{"--workspace", &o.workspaces}, {"--allow-deletions", &o.allowDeletions}} {
		resolved, bad := resolveNames(f.flag, *f.names, registry)
		*f.names = resolved
		problems = append(problems, bad...)
	}
	if len(problems) == 0 {
		problems = allowedButNotSynced(o.workspaces, o.allowDeletions, registry)
	}
	if len(problems) > 0 {
		return &usageError{msg: strings.Join(problems, "\n")}
	}
	return nil
}

// resolveNames matches each typed name to one registered workspace: the same name, else the
// one name equal to it case- and accent-folded ("muller" finds "Müller"). It returns the
// registry's names, each once, and a sentence per name that matches none or several.
func resolveNames(flag string, typed []string, registry []db.Workspace) ([]string, []string) {
	var out, problems []string
	all := make([]string, len(registry))
	for i, w := range registry {
		all[i] = w.Name
	}
	for _, t := range typed {
		var match []string
		if slices.Contains(all, t) {
			match = []string{t}
		} else {
			for _, n := range all {
				if fold(n) == fold(t) {
					match = append(match, n)
				}
			}
		}
		switch len(match) {
		case 1:
			if !slices.Contains(out, match[0]) {
				out = append(out, match[0])
			}
		case 0:
			problems = append(problems, fmt.Sprintf("unknown workspace %q in %s%s", t, flag, suggestNames(t, all)))
		default:
			problems = append(problems, fmt.Sprintf("%s %q matches %d workspaces (%s): write the name exactly", flag, t, len(match), quoteAll(match)))
		}
	}
	return out, problems
}

// suggestNames ends an unknown name's error with the closest registered names, or says
// where names come from when none is close.
func suggestNames(typed string, all []string) string {
	if s := didYouMean(closest(typed, all, 3), asName); s != "" {
		return s
	}
	if len(all) == 0 {
		return ": client_registry has no workspace"
	}
	return fmt.Sprintf(": no workspace of the %d in client_registry is close (bisonsync completion completes them)", len(all))
}

// allowedButNotSynced names the --allow-deletions workspaces this run will not sync, so that
// their held deletions would not be applied: those outside --workspace, or inactive ones
// when a full run skips them.
func allowedButNotSynced(selected, allowed []string, registry []db.Workspace) []string {
	var problems []string
	for _, name := range allowed {
		switch {
		case len(selected) > 0 && !slices.Contains(selected, name):
			problems = append(problems, fmt.Sprintf("--allow-deletions %q: this run syncs only the --workspace names; add --workspace %q", name, name))
		case len(selected) == 0 && !isActive(name, registry):
			problems = append(problems, fmt.Sprintf("--allow-deletions %q: the workspace is inactive, so a full run skips it; add --workspace %q", name, name))
		}
	}
	return problems
}

func isActive(name string, registry []db.Workspace) bool {
	for _, w := range registry {
		if w.Name == name {
			return w.IsActive
		}
	}
	return false
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = asName(n)
	}
	return strings.Join(q, ", ")
}
