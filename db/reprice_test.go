package db_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/bisonsync/bisonsync/db"
	"github.com/bisonsync/bisonsync/db/dbtest"
)

func TestSeededPricingRules(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	rules, err := s.PricingRules(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	got, want := rules.Rules(), db.NewPricingRules(seededRules).Rules()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pricing_rules as seeded:\n got %+v\nwant %+v", got, want)
	}
}

// priceRow is what the dashboard shows of an account's price, as text.
func priceRow(t *testing.T, s *db.Store, email string) string {
	t.Helper()
	var row string
	err := s.Pool().QueryRow(testContext(t), fmt.Sprintf(`SELECT format('%%s %%s review=%%s vol=%%s reseller=%%s provider=%%s notes=%%s',
		price, coalesce(price_source, '-'), pricing_needs_review::text, volume_per_account, coalesce(reseller_tag, '-'),
		coalesce(provider_tag, '-'), coalesce(notes, '-'))
		FROM %s.email_accounts_raw WHERE email_address = $1`, `"`+s.Schema()+`"`), email).Scan(&row)
	if err != nil {
		t.Fatalf("price of %s: %v", email, err)
	}
	return row
}

func TestRepriceStoredRows(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := testContext(t)
	seedWorkspace(t, s, "main", "Acme", 7)
	var accounts []db.Account
	add := func(email string, tags ...string) {
		accounts = append(accounts, db.Account{ID: int64(len(accounts) + 1), Email: email, Status: "Connected", Tags: tags})
	}
	for i := range 4 {
		add(fmt.Sprintf("s%d@scaled.io", i), "ScaledMail")
	}
	add("w@scaled.io", "Warmup") // counts on the domain whatever its tags
	add("z@zap.io", "zapmail - 2", "Microsoft ")
	add("g@gee.io", " Google ")
	add("m@soft.io", "Outlook")
	add("u@none.io")
	add("gone@scaled.io", "ScaledMail") // deleted below: not a live mailbox of the domain
	commit := func(list []db.Account, absent ...int64) {
		t.Helper()
		if _, err := s.CommitWorkspace(ctx, db.CommitInput{Workspace: "Acme", Instance: "main", WorkspaceID: 7,
			Accounts: list, Expected: len(list), ConfirmedAbsent: absent}); err != nil {
			t.Fatal(err)
		}
	}
	commit(accounts)
	commit(accounts[:len(accounts)-1], accounts[len(accounts)-1].ID)
	exec(t, s, `UPDATE {schema}.email_accounts_raw SET notes = 'renew in May' WHERE email_address = 'g@gee.io'`)

	res, err := s.Reprice(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Workspaces != 1 || res.Accounts != 9 || res.Changed != 0 {
		t.Errorf("first reprice: %+v, want 1 workspace, 9 accounts, none changed (the commit priced them)", res)
	}
	want := map[string]string{
		"s0@scaled.io": "10.00 ScaledMail review=false vol=5 reseller=ScaledMail provider=- notes=-",
		"w@scaled.io":  "0.00 - review=false vol=15 reseller=- provider=- notes=-",
		"z@zap.io":     "3.00 Zapmail review=false vol=20 reseller=zapmail - 2 provider=Microsoft notes=-",
		"g@gee.io":     "3.00 Google review=false vol=20 reseller=- provider=Google notes=renew in May",
		"m@soft.io":    "0.00 - review=true vol=20 reseller=- provider=Outlook notes=-",
		"u@none.io":    "0.00 - review=false vol=15 reseller=- provider=- notes=-",
	}
	for email, w := range want {
		if got := priceRow(t, s, email); got != w {
			t.Errorf("%s:\n got %s\nwant %s", email, got, w)
		}
	}

	if res, err := s.Reprice(ctx, "Acme"); err != nil || res.Changed != 0 || res.Accounts != 9 {
		t.Errorf("second reprice: %+v, %v; want nothing changed", res, err)
	}
	exec(t, s, `UPDATE {schema}.pricing_rules SET price = 2.50 WHERE name = 'Zapmail'`)
	if res, err := s.Reprice(ctx, "Acme"); err != nil || res.Changed != 1 {
		t.Errorf("after a rule change: %+v, %v; want the one Zapmail row changed", res, err)
	}
	if got := priceRow(t, s, "z@zap.io"); got != "2.50 Zapmail review=false vol=20 reseller=zapmail - 2 provider=Microsoft notes=-" {
		t.Errorf("after a rule change: %s", got)
	}

	commit(accounts[:len(accounts)-1]) // a sync never writes notes
	if got := priceRow(t, s, "g@gee.io"); got != want["g@gee.io"] {
		t.Errorf("after a re-sync: %s", got)
	}
	var unknown *db.UnknownWorkspacesError
	if _, err := s.Reprice(ctx, "Nobody"); !errors.As(err, &unknown) {
		t.Errorf("Reprice of an unknown workspace: %v, want *UnknownWorkspacesError", err)
	}
}
