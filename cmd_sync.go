package main

import "github.com/spf13/cobra"

// syncCommand is `bisonsync sync`: the --headless run under its own name.
func (c *cli) syncCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "sync all active workspaces without a UI (for cron); same as --headless",
		Long: `Sync every active workspace (or those --workspace names, or those --stale selects) with
the console's engine, without a UI. Progress and events go to stderr; with --json, one summary
object goes to stdout at the end. The exit code says how it went.`,
		Annotations: map[string]string{annotUsage: "bisonsync sync [flags]", annotFooter: exitCodesText},
		Example: `  bisonsync sync --json > /var/log/bisonsync/last.json
  bisonsync sync --stale 1h --deadline 50m
  bisonsync sync --workspace "Castle Agency" --workspace "Jason Binyon"
  bisonsync sync --every 1h --metrics-file /var/lib/node_exporter/bisonsync.prom`,
		Args: noArguments,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.runMode(cmd.Context(), func(o *options) { o.headless = true })
		},
	}
	fs := cmd.Flags()
	addSyncFlags(fs, &c.opts)
	addDemoFlag(fs, &c.opts, groupSync)
	addCheckFlags(fs, &c.opts)
	addOutputFlags(fs, &c.opts)
	addMonitorFlags(fs, &c.opts)
	c.completeFlags(cmd)
	return cmd
}
