-- Guard rails (issue 7).

-- Per-workspace override of the mass-deletion guard: the largest share of a workspace's live
-- accounts one sync may mark deleted, in percent. NULL: the run's default (20%).
ALTER TABLE client_registry ADD COLUMN deletion_guard_percent real NULL;

-- Deletions the guard held back, for review: the accounts a complete, confirmed fetch found
-- gone, kept until the operator accepts them (--allow-deletions) or a later sync commits.
CREATE TABLE held_deletions (
    workspace_name   text NOT NULL,
    bison_instance   text NOT NULL,
    workspace_id     integer NOT NULL,
    bison_account_id bigint NOT NULL,
    email_address    text NOT NULL DEFAULT '',
    run_id           bigint NOT NULL,
    held_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_name, bison_account_id)
);

-- Finds an account's rows under other workspaces of its instance (mis-scoped keys).
CREATE INDEX email_accounts_raw_account_idx ON email_accounts_raw (bison_instance, bison_account_id)
    WHERE deleted_at IS NULL;
