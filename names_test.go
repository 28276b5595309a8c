package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/internal/fleettest"
)

func TestResolveNames(t *testing.T) {
	t.Parallel()
	registry := []db.Workspace{{Name: "Müller GmbH"}, {Name: "Castle Agency"}, {Name: "Muller"}, {Name: "Müller"}, {Name: "Jason Binyon"}}
	cases := []struct {
		typed    []string
		want     []string
		problems []string
	}{
		{[]string{"Castle Agency"}, []string{"Castle Agency"}, nil},
		{[]string{"castle agency", "CASTLE AGENCY"}, []string{"Castle Agency"}, nil},
		{[]string{"muller gmbh"}, []string{"Müller GmbH"}, nil},
		{[]string{"Müller"}, []string{"Müller"}, nil}, // exact wins over the folded twin
		{[]string{"muller"}, nil, []string{`--workspace "muller" matches 2 workspaces ("Muller", "Müller")`}},
		{[]string{"Jasn Binyon"}, nil, []string{`unknown workspace "Jasn Binyon" in --workspace; did you mean "Jason Binyon"?`}},
		{[]string{"Nobody Inc"}, nil, []string{`unknown workspace "Nobody Inc" in --workspace: no workspace of the 5`}},
	}
	for _, tc := range cases {
		got, problems := resolveNames("--workspace", tc.typed, registry)
		if !slices.Equal(got, tc.want) || len(problems) != len(tc.problems) {
			t.Errorf("%q: %q %q, want %q %q", tc.typed, got, problems, tc.want, tc.problems)
			continue
		}
		for i, p := range problems {
			if !strings.HasPrefix(p, tc.problems[i]) {
				t.Errorf("%q: problem %q, want %q", tc.typed, p, tc.problems[i])
			}
		}
	}
}

// Workspace names in flags are matched to the registry before the run, whatever their case
// and accents; one that matches nothing is exit 2 with the closest names, in --workspace and
// in --allow-deletions alike (a misspelt --allow-deletions used to apply nothing, exit 0).
func TestWorkspaceFlagsTakeRegistryNames(t *testing.T) {
	t.Parallel()
	f := fleettest.New(t, sim.IncidentFleet(), sim.Options{})
	f.Exec(`UPDATE ` + f.Table("client_registry") + ` SET workspace_name = 'Château Agency' WHERE workspace_name = 'Castle Agency'`)

	code, p := runBinary(t, f, "sync", "--json", "--workspace", "chateau agency", "--workspace", "JASON BINYON", "--allow-deletions", "jason binyon")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, p.stderr.String())
	}
	s := summaryOf(t, p)
	var names []string
	for _, w := range s.Workspaces {
		names = append(names, w.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"Château Agency", sim.IncidentLargest}) {
		t.Fatalf("synced %q", names)
	}

	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--headless", "--allow-deletions", "Jasn Binyon"}, `unknown workspace "Jasn Binyon" in --allow-deletions; did you mean "Jason Binyon"?`},
		{[]string{"sync", "--workspace", "Chateau Agncy"}, `did you mean "Château Agency"?`},
		{[]string{"sync", "--workspace", "Cobalt Recruiting", "--allow-deletions", "Jason Binyon"}, `add --workspace "Jason Binyon"`},
	}
	for _, tc := range cases {
		code, p := runBinary(t, f, tc.args...)
		if code != exitUsage || !strings.Contains(p.stderr.String(), tc.want) {
			t.Errorf("bisonsync %q: exit %d, stderr %q; want exit 2 and %q", tc.args, code, p.stderr.String(), tc.want)
		}
	}
	if n := f.Int(`SELECT count(*) FROM ` + f.Table("sync_runs")); n != 1 {
		t.Fatalf("%d runs recorded; the refused command lines should have opened none", n)
	}
}
