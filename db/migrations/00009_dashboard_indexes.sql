-- The dashboard's reads of email_accounts_view, now a plain view over email_accounts_raw,
-- in tens of milliseconds at a million accounts (a sequential scan of the table took 0.3 to
-- 0.8 s): a page of live accounts in bison_account_id order, and a workspace's accounts.
-- The materialized view had an index by workspace_name; this is its counterpart. Both are
-- partial, like the view, and leave HOT updates alone: a re-sync's updates change counters,
-- not these columns.
CREATE INDEX email_accounts_raw_live_account_idx
    ON email_accounts_raw (bison_account_id, bison_instance, workspace_id)
    WHERE deleted_at IS NULL;

CREATE INDEX email_accounts_raw_live_workspace_idx
    ON email_accounts_raw (workspace_name)
    WHERE deleted_at IS NULL;
