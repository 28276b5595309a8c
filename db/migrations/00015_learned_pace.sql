-- The pace each instance was found to accept (issue 11). The API's limits are undocumented
-- and may change; the engine learns the pace from 429s and keeps it here, so the next run
-- starts there instead of learning it again with a burst of 429s. requests_per_second and
-- max_concurrency stay the operator's ceilings. Null: nothing learnt yet.
ALTER TABLE bison_instances
    ADD COLUMN learned_requests_per_second real NULL CHECK (learned_requests_per_second IS NULL OR learned_requests_per_second > 0),
    ADD COLUMN learned_max_in_flight integer NULL CHECK (learned_max_in_flight IS NULL OR learned_max_in_flight > 0),
    ADD COLUMN pace_learned_at timestamptz NULL;
