package db

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// CommitInput is a workspace's complete, reconciled account list and the figures of the
// fetch that produced it.
type CommitInput struct {
	// RunID is the run that holds the workspace's lease. Zero skips the lease check and the
	// run row: for seeding demo and test data only.
	RunID       int64
	Workspace   string
	Instance    string
	WorkspaceID int
	Accounts    []Account
	// Expected is the API's meta.total of the reconciled pass.
	Expected int
	// ConfirmedAbsent are account ids the engine confirmed gone at the source (404 on
	// GET /sender-emails/{id}). A live row missing from Accounts is marked deleted only if its
	// id is here.
	ConfirmedAbsent []int64

	Attempts     int
	PagesFetched int
	PagesTotal   int
	// StartedAt is when the workspace's first attempt began (Go clock, for the duration
	// only); zero leaves the duration unknown.
	StartedAt time.Time
	Warning   string
	// Guard, when not nil, refuses the commit with a *MassDeletionError if it would mark more
	// of the workspace's live accounts deleted than it allows.
	Guard *DeletionGuard
	// SyncedAt stamps the rows and the registry instead of the database's now(): for seeding
	// old data in the demo and tests. Zero means now().
	SyncedAt time.Time
}

// CommitResult counts what a commit changed.
type CommitResult struct {
	Upserted int // rows inserted or updated: every listed account
	Deleted  int // live rows marked deleted because their accounts vanished
	Restored int // rows that were marked deleted and are live again
}

// commitTempTable receives the accounts by COPY; it lives in pg_temp and is dropped at commit.
const commitTempTable = "bisonsync_commit_accounts"

// Batch 1, under the registry row lock: the registry's view of the workspace, the lease, and
// the ids of the workspace's rows with whether each is deleted. Absences are computed from
// those ids in Go rather than by an anti-join in SQL: right after a workspace's first sync the
// table's statistics know nothing of its rows, and the planner's nested-loop guess over a
// 20,000-row workspace took minutes. An index range scan for the ids cannot go wrong that way,
// and it lets an unconfirmed absence be refused before anything is written.
const commitRegistrySQL = `
SELECT bison_instance, bison_workspace_id, now()
FROM {registry} WHERE workspace_name = $1::text
FOR NO KEY UPDATE`

const commitLeaseSQL = `SELECT run_id FROM {leases} WHERE workspace_name = $1::text FOR UPDATE`

const commitExistingSQL = `
SELECT bison_account_id, deleted_at IS NOT NULL FROM {raw}
WHERE bison_instance = $1::text AND workspace_id = $2::integer`

// The temporary table gets a key, built after the COPY (maintaining it row by row during the
// COPY costs eight times as much), so that whichever join the planner picks for the update
// below has an index on both sides. The planner may well think the workspace has one row:
// statistics lag behind a first sync, and a nested loop over two 20,000-row inputs without
// an index took minutes.
const commitIndexTempSQL = `CREATE UNIQUE INDEX ON {temp} (bison_account_id)`

// Marks the confirmed absences deleted: a key lookup per id.
const commitMarkDeletedSQL = `
UPDATE {raw} SET deleted_at = $3::timestamptz
WHERE bison_instance = $1::text AND workspace_id = $2::integer
  AND bison_account_id = ANY ($4::bigint[]) AND deleted_at IS NULL`

const commitUpdateRegistrySQL = `
UPDATE {registry} SET
    last_successful_sync_at = $2::timestamptz,
    last_sync_attempt_at = $2::timestamptz,
    last_sync_status = 'succeeded',
    last_sync_error = NULL,
    last_sync_duration_ms = $3::integer,
    estimated_account_count = $4::integer,
    live_account_count = $5::integer,
    consecutive_failures = 0,
    last_sync_warning = NULLIF($6::text, '')
WHERE workspace_name = $1::text`

const commitRunWorkspaceSQL = `
INSERT INTO {run_ws} AS w (run_id, workspace_name, status, attempts, pages_fetched, pages_total,
    accounts_expected, accounts_fetched, accounts_upserted, accounts_deleted, accounts_restored,
    started_at, finished_at, duration_ms, error, warning)
VALUES ($1::bigint, $2::text, 'succeeded', $3::integer, $4::integer, $5::integer, $6::integer,
    $7::integer, $8::integer, $9::integer, $10::integer, now(), now(), $11::integer, NULL,
    NULLIF($12::text, ''))
ON CONFLICT (run_id, workspace_name) DO UPDATE SET
    status = 'succeeded',
    attempts = greatest(w.attempts, EXCLUDED.attempts),
    pages_fetched = EXCLUDED.pages_fetched,
    pages_total = EXCLUDED.pages_total,
    accounts_expected = EXCLUDED.accounts_expected,
    accounts_fetched = EXCLUDED.accounts_fetched,
    accounts_upserted = EXCLUDED.accounts_upserted,
    accounts_deleted = EXCLUDED.accounts_deleted,
    accounts_restored = EXCLUDED.accounts_restored,
    started_at = coalesce(w.started_at, EXCLUDED.started_at),
    finished_at = EXCLUDED.finished_at,
    duration_ms = EXCLUDED.duration_ms,
    error = NULL,
    warning = EXCLUDED.warning`

const commitDeleteLeaseSQL = `DELETE FROM {leases} WHERE workspace_name = $1::text AND run_id = $2::bigint`

// CommitWorkspace stores a workspace's complete account list in one transaction, or nothing.
//
// It refuses, writing nothing, a list that is not provably complete (*IncompleteError: the
// distinct ids, the number of accounts and Expected must agree), a run that no longer holds
// the workspace's lease (ErrLeaseLost), an instance or workspace id that differs from the
// registry's (*WorkspaceMismatchError), and a live row missing from the list whose absence
// was not confirmed at the source (*UnconfirmedAbsenceError). Otherwise it upserts every
// account (first_seen_at only on insert, deleted_at cleared: restored), marks the confirmed
// absent rows deleted, records the success in client_registry and in the run, and releases
// the lease.
//
// Lock order (registry row, then lease row, then run rows) is the one every writer uses, so
// commits, claims, heartbeats and the abandoned-run sweep cannot deadlock.
func (s *Store) CommitWorkspace(ctx context.Context, in CommitInput) (CommitResult, error) {
	listed, err := checkComplete(in)
	if err != nil {
		return CommitResult{}, err
	}
	var res CommitResult
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		res, err = s.commit(ctx, tx, in, listed)
		return err
	})
	if err != nil {
		return CommitResult{}, fmt.Errorf("commit workspace %s: %w", in.Workspace, err)
	}
	return res, nil
}

// checkComplete verifies the list is complete and returns its ids as a set.
func checkComplete(in CommitInput) (map[int64]struct{}, error) {
	listed := make(map[int64]struct{}, len(in.Accounts))
	for i := range in.Accounts {
		listed[in.Accounts[i].ID] = struct{}{}
	}
	if len(listed) != len(in.Accounts) || len(in.Accounts) != in.Expected {
		return nil, &IncompleteError{Workspace: in.Workspace, Listed: len(in.Accounts),
			Distinct: len(listed), Expected: in.Expected}
	}
	return listed, nil
}

func (s *Store) commit(ctx context.Context, tx pgx.Tx, in CommitInput, listed map[int64]struct{}) (CommitResult, error) {
	var res CommitResult

	// 1. Lock the workspace and read what is there, in one round trip.
	b := &pgx.Batch{}
	b.Queue(s.q.commitRegistry, in.Workspace)
	if in.RunID != 0 {
		b.Queue(s.q.commitLease, in.Workspace)
	}
	b.Queue(s.q.commitExisting, in.Instance, in.WorkspaceID)
	br := tx.SendBatch(ctx, b)
	now, existing, err := s.readCommitState(br, in)
	if cerr := br.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return res, err
	}

	// 2. Decide, before writing anything: every live row missing from the list must be a
	// confirmed absence.
	added := 0
	for id := range listed {
		if _, ok := existing[id]; !ok {
			added++
		}
	}
	var absent []int64
	for id, deleted := range existing {
		_, ok := listed[id]
		switch {
		case ok && deleted:
			res.Restored++
		case !ok && !deleted:
			absent = append(absent, id)
		}
	}
	if unconfirmed := unconfirmedAbsences(absent, in.ConfirmedAbsent); len(unconfirmed) > 0 {
		slices.Sort(unconfirmed)
		return res, &UnconfirmedAbsenceError{Workspace: in.Workspace, IDs: unconfirmed}
	}
	if size := max(len(existing)-deletedRows(existing), len(listed)); in.Guard != nil && in.Guard.trips(len(absent), size) {
		slices.Sort(absent)
		return res, &MassDeletionError{Workspace: in.Workspace, Would: len(absent), Size: size, Guard: *in.Guard, IDs: absent}
	}

	syncedAt := now // the transaction's now(), the same instant every now() below returns
	if !in.SyncedAt.IsZero() {
		syncedAt = in.SyncedAt
	}

	// 3. Write the accounts.
	if len(existing) == 0 {
		// A workspace without rows (its first sync): nothing to update, delete or restore,
		// so COPY straight into the table, as fast as the database takes rows.
		if err := s.copyAccounts(ctx, tx, in, syncedAt, true, nil); err != nil {
			return res, err
		}
	} else if len(in.Accounts) <= smallCommit {
		upd, ins := newAccountArrays(len(in.Accounts)-added), newAccountArrays(added)
		for i := range in.Accounts {
			if _, ok := existing[in.Accounts[i].ID]; ok {
				upd.add(&in.Accounts[i])
			} else {
				ins.add(&in.Accounts[i])
			}
		}
		b := &pgx.Batch{}
		if len(absent) > 0 {
			b.Queue(s.q.commitMarkDeleted, in.Instance, in.WorkspaceID, syncedAt, absent)
		}
		if upd.n > 0 {
			b.Queue(s.q.commitUpdateArrays, upd.args(in.Instance, in.WorkspaceID, in.Workspace, syncedAt)...)
		}
		if ins.n > 0 {
			b.Queue(s.q.commitInsertArrays, ins.args(in.Instance, in.WorkspaceID, in.Workspace, syncedAt)...)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return res, fmt.Errorf("write accounts: %w", err)
		}
	} else {
		if _, err := tx.Exec(ctx, s.q.commitCreateTemp); err != nil {
			return res, fmt.Errorf("create temporary table: %w", err)
		}
		if err := s.copyAccounts(ctx, tx, in, syncedAt, false, existing); err != nil {
			return res, err
		}
		b := &pgx.Batch{}
		b.Queue(s.q.commitIndexTemp)
		if len(absent) > 0 {
			b.Queue(s.q.commitMarkDeleted, in.Instance, in.WorkspaceID, syncedAt, absent)
		}
		b.Queue(s.q.commitUpdate, in.Instance, in.WorkspaceID, in.Workspace, syncedAt)
		if added > 0 {
			b.Queue(s.q.commitInsert, in.Instance, in.WorkspaceID, in.Workspace, syncedAt)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return res, fmt.Errorf("write accounts: %w", err)
		}
	}
	res.Upserted = len(in.Accounts)
	res.Deleted = len(absent)

	// 4. Record the success and let go of the workspace.
	var durationMS *int64
	if !in.StartedAt.IsZero() {
		ms := time.Since(in.StartedAt).Milliseconds()
		durationMS = &ms
	}
	b = &pgx.Batch{}
	b.Queue(s.q.commitUpdateRegistry, in.Workspace, syncedAt, durationMS, in.Expected,
		len(in.Accounts), in.Warning)
	if in.RunID != 0 {
		b.Queue(s.q.commitRunWorkspace, in.RunID, in.Workspace, in.Attempts, in.PagesFetched,
			in.PagesTotal, in.Expected, len(listed), res.Upserted, res.Deleted, res.Restored,
			durationMS, in.Warning)
		b.Queue(s.q.commitDeleteLease, in.Workspace, in.RunID)
	}
	b.Queue(s.q.clearHeld, in.Workspace) // whatever was held is settled by this complete list
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return res, fmt.Errorf("record success: %w", err)
	}
	return res, nil
}

func deletedRows(existing map[int64]bool) int {
	n := 0
	for _, deleted := range existing {
		if deleted {
			n++
		}
	}
	return n
}

// readCommitState reads batch 1: it checks the registry row and the lease and returns the
// transaction's now() and the workspace's existing ids (true: marked deleted).
func (s *Store) readCommitState(br pgx.BatchResults, in CommitInput) (time.Time, map[int64]bool, error) {
	var (
		regInstance string
		regID       int
		now         time.Time
	)
	err := br.QueryRow().Scan(&regInstance, &regID, &now)
	if isNoRows(err) {
		return now, nil, fmt.Errorf("not in client_registry: %w", ErrNotFound)
	}
	if err != nil {
		return now, nil, fmt.Errorf("lock registry row: %w", err)
	}
	if in.RunID != 0 {
		var holder int64
		err := br.QueryRow().Scan(&holder)
		switch {
		case isNoRows(err):
			return now, nil, fmt.Errorf("run %d holds no lease: %w", in.RunID, ErrLeaseLost)
		case err != nil:
			return now, nil, fmt.Errorf("check lease: %w", err)
		case holder != in.RunID:
			return now, nil, fmt.Errorf("run %d: lease now held by run %d: %w", in.RunID, holder, ErrLeaseLost)
		}
	}
	if regInstance != in.Instance || regID != in.WorkspaceID {
		return now, nil, &WorkspaceMismatchError{Workspace: in.Workspace, Instance: in.Instance,
			RegistryInstance: regInstance, ID: in.WorkspaceID, RegistryID: regID}
	}
	rows, err := br.Query()
	if err != nil {
		return now, nil, fmt.Errorf("read existing rows: %w", err)
	}
	existing := make(map[int64]bool, len(in.Accounts))
	var (
		id      int64
		deleted bool
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &deleted}, func() error {
		existing[id] = deleted
		return nil
	})
	if err != nil {
		return now, nil, fmt.Errorf("read existing rows: %w", err)
	}
	return now, existing, nil
}

// copyAccounts COPYs the accounts: with direct, into email_accounts_raw itself (a first sync)
// with the workspace's identity and timestamps; otherwise into the temporary table, with the
// account columns and whether each account already has a row.
func (s *Store) copyAccounts(ctx context.Context, tx pgx.Tx, in CommitInput, syncedAt time.Time, direct bool, existing map[int64]bool) error {
	table, columns := pgx.Identifier{"pg_temp", commitTempTable}, accountSQL.tempColumns
	if direct {
		table, columns = s.q.rawIdent, accountSQL.directColumns
	}
	row := make([]any, 0, len(columns))
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(in.Accounts) {
			return nil, nil
		}
		a := &in.Accounts[i]
		i++
		if direct {
			row = append(row[:0], in.Instance, in.WorkspaceID, in.Workspace)
			row = accountValues(row, a)
			return append(row, syncedAt, syncedAt), nil
		}
		_, ok := existing[a.ID]
		return accountValues(append(row[:0], ok), a), nil
	})
	if _, err := tx.CopyFrom(ctx, table, columns, src); err != nil {
		return fmt.Errorf("copy accounts: %w", err)
	}
	return nil
}

// unconfirmedAbsences returns the ids in absent that confirmed does not contain.
func unconfirmedAbsences(absent, confirmed []int64) []int64 {
	if len(absent) == 0 {
		return nil
	}
	ok := make(map[int64]struct{}, len(confirmed))
	for _, id := range confirmed {
		ok[id] = struct{}{}
	}
	var out []int64
	for _, id := range absent {
		if _, found := ok[id]; !found {
			out = append(out, id)
		}
	}
	return out
}

const liveAccountIDsSQL = `
SELECT bison_account_id FROM {raw}
WHERE bison_instance = $1::text AND workspace_id = $2::integer AND deleted_at IS NULL
ORDER BY bison_account_id`

// LiveAccountIDs returns the ids of a workspace's live (not deleted) accounts, ascending: what
// the engine compares a fetched list with to find absences it must confirm.
func (s *Store) LiveAccountIDs(ctx context.Context, instance string, workspaceID int) ([]int64, error) {
	rows, err := s.pool.Query(ctx, s.q.liveAccountIDs, instance, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list live accounts of %s workspace %d: %w", instance, workspaceID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("list live accounts of %s workspace %d: %w", instance, workspaceID, err)
	}
	return ids, nil
}
