package main

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/internal/fleettest"
)

// `migrate --dashboard-schema` beside the old job's objects: refused, naming them, with
// nothing changed; with --replace-existing the views take their names and the old ones are
// kept renamed.
func TestMigrateDashboardSchema(t *testing.T) {
	t.Parallel()
	f := fleettest.New(t, sim.GenerateFleet(31, 3, 60), sim.Options{})
	dash := "d" + f.Store.Schema()[len(f.Store.Schema())-12:]
	d := pgx.Identifier{dash}.Sanitize()
	t.Cleanup(func() { f.Exec(`DROP SCHEMA IF EXISTS ` + d + ` CASCADE`) })
	f.Exec(`CREATE SCHEMA ` + d)
	f.Exec(`CREATE MATERIALIZED VIEW ` + d + `.email_accounts_view AS SELECT 1 AS id, 'old@example.com'::text AS email_address`)

	code, p := runBinary(t, f, "migrate", "--dashboard-schema", dash)
	if code != exitUsage || !strings.Contains(p.stderr.String(), "materialized view "+dash+".email_accounts_view") ||
		!strings.Contains(p.stderr.String(), "--replace-existing") {
		t.Fatalf("exit %d, stderr:\n%s\nwant 2, naming the materialized view", code, p.stderr.String())
	}
	if n := f.Int(`SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1`, dash); n != 1 {
		t.Fatalf("schema %s holds %d relations after a refusal, want the 1 it had", dash, n)
	}

	code, p = runBinary(t, f, "migrate", "--dashboard-schema", dash, "--replace-existing", "--grant", "no_such_role_13")
	out := p.stdout.String()
	if code != exitOK || !strings.Contains(out, "kept materialized view "+dash+".email_accounts_view as "+dash+".email_accounts_view_before_bisonsync") ||
		!strings.Contains(out, `role "no_such_role_13" does not exist`) {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, p.stderr.String())
	}
	if n := f.Int(`SELECT count(*) FROM ` + d + `.email_accounts_view_before_bisonsync`); n != 1 {
		t.Errorf("the kept view has %d rows, want its 1", n)
	}
	if code, p = runBinary(t, f, "--headless"); code != exitOK {
		t.Fatalf("sync: exit %d\n%s", code, p.stderr.String())
	}
	if code, p = runBinary(t, f, "migrate", "--reprice"); code != exitOK || !strings.Contains(p.stdout.String(), "re-priced 60 accounts in 3 workspaces") {
		t.Fatalf("migrate --reprice: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	if n := f.Int(`SELECT count(*) FROM ` + d + `.email_accounts_view WHERE price IS NOT NULL`); n != 60 {
		t.Errorf("%d priced accounts in the dashboard's view, want 60", n)
	}
}

// `--headless --every` serves the dashboard's Trigger Sync between its runs.
func TestEveryServesRequests(t *testing.T) {
	t.Parallel()
	f := fleettest.New(t, sim.GenerateFleet(32, 3, 60), sim.Options{})
	p := start(t, f, "--headless", "--every", "1h")
	waitFor(t, 30*time.Second, func() bool { // the first run

		return f.Int(`SELECT count(*) FROM `+f.Table("sync_runs")+` WHERE status <> 'running'`) == 1
	})
	ws := f.Fleet.Instances[0].Workspaces[1].Name
	id := f.Int(`INSERT INTO `+f.Table("sync_requests")+` (requested_by, workspace_name) VALUES ('dashboard', $1) RETURNING id`, ws)
	waitFor(t, 15*time.Second, func() bool { // the request, done

		return f.Int(`SELECT count(*) FROM `+f.Table("sync_requests")+` q JOIN `+f.Table("sync_runs")+` r ON r.id = q.run_id
			WHERE q.id = $1 AND q.status = 'done' AND r.trigger = 'request' AND r.workspaces_total = 1`, id) == 1
	})
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 30*time.Second); code != exitOK {
		t.Errorf("SIGTERM between runs: exit %d, want 0\n%s", code, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "serving sync request #") {
		t.Errorf("the log does not say it served the request:\n%s", p.stderr.String())
	}
}
