package monitor_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/monitor"
)

// What a run's discovery finds reaches the metrics file and the run's notification: the
// unregistered workspace by name, the gone one as unhealthy.
func TestDiscoveryInMetricsAndNotifications(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleet(t)
	if err := f.Srv.AddWorkspace(sim.IncidentInstance, &sim.Workspace{ID: 50, Name: "Northwind Staffing", Count: 20}); err != nil {
		t.Fatal(err)
	}
	lumen := f.Fleet.Instance(sim.IncidentInstance).WorkspaceNamed("Lumen B2B")
	f.Srv.RemoveWorkspace(sim.IncidentInstance, lumen.ID)
	s := f.run(t)

	msg, notify := monitor.RunMessage(s)
	var notes []string
	for _, w := range msg.Workspaces {
		notes = append(notes, w.Name+" "+w.Status)
	}
	if !notify || !strings.Contains(strings.Join(notes, ","), "Northwind Staffing unregistered") ||
		!strings.Contains(strings.Join(notes, ","), "Lumen B2B gone") || !strings.Contains(msg.Text, "need the registry's attention") {
		t.Fatalf("notify %v: %v\n%s", notify, notes, msg.Text)
	}

	path := filepath.Join(t.TempDir(), "bisonsync.prom")
	if err := monitor.WriteMetrics(ctx, path, f.Store, &s, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	m := parseMetrics(t, path)
	inst := map[string]string{"instance": sim.IncidentInstance}
	m.want("bisonsync_discovery_unregistered", map[string]string{"instance": sim.IncidentInstance, "workspace": "Northwind Staffing", "bison_id": "50"}, 1)
	m.want("bisonsync_discovery_workspaces", map[string]string{"instance": sim.IncidentInstance, "state": "gone"}, 1)
	m.want("bisonsync_discovery_listing_failed", inst, 0)
	if listed := m.get("bisonsync_discovery_listed_timestamp_seconds", inst); time.Since(time.Unix(int64(listed), 0)) > time.Minute {
		t.Errorf("listed at %v", listed)
	}
	m.want("bisonsync_workspace_unhealthy", map[string]string{"workspace": "Lumen B2B", "instance": sim.IncidentInstance}, 1)

	health, err := f.Store.CheckHealth(ctx, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	unreg, _ := f.Store.CheckDiscovery(ctx)
	msg, notify = monitor.CheckMessage(append(health, unreg...), 24*time.Hour)
	if !notify || !strings.Contains(msg.Text, "1 gone from the source, 1 not in the registry") {
		t.Fatalf("check message:\n%s", msg.Text)
	}
	_ = db.HealthGone
}
