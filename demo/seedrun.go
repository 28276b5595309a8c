package demo

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/bisonsync/bisonsync/db"
)

// seedRun writes the demo's starting point the way the engine writes a sync: in a run of its
// own (trigger demo-seed, in the history like any other), each workspace under its lease and
// committed whole through CommitWorkspace. Only the sync time is set back, to give the fleet
// its ages.
type seedRun struct {
	store *db.Store
	owner db.LeaseOwner
}

// seedLeaseTTL is far longer than seeding takes: a lease never expires under it.
const seedLeaseTTL = 5 * time.Minute

func openSeedRun(ctx context.Context, store *db.Store, workspaces []string) (*seedRun, error) {
	host, _ := os.Hostname()
	id, err := store.OpenRun(ctx, db.RunSpec{Trigger: "demo-seed", Host: host, PID: os.Getpid(), Workspaces: workspaces})
	if err != nil {
		return nil, fmt.Errorf("open the demo's seed run: %w", err)
	}
	return &seedRun{store: store, owner: db.LeaseOwner{RunID: id, Host: host, PID: os.Getpid()}}, nil
}

// commit claims the workspace's lease and commits its complete list as of syncedAt.
func (s *seedRun) commit(ctx context.Context, in db.CommitInput, syncedAt time.Time) error {
	claim, err := s.store.ClaimLease(ctx, in.Workspace, s.owner, seedLeaseTTL, 0)
	if err != nil {
		return fmt.Errorf("seed workspace %s: %w", in.Workspace, err)
	}
	if !claim.Claimed {
		return fmt.Errorf("seed workspace %s: %s", in.Workspace, claim.Reason)
	}
	in.RunID, in.Expected, in.SyncedAt, in.Attempts = s.owner.RunID, len(in.Accounts), syncedAt, 1
	if _, err := s.store.CommitWorkspace(ctx, in); err != nil {
		return fmt.Errorf("seed workspace %s: %w", in.Workspace, err)
	}
	return nil
}

func (s *seedRun) close(ctx context.Context) error {
	if _, err := s.store.CloseRun(ctx, s.owner.RunID, false, ""); err != nil {
		return fmt.Errorf("close the demo's seed run: %w", err)
	}
	return nil
}
