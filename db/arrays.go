package db

import (
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// smallCommit is the largest workspace written with unnest(arrays) rather than COPY into a
// temporary table. For a few hundred accounts the temporary table's fixed costs (catalog rows
// created and dropped, its index) are most of the commit: about 3.5 ms of 9 for 433 rows. Past
// a couple of thousand accounts COPY's speed wins.
const smallCommit = 2000

// accountArrays is a list of accounts column by column, the form unnest() takes.
type accountArrays struct {
	id                                                []int64
	email, name, status, typ, provider, tags          []string
	domain, reseller                                  []*string
	daily, sent, totalReplied, uniqueReplied, bounced []int64
	unsub, interested, totalOpened, uniqueOpened      []int64
	contacted                                         []int64
	replyRate                                         []pgtype.Numeric
	created, updated                                  []*time.Time
}

func (c *accountArrays) add(a *Account) {
	tags := a.Tags
	if tags == nil {
		tags = []string{}
	}
	// unnest cannot take a ragged text[][]: each row's tags travel as a JSON array.
	tagsJSON, _ := json.Marshal(tags)
	c.id = append(c.id, a.ID)
	c.email = append(c.email, a.Email)
	c.name = append(c.name, a.Name)
	c.status = append(c.status, a.Status)
	c.typ = append(c.typ, a.Type)
	c.daily = append(c.daily, int64(a.DailyLimit))
	c.sent = append(c.sent, int64(a.EmailsSent))
	c.totalReplied = append(c.totalReplied, int64(a.TotalReplied))
	c.uniqueReplied = append(c.uniqueReplied, int64(a.UniqueReplied))
	c.bounced = append(c.bounced, int64(a.Bounced))
	c.unsub = append(c.unsub, int64(a.Unsubscribed))
	c.interested = append(c.interested, int64(a.InterestedLeads))
	c.totalOpened = append(c.totalOpened, int64(a.TotalOpened))
	c.uniqueOpened = append(c.uniqueOpened, int64(a.UniqueOpened))
	c.contacted = append(c.contacted, int64(a.TotalLeadsContacted))
	c.tags = append(c.tags, string(tagsJSON))
	c.domain = append(c.domain, optional(domainOf(a.Email)))
	c.provider = append(c.provider, emailProvider(tags, a.Type))
	c.reseller = append(c.reseller, optional(reseller(tags)))
	c.replyRate = append(c.replyRate, numericHundredths(replyRateHundredths(a.UniqueReplied, a.EmailsSent)))
	c.created = append(c.created, a.CreatedAt)
	c.updated = append(c.updated, a.UpdatedAt)
}

// args are the arrays in the order of unnestAccounts, after the statement's first four
// parameters (instance, workspace id, workspace name, synced at).
func (c *accountArrays) args(head ...any) []any {
	return append(head, c.id, c.email, c.name, c.status, c.typ, c.daily, c.sent, c.totalReplied,
		c.uniqueReplied, c.bounced, c.unsub, c.interested, c.totalOpened, c.uniqueOpened, c.contacted,
		c.tags, c.domain, c.provider, c.reseller, c.replyRate, c.created, c.updated)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// unnestAccounts turns parameters $5… back into rows with the columns of accountColumns.
const unnestAccounts = `unnest($5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[],
    $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[],
    $18::bigint[], $19::bigint[], $20::text[], $21::text[], $22::text[], $23::text[], $24::numeric[],
    $25::timestamptz[], $26::timestamptz[])
  AS t(bison_account_id, email_address, account_name, status, account_type, daily_limit,
    emails_sent_count, total_replied_count, unique_replied_count, bounced_count, unsubscribed_count,
    interested_leads_count, total_opened_count, unique_opened_count, total_leads_contacted_count,
    tags, domain, email_provider, reseller, reply_rate_percentage, bison_created_at, bison_updated_at)`

// The small-workspace counterparts of commitUpdateSQL and commitInsertSQL: the same writes,
// from arrays instead of the temporary table.
const commitUpdateArraysSQL = `
UPDATE {raw} r SET
    workspace_name = $3::text,
    email_address = t.email_address,
    account_name = t.account_name,
    status = t.status,
    account_type = t.account_type,
    daily_limit = t.daily_limit,
    emails_sent_count = t.emails_sent_count,
    total_replied_count = t.total_replied_count,
    unique_replied_count = t.unique_replied_count,
    bounced_count = t.bounced_count,
    unsubscribed_count = t.unsubscribed_count,
    interested_leads_count = t.interested_leads_count,
    total_opened_count = t.total_opened_count,
    unique_opened_count = t.unique_opened_count,
    total_leads_contacted_count = t.total_leads_contacted_count,
    tags = ARRAY(SELECT jsonb_array_elements_text(t.tags::jsonb)),
    domain = t.domain,
    email_provider = t.email_provider,
    reseller = t.reseller,
    reply_rate_percentage = t.reply_rate_percentage,
    bison_created_at = t.bison_created_at,
    bison_updated_at = t.bison_updated_at,
    last_synced_at = $4::timestamptz,
    deleted_at = NULL
FROM ` + unnestAccounts + `
WHERE r.bison_instance = $1::text AND r.workspace_id = $2::integer
  AND r.bison_account_id = t.bison_account_id`

const commitInsertArraysSQL = `
INSERT INTO {raw} AS r (bison_instance, workspace_id, workspace_name, bison_account_id,
    email_address, account_name, status, account_type, daily_limit, emails_sent_count,
    total_replied_count, unique_replied_count, bounced_count, unsubscribed_count,
    interested_leads_count, total_opened_count, unique_opened_count,
    total_leads_contacted_count, tags, domain, email_provider, reseller,
    reply_rate_percentage, bison_created_at, bison_updated_at, first_seen_at, last_synced_at,
    deleted_at)
SELECT $1::text, $2::integer, $3::text, t.bison_account_id,
    t.email_address, t.account_name, t.status, t.account_type, t.daily_limit, t.emails_sent_count,
    t.total_replied_count, t.unique_replied_count, t.bounced_count, t.unsubscribed_count,
    t.interested_leads_count, t.total_opened_count, t.unique_opened_count,
    t.total_leads_contacted_count, ARRAY(SELECT jsonb_array_elements_text(t.tags::jsonb)), t.domain,
    t.email_provider, t.reseller, t.reply_rate_percentage, t.bison_created_at, t.bison_updated_at,
    $4::timestamptz, $4::timestamptz, NULL
FROM ` + unnestAccounts + `
ON CONFLICT (bison_instance, workspace_id, bison_account_id) DO UPDATE SET
    workspace_name = EXCLUDED.workspace_name,
    email_address = EXCLUDED.email_address,
    account_name = EXCLUDED.account_name,
    status = EXCLUDED.status,
    account_type = EXCLUDED.account_type,
    daily_limit = EXCLUDED.daily_limit,
    emails_sent_count = EXCLUDED.emails_sent_count,
    total_replied_count = EXCLUDED.total_replied_count,
    unique_replied_count = EXCLUDED.unique_replied_count,
    bounced_count = EXCLUDED.bounced_count,
    unsubscribed_count = EXCLUDED.unsubscribed_count,
    interested_leads_count = EXCLUDED.interested_leads_count,
    total_opened_count = EXCLUDED.total_opened_count,
    unique_opened_count = EXCLUDED.unique_opened_count,
    total_leads_contacted_count = EXCLUDED.total_leads_contacted_count,
    tags = EXCLUDED.tags,
    domain = EXCLUDED.domain,
    email_provider = EXCLUDED.email_provider,
    reseller = EXCLUDED.reseller,
    reply_rate_percentage = EXCLUDED.reply_rate_percentage,
    bison_created_at = EXCLUDED.bison_created_at,
    bison_updated_at = EXCLUDED.bison_updated_at,
    last_synced_at = EXCLUDED.last_synced_at,
    deleted_at = NULL`
