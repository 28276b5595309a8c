package monitor

import (
	"context"
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// discoveryNotes are what a run's discovery found that needs the registry's attention:
// workspaces at the source that nothing syncs, registered ones the source no longer lists.
func discoveryNotes(found []sync.InstanceDiscovery) []WorkspaceNote {
	var out []WorkspaceNote
	for _, d := range found {
		for _, w := range d.Unregistered {
			out = append(out, WorkspaceNote{Name: w.Name, Instance: d.Instance, Status: string(db.HealthUnregistered),
				Reason: fmt.Sprintf("instance %s lists it (id %d) but client_registry lacks it, so nothing syncs it: bisonsync register %q", d.Instance, w.BisonID, w.Name)})
		}
		for _, w := range d.Gone {
			out = append(out, WorkspaceNote{Name: w.Name, Instance: d.Instance, Status: string(db.HealthGone),
				Reason: fmt.Sprintf("instance %s no longer lists workspace id %d: remove it from client_registry, or set is_active = false", d.Instance, w.BisonID)})
		}
	}
	return out
}

// collectDiscovery describes what the latest listing of each instance found:
//
//	bisonsync_discovery_listed_timestamp_seconds{instance}   last successful listing; 0 never
//	bisonsync_discovery_listing_failed{instance}              1 when the latest listing failed
//	                                                          or cannot be made (no super-admin key)
//	bisonsync_discovery_workspaces{instance,state}            unregistered and gone workspaces
//	bisonsync_discovery_unregistered{instance,workspace,bison_id}  1 per unregistered workspace
func collectDiscovery(ctx context.Context, reg *prometheus.Registry, store *db.Store) error {
	instances, err := store.Instances(ctx)
	if err != nil {
		return err
	}
	found, err := store.Discovered(ctx, db.DiscoveredUnregistered, db.DiscoveredGone)
	if err != nil {
		return err
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Subsystem: "discovery", Name: name, Help: help}, labels)
	}
	listed := gauge("listed_timestamp_seconds", "Unix time of the last successful listing of the instance's workspaces; 0 when never.", "instance")
	failed := gauge("listing_failed", "1 when the latest listing of the instance's workspaces failed or cannot be made (no super-admin key): workspaces added there go unseen.", "instance")
	counts := gauge("workspaces", "Workspaces at the source not in the registry (state unregistered), and registered ones the source no longer lists (gone).", "instance", "state")
	unregistered := gauge("unregistered", "1 for each workspace at the source that the registry lacks: nothing syncs it.", "instance", "workspace", "bison_id")
	for _, in := range instances {
		listed.WithLabelValues(in.Name).Set(unixSeconds(in.ListedAt))
		failed.WithLabelValues(in.Name).Set(boolValue(in.ListError != ""))
		for _, st := range []db.DiscoveryState{db.DiscoveredUnregistered, db.DiscoveredGone} {
			counts.WithLabelValues(in.Name, string(st))
		}
	}
	for _, d := range found {
		counts.WithLabelValues(d.Instance, string(d.State)).Inc()
		if d.State == db.DiscoveredUnregistered {
			unregistered.WithLabelValues(d.Instance, d.Name, strconv.Itoa(d.BisonID)).Set(1)
		}
	}
	return register(reg, listed, failed, counts, unregistered)
}
