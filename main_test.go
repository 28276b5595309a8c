package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db/dbtest"
	"github.com/bisonsync/bisonsync/internal/fleettest"
	"github.com/bisonsync/bisonsync/sync"
)

// binary is bisonsync built once for the tests that run it as an operator or cron would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bisonsync-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "bisonsync")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build bisonsync: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is one run of the binary.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

func start(t *testing.T, f *fleettest.Fixture, args ...string) *proc {
	t.Helper()
	p := &proc{}
	if f != nil {
		args = append([]string{"--schema", f.Store.Schema()}, args...)
	}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = append(os.Environ(), "DATABASE_URL="+dbtest.URL())
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// wait returns the exit code, failing the test if the process outlives timeout.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-done
		t.Fatalf("bisonsync did not exit within %s\nstderr:\n%s", timeout, p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

func runBinary(t *testing.T, f *fleettest.Fixture, args ...string) (int, *proc) {
	t.Helper()
	p := start(t, f, args...)
	code := p.wait(t, 2*time.Minute)
	if f != nil {
		f.AssertNoToken("stdout", p.stdout.String())
		f.AssertNoToken("stderr", p.stderr.String())
	}
	return code, p
}

func summaryOf(t *testing.T, p *proc) sync.Summary {
	t.Helper()
	var s sync.Summary
	if err := json.Unmarshal(p.stdout.Bytes(), &s); err != nil {
		t.Fatalf("stdout is not the JSON summary: %v\n%s\nstderr:\n%s", err, p.stdout.String(), p.stderr.String())
	}
	return s
}

// A headless run of the incident fleet with one rejected key: exit 1, a JSON summary that
// says which workspace failed and why, the others exact, and no token anywhere.
func TestHeadlessExitCodesAndSummary(t *testing.T) {
	t.Parallel()
	f := fleettest.New(t, sim.IncidentFleet(), sim.Options{})
	code, p := runBinary(t, f, "--headless", "--json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, p.stderr.String())
	}
	s := summaryOf(t, p)
	if s.Status != "succeeded" || len(s.Workspaces) != sim.IncidentWorkspaces || s.RunID == 0 {
		t.Fatalf("summary: %s with %d workspaces", s.Status, len(s.Workspaces))
	}
	if !strings.Contains(p.stdout.String(), `"Harbor & Finch"`) {
		t.Fatalf("--json writes & escaped, or the fleet lost Harbor & Finch:\n%s", p.stdout.String())
	}
	f.AssertExact()

	inst := f.Fleet.Instance(sim.IncidentInstance)
	var victim *sim.Workspace
	for _, w := range inst.Workspaces {
		if w.Key != "" {
			victim = w
			break
		}
	}
	f.Srv.SetWorkspaceKey(inst.Name, victim.ID, "5|a-new-key-the-registry-does-not-have-yet-xx")
	code, p = runBinary(t, f, "--headless", "--json", "--log-format", "json")
	if code != exitFailed {
		t.Fatalf("exit %d with a rejected key, want 1", code)
	}
	s = summaryOf(t, p)
	for _, w := range s.Workspaces {
		if w.Name == victim.Name && (w.Status != "failed" || !strings.Contains(w.Error, "rejected (HTTP 401)")) {
			t.Fatalf("%s: %s %q", w.Name, w.Status, w.Error)
		}
	}
	if s.Status != "partial" {
		t.Fatalf("run %s, want partial", s.Status)
	}
	for _, line := range strings.Split(strings.TrimSpace(p.stderr.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Fatalf("--log-format json wrote a line that is not JSON: %s", line)
		}
	}
	f.AssertNoToken("history", f.HistoryText())

	// --check names it (failing), exit 1; a named run of the others is fine.
	code, p = runBinary(t, f, "--check")
	if code != exitFailed || !strings.Contains(p.stdout.String(), victim.Name) || !strings.Contains(p.stdout.String(), "failing") {
		t.Fatalf("--check: exit %d\n%s", code, p.stdout.String())
	}
	code, p = runBinary(t, f, "--check", "--json")
	var check struct {
		OK         bool
		Workspaces []struct{ Name, State, Reason string }
	}
	if err := json.Unmarshal(p.stdout.Bytes(), &check); err != nil || code != exitFailed || check.OK || len(check.Workspaces) != 1 || check.Workspaces[0].State != "failing" {
		t.Fatalf("--check --json: exit %d, %v, %s", code, err, p.stdout.String())
	}
	f.Srv.SetWorkspaceKey(inst.Name, victim.ID, victim.Key)
	if code, p = runBinary(t, f, "--headless", "--workspace", victim.Name); code != exitOK {
		t.Fatalf("named run: exit %d\n%s", code, p.stderr.String())
	}
	if code, p = runBinary(t, f, "--check", "--max-age", "1h"); code != exitOK ||
		!strings.Contains(p.stdout.String(), fmt.Sprintf("\n%d workspaces: %[1]d ok\n", sim.IncidentWorkspaces)) {
		t.Fatalf("--check when all is fresh: exit %d\n%s", code, p.stdout.String())
	}
}

// Usage and configuration mistakes exit 2 with one line that says what to do; an unreachable
// database exits 3 and says how to fix it.
func TestUsageAndConfigurationErrors(t *testing.T) {
	t.Parallel()
	f := fleettest.New(t, sim.IncidentFleet(), sim.Options{})
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--bogus"}, exitUsage, "unknown flag --bogus"},
		{[]string{"--headless", "--check"}, exitUsage, "choose one mode"},
		{[]string{"--stale", "banana", "--headless"}, exitUsage, "invalid value \"banana\" for --stale"},
		{[]string{"--json"}, exitUsage, "--json goes with --headless or --check"},
		{[]string{"--headless", "--workspace", "Nobody Inc"}, exitUsage, `unknown workspace "Nobody Inc" in --workspace`},
		{[]string{"--log-format", "xml", "--headless"}, exitUsage, "--log-format must be text or json"},
		{[]string{}, exitUsage, "the console needs a terminal"},
		{[]string{"--schema", "Bad-Name", "--check"}, exitUsage, "invalid schema name"},
	}
	for _, tc := range cases {
		code, p := runBinary(t, f, tc.args...)
		if code != tc.code || !strings.Contains(p.stderr.String(), tc.want) {
			t.Errorf("bisonsync %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, p.stderr.String(), tc.code, tc.want)
		}
	}
	// A base_url that cannot be an API root is bad configuration, named before anything is sent.
	f.Exec(`UPDATE ` + f.Table("bison_instances") + ` SET base_url = 'ftp://send.example.com/api'`)
	if code, p := runBinary(t, f, "--headless"); code != exitUsage || !strings.Contains(p.stderr.String(), sim.IncidentInstance) ||
		!strings.Contains(p.stderr.String(), "base_url") {
		t.Errorf("a bad base_url: exit %d, stderr %q; want exit 2 naming the instance", code, p.stderr.String())
	}
	// No database: exit 3, naming what to set.
	p := exec.Command(binary, "--check", "--database-url", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	out, _ := p.CombinedOutput()
	if p.ProcessState.ExitCode() != exitDatabase || !strings.Contains(string(out), "DATABASE_URL") || !strings.Contains(string(out), "127.0.0.1:1") {
		t.Fatalf("unreachable database: exit %d\n%s", p.ProcessState.ExitCode(), out)
	}
	for _, args := range [][]string{{"--help"}, {"--version"}} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "bisonsync") {
			t.Fatalf("bisonsync %v: %v\n%s", args, err, out)
		}
	}
}

// SIGTERM mid-run: exit 130, the run cancelled, every workspace either committed whole or
// untouched, no lease or running row left behind.
func TestSIGTERMCancelsCleanly(t *testing.T) {
	t.Parallel()
	f := fleettest.New(t, sim.IncidentFleet(), sim.Options{})
	if code, p := runBinary(t, f, "--headless"); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, p.stderr.String())
	}
	inst := f.Fleet.Instance(sim.IncidentInstance)
	before := map[string]string{}
	for _, w := range inst.Workspaces {
		f.Srv.AddAccounts(inst.Name, w.ID, 1)
		before[w.Name] = f.Snapshot(inst.Name, w.ID)
	}
	f.Srv.SetLatency(inst.Name, 40*time.Millisecond, 20*time.Millisecond)
	p := start(t, f, "--headless", "--json", "--workers", "4")
	waitFor(t, 20*time.Second, func() bool {
		return f.Int(`SELECT count(*) FROM `+f.Table("sync_run_workspaces")+` w JOIN `+f.Table("sync_runs")+
			` r ON r.id = w.run_id WHERE r.status = 'running' AND w.status = 'succeeded'`) >= 1
	})
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 20*time.Second); code != exitInterrupted {
		t.Fatalf("exit %d after SIGTERM, want 130\n%s", code, p.stderr.String())
	}
	s := summaryOf(t, p)
	if s.Status != "cancelled" {
		t.Fatalf("run %s after SIGTERM", s.Status)
	}
	for _, w := range s.Workspaces {
		id := inst.WorkspaceNamed(w.Name).ID
		switch w.Status {
		case "succeeded":
			f.AssertExact(w.Name)
		case "cancelled":
			if !strings.Contains(w.Error, "SIGTERM") || f.Snapshot(inst.Name, id) != before[w.Name] {
				t.Fatalf("%s cancelled (%q) but its rows changed or the reason is missing", w.Name, w.Error)
			}
		default:
			t.Fatalf("%s ended %s", w.Name, w.Status)
		}
	}
	if n := f.Int(`SELECT count(*) FROM ` + f.Table("workspace_leases")); n != 0 {
		t.Fatalf("%d leases left", n)
	}
	if st := f.Strings(`SELECT status::text FROM `+f.Table("sync_runs")+` WHERE id = $1`, s.RunID); st[0] != "cancelled" {
		t.Fatalf("the run row says %s", st[0])
	}
}

// SIGKILL mid-run, then a new run on the same host: the dead run is abandoned at once (its
// pid is gone), its leases are free, and the new run syncs everything.
func TestSIGKILLThenNextRunAbandonsIt(t *testing.T) {
	t.Parallel()
	f := fleettest.New(t, sim.IncidentFleet(), sim.Options{Latency: 40 * time.Millisecond})
	p := start(t, f, "--headless")
	waitFor(t, 20*time.Second, func() bool {
		return f.Int(`SELECT count(*) FROM `+f.Table("workspace_leases")) >= 1
	})
	p.cmd.Process.Kill()
	p.wait(t, 10*time.Second)
	f.Srv.SetLatency(sim.IncidentInstance, 0, 0)

	code, q := runBinary(t, f, "--headless", "--json")
	if code != exitOK {
		t.Fatalf("next run: exit %d\n%s", code, q.stderr.String())
	}
	s := summaryOf(t, q)
	if s.WorkspacesSucceeded != sim.IncidentWorkspaces {
		t.Fatalf("next run: %d succeeded, %d skipped", s.WorkspacesSucceeded, s.WorkspacesSkipped)
	}
	dead := f.Strings(`SELECT status::text || ' ' || coalesce(error, '') FROM ` + f.Table("sync_runs") + ` WHERE id <> ` + fmt.Sprint(s.RunID))
	if len(dead) != 1 || !strings.HasPrefix(dead[0], "abandoned ") {
		t.Fatalf("the killed run: %v", dead)
	}
	if !strings.Contains(q.stderr.String(), "abandoned") {
		t.Fatalf("the next run did not say it abandoned the dead one:\n%s", q.stderr.String())
	}
	f.AssertExact()
}

func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Two bisonsync processes on one schema at once: both exit 0, the data is exact, and no
// workspace is synced by both at the same moment. Then three started together with the same
// --stale split the fleet: every workspace is fetched exactly once in total.
func TestTwoProcessesAtOnce(t *testing.T) {
	t.Parallel()
	f := fleettest.New(t, sim.IncidentFleet(), sim.Options{Latency: 5 * time.Millisecond, Jitter: 5 * time.Millisecond})
	a, b := start(t, f, "--headless"), start(t, f, "--headless")
	if ca, cb := a.wait(t, time.Minute), b.wait(t, time.Minute); ca != exitOK || cb != exitOK {
		t.Fatalf("exit codes %d and %d\n%s\n%s", ca, cb, a.stderr.String(), b.stderr.String())
	}
	f.AssertExact()
	overlapping := f.Int(`SELECT count(*) FROM ` + f.Table("sync_run_workspaces") + ` x JOIN ` + f.Table("sync_run_workspaces") +
		` y ON x.workspace_name = y.workspace_name AND x.run_id < y.run_id
		WHERE x.status = 'succeeded' AND y.status = 'succeeded'
		  AND x.started_at < y.finished_at AND y.started_at < x.finished_at`)
	if overlapping != 0 {
		t.Fatalf("%d workspaces were synced by both processes at once", overlapping)
	}

	f.Exec(`UPDATE ` + f.Table("client_registry") + ` SET last_successful_sync_at = now() - interval '2 hours'`)
	f.Srv.ResetRequests()
	procs := []*proc{start(t, f, "--headless", "--stale", "1h"), start(t, f, "--headless", "--stale", "1h"), start(t, f, "--headless", "--stale", "1h")}
	for _, p := range procs {
		if code := p.wait(t, time.Minute); code != exitOK {
			t.Fatalf("exit %d\n%s", code, p.stderr.String())
		}
	}
	pageOnes := map[int]int{}
	for _, r := range f.Srv.Requests() {
		if r.Kind == sim.KindList && r.Page == 1 && r.Status == 200 {
			pageOnes[r.Workspace]++
		}
	}
	if len(pageOnes) != sim.IncidentWorkspaces {
		t.Fatalf("%d workspaces fetched, want %d", len(pageOnes), sim.IncidentWorkspaces)
	}
	for id, n := range pageOnes {
		if n != 1 {
			t.Fatalf("workspace %d fetched %d times by the three processes", id, n)
		}
	}
}
