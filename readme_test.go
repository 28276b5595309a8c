package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db/dbtest"
	"github.com/bisonsync/bisonsync/sync"
)

// readmeCommands returns the README's command lines: the indented lines that start with
// "go ", in order.
func readmeCommands(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "    go ") {
			cmds = append(cmds, strings.TrimSpace(line))
		}
	}
	return cmds
}

// A newcomer's first minutes: clone the repository, read the README, run its commands as
// written there with nothing but DATABASE_URL configured. The headless demo exits 0, all 26
// workspaces succeed, and jason@ then shows 43 emails sent.
func TestNewcomerRunsTheReadme(t *testing.T) {
	clone := filepath.Join(t.TempDir(), "bisonsync")
	if out, err := exec.Command("git", "clone", "--quiet", ".", clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	cmds := readmeCommands(t, filepath.Join(clone, "README.md"))
	if len(cmds) < 3 || cmds[0] != "go run . --demo" || !strings.HasPrefix(cmds[1], "go test ") {
		t.Fatalf("the README's first commands should be the demo and the tests, then the headless demo: %q", cmds)
	}
	var headless string
	for _, c := range cmds {
		if strings.Contains(c, "--demo") && strings.Contains(c, "--headless") && strings.Contains(c, "--json") {
			headless = c
		}
	}
	if headless == "" {
		t.Fatalf("the README shows no headless demo command: %q", cmds)
	}

	// Only DATABASE_URL is the newcomer's; the rest is what the go tool itself needs to run
	// on this machine (its path, caches and proxy).
	env := []string{"DATABASE_URL=" + dbtest.URL()}
	for _, k := range []string{"PATH", "HOME", "GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY", "GOFLAGS", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for _, k := range []string{"GOCACHE", "GOMODCACHE"} {
		if out, err := exec.Command("go", "env", k).Output(); err == nil {
			env = append(env, k+"="+strings.TrimSpace(string(out)))
		}
	}
	// The command as written, in a schema of the test's own: the shared bisonsync_demo schema
	// may be in use by someone's demo.
	schema := dbtest.NewSchema(t)
	args := append(strings.Fields(headless), "--schema", schema)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir, cmd.Env = clone, env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s", headless, err, stderr.String())
	}
	var s sync.Summary
	if err := json.Unmarshal([]byte(stdout.String()), &s); err != nil {
		t.Fatalf("%s printed no JSON summary: %v\n%s", headless, err, stdout.String())
	}
	if s.WorkspacesSucceeded != sim.IncidentWorkspaces || s.Status != "succeeded" || s.Trigger != "demo" {
		t.Fatalf("the demo run: %s, %d of %d succeeded, trigger %s", s.Status, s.WorkspacesSucceeded, s.WorkspacesTotal, s.Trigger)
	}
	// The demo's transient faults are ridden out where a newcomer can see it.
	if !strings.Contains(stderr.String(), "retrying") {
		t.Fatalf("the demo's retries are not in the log:\n%s", stderr.String())
	}
	store := dbtest.OpenStore(t, schema)
	var sent int
	if err := store.Pool().QueryRow(context.Background(), `SELECT emails_sent_count FROM `+schema+`.email_accounts_raw
		WHERE email_address = $1 AND deleted_at IS NULL`, sim.IncidentEmail).Scan(&sent); err != nil || sent != 43 {
		t.Fatalf("%s now shows %d emails sent (%v), want 43", sim.IncidentEmail, sent, err)
	}
}
