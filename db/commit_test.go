package db_test

import (
	"errors"
	"github.com/jackc/pgx/v5"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
)

func TestCommitUpsertDeleteRestore(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	seedWorkspace(t, s, "inst", "ws", 10)
	ctx := testContext(t)
	in := db.CommitInput{Workspace: "ws", Instance: "inst", WorkspaceID: 10}

	// First sync: 5 accounts, all new.
	in.Accounts, in.Expected = makeAccounts(5, 1, 10), 5
	res, err := s.CommitWorkspace(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if res != (db.CommitResult{Upserted: 5, Inserted: 5}) {
		t.Errorf("first commit: %+v", res)
	}
	var firstSeen time.Time
	if err := s.Pool().QueryRow(ctx, `SELECT first_seen_at FROM "`+s.Schema()+`".email_accounts_raw WHERE bison_account_id = 1`).Scan(&firstSeen); err != nil {
		t.Fatal(err)
	}

	// Second: 1 and 2 vanished (confirmed), 6 is new, 3 changed.
	in.Accounts = append(makeAccounts(3, 3, 20), makeAccounts(1, 6, 0)...)
	in.Expected, in.ConfirmedAbsent = 4, []int64{1, 2}
	res, err = s.CommitWorkspace(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if res != (db.CommitResult{Upserted: 4, Inserted: 1, Deleted: 2}) {
		t.Errorf("second commit: %+v", res)
	}
	live, err := s.LiveAccountIDs(ctx, "inst", 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(live, []int64{3, 4, 5, 6}) {
		t.Errorf("live = %v", live)
	}
	if n := queryInt(t, s, `SELECT emails_sent_count FROM {schema}.email_accounts_raw WHERE bison_account_id = 3`); n != 20 {
		t.Errorf("account 3 emails_sent = %d, want 20", n)
	}

	// Third: 1 returns, 6 changed, 3 to 5 unchanged (not written).
	in.Accounts = append(makeAccounts(1, 1, 30), makeAccounts(4, 3, 20)...)
	in.Expected, in.ConfirmedAbsent = 5, nil
	res, err = s.CommitWorkspace(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if res != (db.CommitResult{Upserted: 2, Unchanged: 3, Restored: 1}) {
		t.Errorf("third commit: %+v", res)
	}
	var (
		deletedAt  *time.Time
		firstSeen2 time.Time
		sent       int
		domain     string
		provider   string
		reseller   *string
		rate       float64
	)
	err = s.Pool().QueryRow(ctx, `SELECT deleted_at, first_seen_at, emails_sent_count, domain, email_provider, reseller, reply_rate_percentage::float8
		FROM "`+s.Schema()+`".email_accounts_raw WHERE bison_account_id = 1`).
		Scan(&deletedAt, &firstSeen2, &sent, &domain, &provider, &reseller, &rate)
	if err != nil {
		t.Fatal(err)
	}
	if deletedAt != nil || !firstSeen2.Equal(firstSeen) || sent != 30 {
		t.Errorf("restored account: deleted_at=%v first_seen %v (was %v) sent=%d", deletedAt, firstSeen2, firstSeen, sent)
	}
	// makeAccounts(…) id 1: domain1, microsoft_oauth, tags {" google "}, 1 unique reply of 30.
	if domain != "domain1.example.com" || provider != "Google" || reseller != nil || rate != 3.33 {
		t.Errorf("derived columns: domain=%q provider=%q reseller=%v rate=%v", domain, provider, reseller, rate)
	}
	if n := queryInt(t, s, `SELECT live_account_count FROM {schema}.client_registry WHERE workspace_name = 'ws'`); n != 5 {
		t.Errorf("live_account_count = %d, want 5", n)
	}
	if n := queryInt(t, s, `SELECT estimated_account_count FROM {schema}.client_registry WHERE workspace_name = 'ws'`); n != 5 {
		t.Errorf("estimated_account_count = %d, want 5", n)
	}
}

// The incident that started the project: a workspace whose stored rows were months old
// (emails_sent 4 for jason@binyoninsuranceagency.com while the truth was 43) and 73 of whose
// 360 accounts had vanished. A complete, reconciled list must fix the counter, mark exactly
// those 73 deleted and touch nothing else, not even a workspace with the same Bison id on
// another instance.
func TestCommitIncident(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	seedWorkspace(t, s, "send-a", "Binyon Insurance", 42)
	seedWorkspace(t, s, "send-b", "Namesake", 42) // same Bison workspace id, other instance
	ctx := testContext(t)

	old := makeAccounts(360, 1000, 4)
	old[0].Email = "jason@binyoninsuranceagency.com"
	seedAt := time.Now().Add(-90 * 24 * time.Hour)
	for _, w := range []struct{ ws, inst string }{{"Binyon Insurance", "send-a"}, {"Namesake", "send-b"}} {
		if _, err := s.CommitWorkspace(ctx, db.CommitInput{Workspace: w.ws, Instance: w.inst, WorkspaceID: 42,
			Accounts: old, Expected: 360, SyncedAt: seedAt}); err != nil {
			t.Fatal(err)
		}
	}
	namesakeBefore := dump(t, s, "email_accounts_raw", "bison_account_id")
	namesakeBefore = slices.DeleteFunc(namesakeBefore, func(r string) bool { return !strings.Contains(r, `"bison_instance":"send-b"`) })

	// Today: 73 accounts gone (confirmed by 404s), the rest with current counters.
	vanished := ids(old[100:173])
	current := slices.Concat(old[:100], old[173:])
	current = slices.Clone(current)
	for i := range current {
		current[i].EmailsSent = 43
	}
	res, err := s.CommitWorkspace(ctx, db.CommitInput{Workspace: "Binyon Insurance", Instance: "send-a",
		WorkspaceID: 42, Accounts: current, Expected: 287, ConfirmedAbsent: vanished})
	if err != nil {
		t.Fatal(err)
	}
	if res != (db.CommitResult{Upserted: 287, Deleted: 73}) {
		t.Errorf("result %+v, want 287 upserted, 73 deleted", res)
	}
	if n := queryInt(t, s, `SELECT emails_sent_count FROM {schema}.email_accounts_raw
		WHERE bison_instance = 'send-a' AND email_address = 'jason@binyoninsuranceagency.com'`); n != 43 {
		t.Errorf("jason's emails_sent = %d, want 43", n)
	}
	var deleted []int64
	rows, err := s.Pool().Query(ctx, `SELECT bison_account_id FROM "`+s.Schema()+`".email_accounts_raw
		WHERE bison_instance = 'send-a' AND deleted_at IS NOT NULL ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		deleted = append(deleted, id)
	}
	if !slices.Equal(deleted, vanished) {
		t.Errorf("deleted %d rows %v…, want exactly the 73 vanished", len(deleted), deleted[:min(5, len(deleted))])
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.email_accounts_raw WHERE bison_instance = 'send-a' AND deleted_at IS NULL AND emails_sent_count = 43`); n != 287 {
		t.Errorf("%d live rows updated, want 287", n)
	}
	namesakeAfter := dump(t, s, "email_accounts_raw", "bison_account_id")
	namesakeAfter = slices.DeleteFunc(namesakeAfter, func(r string) bool { return !strings.Contains(r, `"bison_instance":"send-b"`) })
	if !equalStrings(namesakeBefore, namesakeAfter) {
		t.Error("the other instance's workspace with the same id changed")
	}
}

func TestCommitRefusesIncompleteList(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	seedWorkspace(t, s, "inst", "ws", 1)
	ctx := testContext(t)
	if _, err := s.CommitWorkspace(ctx, db.CommitInput{Workspace: "ws", Instance: "inst", WorkspaceID: 1,
		Accounts: makeAccounts(10, 1, 1), Expected: 10}); err != nil {
		t.Fatal(err)
	}
	rawBefore, regBefore := dumpRaw(t, s), dumpRegistry(t, s)

	dup := makeAccounts(10, 1, 2)
	dup[9].ID = 1 // a page boundary repeated a row and skipped one
	for name, in := range map[string]db.CommitInput{
		"short of the total": {Accounts: makeAccounts(9, 1, 2), Expected: 10},
		"duplicate ids":      {Accounts: dup, Expected: 10},
		"more than total":    {Accounts: makeAccounts(10, 1, 2), Expected: 9},
	} {
		in.Workspace, in.Instance, in.WorkspaceID = "ws", "inst", 1
		in.ConfirmedAbsent = []int64{10}
		_, err := s.CommitWorkspace(ctx, in)
		var ie *db.IncompleteError
		if !errors.As(err, &ie) {
			t.Errorf("%s: err = %v, want *IncompleteError", name, err)
		}
	}
	if !equalStrings(rawBefore, dumpRaw(t, s)) || !equalStrings(regBefore, dumpRegistry(t, s)) {
		t.Error("a refused commit changed rows")
	}
}

func TestCommitRefusesUnconfirmedAbsence(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	seedWorkspace(t, s, "inst", "ws", 1)
	ctx := testContext(t)
	runID, err := s.OpenRun(ctx, db.RunSpec{Trigger: "test", Host: "h", PID: 1, Workspaces: []string{"ws"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CommitWorkspace(ctx, db.CommitInput{Workspace: "ws", Instance: "inst", WorkspaceID: 1,
		Accounts: makeAccounts(10, 1, 1), Expected: 10}); err != nil {
		t.Fatal(err)
	}
	if res, err := s.ClaimLease(ctx, "ws", db.LeaseOwner{RunID: runID, Host: "h", PID: 1}, time.Minute, 0); err != nil || !res.Claimed {
		t.Fatal(res, err)
	}
	rawBefore, regBefore := dumpRaw(t, s), dumpRegistry(t, s)

	// 8 listed (complete by the API's total), 9 and 10 missing but only 10 confirmed gone.
	_, err = s.CommitWorkspace(ctx, db.CommitInput{RunID: runID, Workspace: "ws", Instance: "inst", WorkspaceID: 1,
		Accounts: makeAccounts(8, 1, 5), Expected: 8, ConfirmedAbsent: []int64{10}})
	var ue *db.UnconfirmedAbsenceError
	if !errors.As(err, &ue) || !slices.Equal(ue.IDs, []int64{9}) {
		t.Fatalf("err = %v, want *UnconfirmedAbsenceError for id 9", err)
	}
	if !equalStrings(rawBefore, dumpRaw(t, s)) || !equalStrings(regBefore, dumpRegistry(t, s)) {
		t.Error("a refused commit changed rows")
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.workspace_leases WHERE run_id = $1`, runID); n != 1 {
		t.Error("a refused commit released the lease")
	}
}

// A commit that fails after it has written accounts (here: a trigger the test adds refuses
// the run row, the commit's last write) must leave every row exactly as before.
func TestCommitFailingMidwayChangesNothing(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	seedWorkspace(t, s, "inst", "ws", 1)
	ctx := testContext(t)
	if _, err := s.CommitWorkspace(ctx, db.CommitInput{Workspace: "ws", Instance: "inst", WorkspaceID: 1,
		Accounts: makeAccounts(50, 1, 1), Expected: 50, SyncedAt: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	runID, err := s.OpenRun(ctx, db.RunSpec{Trigger: "test", Host: "h", PID: 1, Workspaces: []string{"ws"}})
	if err != nil {
		t.Fatal(err)
	}
	owner := db.LeaseOwner{RunID: runID, Host: "h", PID: 1}
	if res, err := s.ClaimLease(ctx, "ws", owner, time.Minute, 0); err != nil || !res.Claimed {
		t.Fatal(res, err)
	}
	rawBefore, regBefore := dumpRaw(t, s), dumpRegistry(t, s)
	// Accounts 1..10 vanished (confirmed), 51..60 are new, the rest changed.
	next := db.CommitInput{RunID: runID, Workspace: "ws", Instance: "inst", WorkspaceID: 1,
		Accounts: makeAccounts(50, 11, 99), Expected: 50, ConfirmedAbsent: ids(makeAccounts(10, 1, 0))}

	t.Run("trigger refuses the run row", func(t *testing.T) {
		exec(t, s, `CREATE FUNCTION {schema}.refuse() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`)
		exec(t, s, `CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON {schema}.sync_run_workspaces
			FOR EACH ROW EXECUTE FUNCTION {schema}.refuse()`)
		if _, err := s.CommitWorkspace(ctx, next); err == nil || !strings.Contains(err.Error(), "injected failure") {
			t.Fatalf("err = %v, want the injected failure", err)
		}
		exec(t, s, `DROP TRIGGER refuse ON {schema}.sync_run_workspaces`)
	})
	t.Run("a value PostgreSQL refuses", func(t *testing.T) {
		bad := next
		bad.Accounts = slices.Clone(next.Accounts)
		bad.Accounts[49].Email = "nul\x00@example.com" // text cannot hold a NUL byte
		if _, err := s.CommitWorkspace(ctx, bad); err == nil {
			t.Fatal("commit succeeded with a NUL byte in an address")
		}
	})
	if !equalStrings(rawBefore, dumpRaw(t, s)) {
		t.Error("email_accounts_raw changed")
	}
	if !equalStrings(regBefore, dumpRegistry(t, s)) {
		t.Error("client_registry changed")
	}
	// And the same commit goes through once nothing is in the way.
	res, err := s.CommitWorkspace(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	if res != (db.CommitResult{Upserted: 50, Inserted: 10, Deleted: 10}) {
		t.Errorf("result %+v", res)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.workspace_leases`); n != 0 {
		t.Error("commit did not release the lease")
	}
	rw, err := s.RunWorkspaces(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rw) != 1 || rw[0].Status != db.WorkspaceSucceeded || rw[0].AccountsUpserted != 50 ||
		rw[0].AccountsDeleted != 10 || rw[0].AccountsFetched != 50 || rw[0].AccountsExpected != 50 {
		t.Errorf("run workspace row: %+v", rw)
	}
}

func TestCommitRefusesAnotherWorkspacesIdentity(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	seedWorkspace(t, s, "inst", "ws", 1)
	_, err := s.CommitWorkspace(testContext(t), db.CommitInput{Workspace: "ws", Instance: "inst", WorkspaceID: 2,
		Accounts: makeAccounts(1, 1, 1), Expected: 1})
	var me *db.WorkspaceMismatchError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v, want *WorkspaceMismatchError", err)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.email_accounts_raw`); n != 0 {
		t.Errorf("%d rows written", n)
	}
}

// Small workspaces are written from arrays, large ones through COPY into a temporary table:
// both ways must leave exactly the same rows. The same accounts go through the same first
// sync and re-sync (changes, a confirmed absence, a new account) in a workspace of 500 and one
// of 2,500; their shared accounts must then read the same, column by column.
func TestCommitPathsAgree(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	seedWorkspace(t, s, "inst", "small", 1)
	seedWorkspace(t, s, "inst", "large", 2)
	ctx := testContext(t)
	for _, ws := range []struct {
		name string
		id   int
		n    int
	}{{"small", 1, 500}, {"large", 2, 2500}} {
		in := db.CommitInput{Workspace: ws.name, Instance: "inst", WorkspaceID: ws.id}
		in.Accounts, in.Expected = makeAccounts(ws.n, 1, 7), ws.n
		if _, err := s.CommitWorkspace(ctx, in); err != nil {
			t.Fatal(err)
		}
		// Re-sync: account 1 gone, 2..n changed, one new account at the end.
		in.Accounts = append(makeAccounts(ws.n-1, 2, 11), makeAccounts(1, 900000, 3)...)
		in.Accounts[0].Tags = []string{"Mailr", "CheapInboxes - 2 ", `odd "quoted" {tag}`}
		in.Accounts[1].Tags = nil
		in.Expected, in.ConfirmedAbsent = ws.n, []int64{1}
		res, err := s.CommitWorkspace(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if res != (db.CommitResult{Upserted: ws.n, Inserted: 1, Deleted: 1}) {
			t.Fatalf("%s re-sync: %+v", ws.name, res)
		}
	}
	columns := `bison_account_id, email_address, account_name, status, account_type, daily_limit,
		emails_sent_count, total_replied_count, unique_replied_count, bounced_count, unsubscribed_count,
		interested_leads_count, total_opened_count, unique_opened_count, total_leads_contacted_count,
		tags, domain, email_provider, reseller, reply_rate_percentage, bison_created_at, bison_updated_at,
		row_hash IS NOT NULL AS hashed, deleted_at IS NULL`
	read := func(wsID int) []string {
		rows, err := s.Pool().Query(ctx, `SELECT row_to_json(x)::text FROM (SELECT `+columns+` FROM `+
			pgx.Identifier{s.Schema(), "email_accounts_raw"}.Sanitize()+` WHERE workspace_id = $1
			AND (bison_account_id <= 500 OR bison_account_id = 900000)) x ORDER BY bison_account_id`, wsID)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	small, large := read(1), read(2)
	if len(small) != 501 || len(small) != len(large) {
		t.Fatalf("%d and %d rows", len(small), len(large))
	}
	for i := range small {
		if small[i] != large[i] {
			t.Fatalf("the two write paths disagree:\narrays: %s\ncopy:   %s", small[i], large[i])
		}
	}
}

// rowVersions returns each row's id and xmin: a row any statement wrote has a new xmin.
func rowVersions(t *testing.T, s *db.Store) []string {
	t.Helper()
	rows, err := s.Pool().Query(testContext(t), `SELECT bison_account_id::text || ':' || xmin::text FROM `+
		pgx.Identifier{s.Schema(), "email_accounts_raw"}.Sanitize()+` ORDER BY bison_account_id`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A re-sync writes only what changed. The same list again touches no row of
// email_accounts_raw, yet the view shows every row confirmed by it; a changed account is
// the one row written; a renamed workspace rewrites its rows (workspace_name is stored).
func TestCommitWritesOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	seedWorkspace(t, s, "inst", "ws", 1)
	ctx := testContext(t)
	firstAt := time.Now().Add(-time.Hour).Truncate(time.Microsecond)
	in := db.CommitInput{Workspace: "ws", Instance: "inst", WorkspaceID: 1,
		Accounts: makeAccounts(30, 1, 5), Expected: 30, SyncedAt: firstAt}
	if _, err := s.CommitWorkspace(ctx, in); err != nil {
		t.Fatal(err)
	}
	versions, rawBefore := rowVersions(t, s), dumpRaw(t, s)

	in.SyncedAt = time.Time{}
	res, err := s.CommitWorkspace(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if res != (db.CommitResult{Unchanged: 30}) {
		t.Errorf("same list again: %+v", res)
	}
	if !slices.Equal(versions, rowVersions(t, s)) || !equalStrings(rawBefore, dumpRaw(t, s)) {
		t.Error("an unchanged workspace's commit wrote rows")
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.email_accounts_view WHERE last_synced_at > $1`,
		firstAt.Add(30*time.Minute)); n != 30 {
		t.Errorf("%d of 30 rows show the second sync's confirmation in the view", n)
	}

	in.Accounts = slices.Clone(in.Accounts)
	in.Accounts[4].EmailsSent = 99
	if res, err = s.CommitWorkspace(ctx, in); err != nil {
		t.Fatal(err)
	}
	if res != (db.CommitResult{Upserted: 1, Unchanged: 29}) {
		t.Errorf("one account changed: %+v", res)
	}
	after := rowVersions(t, s)
	for i := range after {
		if changed := after[i] != versions[i]; changed != (i == 4) {
			t.Errorf("row %s written: %v", after[i], changed)
		}
	}

	exec(t, s, `UPDATE {schema}.client_registry SET workspace_name = 'renamed' WHERE workspace_name = 'ws'`)
	in.Workspace = "renamed"
	if res, err = s.CommitWorkspace(ctx, in); err != nil {
		t.Fatal(err)
	}
	if res.Upserted != 30 || queryInt(t, s, `SELECT count(*) FROM {schema}.email_accounts_view WHERE workspace_name = 'renamed'`) != 30 {
		t.Errorf("renamed workspace: %+v", res)
	}
}

// Rows changed by another tool lose their hash (a trigger voids it), so the next sync puts
// the source's values back, as it did when every sync rewrote every row.
func TestCommitRewritesRowsChangedElsewhere(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	seedWorkspace(t, s, "inst", "ws", 1)
	ctx := testContext(t)
	in := db.CommitInput{Workspace: "ws", Instance: "inst", WorkspaceID: 1, Accounts: makeAccounts(10, 1, 5), Expected: 10}
	if _, err := s.CommitWorkspace(ctx, in); err != nil {
		t.Fatal(err)
	}
	exec(t, s, `UPDATE {schema}.email_accounts_raw SET emails_sent_count = 12345 WHERE bison_account_id = 3`)
	exec(t, s, `UPDATE {schema}.email_accounts_raw SET status = 'Paused', row_hash = row_hash WHERE bison_account_id = 4`)
	exec(t, s, `INSERT INTO {schema}.email_accounts_raw (bison_instance, workspace_id, workspace_name,
		bison_account_id, email_address) VALUES ('inst', 1, 'ws', 11, 'imported@example.com')`)
	in.Accounts, in.Expected = makeAccounts(11, 1, 5), 11
	res, err := s.CommitWorkspace(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if res != (db.CommitResult{Upserted: 3, Unchanged: 8}) {
		t.Errorf("result %+v, want the three rows written elsewhere rewritten", res)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM {schema}.email_accounts_raw
		WHERE emails_sent_count = 5 AND status = 'Connected' AND row_hash IS NOT NULL`); n != 11 {
		t.Errorf("%d of 11 rows hold the source's values", n)
	}
}

// Counters past 2^31 are stored as they are (issue 11: they failed the whole workspace).
func TestCommitStoresLargeCounters(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	seedWorkspace(t, s, "inst", "ws", 1)
	ctx := testContext(t)
	accounts := makeAccounts(3, 1, math.MaxInt32+1)
	accounts[1].DailyLimit, accounts[1].UniqueReplied, accounts[1].TotalLeadsContacted = 1<<40, 1<<35, math.MaxInt64
	accounts[1].EmailsSent = 1 << 36
	if _, err := s.CommitWorkspace(ctx, db.CommitInput{Workspace: "ws", Instance: "inst", WorkspaceID: 1,
		Accounts: accounts, Expected: 3}); err != nil {
		t.Fatal(err)
	}
	var daily, sent, contacted int64
	var rate float64
	if err := s.Pool().QueryRow(ctx, `SELECT daily_limit, emails_sent_count, total_leads_contacted_count,
		reply_rate_percentage::float8 FROM `+pgx.Identifier{s.Schema(), "email_accounts_view"}.Sanitize()+`
		WHERE bison_account_id = 2`).Scan(&daily, &sent, &contacted, &rate); err != nil {
		t.Fatal(err)
	}
	if daily != 1<<40 || sent != 1<<36 || contacted != math.MaxInt64 || rate != 50 {
		t.Errorf("read back daily_limit %d, emails_sent %d, contacted %d, reply rate %v", daily, sent, contacted, rate)
	}
}
