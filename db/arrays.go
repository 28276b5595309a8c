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

// tagsFromJSON turns a row's tags, passed as a JSON array, back into text[].
const tagsFromJSON = "ARRAY(SELECT jsonb_array_elements_text(t.tags::jsonb))"

// The small-workspace counterparts of commitUpdateSQL and commitInsertSQL: the same writes,
// from arrays instead of the temporary table.
var commitUpdateArraysSQL = `
UPDATE {raw} r SET ` + accountSet(tagsFromJSON) + `
FROM ` + unnestAccounts + `
WHERE r.bison_instance = $1::text AND r.workspace_id = $2::integer
  AND r.bison_account_id = t.bison_account_id`

var commitInsertArraysSQL = insertAccounts(tagsFromJSON, unnestAccounts)
