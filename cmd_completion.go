package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"
)

var completionShells = []string{"bash", "zsh", "fish"}

// completionCommand is `bisonsync completion bash|zsh|fish`: a script that completes
// commands, flags and, from the configured database, workspace names.
func (c *cli) completionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "print a shell completion script (commands, flags, workspace names)",
		Long: `Print a completion script for bash, zsh or fish. Besides commands and flags it completes
workspace names after --workspace and --allow-deletions, read from client_registry of the
configured database and schema (--database-url, --schema or DATABASE_URL, as typed or set
when you press tab), with a 2 s limit; it completes nothing when the database is unreachable.`,
		Annotations: map[string]string{annotUsage: "bisonsync completion bash|zsh|fish"},
		Example: `  # bash (needs the bash-completion package)
  bisonsync completion bash > /etc/bash_completion.d/bisonsync
  # zsh: a directory on $fpath
  bisonsync completion zsh > "${fpath[1]}/_bisonsync"
  # fish
  bisonsync completion fish > ~/.config/fish/completions/bisonsync.fish`,
		ValidArgs: completionShells,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("name one shell: bash, zsh or fish")
			}
			if !slices.Contains(completionShells, args[0]) {
				return fmt.Errorf("no completion for shell %q: bash, zsh or fish%s", args[0], didYouMean(closest(args[0], completionShells, 1), asCommand))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(c.stdout, true)
			case "zsh":
				return root.GenZshCompletion(c.stdout)
			default:
				return root.GenFishCompletion(c.stdout, true)
			}
		},
	}
}
