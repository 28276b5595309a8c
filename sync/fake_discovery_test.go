package sync

import (
	"context"

	"github.com/bisonsync/bisonsync/db"
)

// memStore has no instances: discovery finds nothing to list; key health is not kept.

func (m *memStore) Instances(context.Context) ([]db.Instance, error) { return nil, nil }

func (m *memStore) RecordListing(context.Context, db.Listing) error { return nil }

func (m *memStore) RecordListingFailure(context.Context, string, string) error { return nil }

func (m *memStore) RegisterWorkspaces(context.Context, []db.NewWorkspace) ([]string, error) {
	return nil, nil
}

func (m *memStore) RecordKeyHealth(context.Context, string, db.KeyStatus, string) error { return nil }

func (m *memStore) StoreWorkspaceKey(context.Context, string, db.Secret, db.Secret, string) (bool, error) {
	return true, nil
}
