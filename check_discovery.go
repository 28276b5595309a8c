package main

import (
	"context"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/report"
	"github.com/bisonsync/bisonsync/sync"
)

// listInstances is the check's discovery: each instance's workspaces listed with its
// super-admin key (one request per instance, 20 s at most), compared with the registry and
// recorded, so that the check reports what is unregistered or gone as the source has it
// now. It returns the instances that could not be listed; a database that cannot be read
// here is left to the check's own reads to report.
func (s *session) listInstances(ctx context.Context, store *db.Store) []report.InstanceNote {
	found, err := sync.New(store, engineConfig(s.opts, "check")).Discover(ctx, sync.DiscoverOptions{})
	if err != nil {
		s.log.Warn("workspaces at the source not listed", "error", err.Error())
		return nil
	}
	var notes []report.InstanceNote
	for _, d := range found {
		if d.Problem != "" {
			notes = append(notes, report.InstanceNote{Name: d.Instance, Problem: d.Problem})
		}
	}
	return notes
}

// checkHealth is what the check reports: the registry's workspaces that need attention,
// then the unregistered ones at the source, then those that only carry a warning.
func checkHealth(ctx context.Context, store *db.Store, maxAge time.Duration) ([]db.Health, error) {
	registry, err := store.CheckHealth(ctx, maxAge)
	if err != nil {
		return nil, err
	}
	unregistered, err := store.CheckDiscovery(ctx)
	if err != nil {
		return nil, err
	}
	var out, warnings []db.Health
	for _, h := range registry {
		if h.State.NeedsAttention() {
			out = append(out, h)
		} else {
			warnings = append(warnings, h)
		}
	}
	out = append(out, unregistered...)
	return append(out, warnings...), nil
}
