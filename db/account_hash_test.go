package db

import (
	"reflect"
	"testing"
	"time"
)

func sampleAccount() Account {
	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	return Account{ID: 7, Email: "a@Example.com", Name: "A", Status: "Connected", Type: "smtp",
		DailyLimit: 30, EmailsSent: 10, TotalReplied: 3, UniqueReplied: 2, Bounced: 1, Unsubscribed: 1,
		InterestedLeads: 1, TotalOpened: 4, UniqueOpened: 3, TotalLeadsContacted: 9,
		Tags: []string{"Mailr"}, CreatedAt: &at, UpdatedAt: &at}
}

func hashOf(workspace string, a *Account) int64 {
	return rowValues(nil, &rowHasher{}, workspace, a)[len(accountTable)].(int64)
}

// Every field of an Account is stored, so a change to any of them must change the row's
// hash, or a re-sync would not write it. Fields are found by reflection, so a field added to
// Account without a column fails here.
func TestRowHashCoversEveryField(t *testing.T) {
	base := sampleAccount()
	h0 := hashOf("ws", &base)
	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		a := sampleAccount()
		f := reflect.ValueOf(&a).Elem().Field(i)
		switch v := f.Addr().Interface().(type) {
		case *int64:
			*v++
		case *int:
			*v++
		case *string:
			*v += "x"
		case *[]string:
			*v = append(*v, "x")
		case **time.Time:
			later := (*v).Add(time.Second)
			*v = &later
		case *Pricing:
			continue // covered field by field below
		default:
			t.Fatalf("field %s: type %T not covered by this test", typ.Field(i).Name, v)
		}
		if hashOf("ws", &a) == h0 {
			t.Errorf("changing %s leaves the row hash unchanged", typ.Field(i).Name)
		}
	}
	for name, change := range map[string]func(p *Pricing){
		"price": func(p *Pricing) { p.PriceCents++ }, "source": func(p *Pricing) { p.Source += "x" },
		"review": func(p *Pricing) { p.NeedsReview = !p.NeedsReview }, "volume": func(p *Pricing) { p.Volume++ },
		"reseller tag": func(p *Pricing) { p.ResellerTag += "x" }, "provider tag": func(p *Pricing) { p.ProviderTag += "x" },
	} {
		a := sampleAccount()
		change(&a.Pricing)
		if hashOf("ws", &a) == h0 {
			t.Errorf("changing the pricing's %s leaves the row hash unchanged", name)
		}
	}
	if hashOf("other", &base) == h0 {
		t.Error("the workspace name is not in the row hash")
	}
	nilTags, noTags := sampleAccount(), sampleAccount()
	nilTags.Tags, noTags.Tags = nil, []string{}
	if hashOf("ws", &nilTags) != hashOf("ws", &noTags) {
		t.Error("no tags hash differently as nil and empty, though both are stored as {}")
	}
	moved := sampleAccount()
	moved.Tags, moved.Name = []string{"Mailr", "A"}, ""
	if hashOf("ws", &moved) == h0 {
		t.Error("a value moved from one column to the next hashes the same")
	}
}

// The hash is stored, so it must not change between processes or releases unless the column
// table does. If this fails because a column was added, removed or redefined, update the
// value: every stored row will be rewritten once by its next sync, which fills the change in.
func TestRowHashIsStable(t *testing.T) {
	a := sampleAccount()
	const want = int64(-2483193571961704422)
	got := hashOf("ws", &a)
	if got != want {
		t.Errorf("row hash of the sample account = %d, want %d", got, want)
	}
}
