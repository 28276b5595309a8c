package monitor_test

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/monitor"
)

// After a clean run and one where a workspace's key was rejected, the metrics file parses
// with Prometheus's own text parser and says what happened.
func TestMetricsAfterRealRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleet(t)
	_, broken, victim := f.cleanThenBroken(t)

	// One active workspace never synced, one inactive workspace: the first must show (as
	// unhealthy, timestamps 0), the second must not.
	for _, w := range []db.Workspace{
		{Name: "Never Synced Co", Instance: sim.IncidentInstance, BisonID: 9001, IsActive: true},
		{Name: "Retired Co", Instance: sim.IncidentInstance, BisonID: 9002, IsActive: false},
	} {
		if err := f.Store.UpsertWorkspace(ctx, w); err != nil {
			t.Fatal(err)
		}
	}

	path := filepath.Join(t.TempDir(), "bisonsync.prom")
	if err := monitor.WriteMetrics(ctx, path, f.Store, &broken, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	m := parseMetrics(t, path)
	ws := func(name string) map[string]string {
		return map[string]string{"workspace": name, "instance": sim.IncidentInstance}
	}
	status := func(s string) map[string]string { return map[string]string{"status": s} }

	// The workspace whose key was rejected: one failure, unhealthy, previous rows kept.
	m.want("bisonsync_workspace_consecutive_failures", ws(victim.Name), 1)
	m.want("bisonsync_workspace_unhealthy", ws(victim.Name), 1)
	m.want("bisonsync_workspace_live_accounts", ws(victim.Name), float64(len(victim.Accounts)))
	success := m.get("bisonsync_workspace_last_success_timestamp_seconds", ws(victim.Name))
	attempt := m.get("bisonsync_workspace_last_attempt_timestamp_seconds", ws(victim.Name))
	if age := time.Since(time.Unix(int64(success), 0)); age < 0 || age > time.Minute || attempt < success {
		t.Errorf("%s: last success %v (%s ago), last attempt %v: want a recent success before the attempt", victim.Name, success, age, attempt)
	}

	// A workspace that succeeded twice.
	m.want("bisonsync_workspace_consecutive_failures", ws(sim.IncidentLargest), 0)
	m.want("bisonsync_workspace_unhealthy", ws(sim.IncidentLargest), 0)
	m.want("bisonsync_workspace_warning", ws(sim.IncidentLargest), 0)
	m.want("bisonsync_workspace_live_accounts", ws(sim.IncidentLargest), sim.IncidentLargestAccounts)
	if d := m.get("bisonsync_workspace_last_duration_seconds", ws(sim.IncidentLargest)); d <= 0 || d > 60 {
		t.Errorf("%s: last duration %v s", sim.IncidentLargest, d)
	}

	// Never synced: timestamps 0, no duration, unhealthy. Inactive: absent.
	m.want("bisonsync_workspace_last_success_timestamp_seconds", ws("Never Synced Co"), 0)
	m.want("bisonsync_workspace_last_attempt_timestamp_seconds", ws("Never Synced Co"), 0)
	m.want("bisonsync_workspace_unhealthy", ws("Never Synced Co"), 1)
	m.absent("bisonsync_workspace_last_duration_seconds", ws("Never Synced Co"))
	m.absent("bisonsync_workspace_live_accounts", ws("Retired Co"))
	if n := len(m.families["bisonsync_workspace_live_accounts"].GetMetric()); n != sim.IncidentWorkspaces+1 {
		t.Errorf("live accounts of %d workspaces, want %d (the fleet's and the never synced one)", n, sim.IncidentWorkspaces+1)
	}
	m.want("bisonsync_check_max_age_seconds", nil, (24 * time.Hour).Seconds())

	// The run.
	m.want("bisonsync_last_run_status", status("partial"), 1)
	for _, s := range []string{"succeeded", "failed", "cancelled"} {
		m.want("bisonsync_last_run_status", status(s), 0)
	}
	m.want("bisonsync_last_run_workspaces", status("failed"), 1)
	m.want("bisonsync_last_run_workspaces", status("succeeded"), sim.IncidentWorkspaces-1)
	m.want("bisonsync_last_run_workspaces", status("cancelled"), 0)
	m.want("bisonsync_last_run_workspaces", status("skipped"), 0)
	m.want("bisonsync_last_run_accounts_synced", nil, float64(sim.IncidentAccounts-len(victim.Accounts)))
	m.want("bisonsync_last_run_duration_seconds", nil, float64(broken.DurationMS)/1000)
	if got := m.get("bisonsync_last_run_finished_timestamp_seconds", nil); math.Abs(got-float64(broken.FinishedAt.UnixNano())/1e9) > 0.001 {
		t.Errorf("last run finished at %v, the summary says %s", got, broken.FinishedAt)
	}

	// The history: one clean run, one partial; every final status has a series.
	m.want("bisonsync_runs_total", status("succeeded"), 1)
	m.want("bisonsync_runs_total", status("partial"), 1)
	m.want("bisonsync_runs_total", status("failed"), 0)
	m.want("bisonsync_runs_total", status("abandoned"), 0)

	for name, mf := range m.families {
		wantType := dto.MetricType_GAUGE
		if strings.HasSuffix(name, "_total") {
			wantType = dto.MetricType_COUNTER
		}
		if mf.GetType() != wantType || mf.GetHelp() == "" || !strings.HasPrefix(name, "bisonsync_") {
			t.Errorf("%s: type %s, help %q", name, mf.GetType(), mf.GetHelp())
		}
	}

	// Without a run: the fleet and the history only.
	if err := monitor.WriteMetrics(ctx, path, f.Store, nil, 0); err != nil {
		t.Fatal(err)
	}
	m = parseMetrics(t, path)
	m.want("bisonsync_check_max_age_seconds", nil, monitor.DefaultMaxAge.Seconds())
	m.want("bisonsync_runs_total", status("succeeded"), 1)
	for name := range m.families {
		if strings.HasPrefix(name, "bisonsync_last_run_") {
			t.Errorf("%s written without a run", name)
		}
	}
}

// Each instance's flow control in the last run: requests, 429s, retries by cause and the
// pace found, from a run against a throttled instance whose pages sometimes answer 503.
func TestMetricsCarryEachInstancesFlowControl(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	inst := sim.IncidentInstance
	f.Srv.SetThrottle(inst, sim.RateLimit{RequestsPerSecond: 400, Burst: 10, RetryAfter: false})
	f.Srv.AddFault(sim.Fault{Kind: sim.FaultStatus, Status: 503, Instance: inst, Path: sim.KindList, Every: 40, Times: 3})
	s := f.run(t)
	if !s.OK() || len(s.Instances) != 1 {
		t.Fatalf("run %s, instances %+v", s.Status, s.Instances)
	}
	got := s.Instances[0]
	if got.TooManyRequests == 0 || got.Retries["5xx"] == 0 || got.RequestsPerSecond <= 0 {
		t.Fatalf("the run met no 429, no 503 or kept no pace: %+v", got)
	}
	path := filepath.Join(t.TempDir(), "bisonsync.prom")
	if err := monitor.WriteMetrics(context.Background(), path, f.Store, &s, 0); err != nil {
		t.Fatal(err)
	}
	m := parseMetrics(t, path)
	in := map[string]string{"instance": inst}
	m.want("bisonsync_last_run_instance_requests", in, float64(got.Requests))
	m.want("bisonsync_last_run_instance_too_many_requests", in, float64(got.TooManyRequests))
	m.want("bisonsync_last_run_instance_pace_requests_per_second", in, got.RequestsPerSecond)
	m.want("bisonsync_last_run_instance_pace_in_flight", in, float64(got.InFlight))
	m.want("bisonsync_last_run_instance_unreachable", in, 0)
	for cause, n := range got.Retries {
		m.want("bisonsync_last_run_instance_retries", map[string]string{"instance": inst, "cause": cause}, float64(n))
	}
}

// The file is replaced atomically: a new file renamed over the old one, no temporary file
// left behind, and a reader that opened the old file still reads it whole.
func TestMetricsFileIsReplacedAtomically(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleet(t)
	first := f.run(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "bisonsync.prom")
	if err := os.WriteFile(path, []byte("stale content that is not Prometheus text\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	if err := monitor.WriteMetrics(ctx, path, f.Store, &first, time.Hour); err != nil {
		t.Fatal(err)
	}
	parseMetrics(t, path).want("bisonsync_runs_total", map[string]string{"status": "succeeded"}, 1)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if before.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 so that node_exporter can read it", before.Mode().Perm())
	}
	reader, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	second := f.run(t)
	if err := monitor.WriteMetrics(ctx, path, f.Store, &second, time.Hour); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(before, after) {
		t.Error("the file was rewritten in place, not replaced by a rename")
	}
	parseMetrics(t, path).want("bisonsync_runs_total", map[string]string{"status": "succeeded"}, 2)
	old, err := parseText(reader)
	if err != nil {
		t.Fatalf("the old file, read after the replacement: %v", err)
	}
	if v := value(old["bisonsync_runs_total"], map[string]string{"status": "succeeded"}); v == nil || *v != 1 {
		t.Errorf("the old file changed under its reader: runs_total %v", v)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "bisonsync.prom" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only bisonsync.prom", names)
	}

	missing := filepath.Join(dir, "no-such-dir", "bisonsync.prom")
	if err := monitor.WriteMetrics(ctx, missing, f.Store, &second, time.Hour); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("writing into a missing directory: %v", err)
	}
}

// metrics is a parsed metrics file.
type metrics struct {
	t        *testing.T
	families map[string]*dto.MetricFamily
}

// parseText parses the Prometheus text format, holding names to the legacy rules: what
// every Prometheus and node_exporter version accepts.
func parseText(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	return p.TextToMetricFamilies(r)
}

func parseMetrics(t *testing.T, path string) *metrics {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	families, err := parseText(file)
	if err != nil {
		text, _ := os.ReadFile(path)
		t.Fatalf("%s does not parse: %v\n%s", path, err, text)
	}
	return &metrics{t: t, families: families}
}

// value is the value of the series of mf with exactly these labels, nil when there is none.
func value(mf *dto.MetricFamily, labels map[string]string) *float64 {
	for _, m := range mf.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		match := true
		for _, l := range m.GetLabel() {
			if v, ok := labels[l.GetName()]; !ok || v != l.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		var v float64
		switch {
		case m.Gauge != nil:
			v = m.Gauge.GetValue()
		case m.Counter != nil:
			v = m.Counter.GetValue()
		case m.Untyped != nil:
			v = m.Untyped.GetValue()
		}
		return &v
	}
	return nil
}

func (m *metrics) get(name string, labels map[string]string) float64 {
	m.t.Helper()
	mf, ok := m.families[name]
	if !ok {
		m.t.Fatalf("no metric %s", name)
	}
	v := value(mf, labels)
	if v == nil {
		m.t.Fatalf("no series %s%v", name, labels)
	}
	return *v
}

func (m *metrics) want(name string, labels map[string]string, want float64) {
	m.t.Helper()
	if got := m.get(name, labels); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		m.t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

func (m *metrics) absent(name string, labels map[string]string) {
	m.t.Helper()
	if v := value(m.families[name], labels); v != nil {
		m.t.Errorf("%s%v = %v, want no series", name, labels, *v)
	}
}
