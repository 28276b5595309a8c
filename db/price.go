package db

import (
	"cmp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"
)

// Prices and capacity of sender accounts, as the agency's dashboard shows them (CONTRACT.md
// §6). The rules are rows of pricing_rules, so the agency changes them without a release;
// this file is the one place they are applied. Everything here is pure: the commit and
// Reprice feed it a workspace's complete list and store what it returns. (The commit is to
// call PriceWorkspace on CommitInput.Accounts, the complete reconciled list, with the rules
// read in its first batch, and write each Pricing into the columns that migration 00020
// added; until it does, Store.Reprice fills them.)

// RuleKind says what kind of tag a pricing rule recognises.
type RuleKind string

// Rule kinds. Reseller rules are always tried before provider rules.
const (
	RuleReseller RuleKind = "reseller"
	RuleProvider RuleKind = "provider"
)

// RuleMatch says how a rule's pattern is compared with a tag. Both sides are first reduced
// by tagKey: trimmed, lower-cased, without inner spaces and without a " - 3" batch suffix.
type RuleMatch string

// Match modes.
const (
	MatchEquals   RuleMatch = "equals"   // the whole tag is the pattern
	MatchContains RuleMatch = "contains" // the pattern is somewhere in the tag
)

// Per says what a rule's price or capacity is for.
type Per string

// Units of a price or a capacity.
const (
	PerMailbox Per = "mailbox" // each mailbox
	PerDomain  Per = "domain"  // the whole domain, split evenly over its mailboxes
)

// DefaultVolume is the daily capacity of an account no rule gives one to.
const DefaultVolume = 15

// PricingRule is one row of pricing_rules.
type PricingRule struct {
	// Name is what price_source says when this rule priced an account.
	Name     string
	Kind     RuleKind
	Priority int // lower first, within its kind
	Match    RuleMatch
	Pattern  string
	// MinDomainMailboxes and MaxDomainMailboxes bound the number of the workspace's live
	// mailboxes on the account's domain for which the rule applies; 0 means no bound.
	MinDomainMailboxes, MaxDomainMailboxes int
	// PriceCents is the monthly price in hundredths; nil when the rule gives no price.
	PriceCents *int64
	PricePer   Per
	// Volume is the daily capacity; nil when the rule gives none.
	Volume    *int
	VolumePer Per
}

// PricingRules is a rule set ready to apply: reseller rules first, each kind by priority
// (then name, so that equal priorities still give one order), patterns reduced once.
type PricingRules struct {
	rules []compiledRule
}

type compiledRule struct {
	PricingRule
	key string // tagKey(Pattern)
}

// NewPricingRules orders and prepares rules for Price.
func NewPricingRules(rules []PricingRule) PricingRules {
	out := make([]compiledRule, len(rules))
	for i, r := range rules {
		out[i] = compiledRule{PricingRule: r, key: tagKey(r.Pattern)}
	}
	slices.SortStableFunc(out, func(a, b compiledRule) int {
		return cmp.Or(cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)),
			cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.Name, b.Name))
	})
	return PricingRules{rules: out}
}

func kindOrder(k RuleKind) int {
	if k == RuleReseller {
		return 0
	}
	return 1
}

// Pricing is what the rules make of one account: the dashboard's price, price_source,
// pricing_needs_review, volume_per_account, reseller and email_provider columns.
type Pricing struct {
	// PriceCents is the monthly price in hundredths of the currency; 0 when no rule priced
	// the account.
	PriceCents int64
	// Source is the name of the rule that priced the account, "" when none did.
	Source string
	// NeedsReview: a provider tag was recognised but no rule priced the account.
	NeedsReview bool
	// Volume is the daily sending capacity, DefaultVolume when no rule gives one.
	Volume int
	// ResellerTag and ProviderTag are the first tags a reseller (provider) rule recognises,
	// trimmed but otherwise as the API spelled them; "" when there is none.
	ResellerTag, ProviderTag string
}

// DomainCounts is how many of a workspace's live accounts are on each domain (as domainOf
// reduces it). It must come from the workspace's complete list: counting the pages fetched
// so far gives the first mailboxes of a domain a larger share than the last.
type DomainCounts map[string]int

// CountDomains counts a workspace's accounts per domain, whatever their tags. accounts is
// its complete list of live accounts.
func CountDomains(accounts []Account) DomainCounts {
	counts := make(DomainCounts)
	for i := range accounts {
		counts[domainOf(accounts[i].Email)]++
	}
	return counts
}

// PriceWorkspace prices every account of a workspace's complete list: the domain counts
// first, from the whole list, then each account. The result is in the order of accounts.
func (rs PricingRules) PriceWorkspace(accounts []Account) []Pricing {
	counts := CountDomains(accounts)
	out := make([]Pricing, len(accounts))
	for i := range accounts {
		out[i] = rs.Price(&accounts[i], counts)
	}
	return out
}

// Price applies the rules to one account, given the domain counts of its workspace's
// complete list (CountDomains).
//
// The reseller tag is the first tag (in the API's order) that a reseller rule recognises, the
// provider tag likewise. Reseller rules are then tried against the reseller tag, provider
// rules against the provider tag, resellers first: the first rule that applies and gives a
// price prices the account; the first that applies and gives a capacity sets it. A rule
// applies when it recognises the tag and the domain's mailbox count is within its bounds.
func (rs PricingRules) Price(a *Account, domains DomainCounts) Pricing {
	mailboxes := max(domains[domainOf(a.Email)], 1) // the account itself, at least
	keys := make([]string, len(a.Tags))
	for i, t := range a.Tags {
		keys[i] = tagKey(t)
	}
	resellerAt, providerAt := rs.firstTag(RuleReseller, keys), rs.firstTag(RuleProvider, keys)
	p := Pricing{Volume: DefaultVolume}
	if resellerAt >= 0 {
		p.ResellerTag = strings.TrimSpace(a.Tags[resellerAt])
	}
	if providerAt >= 0 {
		p.ProviderTag = strings.TrimSpace(a.Tags[providerAt])
	}
	priced, sized := false, false
	for i := range rs.rules {
		r := &rs.rules[i]
		tag := resellerAt
		if r.Kind == RuleProvider {
			tag = providerAt
		}
		if tag < 0 || !r.recognises(keys[tag]) || !r.within(mailboxes) {
			continue
		}
		if !priced && r.PriceCents != nil {
			p.PriceCents, p.Source, priced = r.price(mailboxes), r.Name, true
		}
		if !sized && r.Volume != nil {
			p.Volume, sized = r.volume(mailboxes), true
		}
	}
	p.NeedsReview = p.ProviderTag != "" && !priced
	return p
}

// firstTag returns the index of the first tag a rule of kind recognises, or -1.
func (rs PricingRules) firstTag(kind RuleKind, keys []string) int {
	for i, k := range keys {
		for j := range rs.rules {
			if rs.rules[j].Kind == kind && rs.rules[j].recognises(k) {
				return i
			}
		}
	}
	return -1
}

func (r *compiledRule) recognises(key string) bool {
	if r.key == "" || key == "" {
		return false
	}
	if r.Match == MatchContains {
		return strings.Contains(key, r.key)
	}
	return key == r.key
}

func (r *compiledRule) within(mailboxes int) bool {
	return (r.MinDomainMailboxes <= 0 || mailboxes >= r.MinDomainMailboxes) &&
		(r.MaxDomainMailboxes <= 0 || mailboxes <= r.MaxDomainMailboxes)
}

// price is the rule's price for one of mailboxes on the domain, in hundredths: a domain
// price is split evenly, rounded half up to the hundredth.
func (r *compiledRule) price(mailboxes int) int64 {
	if r.PricePer != PerDomain {
		return *r.PriceCents
	}
	n := int64(mailboxes)
	return (2*(*r.PriceCents) + n) / (2 * n)
}

// volume is the rule's capacity for one of mailboxes on the domain: a domain capacity is
// split over them, rounded down.
func (r *compiledRule) volume(mailboxes int) int {
	if r.VolumePer != PerDomain {
		return *r.Volume
	}
	return *r.Volume / mailboxes
}

// tagKey reduces a tag (or a rule's pattern) for comparison: trimmed, lower-cased, without
// inner spaces and without a " - 3" batch suffix. It is resellerKey, the reduction derive.go
// already applies to reseller tags, so that both read tags alike.
func tagKey(tag string) string { return resellerKey(tag) }

// PriceNumeric is the price as the numeric(10, 2) the price column holds.
func (p Pricing) PriceNumeric() pgtype.Numeric { return numericHundredths(p.PriceCents) }

// Rules returns the rules in the order Price tries them.
func (rs PricingRules) Rules() []PricingRule {
	out := make([]PricingRule, len(rs.rules))
	for i := range rs.rules {
		out[i] = rs.rules[i].PricingRule
	}
	return out
}
