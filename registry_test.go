package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	stdsync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db/dbtest"
	"github.com/bisonsync/bisonsync/internal/fleettest"
)

// An empty registry is a problem, never a healthy silence (issue 12): sync (and --headless)
// exit 1 saying which schema has no active workspace and how to add one, without opening a
// run.
func TestEmptyRegistryIsAProblem(t *testing.T) {
	t.Parallel()
	store := dbtest.NewStore(t)
	schema := store.Schema()
	steps := []struct {
		setup string // SQL run first, {schema} replaced
		want  []string
	}{
		{"", []string{`schema "` + schema + `" has no active workspace`, "bison_instances", "README"}},
		{`INSERT INTO {schema}.bison_instances (name, base_url) VALUES ('main', 'http://127.0.0.1:1/api')`,
			[]string{"INSERT INTO " + schema + ".client_registry", "run: bisonsync register --all --schema " + schema}},
		{`INSERT INTO {schema}.client_registry (workspace_name, bison_instance, bison_workspace_id, is_active) VALUES ('Old', 'main', 1, false)`,
			[]string{"1 registered, all with is_active = false"}},
		{`UPDATE {schema}.bison_instances SET api_key = 'env:NOPE'`,
			[]string{"bisonsync register --all --schema " + schema}},
	}
	for _, step := range steps {
		if step.setup != "" {
			if _, err := store.Pool().Exec(t.Context(), strings.ReplaceAll(step.setup, "{schema}", schema)); err != nil {
				t.Fatal(err)
			}
		}
		for _, mode := range [][]string{{"sync"}, {"--headless", "--json"}} {
			code, p := runBinary(t, nil, append([]string{"--schema", schema}, mode...)...)
			for _, w := range step.want {
				if code != exitFailed || !strings.Contains(p.stderr.String(), w) {
					t.Errorf("%v after %q: exit %d, want 1 and %q in:\n%s", mode, step.setup, code, w, p.stderr.String())
				}
			}
			if p.stdout.Len() != 0 {
				t.Errorf("%v printed on stdout without a run: %s", mode, p.stdout.String())
			}
		}
	}
	// check and --check say the same on stdout, also in JSON.
	for _, mode := range [][]string{{"check"}, {"--check", "--json"}} {
		code, p := runBinary(t, nil, append([]string{"--schema", schema}, mode...)...)
		if code != exitFailed || !strings.Contains(p.stdout.String(), "0 workspaces") ||
			!strings.Contains(p.stdout.String(), "has no active workspace") {
			t.Errorf("%v on an empty registry: exit %d\n%s%s", mode, code, p.stdout.String(), p.stderr.String())
		}
	}
	var runs int
	if err := store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM `+schema+`.sync_runs`).Scan(&runs); err != nil || runs != 0 {
		t.Fatalf("%d runs opened (%v)", runs, err)
	}
}

// A --stale run that selects nothing because everything is fresh is fine: exit 0, and the
// log says why nothing was synced.
func TestStaleRunWithNothingStale(t *testing.T) {
	t.Parallel()
	f := fleettest.New(t, sim.IncidentFleet(), sim.Options{})
	f.Exec(`UPDATE ` + f.Table("client_registry") + ` SET last_successful_sync_at = now() - interval '10 minutes'`)
	start := time.Now()
	code, p := runBinary(t, f, "sync", "--stale", "1h")
	if code != exitOK || !strings.Contains(p.stderr.String(), "every active workspace synced within 1h") {
		t.Fatalf("exit %d after %s\n%s", code, time.Since(start), p.stderr.String())
	}
}

// A service (--every) over an empty registry says so at each run and keeps waiting: the
// registry may be filled before the next one. SIGTERM between runs exits 0, as always.
func TestEveryWaitsOutAnEmptyRegistry(t *testing.T) {
	t.Parallel()
	store := dbtest.NewStore(t)
	var stderr lockedBuffer
	cmd := exec.Command(binary, "--schema", store.Schema(), "sync", "--every", "1h", "--log-format", "json")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbtest.URL())
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool { return strings.Contains(stderr.String(), `"msg":"next run"`) })
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitOK || !strings.Contains(stderr.String(), `"msg":"no active workspace"`) {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
}

// lockedBuffer is an output a test may read while the process still writes it.
type lockedBuffer struct {
	mu  stdsync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
