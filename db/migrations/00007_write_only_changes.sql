-- A re-sync writes only what changed (issue 16): new accounts, accounts whose stored values
-- changed, confirmed absences and returns. Unchanged accounts are not written at all.

-- The hash of what bisonsync last wrote into the row (db/account.go, rowHash): the commit
-- compares it with the hash of the values just fetched and skips the row when they agree.
-- NULL (rows written by other tools, and deleted rows) never agrees, so such a row is
-- rewritten by the next sync. Adding a nullable column without a default rewrites nothing.
ALTER TABLE email_accounts_raw ADD COLUMN row_hash bigint NULL;

-- The hash vouches for the row only as long as bisonsync wrote it. Any other update (an
-- import, a backfill, someone correcting a counter by hand) that leaves row_hash as it was
-- voids it, so the next sync puts the source's values back, as it did when every sync
-- rewrote every row. bisonsync's own updates always change row_hash (a new hash, or NULL),
-- so the trigger's condition is false for them and it costs them nothing.
CREATE FUNCTION email_accounts_raw_void_row_hash() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.row_hash := NULL;
    RETURN NEW;
END
$$;

CREATE TRIGGER email_accounts_raw_void_row_hash
    BEFORE UPDATE ON email_accounts_raw
    FOR EACH ROW
    WHEN (OLD.row_hash IS NOT NULL AND NEW.row_hash IS NOT DISTINCT FROM OLD.row_hash)
    EXECUTE FUNCTION email_accounts_raw_void_row_hash();

-- When a successful sync last confirmed each workspace's rows: the commit of a complete list
-- moves it, in one row, instead of rewriting every row's last_synced_at. Keyed like the rows
-- it vouches for (not by workspace_name, which the registry may rename), and kept apart from
-- client_registry so that editing or removing a registry row does not change what the rows
-- say. No backfill: until a workspace's next sync, its rows' own last_synced_at is exact,
-- since every sync so far rewrote them all.
CREATE TABLE workspace_confirmations (
    bison_instance text NOT NULL,
    workspace_id   integer NOT NULL,
    confirmed_at   timestamptz NOT NULL,
    PRIMARY KEY (bison_instance, workspace_id)
);

-- last_synced_at (CONTRACT.md §3): when a successful sync last confirmed the row. A live row
-- was confirmed by its workspace's last successful commit, which may have written it
-- (email_accounts_raw.last_synced_at) or not (it was unchanged).
CREATE OR REPLACE VIEW email_accounts_view AS
SELECT r.bison_instance, r.workspace_id, r.bison_account_id, r.workspace_name, r.email_address,
       r.account_name, r.status, r.account_type, r.daily_limit, r.emails_sent_count,
       r.total_replied_count, r.unique_replied_count, r.bounced_count, r.unsubscribed_count,
       r.interested_leads_count, r.total_opened_count, r.unique_opened_count,
       r.total_leads_contacted_count, r.tags, r.domain, r.email_provider, r.reseller,
       r.reply_rate_percentage, r.bison_created_at, r.bison_updated_at, r.first_seen_at,
       greatest(r.last_synced_at, c.confirmed_at) AS last_synced_at
FROM email_accounts_raw r
LEFT JOIN workspace_confirmations c
    ON c.bison_instance = r.bison_instance AND c.workspace_id = r.workspace_id
WHERE r.deleted_at IS NULL;

COMMENT ON COLUMN email_accounts_raw.last_synced_at IS
    'When bisonsync last wrote this row. When a sync last confirmed it: email_accounts_view.last_synced_at.';
COMMENT ON COLUMN sync_run_workspaces.accounts_upserted IS
    'Rows written for listed accounts: new, changed or restored. Unchanged accounts are not written (accounts_fetched - accounts_upserted).';
