-- Discovery and keys (issue 12): what each instance lists that the registry lacks or still
-- holds, and how each workspace's own key was last judged.

-- On: every run registers (active) the workspaces the listing finds that client_registry
-- lacks, and says so in its log. Off: they are reported as unregistered.
ALTER TABLE bison_instances ADD COLUMN auto_register boolean NOT NULL DEFAULT false;
-- The latest listing of the instance's workspaces with its super-admin key: when one last
-- succeeded, and why the latest failed (null when it succeeded).
ALTER TABLE bison_instances ADD COLUMN listed_at timestamptz NULL;
ALTER TABLE bison_instances ADD COLUMN list_error text NULL;

-- The workspace's key as `keys check`, `keys mint` or a sync last found it: null (not
-- judged), ok, wrong-key (it serves another workspace's accounts) or rejected (401/403).
ALTER TABLE client_registry ADD COLUMN key_status text NULL
    CHECK (key_status IS NULL OR key_status IN ('ok', 'wrong-key', 'rejected'));
ALTER TABLE client_registry ADD COLUMN key_checked_at timestamptz NULL;
-- Since when the key has been rejected without a break; null when it was not.
ALTER TABLE client_registry ADD COLUMN key_rejected_since timestamptz NULL;
-- What was found, in a sentence (which workspace a wrong key serves); never a token.
ALTER TABLE client_registry ADD COLUMN key_detail text NULL;

-- A judgement is about the key it judged: a new key in bison_api_key (minted, or pasted by
-- hand) starts unjudged, unless the same statement judges it (sets key_checked_at).
CREATE FUNCTION bisonsync_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.key_checked_at IS NOT DISTINCT FROM OLD.key_checked_at THEN
        NEW.key_status := NULL;
        NEW.key_checked_at := NULL;
        NEW.key_rejected_since := NULL;
        NEW.key_detail := NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER client_registry_key_changed
    BEFORE UPDATE OF bison_api_key ON client_registry
    FOR EACH ROW WHEN (OLD.bison_api_key IS DISTINCT FROM NEW.bison_api_key)
    EXECUTE FUNCTION bisonsync_key_changed();

-- What the latest listing of each instance found: every workspace at the source
-- (registered or not), and every registry row whose workspace the source no longer lists.
-- Replaced per instance at each listing; the console, --check, the metrics file and the
-- notifications read it.
CREATE TABLE discovered_workspaces (
    bison_instance     text NOT NULL REFERENCES bison_instances (name) ON UPDATE CASCADE ON DELETE CASCADE,
    bison_workspace_id integer NOT NULL,
    -- The name at the source; for a gone workspace, its registry name.
    name               text NOT NULL,
    state              text NOT NULL CHECK (state IN ('registered', 'unregistered', 'gone')),
    -- Since when it has been in this state: unregistered since, gone since.
    state_since        timestamptz NOT NULL DEFAULT now(),
    -- The first and the latest listing that showed it; null when none did.
    first_seen_at      timestamptz NULL,
    last_seen_at       timestamptz NULL,
    PRIMARY KEY (bison_instance, bison_workspace_id)
);
