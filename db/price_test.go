package db_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/bisonsync/bisonsync/db"
)

func cents(c int64) *int64 { return &c }
func vol(v int) *int       { return &v }

// seededRules are the rules migration 00020 seeds, as Go values: the pure tests apply them
// without a database, and TestSeededPricingRules checks that the table holds exactly these.
var seededRules = []db.PricingRule{
	{Name: "CheapInboxes", Kind: db.RuleReseller, Priority: 10, Match: db.MatchContains, Pattern: "CheapInboxes", PriceCents: cents(300), PricePer: db.PerMailbox, VolumePer: db.PerMailbox},
	{Name: "Zapmail", Kind: db.RuleReseller, Priority: 20, Match: db.MatchEquals, Pattern: "Zapmail", PriceCents: cents(300), PricePer: db.PerMailbox, VolumePer: db.PerMailbox},
	{Name: "Mailr", Kind: db.RuleReseller, Priority: 30, Match: db.MatchEquals, Pattern: "Mailr", PriceCents: cents(91), PricePer: db.PerMailbox, Volume: vol(495), VolumePer: db.PerDomain},
	{Name: "ScaledMail 25-48", Kind: db.RuleReseller, Priority: 40, Match: db.MatchEquals, Pattern: "ScaledMail", MinDomainMailboxes: 25, MaxDomainMailboxes: 48, PricePer: db.PerMailbox, Volume: vol(8), VolumePer: db.PerMailbox},
	{Name: "ScaledMail", Kind: db.RuleReseller, Priority: 50, Match: db.MatchEquals, Pattern: "ScaledMail", PriceCents: cents(5000), PricePer: db.PerDomain, Volume: vol(5), VolumePer: db.PerMailbox},
	{Name: "Other inbox reseller", Kind: db.RuleReseller, Priority: 90, Match: db.MatchContains, Pattern: "Inbox", PricePer: db.PerMailbox, VolumePer: db.PerMailbox},
	{Name: "Other reseller", Kind: db.RuleReseller, Priority: 91, Match: db.MatchContains, Pattern: "Reseller", PricePer: db.PerMailbox, VolumePer: db.PerMailbox},
	{Name: "Google", Kind: db.RuleProvider, Priority: 10, Match: db.MatchEquals, Pattern: "Google", PriceCents: cents(300), PricePer: db.PerMailbox, Volume: vol(20), VolumePer: db.PerMailbox},
	{Name: "Gmail", Kind: db.RuleProvider, Priority: 20, Match: db.MatchEquals, Pattern: "Gmail", PriceCents: cents(300), PricePer: db.PerMailbox, Volume: vol(20), VolumePer: db.PerMailbox},
	{Name: "Microsoft", Kind: db.RuleProvider, Priority: 30, Match: db.MatchEquals, Pattern: "Microsoft", PricePer: db.PerMailbox, Volume: vol(20), VolumePer: db.PerMailbox},
	{Name: "Outlook", Kind: db.RuleProvider, Priority: 40, Match: db.MatchEquals, Pattern: "Outlook", PricePer: db.PerMailbox, Volume: vol(20), VolumePer: db.PerMailbox},
	{Name: "Yahoo", Kind: db.RuleProvider, Priority: 50, Match: db.MatchEquals, Pattern: "Yahoo", PricePer: db.PerMailbox, VolumePer: db.PerMailbox},
	{Name: "iCloud", Kind: db.RuleProvider, Priority: 60, Match: db.MatchEquals, Pattern: "iCloud", PricePer: db.PerMailbox, VolumePer: db.PerMailbox},
	{Name: "AOL", Kind: db.RuleProvider, Priority: 70, Match: db.MatchEquals, Pattern: "AOL", PricePer: db.PerMailbox, VolumePer: db.PerMailbox},
}

// onDomain is a DomainCounts where the account's domain has n mailboxes.
func onDomain(n int) db.DomainCounts { return db.DomainCounts{"example.com": n} }

func TestPriceEveryRule(t *testing.T) {
	t.Parallel()
	rules := db.NewPricingRules(seededRules)
	tests := []struct {
		name      string
		tags      []string
		mailboxes int
		want      db.Pricing
	}{
		// Resellers.
		{"CheapInboxes batch", []string{"CheapInboxes - 2"}, 1, db.Pricing{PriceCents: 300, Source: "CheapInboxes", Volume: 15, ResellerTag: "CheapInboxes - 2"}},
		{"CheapInboxes is any tag containing it", []string{" My Cheap Inboxes batch 7 "}, 1, db.Pricing{PriceCents: 300, Source: "CheapInboxes", Volume: 15, ResellerTag: "My Cheap Inboxes batch 7"}},
		{"CheapInboxes with Google: reseller price, provider capacity", []string{"CheapInboxes - 1", "Google"}, 9, db.Pricing{PriceCents: 300, Source: "CheapInboxes", Volume: 20, ResellerTag: "CheapInboxes - 1", ProviderTag: "Google"}},
		{"Zapmail", []string{"Zapmail"}, 3, db.Pricing{PriceCents: 300, Source: "Zapmail", Volume: 15, ResellerTag: "Zapmail"}},
		{"zapmail, lower case and a batch", []string{"zapmail - 3"}, 3, db.Pricing{PriceCents: 300, Source: "Zapmail", Volume: 15, ResellerTag: "zapmail - 3"}},
		{"Zapmailer is not Zapmail", []string{"Zapmailer"}, 3, db.Pricing{Volume: 15}},
		{"Mailr alone on its domain", []string{"Mailr"}, 1, db.Pricing{PriceCents: 91, Source: "Mailr", Volume: 495, ResellerTag: "Mailr"}},
		{"Mailr capacity split, rounded down", []string{"Mailr"}, 7, db.Pricing{PriceCents: 91, Source: "Mailr", Volume: 70, ResellerTag: "Mailr"}},
		{"Mailr 495/4 = 123.75 → 123", []string{"Mailr"}, 4, db.Pricing{PriceCents: 91, Source: "Mailr", Volume: 123, ResellerTag: "Mailr"}},
		{"Mailr over Microsoft: reseller capacity first", []string{"Microsoft ", "Mailr"}, 5, db.Pricing{PriceCents: 91, Source: "Mailr", Volume: 99, ResellerTag: "Mailr", ProviderTag: "Microsoft"}},
		{"ScaledMail 50/3 rounds half up", []string{"ScaledMail"}, 3, db.Pricing{PriceCents: 1667, Source: "ScaledMail", Volume: 5, ResellerTag: "ScaledMail"}},
		{"ScaledMail 50/8 exact", []string{"ScaledMail"}, 8, db.Pricing{PriceCents: 625, Source: "ScaledMail", Volume: 5, ResellerTag: "ScaledMail"}},
		{"ScaledMail 50/16 = 3.125 → 3.13", []string{"ScaledMail"}, 16, db.Pricing{PriceCents: 313, Source: "ScaledMail", Volume: 5, ResellerTag: "ScaledMail"}},
		{"ScaledMail 24 mailboxes: 5", []string{"Scaledmail"}, 24, db.Pricing{PriceCents: 208, Source: "ScaledMail", Volume: 5, ResellerTag: "Scaledmail"}},
		{"ScaledMail 25 mailboxes: 8", []string{"ScaledMail"}, 25, db.Pricing{PriceCents: 200, Source: "ScaledMail", Volume: 8, ResellerTag: "ScaledMail"}},
		{"ScaledMail 48 mailboxes: 8", []string{"Scaled Mail"}, 48, db.Pricing{PriceCents: 104, Source: "ScaledMail", Volume: 8, ResellerTag: "Scaled Mail"}},
		{"ScaledMail 49 mailboxes: 5", []string{"ScaledMail"}, 49, db.Pricing{PriceCents: 102, Source: "ScaledMail", Volume: 5, ResellerTag: "ScaledMail"}},
		{"recognised reseller without a price falls to the provider", []string{"Premium Inboxes", "Google"}, 2, db.Pricing{PriceCents: 300, Source: "Google", Volume: 20, ResellerTag: "Premium Inboxes", ProviderTag: "Google"}},
		{"recognised reseller, no provider: nothing to review", []string{"Some Reseller"}, 2, db.Pricing{Volume: 15, ResellerTag: "Some Reseller"}},
		{"the first reseller tag decides", []string{"Mailr", "CheapInboxes - 1"}, 5, db.Pricing{PriceCents: 91, Source: "Mailr", Volume: 99, ResellerTag: "Mailr"}},
		// Providers.
		{"Google without reseller", []string{"Google"}, 4, db.Pricing{PriceCents: 300, Source: "Google", Volume: 20, ProviderTag: "Google"}},
		{"google, trimmed, spelling kept", []string{" google "}, 4, db.Pricing{PriceCents: 300, Source: "Google", Volume: 20, ProviderTag: "google"}},
		{"Gmail", []string{"Gmail"}, 1, db.Pricing{PriceCents: 300, Source: "Gmail", Volume: 20, ProviderTag: "Gmail"}},
		{"Microsoft: capacity, no price, review", []string{"Microsoft "}, 1, db.Pricing{Volume: 20, NeedsReview: true, ProviderTag: "Microsoft"}},
		{"Outlook: capacity, no price, review", []string{"Warmup", "Outlook"}, 1, db.Pricing{Volume: 20, NeedsReview: true, ProviderTag: "Outlook"}},
		{"Yahoo: known, unpriced, review", []string{"Yahoo"}, 1, db.Pricing{Volume: 15, NeedsReview: true, ProviderTag: "Yahoo"}},
		{"iCloud: review", []string{"icloud"}, 1, db.Pricing{Volume: 15, NeedsReview: true, ProviderTag: "icloud"}},
		{"AOL: review", []string{"AOL"}, 1, db.Pricing{Volume: 15, NeedsReview: true, ProviderTag: "AOL"}},
		{"Zapmail on Microsoft: priced, no review", []string{"Zapmail", "Microsoft"}, 1, db.Pricing{PriceCents: 300, Source: "Zapmail", Volume: 20, ResellerTag: "Zapmail", ProviderTag: "Microsoft"}},
		// Nothing.
		{"untagged", nil, 1, db.Pricing{Volume: 15}},
		{"unknown tags", []string{"Warmup", "  "}, 1, db.Pricing{Volume: 15}},
	}
	for _, tt := range tests {
		a := &db.Account{ID: 1, Email: "someone@example.com", Tags: tt.tags}
		if got := rules.Price(a, onDomain(tt.mailboxes)); got != tt.want {
			t.Errorf("%s: Price(%q, %d mailboxes)\n got %+v\nwant %+v", tt.name, tt.tags, tt.mailboxes, got, tt.want)
		}
	}
}

func TestPriceDomainNotCountedIsOneMailbox(t *testing.T) {
	t.Parallel()
	rules := db.NewPricingRules(seededRules)
	a := &db.Account{Email: "no-at-sign", Tags: []string{"ScaledMail"}}
	if got := rules.Price(a, db.DomainCounts{}); got.PriceCents != 5000 || got.Volume != 5 {
		t.Errorf("an account on an uncounted domain: %+v, want the whole 50.00 and 5", got)
	}
}

func TestPriceResellerRulesBeforeProviderRules(t *testing.T) {
	t.Parallel()
	// The provider rule has the smaller priority number and comes first in the list: the
	// reseller rule still wins, for price and capacity alike.
	rules := db.NewPricingRules([]db.PricingRule{
		{Name: "P", Kind: db.RuleProvider, Priority: 1, Match: db.MatchEquals, Pattern: "Google", PriceCents: cents(700), Volume: vol(40)},
		{Name: "R", Kind: db.RuleReseller, Priority: 100, Match: db.MatchEquals, Pattern: "Acme", PriceCents: cents(100), Volume: vol(10)},
	})
	got := rules.Price(&db.Account{Email: "a@x.io", Tags: []string{"Google", "Acme"}}, nil)
	want := db.Pricing{PriceCents: 100, Source: "R", Volume: 10, ResellerTag: "Acme", ProviderTag: "Google"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestPriceDomainBounds(t *testing.T) {
	t.Parallel()
	rules := db.NewPricingRules([]db.PricingRule{
		{Name: "small", Kind: db.RuleReseller, Priority: 1, Pattern: "Acme", MaxDomainMailboxes: 9, PriceCents: cents(100)},
		{Name: "large", Kind: db.RuleReseller, Priority: 2, Pattern: "Acme", MinDomainMailboxes: 10, PriceCents: cents(1000), PricePer: db.PerDomain},
	})
	for _, tt := range []struct {
		n      int
		source string
		cents  int64
	}{{1, "small", 100}, {9, "small", 100}, {10, "large", 100}, {40, "large", 25}} {
		got := rules.Price(&db.Account{Email: "a@example.com", Tags: []string{"acme"}}, onDomain(tt.n))
		if got.Source != tt.source || got.PriceCents != tt.cents {
			t.Errorf("%d mailboxes: %+v, want %s at %d", tt.n, got, tt.source, tt.cents)
		}
	}
}

// The domain counts come from the workspace's complete list, whatever the tags and whatever
// the order the pages came in: the first and the last ScaledMail mailbox of a domain pay the
// same share, and a shuffled list prices every account alike.
func TestPriceWorkspaceCountsTheCompleteList(t *testing.T) {
	t.Parallel()
	rules := db.NewPricingRules(seededRules)
	var accounts []db.Account
	for i := range 30 { // 30 mailboxes on scaled.io: 20 ScaledMail, 10 other tags
		tags := []string{"ScaledMail"}
		if i%3 == 2 {
			tags = []string{"Warmup"}
		}
		accounts = append(accounts, db.Account{ID: int64(i + 1), Email: fmt.Sprintf("m%d@Scaled.IO", i), Tags: tags})
	}
	for i := range 7 { // 7 Mailr mailboxes on mailr.io
		accounts = append(accounts, db.Account{ID: int64(100 + i), Email: fmt.Sprintf("m%d@mailr.io", i), Tags: []string{"Mailr"}})
	}
	want := map[int64]db.Pricing{}
	for i, p := range rules.PriceWorkspace(accounts) {
		want[accounts[i].ID] = p
		switch {
		case accounts[i].Tags[0] == "ScaledMail" && (p.PriceCents != 167 || p.Volume != 8):
			t.Errorf("%s: %+v, want 50/30 = 1.67 and 8 (30 mailboxes on the domain)", accounts[i].Email, p)
		case accounts[i].Tags[0] == "Mailr" && (p.PriceCents != 91 || p.Volume != 70):
			t.Errorf("%s: %+v, want 0.91 and 495/7 = 70", accounts[i].Email, p)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		r.Shuffle(len(accounts), func(i, j int) { accounts[i], accounts[j] = accounts[j], accounts[i] })
		for i, p := range rules.PriceWorkspace(accounts) {
			if p != want[accounts[i].ID] {
				t.Fatalf("after a shuffle %s: %+v, want %+v", accounts[i].Email, p, want[accounts[i].ID])
			}
		}
	}
	// Counting the pages fetched so far (the old job's way) would have priced the first
	// ScaledMail mailbox at the whole 50.00: the complete count is what makes them equal.
	first := rules.Price(&accounts[0], db.CountDomains(accounts[:1]))
	if accounts[0].Tags[0] == "ScaledMail" && first.PriceCents != 5000 {
		t.Errorf("sanity: one page's count gives %+v", first)
	}
}

func TestCountDomainsIgnoresCaseAndTags(t *testing.T) {
	t.Parallel()
	got := db.CountDomains([]db.Account{
		{Email: "a@X.com", Tags: []string{"Mailr"}}, {Email: "b@x.COM"}, {Email: "c@y.com", Tags: []string{"Google"}},
	})
	if got["x.com"] != 2 || got["y.com"] != 1 || len(got) != 2 {
		t.Errorf("CountDomains = %v", got)
	}
}
