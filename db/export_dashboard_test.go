package db

import "context"

// Internals of the dashboard's upgrade steps, for the external tests: Migrate runs them
// around migrations a test cannot add.

// DashboardsBeforeUpgrade exposes dashboardsBeforeUpgrade.
func (s *Store) DashboardsBeforeUpgrade(ctx context.Context) error {
	return s.dashboardsBeforeUpgrade(ctx)
}

// DashboardsAfterUpgrade exposes dashboardsAfterUpgrade.
func (s *Store) DashboardsAfterUpgrade(ctx context.Context) error {
	return s.dashboardsAfterUpgrade(ctx)
}

// DashboardAccountColumns are the 31 columns of the dashboard's email_accounts_view, in order.
func DashboardAccountColumns() []string {
	out := make([]string, len(dashboardAccountColumns))
	for i, c := range dashboardAccountColumns {
		out[i] = c.name
	}
	return out
}

// OwnViewExtraColumns exposes ownViewExtraColumns.
var OwnViewExtraColumns = ownViewExtraColumns
