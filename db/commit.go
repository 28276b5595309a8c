package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
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
	// OnLockWait, when set, is told while the commit waits for a lock another session
	// holds (every few seconds while it lasts).
	OnLockWait func(LockWait)
	// SyncedAt stamps the rows and the registry instead of the database's now(): for seeding
	// old data in the demo and tests. Zero means now().
	SyncedAt time.Time
}

// CommitResult counts what a commit changed. Every listed account is either written
// (Upserted) or already current (Unchanged).
type CommitResult struct {
	// Upserted counts the rows written for listed accounts: new ones (Inserted), changed ones
	// and restored ones (Restored). It is sync_run_workspaces.accounts_upserted.
	Upserted int
	Inserted int
	// Unchanged counts the listed accounts whose row already held what the list says: not
	// written, only confirmed (the workspace's confirmation time moves instead).
	Unchanged int
	Deleted   int // live rows marked deleted because their accounts vanished
	Restored  int // rows that were marked deleted and are live again
}

// commitTempTable receives the accounts by COPY; it lives in pg_temp and is dropped at commit.
const commitTempTable = "bisonsync_commit_accounts"

// Batch 1, under the registry row lock: the registry's view of the workspace, the lease, and
// the ids of the workspace's rows with whether each is deleted and its row_hash (planCommit
// compares it with the fetched values' hash). Absences are computed from those ids in Go
// rather than by an anti-join in SQL: right after a workspace's first sync the
// table's statistics know nothing of its rows, and the planner's nested-loop guess over a
// 20,000-row workspace took minutes. An index range scan for the ids cannot go wrong that way,
// and it lets an unconfirmed absence be refused before anything is written.
const commitRegistrySQL = `
SELECT bison_instance, bison_workspace_id, now()
FROM {registry} WHERE workspace_name = $1::text
FOR NO KEY UPDATE`

const commitLeaseSQL = `SELECT run_id FROM {leases} WHERE workspace_name = $1::text FOR UPDATE`

const commitExistingSQL = `
SELECT bison_account_id, deleted_at IS NOT NULL, row_hash FROM {raw}
WHERE bison_instance = $1::text AND workspace_id = $2::integer`

// The temporary table gets a key, built after the COPY (maintaining it row by row during the
// COPY costs eight times as much), so that whichever join the planner picks for the update
// below has an index on both sides. The planner may well think the workspace has one row:
// statistics lag behind a first sync, and a nested loop over two 20,000-row inputs without
// an index took minutes.
const commitIndexTempSQL = `CREATE UNIQUE INDEX ON {temp} (bison_account_id)`

// Marks the confirmed absences deleted: a key lookup per id. A deleted row's hash is
// dropped: a returning account is written whatever it holds.
const commitMarkDeletedSQL = `
UPDATE {raw} SET deleted_at = $3::timestamptz, row_hash = NULL
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

// The workspace's rows were all confirmed by this commit (every live row missing from the
// list was marked deleted): email_accounts_view's last_synced_at joins this time in, so that
// accounts the commit did not need to write still show it.
const commitConfirmSQL = `
INSERT INTO {confirmations} (bison_instance, workspace_id, confirmed_at)
VALUES ($1::text, $2::integer, $3::timestamptz)
ON CONFLICT (bison_instance, workspace_id) DO UPDATE SET confirmed_at = EXCLUDED.confirmed_at`

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
// registry's (*WorkspaceMismatchError), a live row missing from the list whose absence was
// not confirmed at the source (*UnconfirmedAbsenceError), and more deletions than the guard
// allows (*MassDeletionError). Otherwise it writes the accounts that are new, changed or
// returning (first_seen_at only on insert, deleted_at cleared: restored) and leaves the
// others alone, marks the confirmed absent rows deleted, records the success in
// client_registry, workspace_confirmations and the run, and releases the lease.
//
// Lock order (registry row, then lease row, then run rows) is the one every writer uses, so
// commits, claims, heartbeats and the abandoned-run sweep cannot deadlock.
func (s *Store) CommitWorkspace(ctx context.Context, in CommitInput) (CommitResult, error) {
	ids := make([]int64, len(in.Accounts))
	for i := range in.Accounts {
		ids[i] = in.Accounts[i].ID
	}
	// Refused before a transaction is opened; planCommit checks it again, from the same rule.
	if _, err := checkComplete(in.Workspace, ids, in.Expected); err != nil {
		return CommitResult{}, err
	}
	var res CommitResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		res, err = s.commit(ctx, tx, &in, ids)
		return err
	})
	if err != nil {
		return CommitResult{}, fmt.Errorf("commit workspace %s: %w", in.Workspace, err)
	}
	return res, nil
}

// commit reads the workspace's rows under its registry row lock, decides, writes what the
// decision says and records the success.
func (s *Store) commit(ctx context.Context, tx pgx.Tx, in *CommitInput, ids []int64) (CommitResult, error) {
	if in.OnLockWait != nil {
		stop, err := s.watchLocks(ctx, tx, in.OnLockWait)
		if err != nil {
			return CommitResult{}, err
		}
		defer stop()
	}
	now, stored, err := s.readCommitState(ctx, tx, in)
	if err != nil {
		return CommitResult{}, err
	}
	// Prices come from the rules in force now, and the domain counts from the complete list:
	// a rule changed since the last sync applies from this commit on.
	rules, err := s.pricingRules(ctx, tx)
	if err != nil {
		return CommitResult{}, err
	}
	for i, p := range rules.PriceWorkspace(in.Accounts) {
		in.Accounts[i].Pricing = p
	}
	plan, err := planCommit(planInput{workspace: in.Workspace, ids: ids, hashes: listHashes(in, stored),
		expected: in.Expected, stored: stored, confirmedAbsent: in.ConfirmedAbsent, guard: in.Guard})
	if err != nil {
		return CommitResult{}, err
	}
	syncedAt := now // the transaction's now(), the same instant every now() below returns
	if !in.SyncedAt.IsZero() {
		syncedAt = in.SyncedAt
	}
	if err := s.writeAccounts(ctx, tx, in, plan, syncedAt); err != nil {
		return CommitResult{}, err
	}
	res := plan.result()
	if err := s.recordSuccess(ctx, tx, in, res, syncedAt); err != nil {
		return CommitResult{}, err
	}
	return res, nil
}

// recordSuccess records the commit in client_registry and the run, and lets go of the
// workspace.
func (s *Store) recordSuccess(ctx context.Context, tx pgx.Tx, in *CommitInput, res CommitResult, syncedAt time.Time) error {
	var durationMS *int64
	if !in.StartedAt.IsZero() {
		ms := time.Since(in.StartedAt).Milliseconds()
		durationMS = &ms
	}
	b := &pgx.Batch{}
	b.Queue(s.q.commitUpdateRegistry, in.Workspace, syncedAt, durationMS, in.Expected,
		len(in.Accounts), in.Warning)
	b.Queue(s.q.commitConfirm, in.Instance, in.WorkspaceID, syncedAt)
	if in.RunID != 0 {
		b.Queue(s.q.commitRunWorkspace, in.RunID, in.Workspace, in.Attempts, in.PagesFetched,
			in.PagesTotal, in.Expected, len(in.Accounts), res.Upserted, res.Deleted, res.Restored,
			durationMS, in.Warning)
		b.Queue(s.q.commitDeleteLease, in.Workspace, in.RunID)
	}
	b.Queue(s.q.clearHeld, in.Workspace) // whatever was held is settled by this complete list
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("record success: %w", err)
	}
	return nil
}

// readCommitState sends batch 1: it locks the registry row, checks it and the lease, and
// returns the transaction's now() and the workspace's rows.
func (s *Store) readCommitState(ctx context.Context, tx pgx.Tx, in *CommitInput) (time.Time, map[int64]storedRow, error) {
	b := &pgx.Batch{}
	b.Queue(s.q.commitRegistry, in.Workspace)
	if in.RunID != 0 {
		b.Queue(s.q.commitLease, in.Workspace)
	}
	b.Queue(s.q.commitExisting, in.Instance, in.WorkspaceID)
	br := tx.SendBatch(ctx, b)
	now, err := checkRegistryAndLease(br, in)
	var stored map[int64]storedRow
	if err == nil {
		stored, err = readStored(br, len(in.Accounts))
	}
	if cerr := br.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return now, stored, err
}

// checkRegistryAndLease reads the registry row and the lease from batch 1: the workspace
// must be the registry's, and the run must still hold it.
func checkRegistryAndLease(br pgx.BatchResults, in *CommitInput) (time.Time, error) {
	var (
		regInstance string
		regID       int
		now         time.Time
	)
	err := br.QueryRow().Scan(&regInstance, &regID, &now)
	if isNoRows(err) {
		return now, fmt.Errorf("not in client_registry: %w", ErrNotFound)
	}
	if err != nil {
		return now, fmt.Errorf("lock registry row: %w", err)
	}
	if in.RunID != 0 {
		var holder int64
		err := br.QueryRow().Scan(&holder)
		switch {
		case isNoRows(err):
			return now, fmt.Errorf("run %d holds no lease: %w", in.RunID, ErrLeaseLost)
		case err != nil:
			return now, fmt.Errorf("check lease: %w", err)
		case holder != in.RunID:
			return now, fmt.Errorf("run %d: lease now held by run %d: %w", in.RunID, holder, ErrLeaseLost)
		}
	}
	if regInstance != in.Instance || regID != in.WorkspaceID {
		return now, &WorkspaceMismatchError{Workspace: in.Workspace, Instance: in.Instance,
			RegistryInstance: regInstance, ID: in.WorkspaceID, RegistryID: regID}
	}
	return now, nil
}

// listHashes returns the row hash of every listed account that has a stored row (the others
// are written whatever their hash), for planCommit.
func listHashes(in *CommitInput, stored map[int64]storedRow) []int64 {
	hashes := make([]int64, len(in.Accounts))
	if len(stored) == 0 {
		return hashes
	}
	var (
		h   rowHasher
		row = make([]any, 0, len(accountTable))
	)
	for i := range in.Accounts {
		if _, ok := stored[in.Accounts[i].ID]; ok {
			row = accountValues(row[:0], &in.Accounts[i])
			hashes[i] = h.sum(in.Workspace, row)
		}
	}
	return hashes
}

// readStored reads the workspace's rows from batch 1.
func readStored(br pgx.BatchResults, sizeHint int) (map[int64]storedRow, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("read existing rows: %w", err)
	}
	stored := make(map[int64]storedRow, sizeHint)
	var (
		id      int64
		deleted bool
		hash    pgtype.Int8
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &deleted, &hash}, func() error {
		stored[id] = storedRow{deleted: deleted, hash: hash.Int64, hashed: hash.Valid}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read existing rows: %w", err)
	}
	return stored, nil
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
