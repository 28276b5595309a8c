-- Runs asked for by other programs (issue 13, CONTRACT.md §3): the agency's dashboard has a
-- "Trigger Sync" button. Anyone with INSERT on this table can ask; a long-running
-- `bisonsync --headless --every D` serves it (db/requests.go, sync/requests.go).
CREATE TABLE sync_requests (
    id             bigserial PRIMARY KEY,
    requested_at   timestamptz DEFAULT now(),
    requested_by   text NULL,
    -- Null (or blank): every active workspace.
    workspace_name text NULL,
    status         text NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'running', 'done', 'refused')),
    -- The run that served it; requests merged into one run share its id.
    run_id         bigint NULL,
    finished_at    timestamptz NULL,
    error          text NULL,
    -- Which process claimed it (host:pid) and when; a claim whose process died is put back.
    claimed_by     text NULL,
    claimed_at     timestamptz NULL
);

-- Serving loops look for the oldest pending request every couple of seconds, and for
-- claimed ones whose process may have died.
CREATE INDEX sync_requests_pending_idx ON sync_requests (id) WHERE status = 'pending';
CREATE INDEX sync_requests_running_idx ON sync_requests (id) WHERE status = 'running';
