package main

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db/dbtest"
	"github.com/bisonsync/bisonsync/internal/fleettest"
)

// runInProcess runs the command line as main does, without a database unless args name one.
func runInProcess(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// Every command's help goes to stdout with exit 0, lists its usage and flags, and nothing
// goes to stderr.
func TestHelpOfEveryCommand(t *testing.T) {
	t.Parallel()
	cases := [][]string{
		{"--help"}, {"-h"}, {"-help"}, {"help"}, {"help", "sync"}, {"sync", "--help"}, {"check", "-h"},
		{"migrate", "--help"}, {"version", "--help"}, {"completion", "--help"}, {"help", "check"},
		{"register", "--help"}, {"keys", "--help"}, {"keys", "mint", "--help"}, {"help", "keys", "check"},
	}
	for _, args := range cases {
		code, out, errOut := runInProcess(args...)
		if code != exitOK || errOut != "" || !strings.Contains(out, "Usage:\n  bisonsync") || !strings.Contains(out, "--help") {
			t.Errorf("bisonsync %v: exit %d, stderr %q, stdout:\n%s", args, code, errOut, out)
		}
	}
	_, out, _ := runInProcess("--help")
	for _, want := range []string{"sync", "check", "migrate", "completion", "Exit codes:", "Examples:",
		groupDatabase + ":", groupSync + ":", "--workspace NAME", "30s to connect"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q:\n%s", want, out)
		}
	}
	_, out, _ = runInProcess("sync", "--help")
	if !strings.Contains(out, "--stale DURATION") || strings.Contains(out, "\n  --check ") || !strings.Contains(out, "Exit codes:") {
		t.Errorf("sync --help shows other commands' flags or lacks its own:\n%s", out)
	}
}

// Mistakes are exit 2 with one line naming the flag as the README writes it, with the
// closest flag or command suggested; nothing reaches the database.
func TestUsageMistakesSuggest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--hedless"}, "unknown flag --hedless; did you mean --headless?"},
		{[]string{"-hedless"}, "unknown flag --hedless; did you mean --headless?"},
		{[]string{"--workspce", "x"}, "unknown flag --workspce; did you mean --workspace?"},
		{[]string{"snyc"}, `unknown command "snyc"; did you mean sync?`},
		{[]string{"chekc"}, `unknown command "chekc"; did you mean check?`},
		{[]string{"sync", "--max-age"}, "--max-age needs a value"},
		{[]string{"sync", "--stale", "banana"}, `invalid value "banana" for --stale`},
		{[]string{"check", "--workspace", "x"}, "--workspace does not go with bisonsync check"},
		{[]string{"migrate", "--headless"}, "--headless does not go with bisonsync migrate"},
		{[]string{"check", "Castle"}, `unexpected argument "Castle"`},
		{[]string{"completion", "pwsh"}, `no completion for shell "pwsh"`},
		{[]string{"help", "synk"}, `no help for "synk": unknown command; did you mean sync?`},
		{[]string{"-headless", "-check"}, "choose one mode"},
		{[]string{"--headless", "migrate"}, "--headless does not go with bisonsync migrate"},
		{[]string{"--workspace", "A"}, "--workspace, --stale and --deadline choose what a run"},
		{[]string{"sync", "--workspace", " "}, "a workspace name cannot be empty"},
	}
	for _, tc := range cases {
		code, out, errOut := runInProcess(tc.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "--help' for usage") {
			t.Errorf("bisonsync %v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
}

// The single-dash spelling Go's flag package accepted still reads as the long flag; values
// that start with a dash stay values.
func TestNormalizeArgs(t *testing.T) {
	t.Parallel()
	c := &cli{}
	root := c.rootCommand()
	got := normalizeArgs(root, []string{"-headless", "-workers", "-1", "-h", "--json", "-schema=x", "--", "-stale"})
	want := []string{"--headless", "--workers", "-1", "-h", "--json", "--schema=x", "--", "-stale"}
	if !slices.Equal(got, want) {
		t.Fatalf("normalizeArgs: %q, want %q", got, want)
	}
}

func TestClosestAndFold(t *testing.T) {
	t.Parallel()
	names := []string{"Müller GmbH", "Castle Agency", "Cobalt Recruiting", "Jason Binyon", "Straße Media"}
	cases := []struct {
		typed string
		want  []string
	}{
		{"muller gmbh", []string{"Müller GmbH"}},
		{"Castle Agncy", []string{"Castle Agency"}},
		{"binyon", []string{"Jason Binyon"}},
		{"STRASSE media", []string{"Straße Media"}},
		{"Nobody Inc", nil},
	}
	for _, tc := range cases {
		if got := closest(tc.typed, names, 3); !slices.Equal(got, tc.want) {
			t.Errorf("closest(%q) = %q, want %q", tc.typed, got, tc.want)
		}
	}
	if fold("Müller") != fold("MULLER") {
		t.Fatalf("fold: %q vs %q", fold("Müller"), fold("MULLER"))
	}
}

// The completion scripts are printed for the three shells, and the binary completes
// workspace names from the registry of the schema given on the command line; with the
// database unreachable it completes nothing, quickly.
func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, errOut := runInProcess("completion", shell)
		if code != exitOK || !strings.Contains(out, "bisonsync") || errOut != "" {
			t.Fatalf("completion %s: exit %d, %q", shell, code, errOut)
		}
	}
	f := fleettest.New(t, sim.IncidentFleet(), sim.Options{})
	complete := func(url string, args ...string) []string {
		cmd := exec.Command(binary, append([]string{"__complete", "--database-url", url}, args...)...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("__complete %v: %v", args, err)
		}
		var names []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if !strings.HasPrefix(l, ":") {
				names = append(names, l)
			}
		}
		return names
	}
	got := complete(dbtest.URL(), "--schema", f.Store.Schema(), "sync", "--workspace", "jas")
	if !slices.Equal(got, []string{sim.IncidentLargest}) {
		t.Fatalf("completing --workspace jas: %q", got)
	}
	if got := complete(dbtest.URL(), "--schema", f.Store.Schema(), "--headless", "--allow-deletions", ""); len(got) != sim.IncidentWorkspaces {
		t.Fatalf("completing --allow-deletions: %d names, want %d", len(got), sim.IncidentWorkspaces)
	}
	start := time.Now()
	if got := complete("postgres://nobody@127.0.0.1:1/none?sslmode=disable", "sync", "--workspace", ""); len(got) != 0 {
		t.Fatalf("completion without a database: %q", got)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("completion without a database took %s", took)
	}
}
