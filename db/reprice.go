package db

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Reading the price rules, and re-pricing stored rows from them (the agency changed a rule
// and wants the dashboard to say so now, not after the next sync).

const pricingRulesSQL = `
SELECT name, kind, priority, match, pattern, coalesce(min_domain_mailboxes, 0),
       coalesce(max_domain_mailboxes, 0), (price * 100)::bigint, price_per, volume, volume_per
FROM {pricing_rules}`

// querier is what both a pool and a transaction offer.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// PricingRules reads pricing_rules, ready to apply.
func (s *Store) PricingRules(ctx context.Context) (PricingRules, error) {
	return s.pricingRules(ctx, s.pool)
}

func (s *Store) pricingRules(ctx context.Context, q querier) (PricingRules, error) {
	rows, err := q.Query(ctx, s.q.dash.pricingRules)
	if err != nil {
		return PricingRules{}, fmt.Errorf("read %s: %w", tablePricingRules, err)
	}
	var list []PricingRule
	var r PricingRule
	_, err = pgx.ForEachRow(rows, []any{&r.Name, &r.Kind, &r.Priority, &r.Match, &r.Pattern,
		&r.MinDomainMailboxes, &r.MaxDomainMailboxes, &r.PriceCents, &r.PricePer, &r.Volume, &r.VolumePer},
		func() error {
			list = append(list, r)
			r = PricingRule{} // PriceCents and Volume are pointers: a fresh pair per row
			return nil
		})
	if err != nil {
		return PricingRules{}, fmt.Errorf("read %s: %w", tablePricingRules, err)
	}
	return NewPricingRules(list), nil
}

// A workspace, for pricing, is an instance's workspace id: the rows the commit writes together.
const repriceWorkspacesSQL = `
SELECT DISTINCT bison_instance, workspace_id FROM {raw} WHERE deleted_at IS NULL ORDER BY 1, 2`

const repriceWorkspaceSQL = `
SELECT bison_instance, bison_workspace_id FROM {registry} WHERE workspace_name = $1::text`

// The registry row first, as the commit locks it: a commit of the same workspace cannot
// change its list between the read below and the write.
const repriceLockSQL = `
SELECT 1 FROM {registry} WHERE bison_instance = $1::text AND bison_workspace_id = $2::integer
FOR NO KEY UPDATE`

const repriceRowsSQL = `
SELECT bison_account_id, email_address, tags FROM {raw}
WHERE bison_instance = $1::text AND workspace_id = $2::integer AND deleted_at IS NULL`

// Only rows whose figures change are written: a re-price after an unrelated rule change
// touches a few rows, not the fleet.
const repriceWriteSQL = `
UPDATE {raw} r SET price = t.price, price_source = t.price_source,
    pricing_needs_review = t.needs_review, volume_per_account = t.volume,
    provider_tag = t.provider_tag, reseller_tag = t.reseller_tag
FROM unnest($3::bigint[], $4::numeric[], $5::text[], $6::boolean[], $7::integer[], $8::text[], $9::text[])
    AS t(id, price, price_source, needs_review, volume, provider_tag, reseller_tag)
WHERE r.bison_instance = $1::text AND r.workspace_id = $2::integer AND r.bison_account_id = t.id
  AND r.deleted_at IS NULL
  AND (r.price, r.price_source, r.pricing_needs_review, r.volume_per_account, r.provider_tag, r.reseller_tag)
      IS DISTINCT FROM (t.price, t.price_source, t.needs_review, t.volume, t.provider_tag, t.reseller_tag)`

// RepriceResult counts what Reprice did.
type RepriceResult struct {
	Workspaces int // workspaces priced
	Accounts   int // live accounts priced
	Changed    int // rows whose price, source, review flag, capacity or tags changed
}

// Reprice prices the stored live rows of one workspace (by name), or of every workspace when
// workspace is "", from the current pricing_rules, exactly as a commit would from the same
// list: each workspace's domain counts come from all its live rows. It writes only rows
// whose figures change, one transaction per workspace; the agency's notes are never touched.
// A name not in client_registry is an *UnknownWorkspacesError.
func (s *Store) Reprice(ctx context.Context, workspace string) (RepriceResult, error) {
	var res RepriceResult
	rules, err := s.PricingRules(ctx)
	if err != nil {
		return res, fmt.Errorf("reprice: %w", err)
	}
	targets, err := s.repriceTargets(ctx, workspace)
	if err != nil {
		return res, fmt.Errorf("reprice: %w", err)
	}
	for _, t := range targets {
		accounts, changed, err := s.repriceOne(ctx, rules, t.instance, t.id)
		if err != nil {
			return res, fmt.Errorf("reprice workspace %d of instance %s: %w", t.id, t.instance, err)
		}
		res.Workspaces++
		res.Accounts += accounts
		res.Changed += changed
	}
	return res, nil
}

type workspaceKey struct {
	instance string
	id       int
}

func (s *Store) repriceTargets(ctx context.Context, workspace string) ([]workspaceKey, error) {
	var rows pgx.Rows
	var err error
	if workspace == "" {
		rows, err = s.pool.Query(ctx, s.q.dash.repriceWorkspaces)
	} else {
		rows, err = s.pool.Query(ctx, s.q.dash.repriceWorkspace, workspace)
	}
	if err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	var out []workspaceKey
	var k workspaceKey
	if _, err := pgx.ForEachRow(rows, []any{&k.instance, &k.id}, func() error {
		out = append(out, k)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	if workspace != "" && len(out) == 0 {
		return nil, &UnknownWorkspacesError{Names: []string{workspace}}
	}
	return out, nil
}

// repriceOne prices one workspace's live rows in one transaction and returns how many it
// priced and how many changed.
func (s *Store) repriceOne(ctx context.Context, rules PricingRules, instance string, id int) (int, int, error) {
	var priced, changed int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, s.q.dash.repriceLock, instance, id); err != nil {
			return fmt.Errorf("lock registry row: %w", err)
		}
		rows, err := tx.Query(ctx, s.q.dash.repriceRows, instance, id)
		if err != nil {
			return fmt.Errorf("read rows: %w", err)
		}
		var accounts []Account
		var a Account
		if _, err := pgx.ForEachRow(rows, []any{&a.ID, &a.Email, &a.Tags}, func() error {
			accounts = append(accounts, a)
			a = Account{}
			return nil
		}); err != nil {
			return fmt.Errorf("read rows: %w", err)
		}
		cols := pricingColumns(accounts, rules.PriceWorkspace(accounts))
		tag, err := tx.Exec(ctx, s.q.dash.repriceWrite, cols.args(instance, id)...)
		if err != nil {
			return fmt.Errorf("write prices: %w", err)
		}
		priced, changed = len(accounts), int(tag.RowsAffected())
		return nil
	})
	return priced, changed, err
}

// pricingArrays are a workspace's prices column by column, the form unnest() takes.
type pricingArrays struct {
	id                               []int64
	price                            []pgtype.Numeric
	source, providerTag, resellerTag []*string
	review                           []bool
	volume                           []int32
}

func pricingColumns(accounts []Account, prices []Pricing) pricingArrays {
	n := len(accounts)
	c := pricingArrays{id: make([]int64, n), price: make([]pgtype.Numeric, n), source: make([]*string, n),
		providerTag: make([]*string, n), resellerTag: make([]*string, n), review: make([]bool, n), volume: make([]int32, n)}
	for i, p := range prices {
		c.id[i] = accounts[i].ID
		c.price[i] = p.PriceNumeric()
		c.source[i] = optional(p.Source)
		c.review[i] = p.NeedsReview
		c.volume[i] = int32(p.Volume)
		c.providerTag[i] = optional(p.ProviderTag)
		c.resellerTag[i] = optional(p.ResellerTag)
	}
	return c
}

// args are the arrays in the order of repriceWriteSQL, after the instance and workspace id.
func (c pricingArrays) args(instance string, id int) []any {
	return []any{instance, id, c.id, c.price, c.source, c.review, c.volume, c.providerTag, c.resellerTag}
}
