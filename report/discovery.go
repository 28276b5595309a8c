package report

import (
	"context"
	"log/slog"

	"github.com/bisonsync/bisonsync/sync"
)

// discovered logs what the listing of one instance found: a line for what the instance's
// auto_register added, one for what is at the source and not in the registry, one for what
// the source no longer lists (those two at warning level: nothing syncs the first, nothing
// can sync the second), or why the instance cannot be listed.
func (l *Logger) discovered(d sync.InstanceDiscovery) {
	ctx := context.Background()
	if d.Problem != "" {
		l.log.Warn("instance not listed", "instance", d.Instance, "problem", d.Problem)
	}
	if len(d.Registered) > 0 {
		l.log.Info("workspaces registered (auto_register)", "instance", d.Instance, "workspaces", workspaceNames(d.Registered))
	}
	if len(d.Unregistered) > 0 {
		l.log.Log(ctx, slog.LevelWarn, "workspaces at the source not in the registry (unregistered): nothing syncs them",
			"instance", d.Instance, "workspaces", workspaceNames(d.Unregistered), "fix", "bisonsync register NAME... (or --all)")
	}
	if len(d.Gone) > 0 {
		l.log.Log(ctx, slog.LevelWarn, "registered workspaces no longer at the source (gone)",
			"instance", d.Instance, "workspaces", workspaceNames(d.Gone), "fix", "remove them from client_registry or set is_active = false")
	}
	if d.Problem == "" && len(d.Registered)+len(d.Unregistered)+len(d.Gone) == 0 {
		l.log.Info("workspaces listed", "instance", d.Instance, "listed", d.Listed)
	}
}

func workspaceNames(ws []sync.DiscoveredWorkspace) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Name
	}
	return out
}
