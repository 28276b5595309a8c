package db

import "strings"

// dashboardQueries are the statements of the dashboard's issue (prices, the read layer,
// live progress, requested runs), kept apart from the commit's so that each file owns its
// SQL; buildQueries resolves their table names like every other statement's.
type dashboardQueries struct {
	// prices (reprice.go)
	pricingRules, repriceWorkspaces, repriceWorkspace, repriceLock, repriceRows, repriceWrite string
	// the dashboard's views (dashboard.go, dashboard_upgrade.go)
	ownViewSaved, recordDashboard, dashboardRecords, dashboardsDropped string
	// live progress (progress.go)
	progressRun, progressWorkspaces string
	// requested runs (requests.go)
	claimRequests, mergeRequests, attachRequests, finishRequests, recoverRequests string
	// the requests as readers see them (requests_read.go)
	recentRequests string
}

func buildDashboardQueries(r *strings.Replacer) dashboardQueries {
	return dashboardQueries{
		pricingRules:      r.Replace(pricingRulesSQL),
		repriceWorkspaces: r.Replace(repriceWorkspacesSQL),
		repriceWorkspace:  r.Replace(repriceWorkspaceSQL),
		repriceLock:       r.Replace(repriceLockSQL),
		repriceRows:       r.Replace(repriceRowsSQL),
		repriceWrite:      r.Replace(repriceWriteSQL),

		ownViewSaved:      r.Replace(ownViewSavedSQL),
		recordDashboard:   r.Replace(recordDashboardSQL),
		dashboardRecords:  r.Replace(dashboardRecordsSQL),
		dashboardsDropped: r.Replace(dashboardsDroppedSQL),

		progressRun:        r.Replace(progressRunSQL),
		progressWorkspaces: r.Replace(progressWorkspacesSQL),

		claimRequests:   r.Replace(claimRequestsSQL),
		mergeRequests:   r.Replace(mergeRequestsSQL),
		attachRequests:  r.Replace(attachRequestsSQL),
		finishRequests:  r.Replace(finishRequestsSQL),
		recoverRequests: r.Replace(recoverRequestsSQL),

		recentRequests: r.Replace(recentRequestsSQL),
	}
}
