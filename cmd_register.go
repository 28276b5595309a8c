package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/safetext"
	"github.com/bisonsync/bisonsync/sync"
)

// registerCommand is `bisonsync register NAME… | --all`: add the workspaces the instances
// list and the registry lacks.
func (c *cli) registerCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "register",
		Short: "add workspaces found at the source (unregistered) to the registry",
		Long: `List each instance's workspaces with its super-admin key and add to client_registry the
named ones (as Email Bison names them; case and accents may differ), or with --all every one
the registry lacks: instance, Bison id and name from the listing, no key of their own (the
instance's super-admin key serves them until 'bisonsync keys mint' gives them one), active
unless --inactive. Says what it did for each; never prints a key.`,
		Annotations: map[string]string{annotUsage: "bisonsync register NAME... | --all [--inactive]", annotFooter: keysExitCodes},
		Example: `  bisonsync register "Northwind Staffing"
  bisonsync register --all
  bisonsync register --inactive "Agency Main"   # known, but left out of runs`,
		ValidArgsFunction: c.completeUnregistered,
		RunE: func(cmd *cobra.Command, args []string) error {
			o := &c.opts.keyOpts
			switch {
			case len(args) == 0 && !o.all:
				return errors.New("name the workspaces to register, or give --all")
			case len(args) > 0 && o.all:
				return errors.New("give workspace names or --all, not both")
			}
			if err := validNames(args); err != nil {
				return err
			}
			o.names = args
			return c.runMode(cmd.Context(), func(o *options) { o.command = "register" })
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&c.opts.keyOpts.all, "all", false, "register every workspace the instances list that the registry lacks")
	fs.BoolVar(&c.opts.keyOpts.inactive, "inactive", false, "register them with is_active = false: known, but left out of runs")
	return cmd
}

// runRegister lists the instances, then registers what was asked for.
func (s *session) runRegister(ctx context.Context, store *db.Store) (int, error) {
	o := s.opts.keyOpts
	found, err := sync.New(store, engineConfig(s.opts, "register")).Discover(ctx, sync.DiscoverOptions{})
	if err != nil {
		return 0, &dbError{err: err}
	}
	unlisted := reportUnlisted(s.stderr, found)
	unregistered, err := store.Discovered(ctx, db.DiscoveredUnregistered)
	if err != nil {
		return 0, &dbError{err: err}
	}
	registry, err := store.Workspaces(ctx, db.Selection{IncludeInactive: true})
	if err != nil {
		return 0, &dbError{err: err}
	}
	chosen := unregistered
	if !o.all {
		var notes []string
		if chosen, notes, err = chooseUnregistered(o.names, unregistered, registry); err != nil {
			return 0, err
		}
		for _, n := range notes {
			fmt.Fprintln(s.stdout, n)
		}
	}
	code := exitOK
	if o.all && unlisted > 0 {
		code = exitFailed // what those instances hold is unknown
	}
	if len(chosen) == 0 {
		if o.all {
			fmt.Fprintln(s.stdout, "nothing to register: the registry holds every workspace the instances list")
		}
		return code, nil
	}
	if !registerChosen(ctx, s.stdout, store, sync.RegistryNames(chosen, registry, !o.inactive)) {
		code = exitFailed
	}
	return code, nil
}

// reportUnlisted says on w which instances could not be listed, and returns how many.
func reportUnlisted(w io.Writer, found []sync.InstanceDiscovery) int {
	n := 0
	for _, d := range found {
		if d.Problem != "" && d.Listed == 0 {
			fmt.Fprintf(w, "bisonsync: instance %s %s\n", safetext.Clean(d.Instance), safetext.Clean(d.Problem))
			n++
		}
	}
	return n
}

// chooseUnregistered matches each typed name to one unregistered workspace: the same name,
// else the one equal to it case- and accent-folded. A name the registry already holds is a
// note, not a mistake; a name that matches nothing (or several) is bad usage (exit 2).
func chooseUnregistered(typed []string, unregistered []db.DiscoveredWorkspace, registry []db.Workspace) ([]db.DiscoveredWorkspace, []string, error) {
	var chosen []db.DiscoveredWorkspace
	var notes, problems []string
	names := make([]string, len(unregistered))
	for i, d := range unregistered {
		names[i] = d.Name
	}
	for _, t := range typed {
		match := matchName(t, names)
		switch {
		case len(match) == 1:
			d := unregistered[slices.Index(names, match[0])]
			if !slices.ContainsFunc(chosen, func(c db.DiscoveredWorkspace) bool { return c == d }) {
				chosen = append(chosen, d)
			}
		case len(match) > 1:
			problems = append(problems, fmt.Sprintf("%q matches %d unregistered workspaces (%s): register them with --all, or with SQL", t, len(match), quoteAll(match)))
		case slices.ContainsFunc(registry, func(w db.Workspace) bool { return fold(w.Name) == fold(t) }):
			notes = append(notes, fmt.Sprintf("%q is already registered", t))
		default:
			problems = append(problems, fmt.Sprintf("no unregistered workspace is called %q%s", t, suggestUnregistered(t, names)))
		}
	}
	if len(problems) > 0 {
		return nil, nil, &usageError{msg: strings.Join(problems, "\n")}
	}
	return chosen, notes, nil
}

// matchName returns the names equal to typed, else those equal to it folded.
func matchName(typed string, names []string) []string {
	if slices.Contains(names, typed) {
		return []string{typed}
	}
	var out []string
	for _, n := range names {
		if fold(n) == fold(typed) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func suggestUnregistered(typed string, names []string) string {
	if s := didYouMean(closest(typed, names, 3), asName); s != "" {
		return s
	}
	if len(names) == 0 {
		return ": the instances list no workspace that the registry lacks"
	}
	return fmt.Sprintf(": none of the %d unregistered workspaces is close (bisonsync check lists them)", len(names))
}

// registerChosen adds the workspaces and says what became of each; false when some could
// not be added.
func registerChosen(ctx context.Context, w io.Writer, store *db.Store, chosen []db.NewWorkspace) bool {
	added, err := store.RegisterWorkspaces(ctx, chosen)
	if err != nil {
		fmt.Fprintf(w, "nothing registered: %v\n", err)
		return false
	}
	ok := true
	for _, nw := range chosen {
		what := fmt.Sprintf("%q (instance %s, id %d)", nw.Name, nw.Instance, nw.BisonID)
		switch {
		case !slices.Contains(added, nw.Name):
			ok = false
			fmt.Fprintf(w, "not registered %s: the registry holds that name, or that workspace, already\n", safetext.Clean(what))
		case nw.Active:
			fmt.Fprintf(w, "registered %s, active: the next run syncs it, with the instance's super-admin key until it has its own (bisonsync keys mint --workspace %q)\n",
				safetext.Clean(what), safetext.Clean(nw.Name))
		default:
			fmt.Fprintf(w, "registered %s, inactive: runs leave it out until is_active = true\n", safetext.Clean(what))
		}
	}
	return ok
}

// completeUnregistered offers the names of the unregistered workspaces the last listing
// found, from the database, within the completion bound.
func (c *cli) completeUnregistered(cmd *cobra.Command, _ []string, typed string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
	defer cancel()
	store, err := db.Open(ctx, db.Config{URL: c.databaseURL(), Schema: c.opts.schema, MaxConns: 2})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer store.Close()
	found, err := store.Discovered(ctx, db.DiscoveredUnregistered)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, d := range found {
		if strings.HasPrefix(fold(d.Name), fold(typed)) {
			out = append(out, d.Name)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
