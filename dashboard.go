package main

// The agency's dashboard on the command line (CONTRACT.md §5, §6): `migrate
// --dashboard-schema NAME [--grant ROLE]… [--replace-existing]` installs its views,
// `migrate --reprice` re-prices stored rows from pricing_rules, and `--headless --every D`
// serves runs asked for in sync_requests while it waits for its next run. Kept apart from
// flags.go and modes.go, which hook into it in one line each.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/report"
	"github.com/bisonsync/bisonsync/sync"
)

// dashboardFlags are the dashboard's options of `migrate`.
type dashboardFlags struct {
	schema          string
	grants          []string
	replaceExisting bool
	reprice         bool
}

// addDashboardFlags: the dashboard's options of migrate.
func addDashboardFlags(fs *pflag.FlagSet, d *dashboardFlags) {
	fs.StringVar(&d.schema, "dashboard-schema", "", "with migrate: create (and keep current) the agency dashboard's views in schema `NAME` (e.g. public)")
	fs.StringArrayVar(&d.grants, "grant", nil, "with --dashboard-schema: give `ROLE` SELECT on the dashboard's views (repeatable; a missing role is skipped and named)")
	fs.BoolVar(&d.replaceExisting, "replace-existing", false, "with --dashboard-schema: keep objects of the same names, renamed NAME_before_bisonsync, instead of refusing")
	fs.BoolVar(&d.reprice, "reprice", false, "with migrate: re-price every stored account from pricing_rules now")
	inGroup(fs, groupDash, "dashboard-schema", "grant", "replace-existing", "reprice")
}

func (d dashboardFlags) validate(migrate bool) error {
	switch {
	case (d.schema != "" || d.reprice) && !migrate:
		return errors.New("--dashboard-schema and --reprice go with migrate")
	case (len(d.grants) > 0 || d.replaceExisting) && d.schema == "":
		return errors.New("--grant and --replace-existing go with --dashboard-schema")
	case slices.ContainsFunc(d.grants, func(r string) bool { return strings.TrimSpace(r) == "" }):
		return errors.New("a role name cannot be empty")
	case d.schema != "":
		if err := db.ValidSchemaName(d.schema); err != nil {
			return fmt.Errorf("--dashboard-schema: %v", err)
		}
	}
	return nil
}

// runMigrate is `bisonsync migrate`: the schema is up to date (openStore saw to it); then
// the dashboard's views and the re-pricing, when asked.
func runMigrate(ctx context.Context, store *db.Store, d dashboardFlags, stdout io.Writer) (int, error) {
	fmt.Fprintf(stdout, "schema %q on %s is up to date\n", store.Schema(), store.Host())
	if d.schema != "" {
		res, err := store.InstallDashboard(ctx, db.DashboardOptions{Schema: d.schema, Grants: d.grants, ReplaceExisting: d.replaceExisting})
		var existing *db.ExistingObjectsError
		if errors.As(err, &existing) {
			return 0, &usageError{msg: err.Error()}
		}
		if err != nil {
			return 0, &dbError{err: err}
		}
		printDashboard(stdout, res)
	}
	if d.reprice {
		res, err := store.Reprice(ctx, "")
		if err != nil {
			return 0, &dbError{err: err}
		}
		fmt.Fprintf(stdout, "re-priced %d accounts in %d workspaces from pricing_rules: %d changed\n", res.Accounts, res.Workspaces, res.Changed)
	}
	return exitOK, nil
}

func printDashboard(w io.Writer, res db.DashboardResult) {
	for _, k := range res.Kept {
		fmt.Fprintf(w, "kept %s %s.%s as %s.%s\n", k.Kind, res.Schema, k.Name, res.Schema, k.KeptAs)
	}
	fmt.Fprintf(w, "dashboard views in schema %q: %s (re-created at every upgrade)\n", res.Schema, strings.Join(res.Views, ", "))
	if res.Materialized {
		fmt.Fprintln(w, "note: email_accounts_view is bisonsync's own materialized view here: current after each run, not each commit")
	}
	if len(res.Granted) > 0 {
		fmt.Fprintf(w, "SELECT granted to %s\n", strings.Join(res.Granted, ", "))
	}
	for _, r := range res.MissingRoles {
		fmt.Fprintf(w, "role %q does not exist: not granted (create it, then run this again)\n", r)
	}
}

// serveUntil waits for the next scheduled run at until, serving runs asked for in
// sync_requests meanwhile. It reports whether a requested run was interrupted (exit 130).
func (s *session) serveUntil(ctx context.Context, engine *sync.Engine, store *db.Store, until time.Time) (bool, error) {
	res, err := sync.ServeRequests(ctx, engine, store, sync.ServeOptions{
		Until:    until,
		Observer: s.log.Observe,
		Finished: func(summary sync.Summary) {
			if s.opts.jsonOut {
				_ = report.SummaryJSON(s.stdout, summary)
			}
			monitorOutputs(context.WithoutCancel(ctx), store, s.opts, &summary, nil, s.log)
		},
	})
	return res.Interrupted, err
}
