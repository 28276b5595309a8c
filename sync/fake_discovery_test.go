package sync

import (
	"context"

	"github.com/bisonsync/bisonsync/db"
)

// memStore has no instances: discovery finds nothing to list.

func (m *memStore) Instances(context.Context) ([]db.Instance, error) { return nil, nil }

func (m *memStore) RecordListing(context.Context, db.Listing) error { return nil }

func (m *memStore) RecordListingFailure(context.Context, string, string) error { return nil }

func (m *memStore) RegisterWorkspaces(context.Context, []db.NewWorkspace) ([]string, error) {
	return nil, nil
}
