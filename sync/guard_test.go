package sync_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/bisonsync/bisonsync/bison/sim"
	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/sync"
)

// A workspace losing 35% of its accounts at once is held with nothing written and its list
// kept for review; once accepted it applies. Losing less applies at once.
func TestMassDeletionGuard(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{})
	inst := v.Fleet.Instance(sim.IncidentInstance)
	jason := inst.WorkspaceNamed(sim.IncidentLargest)
	var small *sim.Workspace
	for _, w := range inst.Workspaces {
		if w.Key != "" && w.NumAccounts() >= 100 && w.Name != jason.Name {
			small = w
			break
		}
	}
	if s, _ := v.run(sync.Request{}); s.Status != "succeeded" {
		t.Fatalf("first run %s", s.Status)
	}
	// Jason Binyon loses 152 of 433 (35%); the other loses 10% of its accounts.
	var gone []int64
	for i, a := range v.Srv.Accounts(inst.Name, jason.ID) {
		if i%20 < 7 && len(gone) < 152 {
			gone = append(gone, a.ID)
		}
	}
	v.Srv.RemoveAccounts(inst.Name, jason.ID, gone...)
	smallAccounts := v.Srv.Accounts(inst.Name, small.ID)
	var fewer []int64
	for _, a := range smallAccounts[:len(smallAccounts)/10] {
		fewer = append(fewer, a.ID)
	}
	v.Srv.RemoveAccounts(inst.Name, small.ID, fewer...)
	before := v.Snapshot(inst.Name, jason.ID)

	s, _ := v.run(sync.Request{Names: []string{jason.Name, small.Name}})
	r := result(t, s, jason.Name)
	if r.Status != db.WorkspaceFailed || !strings.Contains(r.Error, "would delete 152 of 433 accounts (35.1% > 20%)") ||
		!strings.Contains(r.Error, `--allow-deletions "Jason Binyon"`) || r.Attempts != 1 {
		t.Fatalf("Jason Binyon: %s %q (attempts %d)", r.Status, r.Error, r.Attempts)
	}
	if v.Snapshot(inst.Name, jason.ID) != before {
		t.Fatal("held workspace's rows changed")
	}
	held, err := v.Store.HeldDeletions(context.Background(), jason.Name)
	if err != nil || len(held) != len(gone) {
		t.Fatalf("held for review: %d accounts (%v), want %d", len(held), err, len(gone))
	}
	if r := result(t, s, small.Name); r.Status != db.WorkspaceSucceeded || r.AccountsDeleted != len(fewer) {
		t.Fatalf("%s below the guard: %s, %d deleted (%q)", small.Name, r.Status, r.AccountsDeleted, r.Error)
	}

	// The operator reviewed the list and accepts it.
	s, _ = v.run(sync.Request{Names: []string{jason.Name}, AllowDeletions: []string{jason.Name}})
	if r := result(t, s, jason.Name); r.Status != db.WorkspaceSucceeded || r.AccountsDeleted != len(gone) {
		t.Fatalf("after acceptance: %s, %d deleted (%q)", r.Status, r.AccountsDeleted, r.Error)
	}
	v.AssertExact(jason.Name, small.Name)
	if held, _ := v.Store.HeldDeletions(context.Background(), jason.Name); len(held) != 0 {
		t.Fatalf("%d deletions still held after they applied", len(held))
	}
}

// A workspace whose key serves another workspace's data is flagged: its accounts also live
// under the other workspace, and its first page is the other's. Clean workspaces are not.
func TestMisScopedKeyIsFlagged(t *testing.T) {
	t.Parallel()
	v := newEnv(t, sim.IncidentFleet(), sim.Options{})
	inst := v.Fleet.Instance(sim.IncidentInstance)
	var keyed []*sim.Workspace
	for _, w := range inst.Workspaces {
		if w.Key != "" {
			keyed = append(keyed, w)
		}
	}
	victim, owner := keyed[0], keyed[1]
	// Someone pasted the owner's key into the victim's registry row.
	v.Exec(`UPDATE `+v.Table("client_registry")+` SET bison_api_key = $2 WHERE workspace_name = $1`, victim.Name, owner.Key)

	s, _ := v.run(sync.Request{})
	r := result(t, s, victim.Name)
	wantOverlap := owner.Name + ": its API key may belong to another workspace"
	if !strings.Contains(r.Warning, "also appear under "+wantOverlap) {
		t.Fatalf("%s: warning %q", victim.Name, r.Warning)
	}
	if o := result(t, s, owner.Name); !strings.Contains(o.Warning+r.Warning, "first page is identical to that of") {
		t.Fatalf("no first-page warning: %q / %q", r.Warning, o.Warning)
	}
	for _, w := range s.Workspaces {
		if w.Name != victim.Name && w.Name != owner.Name && w.Warning != "" {
			t.Fatalf("clean workspace %s got a warning: %q", w.Name, w.Warning)
		}
	}
	got := v.Strings(`SELECT coalesce(last_sync_warning, '') FROM `+v.Table("client_registry")+` WHERE workspace_name = $1`, victim.Name)
	if !strings.Contains(got[0], wantOverlap) {
		t.Fatalf("registry warning %q", got[0])
	}

	// Nothing changes: the shared-accounts check looks only at the two flagged workspaces
	// (their accounts did not change, but their commits cleared the warning), and finds it
	// again on both.
	s, ev := v.run(sync.Request{})
	for _, name := range []string{victim.Name, owner.Name} {
		if r := result(t, s, name); !strings.Contains(r.Warning, "also appear under") || r.AccountsUpserted != 0 {
			t.Fatalf("re-sync of %s: %+v", name, r)
		}
	}
	checked := ""
	for _, e := range ev.list() {
		if n, ok := e.(sync.Notice); ok && strings.Contains(n.Message, "for accounts shared") {
			checked = n.Message
		}
	}
	if !strings.HasPrefix(checked, fmt.Sprintf("checked 2 of %d workspaces", len(inst.Workspaces))) {
		t.Fatalf("shared-accounts check: %q", checked)
	}
	got = v.Strings(`SELECT coalesce(last_sync_warning, '') FROM `+v.Table("client_registry")+` WHERE workspace_name = $1`, victim.Name)
	if !strings.Contains(got[0], wantOverlap) {
		t.Fatalf("registry warning after the re-sync %q", got[0])
	}
}
