// Package demo sets up the simulated Email Bison fleet that `bisonsync --demo` and the tests
// run against: the simulator, its registry rows, and the incident's starting point (Jason
// Binyon's accounts 18 days old, jason@ showing 4 emails sent instead of 43).
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
)

// Schema is where the demo keeps its tables, apart from any real setup.
const Schema = "bisonsync_demo"

// Register writes the fleet's instances and workspaces into the registry, pointing at srv.
// Keys are stored literally: the simulator's tokens are not secrets.
func Register(ctx context.Context, store *db.Store, srv *sim.Server, fleet *sim.Fleet) error {
	for _, in := range fleet.Instances {
		if err := store.UpsertInstance(ctx, db.Instance{Name: in.Name, BaseURL: srv.BaseURL(in.Name), APIKey: db.NewSecret(in.SuperAdminKey)}); err != nil {
			return fmt.Errorf("register the simulated fleet: %w", err)
		}
		for _, w := range in.Workspaces {
			ws := db.Workspace{Name: w.Name, Instance: in.Name, BisonID: w.ID, APIKey: db.NewSecret(w.Key), IsActive: true}
			if err := store.UpsertWorkspace(ctx, ws); err != nil {
				return fmt.Errorf("register the simulated fleet: %w", err)
			}
		}
	}
	return nil
}

// Incident figures: what the agency's database held for Jason Binyon when someone noticed.
const (
	IncidentStaleRows    = 360 // rows held for Jason Binyon
	IncidentVanished     = 73  // of them, accounts that no longer exist at the source
	IncidentStaleSent    = 4   // what jason@ showed instead of 43
	IncidentStaleAge     = 18 * 24 * time.Hour
	incidentVanishedBase = 9_000_000 // ids far above the simulator's, so they are surely gone
)

// SeedIncident writes the incident's starting point for Jason Binyon: 360 rows last synced 18
// days ago, 287 of them current accounts with old counters (jason@ at 4 emails sent) and 73
// accounts that have since vanished at the source; its registry row says the last attempt
// failed on a timeout. It returns the ids of the 73 vanished accounts.
func SeedIncident(ctx context.Context, store *db.Store, srv *sim.Server) ([]int64, error) {
	run, err := openSeedRun(ctx, store, []string{sim.IncidentLargest})
	if err != nil {
		return nil, err
	}
	vanished, err := seedIncident(ctx, run, srv)
	if err != nil {
		return nil, err
	}
	return vanished, run.close(ctx)
}

// seedIncident is SeedIncident within a seed run.
func seedIncident(ctx context.Context, run *seedRun, srv *sim.Server) ([]int64, error) {
	store := run.store
	inst := srv.Fleet().Instance(sim.IncidentInstance)
	jason := inst.WorkspaceNamed(sim.IncidentLargest)
	truth := srv.Accounts(sim.IncidentInstance, jason.ID)
	kept := IncidentStaleRows - IncidentVanished
	var rows []db.Account
	for _, a := range truth {
		if len(rows) == kept-1 {
			break
		}
		if a.Email == sim.IncidentEmail {
			continue
		}
		rows = append(rows, staleRow(a))
	}
	for _, a := range truth {
		if a.Email == sim.IncidentEmail {
			rows = append(rows, staleRow(a))
		}
	}
	var vanished []int64
	for i := range IncidentVanished {
		id := int64(incidentVanishedBase + i)
		vanished = append(vanished, id)
		rows = append(rows, db.Account{ID: id, Email: fmt.Sprintf("old.sender%02d@binyoninsurancegroup.com", i),
			Name: "Old Sender", Status: "Disconnected", Type: "google_workspace_oauth", EmailsSent: 12, Tags: []string{"Mailr"}})
	}
	in := db.CommitInput{Workspace: jason.Name, Instance: inst.Name, WorkspaceID: jason.ID, Accounts: rows}
	if err := run.commit(ctx, in, time.Now().Add(-IncidentStaleAge)); err != nil {
		return nil, fmt.Errorf("seed the incident's stale rows: %w", err)
	}
	if _, err := store.Pool().Exec(ctx, fmt.Sprintf(`UPDATE %s SET
		last_sync_attempt_at = now() - interval '2 hours', last_sync_status = 'failed',
		last_sync_error = 'context deadline exceeded (batch deadline hit at page 20 of 29)',
		consecutive_failures = 18 WHERE workspace_name = $1`, pgx.Identifier{store.Schema(), "client_registry"}.Sanitize()), jason.Name); err != nil {
		return nil, fmt.Errorf("seed the incident's registry row: %w", err)
	}
	return vanished, nil
}

// staleRow is an account as it stood 18 days ago: the same identity, smaller counters.
func staleRow(a sim.Account) db.Account {
	row := FromSim(a)
	row.EmailsSent = int64(a.EmailsSentCount) / 10
	row.UniqueReplied, row.TotalReplied = row.UniqueReplied/10, row.TotalReplied/10
	if a.Email == sim.IncidentEmail {
		row.EmailsSent = IncidentStaleSent
	}
	return row
}

// FromSim converts a simulator account into a database row, for seeding and for comparing
// the database with the simulator's ground truth.
func FromSim(a sim.Account) db.Account {
	row := db.Account{
		ID: a.ID, Email: a.Email, Name: a.Name, Status: a.Status, Type: a.Type, DailyLimit: int64(a.DailyLimit),
		EmailsSent: int64(a.EmailsSentCount), TotalReplied: int64(a.TotalRepliedCount),
		UniqueReplied: int64(a.UniqueRepliedCount), Bounced: int64(a.BouncedCount),
		Unsubscribed: int64(a.UnsubscribedCount), InterestedLeads: int64(a.InterestedLeadsCount),
		TotalOpened: int64(a.TotalOpenedCount), UniqueOpened: int64(a.UniqueOpenedCount),
		TotalLeadsContacted: int64(a.TotalLeadsContactedCount),
	}
	for _, t := range a.Tags {
		row.Tags = append(row.Tags, t.Name)
	}
	if !a.CreatedAt.IsZero() {
		c := a.CreatedAt
		row.CreatedAt = &c
	}
	if !a.UpdatedAt.IsZero() {
		u := a.UpdatedAt
		row.UpdatedAt = &u
	}
	return row
}
