package monitor

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// DefaultMaxAge is the age past which WriteMetrics counts a workspace as stale when it is
// given none: the default of `--check --max-age`.
const DefaultMaxAge = 24 * time.Hour

const namespace = "bisonsync"

// workspaceLabels identify a workspace's series. The workspace name alone is unique (it is
// client_registry's key); the instance is there to group and filter by installation.
var workspaceLabels = []string{"workspace", "instance"}

// lastRunStatuses are the statuses a finished run can end with: the last run's status gauge
// has one series for each, so a dashboard sees 0s rather than missing series.
var lastRunStatuses = []db.RunStatus{db.RunSucceeded, db.RunPartial, db.RunFailed, db.RunCancelled}

// historyRunStatuses are the final statuses found in the run history: those of
// lastRunStatuses, plus abandoned, which another process gives a run whose process died.
var historyRunStatuses = append(append([]db.RunStatus(nil), lastRunStatuses...), db.RunAbandoned)

// runWorkspaceStatuses are the final statuses of a workspace within a run.
var runWorkspaceStatuses = []db.WorkspaceStatus{db.WorkspaceSucceeded, db.WorkspaceFailed, db.WorkspaceCancelled, db.WorkspaceSkipped}

// WriteMetrics writes the fleet's state in the Prometheus text format to path, for the
// node_exporter textfile collector. The file is replaced atomically (a temporary file in the
// same directory, renamed over path), so the collector never reads half a file.
//
// Per active workspace (labels workspace, instance):
//
//	bisonsync_workspace_last_success_timestamp_seconds  0 when it never synced successfully
//	bisonsync_workspace_last_attempt_timestamp_seconds  0 when it was never attempted
//	bisonsync_workspace_live_accounts                   accounts not marked deleted
//	bisonsync_workspace_last_duration_seconds           absent when never attempted
//	bisonsync_workspace_consecutive_failures
//	bisonsync_workspace_unhealthy                       1 when stale, failing or never synced
//	bisonsync_workspace_warning                         1 when the last sync left a warning
//
// bisonsync_check_max_age_seconds is maxAge, the age past which a workspace is stale
// (zero or less means DefaultMaxAge); staleness is judged as --check judges it, by the
// database clock. Timestamps of things that never happened are 0 rather than absent so that
// an alert on `time() - bisonsync_workspace_last_success_timestamp_seconds` fires for a
// workspace that never synced instead of silently ignoring it.
//
// From last, when not nil (labels status where shown):
//
//	bisonsync_last_run_status{status}                 1 for the run's status, 0 for the others
//	bisonsync_last_run_duration_seconds
//	bisonsync_last_run_finished_timestamp_seconds
//	bisonsync_last_run_workspaces{status}             workspaces by final status
//	bisonsync_last_run_accounts_expected
//	bisonsync_last_run_accounts_synced
//
// Per instance the last run talked to (label instance; retries also cause):
//
//	bisonsync_last_run_instance_requests              requests sent
//	bisonsync_last_run_instance_too_many_requests     429 answers (back-pressure, not failures)
//	bisonsync_last_run_instance_retries{cause}        requests tried again, by cause
//	bisonsync_last_run_instance_pace_requests_per_second  the pace kept (0: no limit needed)
//	bisonsync_last_run_instance_pace_in_flight        the requests in flight it accepts
//	bisonsync_last_run_instance_unreachable           1 when the instance could not be reached
//
// And from the whole run history: bisonsync_runs_total{status}, the finished runs by final
// status (a run still running is counted once it ends). What the latest listing of each
// instance found is described by the bisonsync_discovery_* series (see collectDiscovery);
// a gone or wrong-key workspace is unhealthy.
func WriteMetrics(ctx context.Context, path string, store *db.Store, last *sync.Summary, maxAge time.Duration) error {
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	reg := prometheus.NewRegistry()
	if err := collectWorkspaces(ctx, reg, store, maxAge); err != nil {
		return fmt.Errorf("write metrics to %s: %w", path, err)
	}
	if err := collectRunHistory(ctx, reg, store); err != nil {
		return fmt.Errorf("write metrics to %s: %w", path, err)
	}
	if err := collectDiscovery(ctx, reg, store); err != nil {
		return fmt.Errorf("write metrics to %s: %w", path, err)
	}
	if last != nil {
		if err := collectLastRun(reg, *last); err != nil {
			return fmt.Errorf("write metrics to %s: %w", path, err)
		}
		if err := collectInstances(reg, last.Instances); err != nil {
			return fmt.Errorf("write metrics to %s: %w", path, err)
		}
	}
	if err := prometheus.WriteToTextfile(path, reg); err != nil {
		return fmt.Errorf("write metrics to %s: %w", path, err)
	}
	return nil
}

// workspaceMetrics are the per-workspace series.
type workspaceMetrics struct {
	lastSuccess         *prometheus.GaugeVec
	lastAttempt         *prometheus.GaugeVec
	liveAccounts        *prometheus.GaugeVec
	lastDuration        *prometheus.GaugeVec
	consecutiveFailures *prometheus.GaugeVec
	unhealthy           *prometheus.GaugeVec
	warning             *prometheus.GaugeVec
	maxAge              prometheus.Gauge
}

func newWorkspaceMetrics(maxAge time.Duration) *workspaceMetrics {
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Subsystem: "workspace", Name: name, Help: help}, workspaceLabels)
	}
	return &workspaceMetrics{
		lastSuccess: gauge("last_success_timestamp_seconds",
			"Unix time of the workspace's last successful sync; 0 when it never synced successfully."),
		lastAttempt: gauge("last_attempt_timestamp_seconds",
			"Unix time of the workspace's last sync attempt; 0 when it was never attempted."),
		liveAccounts: gauge("live_accounts",
			"Sender accounts of the workspace in the database and not marked deleted."),
		lastDuration: gauge("last_duration_seconds",
			"Duration of the workspace's last sync attempt; absent when it was never attempted."),
		consecutiveFailures: gauge("consecutive_failures",
			"Failed sync attempts of the workspace since its last success."),
		unhealthy: gauge("unhealthy",
			"1 when the workspace is stale (no success within bisonsync_check_max_age_seconds), failing (its last attempt failed), never synced, gone from the source or using another workspace's key, as --check judges it; 0 otherwise."),
		warning: gauge("warning",
			"1 when the workspace's last sync recorded a warning (such as an API key that may belong to another workspace); 0 otherwise."),
		maxAge: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Subsystem: "check", Name: "max_age_seconds",
			Help: "Age past which a workspace without a successful sync counts as stale in bisonsync_workspace_unhealthy."}),
	}
}

func (m *workspaceMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.lastSuccess, m.lastAttempt, m.liveAccounts, m.lastDuration,
		m.consecutiveFailures, m.unhealthy, m.warning, m.maxAge}
}

// collectWorkspaces reads the active workspaces and their health into reg.
func collectWorkspaces(ctx context.Context, reg *prometheus.Registry, store *db.Store, maxAge time.Duration) error {
	workspaces, err := store.Workspaces(ctx, db.Selection{})
	if err != nil {
		return err
	}
	// CheckHealth rather than a judgement made here: the metric must agree with --check,
	// which judges ages by the database clock.
	health, err := store.CheckHealth(ctx, maxAge)
	if err != nil {
		return err
	}
	unhealthy := make(map[string]bool, len(health))
	for _, h := range health {
		unhealthy[h.Workspace] = true
	}

	m := newWorkspaceMetrics(maxAge)
	m.maxAge.Set(maxAge.Seconds())
	for _, w := range workspaces {
		labels := prometheus.Labels{"workspace": w.Name, "instance": w.Instance}
		m.lastSuccess.With(labels).Set(unixSeconds(w.LastSuccessAt))
		m.lastAttempt.With(labels).Set(unixSeconds(w.LastAttemptAt))
		m.liveAccounts.With(labels).Set(float64(w.LiveAccounts))
		if w.LastDuration != nil {
			m.lastDuration.With(labels).Set(w.LastDuration.Seconds())
		}
		m.consecutiveFailures.With(labels).Set(float64(w.ConsecutiveFailures))
		m.unhealthy.With(labels).Set(boolValue(unhealthy[w.Name]))
		m.warning.With(labels).Set(boolValue(w.LastWarning != ""))
	}
	return register(reg, m.collectors()...)
}

// collectRunHistory counts the finished runs of the history by status.
func collectRunHistory(ctx context.Context, reg *prometheus.Registry, store *db.Store) error {
	// The whole history: a counter must count every run ever made, not the latest few.
	// Runs still running are not counted: their status is not final.
	counts, err := store.RunCounts(ctx)
	if err != nil {
		return err
	}
	total := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "runs_total",
		Help: "Finished sync runs recorded in the run history, by final status; a run still running is counted once it ends."},
		[]string{"status"})
	// Every known status starts at 0, so that rate() and increase() see a run's first
	// failure as an increase rather than as a new series.
	for _, st := range historyRunStatuses {
		total.WithLabelValues(string(st))
	}
	for status, n := range counts {
		total.WithLabelValues(string(status)).Add(float64(n))
	}
	return register(reg, total)
}

// collectLastRun describes one finished run.
func collectLastRun(reg *prometheus.Registry, s sync.Summary) error {
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Subsystem: "last_run", Name: name, Help: help})
	}
	gaugeVec := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Subsystem: "last_run", Name: name, Help: help}, []string{"status"})
	}
	status := gaugeVec("status", "1 for the status the last run of this process ended with, 0 for the other statuses.")
	duration := gauge("duration_seconds", "Duration of the last run of this process.")
	finished := gauge("finished_timestamp_seconds", "Unix time at which the last run of this process finished.")
	workspaces := gaugeVec("workspaces", "Workspaces of the last run of this process, by final status.")
	expected := gauge("accounts_expected", "Sender accounts the API announced for the workspaces of the last run of this process.")
	synced := gauge("accounts_synced", "Sender accounts fetched by the workspaces that succeeded in the last run of this process.")

	for _, st := range lastRunStatuses {
		status.WithLabelValues(string(st)).Set(boolValue(st == s.Status))
	}
	// A status this package does not know (a newer engine) still shows rather than vanishing.
	if s.Status != "" {
		status.WithLabelValues(string(s.Status)).Set(1)
	}
	duration.Set((time.Duration(s.DurationMS) * time.Millisecond).Seconds())
	finished.Set(unixSeconds(&s.FinishedAt))
	byStatus := map[db.WorkspaceStatus]int{
		db.WorkspaceSucceeded: s.WorkspacesSucceeded,
		db.WorkspaceFailed:    s.WorkspacesFailed,
		db.WorkspaceCancelled: s.WorkspacesCancelled,
		db.WorkspaceSkipped:   s.WorkspacesSkipped,
	}
	for _, st := range runWorkspaceStatuses {
		workspaces.WithLabelValues(string(st)).Set(float64(byStatus[st]))
	}
	expected.Set(float64(s.AccountsExpected))
	synced.Set(float64(s.AccountsSynced))
	return register(reg, status, duration, finished, workspaces, expected, synced)
}

// collectInstances writes each instance's flow control in the last run: what it was sent,
// what pushed back, and the pace it was found to accept.
func collectInstances(reg *prometheus.Registry, instances []sync.InstanceResult) error {
	vec := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Subsystem: "last_run_instance", Name: name, Help: help},
			append([]string{"instance"}, labels...))
	}
	requests := vec("requests", "Requests the last run of this process sent to the instance.")
	tooMany := vec("too_many_requests", "429 answers the instance gave the last run of this process (back-pressure, not failures).")
	retries := vec("retries", "Requests of the last run of this process tried again, by cause.", "cause")
	rate := vec("pace_requests_per_second", "The pace the instance was found to accept, in requests a second (0: no limit needed).")
	inFlight := vec("pace_in_flight", "The requests in flight the instance was found to accept.")
	unreachable := vec("unreachable", "1 when the instance could not be reached in the last run of this process.")
	for _, in := range instances {
		requests.WithLabelValues(in.Name).Set(float64(in.Requests))
		tooMany.WithLabelValues(in.Name).Set(float64(in.TooManyRequests))
		for cause, n := range in.Retries {
			retries.WithLabelValues(in.Name, cause).Set(float64(n))
		}
		rate.WithLabelValues(in.Name).Set(in.RequestsPerSecond)
		inFlight.WithLabelValues(in.Name).Set(float64(in.InFlight))
		unreachable.WithLabelValues(in.Name).Set(boolValue(in.Unreachable))
	}
	return register(reg, requests, tooMany, retries, rate, inFlight, unreachable)
}

func register(reg *prometheus.Registry, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register metric: %w", err)
		}
	}
	return nil
}

// unixSeconds is t as fractional Unix seconds, 0 for nil or the zero time.
func unixSeconds(t *time.Time) float64 {
	if t == nil || t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / float64(time.Second)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
