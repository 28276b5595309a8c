package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// writeAccounts carries out a plan, by the cheapest way for its size: COPY straight into the
// table when the workspace has no rows, arrays (unnest) for up to smallCommit rows to write,
// and COPY into a temporary table beyond.
func (s *Store) writeAccounts(ctx context.Context, tx pgx.Tx, in *CommitInput, p commitPlan, syncedAt time.Time) error {
	switch {
	case p.firstSync:
		return s.copyDirect(ctx, tx, in, syncedAt)
	case len(p.insert)+len(p.update) <= smallCommit:
		return s.writeArrays(ctx, tx, in, p, syncedAt)
	default:
		return s.writeThroughTemp(ctx, tx, in, p, syncedAt)
	}
}

// copyDirect writes a workspace without rows (its first sync): nothing to update, delete or
// restore, so COPY straight into the table, as fast as the database takes rows.
func (s *Store) copyDirect(ctx context.Context, tx pgx.Tx, in *CommitInput, syncedAt time.Time) error {
	columns, rows := AccountRows(in.Instance, in.WorkspaceID, in.Workspace, syncedAt, in.Accounts)
	if _, err := tx.CopyFrom(ctx, s.q.rawIdent, columns, rows); err != nil {
		return fmt.Errorf("copy accounts: %w", err)
	}
	return nil
}

// AccountRows is what a workspace's first commit COPYs into email_accounts_raw: the columns,
// and the rows of the accounts (derived columns and row hash included), first seen and
// synced at syncedAt. The benchmarks COPY the very same rows into a plain table to compare
// the commit with.
func AccountRows(instance string, workspaceID int, workspace string, syncedAt time.Time, accounts []Account) ([]string, pgx.CopyFromSource) {
	row := make([]any, 0, len(accountSQL.directColumns))
	var h rowHasher
	i := 0
	return accountSQL.directColumns, pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(accounts) {
			return nil, nil
		}
		row = append(row[:0], instance, workspaceID, workspace)
		row = rowValues(row, &h, workspace, &accounts[i])
		i++
		return append(row, syncedAt, syncedAt), nil
	})
}

// writeArrays writes the plan in one round trip, each statement taking its accounts as one
// array per column.
func (s *Store) writeArrays(ctx context.Context, tx pgx.Tx, in *CommitInput, p commitPlan, syncedAt time.Time) error {
	b := &pgx.Batch{}
	if len(p.deletions) > 0 {
		b.Queue(s.q.commitMarkDeleted, in.Instance, in.WorkspaceID, syncedAt, p.deletions)
	}
	for _, w := range []struct {
		sql  string
		rows []int
	}{{s.q.commitUpdateArrays, p.update}, {s.q.commitInsertArrays, p.insert}} {
		if len(w.rows) == 0 {
			continue
		}
		arrays := newAccountArrays(in.Workspace, len(w.rows))
		for _, i := range w.rows {
			arrays.add(&in.Accounts[i])
		}
		b.Queue(w.sql, arrays.args(in.Instance, in.WorkspaceID, in.Workspace, syncedAt)...)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write accounts: %w", err)
	}
	return nil
}

// writeThroughTemp COPYs the rows to write into a temporary table, then updates and inserts
// from it.
func (s *Store) writeThroughTemp(ctx context.Context, tx pgx.Tx, in *CommitInput, p commitPlan, syncedAt time.Time) error {
	if _, err := tx.Exec(ctx, s.q.commitCreateTemp); err != nil {
		return fmt.Errorf("create temporary table: %w", err)
	}
	row := make([]any, 0, len(accountSQL.tempColumns))
	var h rowHasher
	k := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		// The updates, then the inserts, each with whether it has a row.
		switch {
		case k < len(p.update):
			row = append(row[:0], true)
			row = rowValues(row, &h, in.Workspace, &in.Accounts[p.update[k]])
		case k < len(p.update)+len(p.insert):
			row = append(row[:0], false)
			row = rowValues(row, &h, in.Workspace, &in.Accounts[p.insert[k-len(p.update)]])
		default:
			return nil, nil
		}
		k++
		return row, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"pg_temp", commitTempTable}, accountSQL.tempColumns, src); err != nil {
		return fmt.Errorf("copy accounts: %w", err)
	}
	b := &pgx.Batch{}
	b.Queue(s.q.commitIndexTemp)
	if len(p.deletions) > 0 {
		b.Queue(s.q.commitMarkDeleted, in.Instance, in.WorkspaceID, syncedAt, p.deletions)
	}
	if len(p.update) > 0 {
		b.Queue(s.q.commitUpdate, in.Instance, in.WorkspaceID, in.Workspace, syncedAt)
	}
	if len(p.insert) > 0 {
		b.Queue(s.q.commitInsert, in.Instance, in.WorkspaceID, in.Workspace, syncedAt)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write accounts: %w", err)
	}
	return nil
}
