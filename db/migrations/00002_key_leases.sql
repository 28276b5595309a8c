-- A super-admin key selects its workspace as server-side state, so only one process at a time
-- may use an instance's super-admin key (CONTRACT.md §1, §4.3). Its lease works like a
-- workspace lease: a row with an expiry, renewed by the run's heartbeat and freed with the
-- run's other leases, because session advisory locks do not survive a transaction-mode pooler.
CREATE TABLE key_leases (
    instance       text PRIMARY KEY,
    run_id         bigint NOT NULL,
    workspace_name text NOT NULL,
    host           text NOT NULL DEFAULT '',
    pid            integer NOT NULL DEFAULT 0,
    claimed_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL
);

CREATE INDEX key_leases_run_idx ON key_leases (run_id);
