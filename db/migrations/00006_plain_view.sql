-- email_accounts_view becomes a plain view (CONTRACT.md §3): always current, no refresh step.
--
-- It was a materialized view refreshed concurrently after every run that changed data. The
-- refresh rewrote every row of the view (each sync changed each row's last_synced_at) and
-- took half of a large run's wall time, while the view lagged behind the commits until it
-- finished. A plain view over email_accounts_raw shows a workspace's rows the moment its
-- commit does. Readers keep the same columns, in the same order, with the same types.
--
-- The materialized view's two indexes go with it. Its key (bison_instance, workspace_id,
-- bison_account_id) is email_accounts_raw's primary key, which serves the same lookups.
--
-- sync_runs.view_refresh_ms and view_refresh_error stay, for the history of runs made before
-- this migration, but nothing writes them any more.
DROP MATERIALIZED VIEW email_accounts_view;

CREATE VIEW email_accounts_view AS
SELECT bison_instance, workspace_id, bison_account_id, workspace_name, email_address,
       account_name, status, account_type, daily_limit, emails_sent_count, total_replied_count,
       unique_replied_count, bounced_count, unsubscribed_count, interested_leads_count,
       total_opened_count, unique_opened_count, total_leads_contacted_count, tags, domain,
       email_provider, reseller, reply_rate_percentage, bison_created_at, bison_updated_at,
       first_seen_at, last_synced_at
FROM email_accounts_raw
WHERE deleted_at IS NULL;

COMMENT ON COLUMN sync_runs.view_refresh_ms IS
    'No longer written: email_accounts_view is a plain view since schema version 6.';
COMMENT ON COLUMN sync_runs.view_refresh_error IS
    'No longer written: email_accounts_view is a plain view since schema version 6.';
