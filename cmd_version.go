package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// versionCommand is `bisonsync version`, the same as --version.
func (c *cli) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:         "version",
		Short:       "print the version and the commit it was built from",
		Annotations: map[string]string{annotUsage: "bisonsync version"},
		Args:        noArguments,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintln(c.stdout, versionLine())
		},
	}
}
