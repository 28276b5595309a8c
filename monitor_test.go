package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	stdsync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/internal/fleettest"
)

// webhook is a local notification endpoint that records what it receives.
type webhook struct {
	mu       stdsync.Mutex
	messages []map[string]any
	status   int
	srv      *httptest.Server
}

func newWebhook(t *testing.T, status int) *webhook {
	w := &webhook{status: status}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("notification is not JSON: %s", body)
		}
		w.mu.Lock()
		w.messages = append(w.messages, m)
		w.mu.Unlock()
		rw.WriteHeader(w.status)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *webhook) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.messages)
}

// --every runs again and again, writing the metrics file and notifying after each run, and
// a SIGTERM between runs stops it cleanly.
func TestEveryWritesMetricsAndNotifies(t *testing.T) {
	t.Parallel()
	f := fleettest.New(t, sim.IncidentFleet(), sim.Options{})
	inst := f.Fleet.Instance(sim.IncidentInstance)
	victim := inst.Workspaces[0]
	f.Srv.SetWorkspaceKey(inst.Name, victim.ID, "8|rotated-at-the-source-not-in-the-registry")
	hook := newWebhook(t, http.StatusOK)
	metrics := filepath.Join(t.TempDir(), "bisonsync.prom")

	p := start(t, f, "--headless", "--every", "2s", "--metrics-file", metrics, "--notify-url", hook.srv.URL+"/services/T000/B000/secret")
	waitFor(t, 30*time.Second, func() bool { return hook.count() >= 2 })
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 20*time.Second); code != exitOK {
		t.Fatalf("exit %d after SIGTERM between runs, want 0\n%s", code, p.stderr.String())
	}
	if runs := f.Int(`SELECT count(*) FROM ` + f.Table("sync_runs") + ` WHERE status = 'partial'`); runs < 2 {
		t.Fatalf("%d runs recorded, want at least 2", runs)
	}
	msg := hook.messages[0]
	if msg["kind"] != "run" || msg["status"] != "partial" || !strings.Contains(msg["text"].(string), victim.Name) {
		t.Fatalf("notification: %v", msg)
	}
	f.AssertNoToken("stderr", p.stderr.String())
	if strings.Contains(p.stderr.String(), "secret") {
		t.Fatal("the webhook's secret path was logged")
	}

	file, err := os.Open(metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(file)
	if err != nil {
		t.Fatalf("the metrics file does not parse: %v", err)
	}
	gauge := func(name string, labels map[string]string) float64 {
		for _, m := range families[name].GetMetric() {
			match := true
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					match = false
				}
			}
			if match {
				return m.GetGauge().GetValue()
			}
		}
		t.Fatalf("no %s%v in the metrics file", name, labels)
		return 0
	}
	if v := gauge("bisonsync_last_run_status", map[string]string{"status": "partial"}); v != 1 {
		t.Fatalf("last run status partial = %v", v)
	}
	if v := gauge("bisonsync_workspace_consecutive_failures", map[string]string{"workspace": victim.Name}); v < 2 {
		t.Fatalf("%s consecutive failures = %v, want at least 2", victim.Name, v)
	}
	if v := gauge("bisonsync_workspace_live_accounts", map[string]string{"workspace": sim.IncidentLargest}); v != sim.IncidentLargestAccounts {
		t.Fatalf("Jason Binyon live accounts = %v", v)
	}
}

// A notification that cannot be delivered is logged and turns a clean exit into 1: a run
// that succeeded but flagged a mis-scoped key, and a check that only has warnings.
func TestUndeliveredNotificationChangesTheExitCode(t *testing.T) {
	t.Parallel()
	f := fleettest.New(t, sim.IncidentFleet(), sim.Options{})
	inst := f.Fleet.Instance(sim.IncidentInstance)
	var keyed []*sim.Workspace
	for _, w := range inst.Workspaces {
		if w.Key != "" {
			keyed = append(keyed, w)
		}
	}
	f.Exec(`UPDATE `+f.Table("client_registry")+` SET bison_api_key = $2 WHERE workspace_name = $1`, keyed[0].Name, keyed[1].Key)
	broken := newWebhook(t, http.StatusInternalServerError)
	working := newWebhook(t, http.StatusOK)

	code, p := runBinary(t, f, "--headless", "--notify-url", broken.srv.URL+"/hook")
	if code != exitFailed || !strings.Contains(p.stderr.String(), "notification not sent") {
		t.Fatalf("run with a warning and a broken endpoint: exit %d\n%s", code, p.stderr.String())
	}
	code, p = runBinary(t, f, "--check", "--notify-url", broken.srv.URL+"/hook")
	if code != exitFailed || !strings.Contains(p.stdout.String(), "warning") {
		t.Fatalf("check with only warnings and a broken endpoint: exit %d\n%s\n%s", code, p.stdout.String(), p.stderr.String())
	}
	code, p = runBinary(t, f, "--check", "--notify-url", working.srv.URL+"/hook")
	if code != exitOK || working.count() != 1 || working.messages[0]["kind"] != "check" {
		t.Fatalf("check with only warnings and a working endpoint: exit %d, %d messages\n%s", code, working.count(), p.stderr.String())
	}
}
