package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/safetext"
	"github.com/bisonsync/bisonsync/sync"
)

// keyOptions are the flags and arguments of register and the keys commands.
type keyOptions struct {
	names      []string // register's NAME arguments
	all        bool     // register --all
	inactive   bool     // register --inactive
	workspaces []string // keys --workspace
	replace    bool     // keys mint --replace
}

const keysExitCodes = `Exit codes:
  0    done, nothing wrong found
  1    something failed or is wrong (a key not minted, a wrong or rejected key, an instance
       that could not be listed), named on its line
  2    bad usage (unknown flag, a workspace name that matches none)
  3    database unreachable or not answering, or the schema could not be created or upgraded
  130  interrupted (SIGINT/SIGTERM)`

// runCommand runs a subcommand that is not a mode of a run.
func (s *session) runCommand(ctx context.Context, store *db.Store) (int, error) {
	switch s.opts.command {
	case "register":
		return s.runRegister(ctx, store)
	case "keys mint":
		return s.runKeys(ctx, store, s.mintKeys)
	case "keys check":
		return s.runKeys(ctx, store, s.checkKeys)
	}
	return 0, fmt.Errorf("unknown command %q", s.opts.command)
}

// keysCommand is `bisonsync keys mint|check`.
func (c *cli) keysCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "mint workspace keys (no more waiting for the super-admin key), or check them",
		Long: `Workspaces without a key of their own all go through their instance's super-admin key, one
at a time. 'keys mint' gives them keys of their own; 'keys check' verifies that every key
serves its own workspace. No key is ever printed: a key shows as … and its last 4 characters.`,
		Annotations: map[string]string{annotUsage: "bisonsync keys mint [--workspace NAME]... [--replace]\nbisonsync keys check [--workspace NAME]...",
			annotFooter: keysExitCodes},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("keys needs a command: mint or check")
			}
			return fmt.Errorf("unknown command %q for keys%s", args[0], didYouMean(closest(args[0], []string{"mint", "check"}, 1), asCommand))
		},
		RunE: func(*cobra.Command, []string) error { return nil },
	}
	cmd.AddCommand(c.keysMintCommand(), c.keysCheckCommand())
	return cmd
}

func (c *cli) keysMintCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mint",
		Short: "mint a key for each workspace that relies on its instance's super-admin key",
		Long: `Mint a workspace key with the instance's super-admin key for each named workspace (default:
every active workspace without a key of its own), check that it serves a page, and store it
in client_registry.bison_api_key. Such workspaces then sync in parallel instead of one at a
time. A workspace that has a key is left alone unless --replace is given; a failure for one
workspace does not stop the others. Each line says what was done; the token itself is never
printed, logged or recorded anywhere but bison_api_key.`,
		Annotations: map[string]string{annotUsage: "bisonsync keys mint [--workspace NAME]... [--replace]", annotFooter: keysExitCodes},
		Example: `  bisonsync keys mint
  bisonsync keys mint --workspace "Jason Binyon"
  bisonsync keys mint --replace --workspace "Castle Agency"   # its key serves another workspace`,
		Args: noArguments,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.runMode(cmd.Context(), func(o *options) { o.command = "keys mint" })
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVar(&c.opts.keyOpts.workspaces, "workspace", nil, "mint for workspace `NAME` only (repeatable; case and accents may differ)")
	fs.BoolVar(&c.opts.keyOpts.replace, "replace", false, "also mint for workspaces that have a key, replacing it")
	c.completeFlags(cmd)
	return cmd
}

func (c *cli) keysCheckCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check",
		Short: "verify that every workspace key serves its own workspace",
		Long: `Fetch the first page of each workspace with its own key and, through the super-admin key
after switching to the workspace, the instance's view of it. A key whose page shares no
account with that view serves another workspace: wrong-key (its syncs then stop, so that no
other workspace's accounts land under it, until its key is replaced). A refused key is
rejected. The result is kept in client_registry (key_status) for check and the console.`,
		Annotations: map[string]string{annotUsage: "bisonsync keys check [--workspace NAME]...", annotFooter: keysExitCodes},
		Example: `  bisonsync keys check
  bisonsync keys check --workspace "Castle Agency"`,
		Args: noArguments,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.runMode(cmd.Context(), func(o *options) { o.command = "keys check" })
		},
	}
	cmd.Flags().StringArrayVar(&c.opts.keyOpts.workspaces, "workspace", nil, "check workspace `NAME` only (repeatable; case and accents may differ)")
	c.completeFlags(cmd)
	return cmd
}

// runKeys resolves --workspace against the registry (a name that matches none is exit 2),
// runs do, prints its lines and exits 1 when one is a problem.
func (s *session) runKeys(ctx context.Context, store *db.Store, do func(context.Context, *sync.Engine) ([]sync.KeyResult, error)) (int, error) {
	names := s.opts.keyOpts.workspaces
	if len(names) > 0 {
		registry, err := store.Workspaces(ctx, db.Selection{IncludeInactive: true})
		if err != nil {
			return 0, &dbError{err: err}
		}
		resolved, problems := resolveNames("--workspace", names, registry)
		if len(problems) > 0 {
			return 0, &usageError{msg: problems[0]}
		}
		s.opts.keyOpts.workspaces = resolved
	}
	results, err := do(ctx, sync.New(store, engineConfig(s.opts, "keys")))
	if err != nil {
		return 0, &dbError{err: err}
	}
	if len(results) == 0 {
		fmt.Fprintln(s.stdout, "nothing to do: no workspace selected")
	}
	writeKeyResults(s.stdout, results)
	for _, r := range results {
		if r.Outcome.Problem() {
			return exitFailed, nil
		}
	}
	return exitOK, nil
}

func (s *session) mintKeys(ctx context.Context, e *sync.Engine) ([]sync.KeyResult, error) {
	return e.MintKeys(ctx, sync.MintRequest{Names: s.opts.keyOpts.workspaces, Replace: s.opts.keyOpts.replace})
}

func (s *session) checkKeys(ctx context.Context, e *sync.Engine) ([]sync.KeyResult, error) {
	return e.CheckKeys(ctx, s.opts.keyOpts.workspaces)
}

// writeKeyResults prints one line per workspace: name, outcome, key hint, what was done.
func writeKeyResults(w io.Writer, results []sync.KeyResult) {
	if len(results) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKSPACE\tOUTCOME\tKEY\tDETAIL")
	for _, r := range results {
		key := r.Key
		if key == "" {
			key = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", safetext.Clean(r.Workspace), r.Outcome, key, safetext.Clean(r.Detail))
	}
	tw.Flush()
}
