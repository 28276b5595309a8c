package db

import (
	"fmt"
	"strings"
)

// The definitions of the agency's dashboard's views (CONTRACT.md §6): the names and columns
// poll-sender-emails gave its tables, over bisonsync's own tables. The views read; they own
// no data.

// dashboardVersion is the version of the definitions below. Bump it when they change: Migrate
// then creates them again in every schema that has them. A plain view is replaced in place
// (CREATE OR REPLACE), which only allows columns added at the end.
const dashboardVersion = 1

// dashboardMarker starts the comment on every view bisonsync creates for the dashboard: it is
// how an existing object of the same name is known to be ours (replace it) or not (refuse,
// or keep it renamed).
const dashboardMarker = "bisonsync dashboard view"

// dashboardJobName is the job_name the dashboard filters on.
const dashboardJobName = "poll-sender-emails"

// The dashboard's relations, in the order they are created.
const (
	dashAccounts = "email_accounts_view"
	dashJobs     = "polling_job_status"
	dashProgress = "sync_progress"
	// dashRequests shows sync_requests where the dashboard reads (Supabase's API serves the
	// schemas it exposes, public typically): a simple view, so that a role given INSERT on
	// it can ask for a run from there. In bisonsync's own schema the table itself is there.
	dashRequests = "sync_requests"
)

var dashboardRelations = []string{dashAccounts, dashJobs, dashProgress, dashRequests}

// relationsFor are the relations the dashboard gets in schema: all of them, except the
// sync_requests view in bisonsync's own schema, where the table is.
func relationsFor(schema, own string) []string {
	if schema == own {
		return dashboardRelations[:3]
	}
	return dashboardRelations
}

// keptSuffix is appended to an existing object's name when --replace-existing keeps it.
const keptSuffix = "_before_bisonsync"

// dashboardAccountColumns are the dashboard's 31 columns of email_accounts_view, in its
// order, each with its expression over email_accounts_raw aliased r.
var dashboardAccountColumns = []struct{ name, expr string }{
	// Stored (migration 00021): stable per account, and free to read.
	{"id", "r.account_uuid"},
	{"bison_account_id", "r.bison_account_id"},
	{"email_address", "r.email_address"},
	{"workspace_name", "r.workspace_name"},
	{"workspace_id", "r.workspace_id"},
	{"bison_instance", "r.bison_instance"},
	{"status", "coalesce(nullif(r.status, ''), 'Not connected')"},
	{"account_type", "r.account_type"},
	{"emails_sent_count", "r.emails_sent_count"},
	{"total_replied_count", "r.total_replied_count"},
	{"unique_replied_count", "r.unique_replied_count"},
	{"bounced_count", "r.bounced_count"},
	{"unsubscribed_count", "r.unsubscribed_count"},
	{"interested_leads_count", "r.interested_leads_count"},
	{"total_opened_count", "r.total_opened_count"},
	{"unique_opened_count", "r.unique_opened_count"},
	{"total_leads_contacted_count", "r.total_leads_contacted_count"},
	{"daily_limit", "r.daily_limit"},
	{"warmup_enabled", "r.warmup_enabled"},
	{"reply_rate_percentage", "r.reply_rate_percentage"},
	// The tag as the API spelled it, trimmed (db/price.go), not bisonsync's canonical name.
	{"email_provider", "r.provider_tag"},
	{"reseller", "r.reseller_tag"},
	{"domain", "r.domain"},
	{"price", "r.price"},
	{"price_source", "r.price_source"},
	{"pricing_needs_review", "r.pricing_needs_review"},
	{"volume_per_account", "r.volume_per_account"},
	{"notes", "r.notes"},
	{"created_at", "r.first_seen_at"},
	// poll-sender-emails stamped updated_at on every upsert, i.e. at every sync.
	{"updated_at", "r.last_synced_at"},
	{"last_synced_at", "r.last_synced_at"},
}

// ownViewExtraColumns are the columns bisonsync's own email_accounts_view has beyond the
// dashboard's. When the dashboard lives in bisonsync's schema its view is ours too: these
// follow the 31, so that whatever reads our view by these names keeps working.
var ownViewExtraColumns = []string{"account_name", "tags", "bison_created_at", "bison_updated_at", "first_seen_at"}

// accountsViewSQL is the SELECT of email_accounts_view over raw (a qualified table name).
func accountsViewSQL(raw string, withOwnExtras bool) string {
	cols := make([]string, 0, len(dashboardAccountColumns)+len(ownViewExtraColumns))
	for _, c := range dashboardAccountColumns {
		cols = append(cols, c.expr+" AS "+c.name)
	}
	if withOwnExtras {
		for _, c := range ownViewExtraColumns {
			cols = append(cols, "r."+c)
		}
	}
	return "SELECT " + strings.Join(cols, ",\n    ") + "\nFROM " + raw + " r\nWHERE r.deleted_at IS NULL"
}

// runStatuses is every state of sync_runs.status.
var runStatuses = []RunStatus{RunRunning, RunSucceeded, RunPartial, RunFailed, RunCancelled, RunAbandoned}

// DashboardJobStatus is polling_job_status.status for a run with succeeded workspaces: the old
// job's four words. An interrupted (cancelled) or dead (abandoned) run is partial when some
// of its workspaces were committed, failed when none were.
func DashboardJobStatus(s RunStatus, succeeded int) string {
	switch s {
	case RunRunning:
		return "running"
	case RunSucceeded:
		return "completed"
	case RunPartial:
		return "partial"
	case RunFailed:
		return "failed"
	}
	if succeeded > 0 {
		return "partial"
	}
	return "failed"
}

// DashboardProgressStatus is sync_progress.status: running, then completed when the run
// committed something (the dashboard reloads its data) or failed when it did not.
func DashboardProgressStatus(s RunStatus, succeeded int) string {
	switch DashboardJobStatus(s, succeeded) {
	case "running":
		return "running"
	case "completed", "partial":
		return "completed"
	}
	return "failed"
}

// statusCaseSQL turns a status rule into the CASE the view evaluates, so that the rule has
// one home (the Go function) and the view cannot disagree with it.
func statusCaseSQL(rule func(RunStatus, int) string) string {
	var b strings.Builder
	b.WriteString("CASE")
	for _, s := range runStatuses {
		fmt.Fprintf(&b, "\n        WHEN r.status = '%s' AND r.workspaces_succeeded > 0 THEN '%s'", s, rule(s, 1))
		fmt.Fprintf(&b, "\n        WHEN r.status = '%s' THEN '%s'", s, rule(s, 0))
	}
	fmt.Fprintf(&b, "\n        ELSE '%s' END", rule(RunFailed, 0))
	return b.String()
}

// runUpdatedAt is when a run's row last moved: its end, else its latest progress or heartbeat.
const runUpdatedAt = "coalesce(r.finished_at, greatest(r.progress_at, r.heartbeat_at), r.started_at)"

// jobStatusSQL is the SELECT of polling_job_status: one row per run. Processed are the
// workspaces that were attempted to their end (succeeded or failed); skipped, those this run
// did not do (another process had them, or the run stopped first).
func jobStatusSQL(runs, runWorkspaces string) string {
	return `SELECT r.id,
    '` + dashboardJobName + `'::text AS job_name,
    r.started_at,
    r.finished_at AS completed_at,
    (` + statusCaseSQL(DashboardJobStatus) + `)::text AS status,
    r.workspaces_total AS total_workspaces,
    r.workspaces_succeeded + r.workspaces_failed AS workspaces_processed,
    r.workspaces_skipped + r.workspaces_cancelled AS workspaces_skipped,
    r.accounts_synced AS total_accounts_synced,
    (extract(epoch FROM coalesce(r.finished_at, now()) - r.started_at) * 1000)::integer AS duration_ms,
    r.error AS error_message,
    ARRAY(SELECT w.workspace_name || ': ' || coalesce(w.error, w.warning) FROM ` + runWorkspaces + ` w
          WHERE w.run_id = r.id AND (w.status IN ('failed', 'cancelled') OR w.warning IS NOT NULL)
          ORDER BY w.workspace_name) AS warnings,
    r.started_at AS created_at,
    ` + runUpdatedAt + ` AS updated_at
FROM ` + runs + ` r`
}

// progressSQL is the SELECT of sync_progress: one row per run, its id the run's (so job_id
// is polling_job_status.id), current while the run's progress writer updates it.
func progressSQL(runs string) string {
	return `SELECT r.id,
    r.id AS job_id,
    '` + dashboardJobName + `'::text AS job_name,
    r.workspaces_total AS total_workspaces,
    r.workspaces_succeeded + r.workspaces_failed + r.workspaces_cancelled + r.workspaces_skipped AS workspaces_completed,
    CASE WHEN r.status = 'running' THEN r.current_workspace END AS current_workspace,
    r.accounts_synced AS total_accounts,
    (` + statusCaseSQL(DashboardProgressStatus) + `)::text AS status,
    r.error AS error_message,
    r.started_at,
    r.finished_at AS completed_at,
    ` + runUpdatedAt + ` AS updated_at
FROM ` + runs + ` r`
}

// dashboardViewSQL is the SELECT of one of the dashboard's relations, over the tables of
// schema own. withOwnExtras: the view replaces bisonsync's own email_accounts_view.
func dashboardViewSQL(name, own string, withOwnExtras bool) string {
	switch name {
	case dashAccounts:
		return accountsViewSQL(qualify(own, tableRaw), withOwnExtras)
	case dashJobs:
		return jobStatusSQL(qualify(own, tableRuns), qualify(own, tableRunWorkspace))
	case dashRequests:
		return `SELECT id, requested_at, requested_by, workspace_name, status, run_id, finished_at, error
FROM ` + qualify(own, tableRequests)
	default:
		return progressSQL(qualify(own, tableRuns))
	}
}

// dashboardComment is the marker comment of a view, saying what it is and where it reads.
func dashboardComment(name, own string) string {
	return fmt.Sprintf("%s (definition %d) over schema %s: the %s that poll-sender-emails' dashboard reads; created by bisonsync migrate --dashboard-schema, re-created at every upgrade",
		dashboardMarker, dashboardVersion, own, name)
}

// The indexes that keep the dashboard's reads fast at a million accounts (a page ordered by
// bison_account_id, counts per workspace) are the schema's own since migration 00009: the
// plain email_accounts_view needs them whether or not a dashboard is installed.

// ownMatviewIndexSQL are the indexes of our own email_accounts_view when it is materialized:
// the unique key REFRESH … CONCURRENTLY needs, and the dashboard's two.
func ownMatviewIndexSQL(own string) []string {
	view := qualify(own, dashAccounts)
	return []string{
		"CREATE UNIQUE INDEX email_accounts_view_key_idx ON " + view + " (bison_instance, workspace_id, bison_account_id)",
		"CREATE INDEX email_accounts_view_workspace_idx ON " + view + " (workspace_name)",
		"CREATE INDEX email_accounts_view_account_idx ON " + view + " (bison_account_id)",
	}
}
