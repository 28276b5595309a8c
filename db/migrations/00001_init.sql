-- +goose Up
-- bisonsync schema, version 1.
--
-- This file runs inside a transaction with `SET LOCAL search_path TO <schema>`, so names are
-- unqualified here and land in the schema chosen with --schema (see db/migrate.go). It is
-- forward-only: a later change is a new file, never an edit of this one.
--
-- Every column beyond those the contract names has a default, so rows written by other tools
-- (imports, backfills, the agency's own scripts) stay valid.

-- One row per Email Bison installation.
CREATE TABLE bison_instances (
    name                text PRIMARY KEY,
    base_url            text NOT NULL,
    -- Super-admin key: a literal token or env:VAR_NAME. Null: workspaces must bring their own.
    api_key             text NULL,
    -- Null: no client-side limit.
    requests_per_second real NULL CHECK (requests_per_second IS NULL OR requests_per_second > 0),
    -- Null: the program's default.
    max_concurrency     integer NULL CHECK (max_concurrency IS NULL OR max_concurrency > 0),
    created_at          timestamptz NOT NULL DEFAULT now()
);

-- One row per workspace to keep in sync, with the outcome of its latest attempts.
CREATE TABLE client_registry (
    workspace_name          text PRIMARY KEY,
    bison_instance          text NOT NULL REFERENCES bison_instances (name) ON UPDATE CASCADE,
    bison_workspace_id      integer NOT NULL,
    -- Workspace key: a literal token or env:VAR_NAME. Null: use the instance's super-admin key.
    bison_api_key           text NULL,
    is_active               boolean NOT NULL DEFAULT true,
    last_successful_sync_at timestamptz NULL,
    last_sync_attempt_at    timestamptz NULL,
    last_sync_status        text NULL,
    last_sync_error         text NULL,
    last_sync_duration_ms   integer NULL,
    -- meta.total of the last complete fetch; the scheduler's size estimate.
    estimated_account_count integer NULL,
    consecutive_failures    integer NOT NULL DEFAULT 0,
    last_sync_warning       text NULL,
    -- Live rows of this workspace in email_accounts_raw, kept by the workspace commit.
    live_account_count      integer NOT NULL DEFAULT 0,
    created_at              timestamptz NOT NULL DEFAULT now(),
    UNIQUE (bison_instance, bison_workspace_id)
);

-- Stale checks (--check, --stale) look at active workspaces by their last success, oldest
-- (and never synced, null) first.
CREATE INDEX client_registry_stale_idx
    ON client_registry (last_successful_sync_at ASC NULLS FIRST) WHERE is_active;

-- One row per sender account per workspace. Rows are updated in place by every complete sync;
-- an account missing from a complete, reconciled list gets deleted_at, never a DELETE.
CREATE TABLE email_accounts_raw (
    bison_instance              text NOT NULL,
    workspace_id                integer NOT NULL,
    bison_account_id            bigint NOT NULL,
    workspace_name              text NOT NULL,
    email_address               text NOT NULL,
    account_name                text NULL,
    status                      text NULL,
    account_type                text NULL,
    daily_limit                 integer NOT NULL DEFAULT 0,
    emails_sent_count           integer NOT NULL DEFAULT 0,
    total_replied_count         integer NOT NULL DEFAULT 0,
    unique_replied_count        integer NOT NULL DEFAULT 0,
    bounced_count               integer NOT NULL DEFAULT 0,
    unsubscribed_count          integer NOT NULL DEFAULT 0,
    interested_leads_count      integer NOT NULL DEFAULT 0,
    total_opened_count          integer NOT NULL DEFAULT 0,
    unique_opened_count         integer NOT NULL DEFAULT 0,
    total_leads_contacted_count integer NOT NULL DEFAULT 0,
    -- Tag names exactly as the API gave them (messy: spaces, case).
    tags                        text[] NOT NULL DEFAULT '{}',
    -- Derived by bisonsync from the address, the tags and the type (db/derive.go); domain and
    -- reseller are null when there is none.
    domain                      text NULL,
    email_provider              text NULL,
    reseller                    text NULL,
    reply_rate_percentage       numeric(7, 2) NOT NULL DEFAULT 0,
    bison_created_at            timestamptz NULL,
    bison_updated_at            timestamptz NULL,
    first_seen_at               timestamptz NOT NULL DEFAULT now(),
    last_synced_at              timestamptz NOT NULL DEFAULT now(),
    deleted_at                  timestamptz NULL,
    -- The key also serves "all rows of one workspace" (its leading two columns).
    PRIMARY KEY (bison_instance, workspace_id, bison_account_id)
)
-- Every sync rewrites every row of a workspace (last_synced_at at least). Free space on each
-- page lets those updates be HOT (no index change), which keeps the commit close to COPY speed.
WITH (fillfactor = 70);

-- What dashboards read: the live accounts. Refreshed concurrently after a run changed data,
-- which the unique index below makes possible.
CREATE MATERIALIZED VIEW email_accounts_view AS
SELECT bison_instance, workspace_id, bison_account_id, workspace_name, email_address,
       account_name, status, account_type, daily_limit, emails_sent_count, total_replied_count,
       unique_replied_count, bounced_count, unsubscribed_count, interested_leads_count,
       total_opened_count, unique_opened_count, total_leads_contacted_count, tags, domain,
       email_provider, reseller, reply_rate_percentage, bison_created_at, bison_updated_at,
       first_seen_at, last_synced_at
FROM email_accounts_raw
WHERE deleted_at IS NULL;

CREATE UNIQUE INDEX email_accounts_view_key_idx
    ON email_accounts_view (bison_instance, workspace_id, bison_account_id);
CREATE INDEX email_accounts_view_workspace_idx ON email_accounts_view (workspace_name);

-- One row per run.
CREATE TABLE sync_runs (
    id                   bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    started_at           timestamptz NOT NULL DEFAULT now(),
    finished_at          timestamptz NULL,
    status               text NOT NULL DEFAULT 'running' CHECK (status IN
                             ('running', 'succeeded', 'partial', 'failed', 'cancelled', 'abandoned')),
    trigger              text NOT NULL DEFAULT 'unknown',
    host                 text NOT NULL DEFAULT '',
    pid                  integer NULL,
    -- Database clock; a running run whose heartbeat is too old is abandoned by the next process.
    heartbeat_at         timestamptz NULL DEFAULT now(),
    workspaces_total     integer NOT NULL DEFAULT 0,
    workspaces_succeeded integer NOT NULL DEFAULT 0,
    workspaces_failed    integer NOT NULL DEFAULT 0,
    workspaces_cancelled integer NOT NULL DEFAULT 0,
    workspaces_skipped   integer NOT NULL DEFAULT 0,
    accounts_expected    integer NOT NULL DEFAULT 0,
    accounts_synced      integer NOT NULL DEFAULT 0,
    view_refresh_ms      integer NULL,
    view_refresh_error   text NULL,
    error                text NULL
);

-- Run history, newest first.
CREATE INDEX sync_runs_started_at_idx ON sync_runs (started_at DESC, id DESC);
-- The abandoned-run sweep at every start looks only at running runs.
CREATE INDEX sync_runs_running_idx ON sync_runs (id) WHERE status = 'running';

-- One row per workspace per run. workspace_name is not a foreign key: history outlives a
-- workspace that is renamed or removed from the registry.
CREATE TABLE sync_run_workspaces (
    run_id            bigint NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    workspace_name    text NOT NULL,
    status            text NOT NULL DEFAULT 'queued' CHECK (status IN
                          ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped')),
    attempts          integer NOT NULL DEFAULT 0,
    pages_fetched     integer NOT NULL DEFAULT 0,
    pages_total       integer NOT NULL DEFAULT 0,
    accounts_expected integer NOT NULL DEFAULT 0,
    accounts_fetched  integer NOT NULL DEFAULT 0,
    accounts_upserted integer NOT NULL DEFAULT 0,
    accounts_deleted  integer NOT NULL DEFAULT 0,
    accounts_restored integer NOT NULL DEFAULT 0,
    started_at        timestamptz NULL,
    finished_at       timestamptz NULL,
    duration_ms       integer NULL,
    error             text NULL,
    warning           text NULL,
    PRIMARY KEY (run_id, workspace_name)
);

-- A workspace's runs, newest first.
CREATE INDEX sync_run_workspaces_workspace_idx ON sync_run_workspaces (workspace_name, run_id DESC);

-- Who is syncing a workspace right now. Rows with an expiry rather than session advisory
-- locks, because production sits behind a transaction-mode pooler where a session lock would
-- belong to whichever client last used the server connection. run_id is deliberately not a
-- foreign key: a lease must never block deleting old run history.
CREATE TABLE workspace_leases (
    workspace_name text PRIMARY KEY,
    run_id         bigint NOT NULL,
    host           text NOT NULL DEFAULT '',
    pid            integer NOT NULL DEFAULT 0,
    claimed_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL
);

CREATE INDEX workspace_leases_run_idx ON workspace_leases (run_id);
