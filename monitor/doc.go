// Package monitor gives monitoring systems what they expect from a sync job: a Prometheus
// text file for the node_exporter textfile collector (WriteMetrics) and a webhook message,
// compatible with Slack incoming webhooks, when a run fails or a check finds workspaces that
// need attention (RunMessage, CheckMessage, Notify).
//
// It only reads: the registry and the run history through db, a finished run through its
// sync.Summary. It never changes what it reports on.
//
// Alerts on the metrics file might read:
//
//	# a workspace stale, failing or never synced, as --check judges it
//	bisonsync_workspace_unhealthy == 1
//	# no success for a day (never synced included: its timestamp is 0)
//	time() - bisonsync_workspace_last_success_timestamp_seconds > 86400
//	# the file itself stopped being written (node_exporter's own metric)
//	time() - node_textfile_mtime_seconds{file=~".*bisonsync.*"} > 7200
package monitor
