package main

import "github.com/spf13/cobra"

// migrateCommand is `bisonsync migrate`: create or upgrade the schema, then exit. The word
// "migrate" may stand anywhere among the flags, as it always could.
func (c *cli) migrateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "create or upgrade the schema (--schema), then exit",
		Long: `Create the schema named by --schema when it is missing and apply the pending migrations.
Every other command does the same at start; this one does only that. It is idempotent and
safe when several processes run it at once.`,
		Annotations: map[string]string{annotUsage: "bisonsync migrate [flags]", annotFooter: exitCodesText},
		Example: `  bisonsync migrate --schema bisonsync
  # the agency's dashboard reads bisonsync's tables through views in public
  bisonsync migrate --dashboard-schema public --grant anon --grant authenticated`,
		Args: noArguments,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.runMode(cmd.Context(), func(o *options) { o.migrate = true })
		},
	}
	addDashboardFlags(cmd.Flags(), &c.opts.dash)
	return cmd
}
