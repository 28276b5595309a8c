package tui

import (
	"context"

	"github.com/bisonsync/bisonsync/db"
)

func (f *fakeBackend) Instances(context.Context) ([]db.Instance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]db.Instance(nil), f.instances...), nil
}

func (f *fakeBackend) Requests(_ context.Context, limit int) ([]db.RequestRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]db.RequestRecord(nil), f.syncReqs[:min(limit, len(f.syncReqs))]...), nil
}
