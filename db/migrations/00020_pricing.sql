-- Prices and capacity (issue 13, CONTRACT.md §6): the agency's dashboard shows per account a
-- monthly price, where it came from, whether it needs a human, and a daily sending capacity.
-- The rules live in a table so the agency changes them without a release; db/price.go is the
-- one place they are applied. Numbered 00020 to leave 00006..00019 to the commit-path work.

-- One row per rule. A rule recognises a tag (kind says whether the tag names a reseller or a
-- provider) and may give a price, a capacity, or neither (then it only recognises the tag:
-- a recognised provider that no rule prices is flagged for review). Reseller rules are tried
-- before provider rules, each kind in ascending priority; the first rule that gives a price
-- prices the account, the first that gives a capacity sets it (15 when none does).
CREATE TABLE pricing_rules (
    -- What price_source says when this rule priced an account.
    name                 text PRIMARY KEY CHECK (btrim(name) <> ''),
    kind                 text NOT NULL CHECK (kind IN ('reseller', 'provider')),
    -- Lower first, within its kind.
    priority             integer NOT NULL,
    -- Tags and patterns are compared trimmed, case-insensitive, without inner spaces and
    -- without a " - 3" batch suffix. equals: the whole tag is the pattern ("zapmail - 2" is
    -- Zapmail); contains: the pattern is inside the tag ("Cheap Inboxes batch 7").
    match                text NOT NULL DEFAULT 'equals' CHECK (match IN ('equals', 'contains')),
    pattern              text NOT NULL CHECK (btrim(pattern) <> ''),
    -- The rule applies only when the workspace has this many live mailboxes on the account's
    -- domain (null: no bound).
    min_domain_mailboxes integer NULL CHECK (min_domain_mailboxes IS NULL OR min_domain_mailboxes >= 1),
    max_domain_mailboxes integer NULL CHECK (max_domain_mailboxes IS NULL OR max_domain_mailboxes >= 1),
    -- Monthly price; per 'mailbox', or per 'domain' split evenly over its mailboxes.
    price                numeric(10, 2) NULL CHECK (price IS NULL OR price >= 0),
    price_per            text NOT NULL DEFAULT 'mailbox' CHECK (price_per IN ('mailbox', 'domain')),
    -- Daily sending capacity; per 'mailbox', or per 'domain' split over its mailboxes,
    -- rounded down.
    volume               integer NULL CHECK (volume IS NULL OR volume >= 0),
    volume_per           text NOT NULL DEFAULT 'mailbox' CHECK (volume_per IN ('mailbox', 'domain')),
    note                 text NULL
);

-- The rules in force when bisonsync replaced poll-sender-emails (CONTRACT.md §6). The
-- recognise-only rows keep that job's lists of reseller and provider tags, so that, as
-- before, a Yahoo or Outlook mailbox nobody priced is flagged for review.
INSERT INTO pricing_rules (name, kind, priority, match, pattern, min_domain_mailboxes,
    max_domain_mailboxes, price, price_per, volume, volume_per, note) VALUES
    ('CheapInboxes', 'reseller', 10, 'contains', 'CheapInboxes', NULL, NULL, 3.00, 'mailbox', NULL, 'mailbox', 'any tag containing it'),
    ('Zapmail', 'reseller', 20, 'equals', 'Zapmail', NULL, NULL, 3.00, 'mailbox', NULL, 'mailbox', NULL),
    ('Mailr', 'reseller', 30, 'equals', 'Mailr', NULL, NULL, 0.91, 'mailbox', 495, 'domain', '495 a day shared by the domain''s mailboxes'),
    ('ScaledMail 25-48', 'reseller', 40, 'equals', 'ScaledMail', 25, 48, NULL, 'mailbox', 8, 'mailbox', 'capacity only: 8 a day on domains of 25 to 48 mailboxes'),
    ('ScaledMail', 'reseller', 50, 'equals', 'ScaledMail', NULL, NULL, 50.00, 'domain', 5, 'mailbox', '50.00 a month per domain, split over its mailboxes'),
    ('Other inbox reseller', 'reseller', 90, 'contains', 'Inbox', NULL, NULL, NULL, 'mailbox', NULL, 'mailbox', 'recognised, not priced'),
    ('Other reseller', 'reseller', 91, 'contains', 'Reseller', NULL, NULL, NULL, 'mailbox', NULL, 'mailbox', 'recognised, not priced'),
    ('Google', 'provider', 10, 'equals', 'Google', NULL, NULL, 3.00, 'mailbox', 20, 'mailbox', NULL),
    ('Gmail', 'provider', 20, 'equals', 'Gmail', NULL, NULL, 3.00, 'mailbox', 20, 'mailbox', NULL),
    ('Microsoft', 'provider', 30, 'equals', 'Microsoft', NULL, NULL, NULL, 'mailbox', 20, 'mailbox', 'capacity only'),
    ('Outlook', 'provider', 40, 'equals', 'Outlook', NULL, NULL, NULL, 'mailbox', 20, 'mailbox', 'capacity only'),
    ('Yahoo', 'provider', 50, 'equals', 'Yahoo', NULL, NULL, NULL, 'mailbox', NULL, 'mailbox', 'recognised, not priced'),
    ('iCloud', 'provider', 60, 'equals', 'iCloud', NULL, NULL, NULL, 'mailbox', NULL, 'mailbox', 'recognised, not priced'),
    ('AOL', 'provider', 70, 'equals', 'AOL', NULL, NULL, NULL, 'mailbox', NULL, 'mailbox', 'recognised, not priced');

-- The dashboard's columns. Constant defaults: adding them rewrites nothing.
ALTER TABLE email_accounts_raw
    ADD COLUMN price                numeric(10, 2) NULL,
    ADD COLUMN price_source         text NULL,
    ADD COLUMN pricing_needs_review boolean NOT NULL DEFAULT false,
    ADD COLUMN volume_per_account   integer NOT NULL DEFAULT 15,
    ADD COLUMN warmup_enabled       boolean NOT NULL DEFAULT false,
    ADD COLUMN notes                text NULL,
    ADD COLUMN provider_tag         text NULL,
    ADD COLUMN reseller_tag         text NULL;

COMMENT ON COLUMN email_accounts_raw.email_provider IS
    'bisonsync''s canonical provider (Google, Microsoft, SMTP, Other) from the tags, else the account type (db/derive.go). The dashboard shows provider_tag instead.';
COMMENT ON COLUMN email_accounts_raw.reseller IS
    'bisonsync''s canonical reseller name from the tags (db/derive.go), or null. The dashboard shows reseller_tag instead.';
COMMENT ON COLUMN email_accounts_raw.provider_tag IS
    'The first tag a provider rule of pricing_rules recognises, trimmed, as the API spelled it; null when none (db/price.go).';
COMMENT ON COLUMN email_accounts_raw.reseller_tag IS
    'The first tag a reseller rule of pricing_rules recognises, trimmed, as the API spelled it; null when none (db/price.go).';
COMMENT ON COLUMN email_accounts_raw.price IS
    'Monthly price from pricing_rules (db/price.go); 0 when no rule priced it; null until priced.';
COMMENT ON COLUMN email_accounts_raw.price_source IS
    'The pricing_rules.name that priced the account; null when none did.';
COMMENT ON COLUMN email_accounts_raw.pricing_needs_review IS
    'A provider tag was recognised but no rule priced the account.';
COMMENT ON COLUMN email_accounts_raw.volume_per_account IS
    'Daily sending capacity from pricing_rules; 15 when no rule gives one.';
COMMENT ON COLUMN email_accounts_raw.warmup_enabled IS
    'The API''s warmup_enabled when it reports one, else false.';
COMMENT ON COLUMN email_accounts_raw.notes IS
    'The agency''s own notes. No sync ever writes this column.';
