package db

import "testing"

// A rule whose pattern normalises to nothing recognises no tag (it would otherwise be
// "contained" in every one), and a bound of one mailbox is a bound.
func TestPriceRuleEdges(t *testing.T) {
	cents := func(c int64) *int64 { return &c }
	one := 1
	rules := NewPricingRules([]PricingRule{
		{Name: "blank", Kind: RuleReseller, Priority: 1, Match: MatchContains, Pattern: " - 3", PriceCents: cents(999), PricePer: PerMailbox},
		{Name: "solo", Kind: RuleReseller, Priority: 2, Match: MatchEquals, Pattern: "Solo", MaxDomainMailboxes: one, PriceCents: cents(500), PricePer: PerMailbox},
	})
	a := Account{Email: "x@d.io", Tags: []string{"Anything"}}
	if p := rules.Price(&a, DomainCounts{"d.io": 1}); p.Source != "" || p.PriceCents != 0 {
		t.Errorf("a blank pattern priced %+v", p)
	}
	s := Account{Email: "x@d.io", Tags: []string{"solo"}}
	if p := rules.Price(&s, DomainCounts{"d.io": 1}); p.Source != "solo" || p.PriceCents != 500 {
		t.Errorf("one mailbox within a bound of one: %+v", p)
	}
	if p := rules.Price(&s, DomainCounts{"d.io": 2}); p.Source == "solo" {
		t.Errorf("two mailboxes beyond a bound of one: %+v", p)
	}
}
