package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// helpCommand is `bisonsync help [COMMAND]`. It replaces cobra's, which answers an unknown
// topic with exit 0; here that is bad usage, with the closest command suggested.
func (c *cli) helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:         "help [COMMAND]",
		Short:       "show the help of bisonsync, or of one command",
		Annotations: map[string]string{annotUsage: "bisonsync help [COMMAND]"},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return commandNames(cmd), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := cmd.Root().Find(args)
			if err == nil && len(rest) > 0 {
				err = fmt.Errorf("no help for %q: unknown command%s", rest[0], didYouMean(closest(rest[0], commandNames(cmd), 3), asCommand))
			}
			if err != nil {
				return err
			}
			return target.Help()
		},
	}
}
