-- The shared-accounts check became one hash join per run (see Store.Overlaps), which does not
-- use this index; every write of a row paid for keeping it.
DROP INDEX IF EXISTS email_accounts_raw_account_idx;
