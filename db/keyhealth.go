package db

import (
	"context"
	"fmt"
)

// KeyStatus is how a workspace's key was last judged (client_registry.key_status); "" when
// it never was, or the key changed since.
type KeyStatus string

// Key statuses.
const (
	KeyOK       KeyStatus = "ok"        // it serves its own workspace
	KeyWrong    KeyStatus = "wrong-key" // it serves another workspace's accounts
	KeyRejected KeyStatus = "rejected"  // the API refused it (401, 403)
)

// A rejection keeps the start of its streak; any other judgement ends it.
const recordKeySQL = `
UPDATE {registry} SET
    key_status = $2::text,
    key_checked_at = clock_timestamp(),
    key_detail = NULLIF($3::text, ''),
    key_rejected_since = CASE WHEN $2::text = 'rejected' THEN coalesce(key_rejected_since, clock_timestamp()) END
WHERE workspace_name = $1::text`

// RecordKeyHealth records how the workspace's key was judged now, with what was found in a
// sentence (never a token). A rejected key keeps the time of its first rejection in a row.
func (s *Store) RecordKeyHealth(ctx context.Context, workspace string, status KeyStatus, detail string) error {
	if _, err := s.pool.Exec(ctx, s.q.disc.recordKey, workspace, string(status), detail); err != nil {
		return fmt.Errorf("record the key health of workspace %s: %w", workspace, err)
	}
	return nil
}

// Setting key_checked_at in the same statement keeps the judgement through the trigger that
// clears it when bison_api_key changes.
const storeKeySQL = `
UPDATE {registry} SET
    bison_api_key = $2::text,
    key_status = 'ok',
    key_checked_at = clock_timestamp(),
    key_rejected_since = NULL,
    key_detail = NULLIF($4::text, '')
WHERE workspace_name = $1::text AND bison_api_key IS NOT DISTINCT FROM $3::text`

// StoreWorkspaceKey puts a new key in the workspace's row, judged ok with detail, provided
// the row still holds old (the zero Secret for null): a key changed meanwhile is not
// overwritten, and false says so.
func (s *Store) StoreWorkspaceKey(ctx context.Context, workspace string, old, key Secret, detail string) (bool, error) {
	tag, err := s.pool.Exec(ctx, s.q.disc.storeKey, workspace, key, old, detail)
	if err != nil {
		return false, fmt.Errorf("store the new key of workspace %s: %w", workspace, err)
	}
	return tag.RowsAffected() == 1, nil
}
