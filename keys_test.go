package main

import (
	"strings"
	"testing"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/internal/fleettest"
)

// newClient is a workspace added in Email Bison after the registry was filled.
var newClient = sim.Workspace{ID: 50, Name: "Northwind Staffing", Seed: 7, Count: 47}

func addAtSource(t *testing.T, f *fleettest.Fixture, w sim.Workspace) {
	t.Helper()
	if err := f.Srv.AddWorkspace(sim.IncidentInstance, &w); err != nil {
		t.Fatal(err)
	}
}

func assertExactAt(t *testing.T, f *fleettest.Fixture, id int) {
	t.Helper()
	got, truth := f.LiveRows(sim.IncidentInstance, id), f.TruthRows(sim.IncidentInstance, id)
	if len(truth) == 0 || strings.Join(got, "\n") != strings.Join(truth, "\n") {
		t.Fatalf("workspace %d: %d live rows, the source has %d", id, len(got), len(truth))
	}
}

// register NAME adds a workspace found at the source (its name matched as the workspace
// flags match theirs), and the next run syncs it exactly; a name that matches nothing is
// bad usage; --all and --inactive do what they say.
func TestRegisterCommand(t *testing.T) {
	t.Parallel()
	f := fleettest.New(t, sim.IncidentFleet(), sim.Options{})
	addAtSource(t, f, newClient)
	for _, c := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"register"}, exitUsage, "name the workspaces to register, or give --all"},
		{[]string{"register", "Nortwind Stafing"}, exitUsage, `no unregistered workspace is called "Nortwind Stafing"; did you mean "Northwind Staffing"?`},
		{[]string{"register", "castle agency"}, exitOK, `"castle agency" is already registered`},
		{[]string{"register", "northwind staffing"}, exitOK, `registered "Northwind Staffing" (instance bison-main, id 50), active`},
		{[]string{"register", "--all"}, exitOK, "nothing to register"},
	} {
		code, p := runBinary(t, f, c.args...)
		if code != c.code || !strings.Contains(p.stdout.String()+p.stderr.String(), c.out) {
			t.Fatalf("%v: exit %d, want %d and %q:\n%s%s", c.args, code, c.code, c.out, p.stdout.String(), p.stderr.String())
		}
	}
	code, p := runBinary(t, f, "sync", "--json", "--workspace", newClient.Name)
	if s := summaryOf(t, p); code != exitOK || s.WorkspacesSucceeded != 1 {
		t.Fatalf("sync of the new workspace: exit %d, %+v", code, s.Workspaces)
	}
	assertExactAt(t, f, newClient.ID)

	addAtSource(t, f, sim.Workspace{ID: 51, Name: "Agency Main", Count: 3})
	if code, p = runBinary(t, f, "register", "--all", "--inactive"); code != exitOK || !strings.Contains(p.stdout.String(), `"Agency Main" (instance bison-main, id 51), inactive`) {
		t.Fatalf("register --all --inactive: exit %d\n%s", code, p.stdout.String())
	}
	if n := f.Int(`SELECT count(*) FROM ` + f.Table("client_registry") + ` WHERE NOT is_active`); n != 1 {
		t.Fatalf("%d inactive rows", n)
	}
}

// keys mint on the incident fleet gives every super-admin workspace a working key without
// printing one; the next full sync switches nothing and is exact. keys check passes the
// fleet, then finds a key pasted into the wrong row.
func TestKeysCommands(t *testing.T) {
	t.Parallel()
	f := fleettest.New(t, sim.IncidentFleet(), sim.Options{})
	if code, p := runBinary(t, f, "keys", "check"); code != exitOK || strings.Count(p.stdout.String(), " ok ") != 20 {
		t.Fatalf("keys check of a correct fleet: exit %d\n%s", code, p.stdout.String())
	}
	code, p := runBinary(t, f, "keys", "mint")
	if code != exitOK || strings.Count(p.stdout.String(), "verified and stored") != 6 {
		t.Fatalf("keys mint: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	if code, p = runBinary(t, f, "keys", "mint"); code != exitOK || !strings.Contains(p.stdout.String(), "nothing to do") {
		t.Fatalf("keys mint again: exit %d\n%s", code, p.stdout.String())
	}
	f.Srv.ResetRequests()
	if code, p = runBinary(t, f, "sync", "--json"); code != exitOK {
		t.Fatalf("sync after minting: exit %d\n%s", code, p.stderr.String())
	}
	for _, r := range f.Srv.Requests() {
		if r.Kind == sim.KindSwitch {
			t.Fatal("a switch-workspace call after minting")
		}
	}
	f.AssertExact()
	f.AssertNoToken("history", f.HistoryText())

	in := f.Fleet.Instance(sim.IncidentInstance)
	f.Exec(`UPDATE `+f.Table("client_registry")+` SET bison_api_key = $1 WHERE workspace_name = 'Castle Agency'`,
		in.WorkspaceNamed("Summit Outreach").Key)
	code, p = runBinary(t, f, "keys", "check")
	if code != exitFailed || !strings.Contains(p.stdout.String(), "Castle Agency") || !strings.Contains(p.stdout.String(), "wrong-key") {
		t.Fatalf("keys check with a pasted key: exit %d\n%s", code, p.stdout.String())
	}
	if code, p = runBinary(t, f, "keys", "mint", "--workspace", "Nobody"); code != exitUsage {
		t.Fatalf("keys mint --workspace Nobody: exit %d\n%s", code, p.stderr.String())
	}
}

// The acceptance of discovery, through the binary: a workspace added at the source after the
// registry was filled makes check exit 1 naming it unregistered (text and JSON); register
// then a run syncs it exactly; a registry row whose workspace vanished is a gone line; an
// instance with auto_register registers and syncs the next new one, and says so.
func TestCheckFindsTheSource(t *testing.T) {
	t.Parallel()
	f := fleettest.New(t, sim.IncidentFleet(), sim.Options{})
	if code, p := runBinary(t, f, "sync"); code != exitOK {
		t.Fatalf("first sync: exit %d\n%s", code, p.stderr.String())
	}
	if code, p := runBinary(t, f, "check"); code != exitOK {
		t.Fatalf("check of a synced fleet: exit %d\n%s", code, p.stdout.String())
	}
	addAtSource(t, f, newClient)
	code, p := runBinary(t, f, "check")
	if code != exitFailed || !lineWith(p.stdout.String(), newClient.Name, "unregistered", `bisonsync register "Northwind Staffing"`) {
		t.Fatalf("check with a new workspace at the source: exit %d\n%s", code, p.stdout.String())
	}
	code, p = runBinary(t, f, "check", "--json")
	if code != exitFailed || !strings.Contains(p.stdout.String(), `"state": "unregistered"`) || !strings.Contains(p.stdout.String(), `"bison_id": 50`) {
		t.Fatalf("check --json: exit %d\n%s", code, p.stdout.String())
	}
	lumen := f.Fleet.Instance(sim.IncidentInstance).WorkspaceNamed("Lumen B2B")
	f.Srv.RemoveWorkspace(sim.IncidentInstance, lumen.ID)
	if code, p = runBinary(t, f, "register", newClient.Name); code != exitOK {
		t.Fatalf("register: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	code, p = runBinary(t, f, "sync", "--json")
	if s := summaryOf(t, p); code != exitFailed || len(s.Discovery) != 1 || len(s.Discovery[0].Gone) != 1 {
		t.Fatalf("sync with a gone workspace: exit %d, discovery %+v", code, s.Discovery)
	}
	assertExactAt(t, f, newClient.ID)
	code, p = runBinary(t, f, "check", "--metrics-file", f.T.TempDir()+"/m.prom")
	if code != exitFailed || !lineWith(p.stdout.String(), "Lumen B2B", "gone", "no longer lists workspace id 31") {
		t.Fatalf("check with a gone workspace: exit %d\n%s", code, p.stdout.String())
	}

	f.Exec(`UPDATE ` + f.Table("bison_instances") + ` SET auto_register = true`)
	addAtSource(t, f, sim.Workspace{ID: 52, Name: "Quarry Partners", Count: 31})
	code, p = runBinary(t, f, "sync", "--json")
	s := summaryOf(t, p)
	if len(s.Discovery) != 1 || len(s.Discovery[0].Registered) != 1 || !strings.Contains(p.stderr.String(), "workspaces registered (auto_register)") {
		t.Fatalf("auto_register: exit %d, %+v\n%s", code, s.Discovery, p.stderr.String())
	}
	assertExactAt(t, f, 52)
}

// lineWith reports whether one line of out holds every one of parts.
func lineWith(out string, parts ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}
