package main

import "github.com/spf13/cobra"

// checkCommand is `bisonsync check`: --check under its own name.
func (c *cli) checkCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check",
		Short: "report stale, failing and never-synced workspaces, without syncing; same as --check",
		Long: `Report how the registry's active workspaces stand, without syncing: a header, a one-line
count by state, then one line per workspace that is not ok (name, state, age of the last
success, reason). Exit 1 when any is stale, failing or never synced, or when the registry has
no active workspace; a warning is shown without changing the exit code.`,
		Annotations: map[string]string{annotUsage: "bisonsync check [flags]", annotFooter: exitCodesText},
		Example: `  bisonsync check --max-age 6h || notify-team "bisonsync: stale workspaces"
  bisonsync check --json --max-age 24h`,
		Args: noArguments,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.runMode(cmd.Context(), func(o *options) { o.check = true })
		},
	}
	fs := cmd.Flags()
	addCheckFlags(fs, &c.opts)
	addOutputFlags(fs, &c.opts)
	addMonitorFlags(fs, &c.opts)
	c.completeFlags(cmd)
	return cmd
}
