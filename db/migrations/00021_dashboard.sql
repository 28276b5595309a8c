-- The agency's dashboard's read layer (issue 13, CONTRACT.md §6).

-- Schemas where `bisonsync migrate --dashboard-schema` created the dashboard's views. Migrate
-- drops those views before it applies a migration (a view pins the columns it reads) and
-- creates them again, current, afterwards (db/dashboard.go).
CREATE TABLE dashboard_installs (
    schema_name         text PRIMARY KEY,
    -- Roles given SELECT (those that existed at the time).
    grants              text[] NOT NULL DEFAULT '{}',
    -- The version of the views' definition in the binary that created them.
    definition_version  integer NOT NULL,
    -- This schema's migration version when they were created; 0 while dropped for an upgrade.
    schema_version      bigint NOT NULL,
    -- When the dashboard lives in bisonsync's own schema, its email_accounts_view replaces
    -- ours: what ours was ('v' view or 'm' materialized, definition, indexes), put back
    -- before each upgrade so that migrations find the view they were written for.
    own_view_kind       text NULL,
    own_view_definition text NULL,
    own_view_indexes    text[] NULL,
    installed_at        timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- What the dashboard's progress bar and job banner read of a run in progress, written about
-- once a second by the run's progress writer (sync/progress.go).
ALTER TABLE sync_runs
    ADD COLUMN current_workspace text NULL,
    ADD COLUMN progress_at       timestamptz NULL;

-- The id of the dashboard's email_accounts_view: stable per account (a row is never deleted,
-- only marked), and stored, because the dashboard pages through every account with OFFSET,
-- which computes the view's columns for every row it skips: an id derived at read time (an
-- md5 of the key) made a page 1,000,000 rows deep take 2 s instead of 0.35 s. The volatile
-- default fills the existing rows once, rewriting the table (seconds per million rows).
ALTER TABLE email_accounts_raw ADD COLUMN account_uuid uuid NOT NULL DEFAULT gen_random_uuid();
