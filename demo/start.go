package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// Banner is the demo's one-line explanation on the console's first screen. It stays up while
// the state changes, so it describes where the demo started, not how things stand now. It
// fits 80 columns.
const Banner = "DEMO: simulated fleet; at start Jason Binyon was 18 days stale. S: full sync."

// Demo is a running demo: the simulator and the store on the demo schema.
type Demo struct {
	Server *sim.Server
	Store  *db.Store
}

// Close stops the simulator and closes the store.
func (d *Demo) Close() {
	d.Server.Close()
	d.Store.Close()
}

// Start resets schema ("" for Schema, the demo's own) of the database at url ("" for the
// libpq defaults) and fills
// it with the incident fleet's registry and starting point, served by a fresh simulator with
// production latency and a few transient faults the engine rides out visibly.
func Start(ctx context.Context, url, schema string) (*Demo, error) {
	if schema == "" {
		schema = Schema
	}
	store, err := db.Open(ctx, db.Config{URL: url, Schema: schema})
	if err != nil {
		return nil, err
	}
	if _, err := store.Pool().Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		store.Close()
		return nil, fmt.Errorf("reset the demo schema %s: %w", schema, err)
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("create the demo schema %s: %w", schema, err)
	}
	fleet := sim.IncidentFleet()
	srv := sim.NewServer(fleet, sim.Options{Latency: sim.ProductionLatency, Jitter: 60 * time.Millisecond})
	d := &Demo{Server: srv, Store: store}
	if err := d.seed(ctx, fleet); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.addUnregistered(ctx); err != nil {
		d.Close()
		return nil, err
	}
	d.armFaults(fleet)
	return d, nil
}

// Unregistered is the demo's client that was added in Email Bison after the registry was
// filled: the instance lists it, the registry lacks it, so nothing would ever sync it.
var Unregistered = sim.Workspace{ID: 47, Name: "Northwind Staffing", Seed: 47, Count: 140}

// addUnregistered adds Unregistered at the source, then lists the instance's workspaces as
// every run does, so that the console shows it from the first screen.
func (d *Demo) addUnregistered(ctx context.Context) error {
	w := Unregistered
	if err := d.Server.AddWorkspace(sim.IncidentInstance, &w); err != nil {
		return fmt.Errorf("add the demo's unregistered workspace: %w", err)
	}
	found, err := sync.New(d.Store, sync.Config{Trigger: "demo"}).Discover(ctx, sync.DiscoverOptions{})
	if err != nil {
		return fmt.Errorf("list the demo's workspaces: %w", err)
	}
	for _, f := range found {
		if f.Problem != "" {
			return fmt.Errorf("list the demo's workspaces: %s", f.Problem)
		}
	}
	return nil
}

// seed registers the fleet and gives it a history: most workspaces synced 20 hours ago, a
// few stale, two never synced, and Jason Binyon as the incident left it.
func (d *Demo) seed(ctx context.Context, fleet *sim.Fleet) error {
	if err := Register(ctx, d.Store, d.Server, fleet); err != nil {
		return err
	}
	inst := fleet.Instance(sim.IncidentInstance)
	ages := map[string]time.Duration{}
	names := []string{sim.IncidentLargest}
	for i, w := range inst.Workspaces {
		switch {
		case w.Name == sim.IncidentLargest:
			continue
		case i%9 == 4:
			continue // never synced: added to the registry last week
		case i%7 == 3:
			ages[w.Name] = 30 * time.Hour // stale
		default:
			ages[w.Name] = 20*time.Hour + time.Duration(i)*7*time.Minute
		}
		names = append(names, w.Name)
	}
	run, err := openSeedRun(ctx, d.Store, names)
	if err != nil {
		return err
	}
	if _, err := seedIncident(ctx, run, d.Server); err != nil {
		return err
	}
	for _, w := range inst.Workspaces {
		age, ok := ages[w.Name]
		if !ok {
			continue
		}
		var rows []db.Account
		for _, a := range d.Server.Accounts(inst.Name, w.ID) {
			rows = append(rows, FromSim(a))
		}
		in := db.CommitInput{Workspace: w.Name, Instance: inst.Name, WorkspaceID: w.ID, Accounts: rows}
		if err := run.commit(ctx, in, time.Now().Add(-age)); err != nil {
			return err
		}
	}
	return run.close(ctx)
}

// armFaults makes the first full sync show the engine at work: a page that fails once with a
// 503 and is retried, and a 429 whose Retry-After pauses the instance.
func (d *Demo) armFaults(fleet *sim.Fleet) {
	inst := fleet.Instance(sim.IncidentInstance)
	jason := inst.WorkspaceNamed(sim.IncidentLargest)
	d.Server.AddFault(sim.Fault{Kind: sim.FaultStatus, Status: 503, Times: 1, Workspace: jason.ID, Page: 7})
	d.Server.AddFault(sim.Fault{Kind: sim.Fault429, RetryAfter: 2 * time.Second, Times: 1, Workspace: inst.Workspaces[0].ID, Page: 2})
}
