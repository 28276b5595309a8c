-- The counters and the daily limit become bigint (issue 11): a counter past 2^31 (an
-- agency's lifetime emails_sent_count gets there) failed the whole workspace's commit.
-- Changing the type rewrites the table once, packed at its fillfactor.
--
-- The fillfactor stays 50 (migration 5), reconsidered now that a re-sync writes only the rows
-- that changed (migration 7). Measured on 100,000 accounts (BenchmarkFillfactor, three
-- interleaved runs at 50, 90 and 100):
--   - a re-sync with 1% of the accounts changed costs the same at every setting (0.5-0.95 s);
--   - a sync that finds every account changed, which is what a daily sync finds when every
--     active sender's counters moved, takes 1.7-2.6 s at 50 and 4.4-5.3 s at 90 or 100: there
--     a new row version rarely fits on its page, so it goes to another one and adds an entry
--     to every index;
--   - after two such syncs the table is smaller at 50 (65 MB) than at 90 or 100 (97-101 MB),
--     which leave the old versions' pages behind. Only a freshly loaded table is smaller at
--     100 (about half; 455 MB against 777 MB with its indexes at a million accounts).
-- So 50 keeps a table whose counters move from growing and halves the cost of rewriting it,
-- for space the table would take anyway after its first busy day.
--
-- email_accounts_view depends on the columns: it is dropped and created again, the same but
-- for the counters' type.
DROP VIEW email_accounts_view;

ALTER TABLE email_accounts_raw
    ALTER COLUMN daily_limit TYPE bigint,
    ALTER COLUMN emails_sent_count TYPE bigint,
    ALTER COLUMN total_replied_count TYPE bigint,
    ALTER COLUMN unique_replied_count TYPE bigint,
    ALTER COLUMN bounced_count TYPE bigint,
    ALTER COLUMN unsubscribed_count TYPE bigint,
    ALTER COLUMN interested_leads_count TYPE bigint,
    ALTER COLUMN total_opened_count TYPE bigint,
    ALTER COLUMN unique_opened_count TYPE bigint,
    ALTER COLUMN total_leads_contacted_count TYPE bigint;

CREATE VIEW email_accounts_view AS
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
