package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bisonsync/bisonsync/db"
)

// completionTimeout bounds the database read behind a tab press: a shell that hangs is
// worse than one that completes nothing.
const completionTimeout = 2 * time.Second

// completeFlags registers the dynamic completions of cmd's flags.
func (c *cli) completeFlags(cmd *cobra.Command) {
	fixed := func(values ...string) cobra.CompletionFunc {
		return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
	}
	completions := map[string]cobra.CompletionFunc{
		"workspace":       c.completeWorkspaces,
		"allow-deletions": c.completeWorkspaces,
		"log-format":      fixed("text", "json"),
	}
	for name, f := range completions {
		if cmd.Flags().Lookup(name) != nil {
			_ = cmd.RegisterFlagCompletionFunc(name, f) // cannot fail: the flag exists
		}
	}
}

// completeWorkspaces offers the registry's workspace names (inactive ones too: naming one is
// how it is synced) that begin with what was typed, compared folded. It never creates or
// upgrades the schema, and stays silent when the database cannot be read in time.
func (c *cli) completeWorkspaces(cmd *cobra.Command, _ []string, typed string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
	defer cancel()
	names, err := registryNames(ctx, c.databaseURL(), c.opts.schema)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	prefix := fold(typed)
	for _, n := range names {
		if strings.HasPrefix(fold(n), prefix) {
			out = append(out, n)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// registryNames reads every workspace name of the registry, without migrating.
func registryNames(ctx context.Context, url, schema string) ([]string, error) {
	store, err := db.Open(ctx, db.Config{URL: url, Schema: schema, MaxConns: 2})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	ws, err := store.Workspaces(ctx, db.Selection{IncludeInactive: true})
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ws))
	for i, w := range ws {
		names[i] = w.Name
	}
	return names, nil
}

// databaseURL is --database-url, else DATABASE_URL; empty leaves it to the libpq variables.
func (c *cli) databaseURL() string {
	if c.opts.databaseURL != "" {
		return c.opts.databaseURL
	}
	return c.getenv("DATABASE_URL")
}
