package bison

import (
	"bytes"
	"errors"
	"fmt"
)

// accounts decodes "data": a list of accounts, or null.
func (sc *scanner) accounts(dst *[]Account) error {
	if list, err := sc.listOrNull(`"data"`, func() { *dst = nil }); !list {
		return err
	}
	accs := (*dst)[:0]
	if accs == nil {
		accs = make([]Account, 0, PageSize)
	}
	// The rows' own texts become one string for the whole page once the list ends.
	var own [PageSize]ownText
	sc.text = sc.text[:0]
	if err := sc.elements(func() error {
		// Like encoding/json, a list decodes into the elements a repeated "data" left.
		if n := len(accs); n < cap(accs) {
			accs = accs[:n+1]
		} else {
			accs = append(accs, Account{})
		}
		row := len(accs)
		if row <= PageSize {
			return sc.account(&accs[row-1], row, &own[row-1])
		}
		var o ownText // not a page the API serves (check says so); keep it simple
		err := sc.account(&accs[row-1], row, &o)
		o.apply(&accs[row-1], sc.text)
		return err
	}); err != nil {
		return err
	}
	if len(accs) == 0 {
		accs = []Account{} // an empty list, not a missing one
	}
	applyAll(accs, own[:min(len(accs), PageSize)], sc.text)
	*dst = accs
	return nil
}

// applyAll gives the rows their own texts, all slices of one string.
func applyAll(accs []Account, own []ownText, text []byte) {
	if len(text) == 0 {
		for i := range own {
			own[i].apply(&accs[i], nil)
		}
		return
	}
	s := string(text)
	for i := range own {
		own[i].applyString(&accs[i], s)
	}
}

// account decodes one row of "data" into a, its email and name into own.
func (sc *scanner) account(a *Account, row int, own *ownText) error {
	ok, err := sc.object("a row of data")
	if err != nil || !ok {
		return err
	}
	return sc.members(func(k []byte) error {
		if err := sc.accountField(a, fieldOf(k), own); err != nil {
			return fmt.Errorf("row %d: %w", row, err)
		}
		return nil
	})
}

// ownText is where an account's email and name lie in scanner.text until the list of
// accounts ends; then the texts of the whole page become one string, one allocation instead
// of thirty. A member given twice takes the last; one given as null, or not at all, leaves
// what the account had (encoding/json's way with a repeated "data").
type ownText struct{ email, name textSpan }

type textSpan struct {
	from, to int
	set      bool
}

func (o *ownText) apply(a *Account, text []byte) {
	if o.email.set || o.name.set {
		o.applyString(a, string(text))
	}
}

func (o *ownText) applyString(a *Account, s string) {
	if o.email.set {
		a.Email = s[o.email.from:o.email.to]
	}
	if o.name.set {
		a.Name = s[o.name.from:o.name.to]
	}
}

// textVal decodes a string member into scanner.text: null leaves it, any other kind is an
// error.
func (sc *scanner) textVal(span *textSpan, member string) error {
	switch sc.peek() {
	case 'n':
		_, err := sc.literal()
		return err
	case '"':
		b, err := sc.str()
		if err == nil {
			from := len(sc.text)
			sc.text = append(sc.text, b...)
			*span = textSpan{from: from, to: len(sc.text), set: true}
		}
		return err
	}
	return sc.kindError(member, "a string")
}

// wordVal decodes a string member that repeats across accounts (status, type, tag name):
// interned, so a page holds one copy of each.
func (sc *scanner) wordVal(dst *string, member string) error {
	return sc.plainText(dst, member, true)
}

// field is a member of an account the client reads.
type field uint8

const (
	fUnknown field = iota
	fID
	fDailyLimit
	fEmailsSent
	fTotalReplied
	fUniqueReplied
	fBounced
	fUnsubscribed
	fInterested
	fTotalOpened
	fUniqueOpened
	fLeadsContacted
	fEmail
	fName
	fStatus
	fType
	fTags
	fCreatedAt
	fUpdatedAt
	numFields
)

var fieldNames = [numFields]string{
	fID: "id", fDailyLimit: "daily_limit", fEmailsSent: "emails_sent_count",
	fTotalReplied: "total_replied_count", fUniqueReplied: "unique_replied_count",
	fBounced: "bounced_count", fUnsubscribed: "unsubscribed_count",
	fInterested: "interested_leads_count", fTotalOpened: "total_opened_count",
	fUniqueOpened: "unique_opened_count", fLeadsContacted: "total_leads_contacted_count",
	fEmail: "email", fName: "name", fStatus: "status", fType: "type", fTags: "tags",
	fCreatedAt: "created_at", fUpdatedAt: "updated_at",
}

// fieldOf names the member k: an exact match first, then one under case folding, as
// encoding/json matches names.
func fieldOf(k []byte) field {
	switch string(k) {
	case "id":
		return fID
	case "email":
		return fEmail
	case "name":
		return fName
	case "status":
		return fStatus
	case "type":
		return fType
	case "tags":
		return fTags
	case "created_at":
		return fCreatedAt
	case "updated_at":
		return fUpdatedAt
	}
	for f := fID; f < numFields; f++ {
		if nameIs(k, fieldNames[f]) {
			return f
		}
	}
	return fUnknown
}

// accountField decodes the value of member f of an account.
func (sc *scanner) accountField(a *Account, f field, own *ownText) error {
	switch f {
	case fUnknown:
		return sc.skip()
	case fEmail:
		return sc.textVal(&own.email, fieldNames[f])
	case fName:
		return sc.textVal(&own.name, fieldNames[f])
	case fStatus:
		return sc.wordVal(&a.Status, fieldNames[f])
	case fType:
		return sc.wordVal(&a.Type, fieldNames[f])
	case fTags:
		return sc.tags(&a.Tags)
	case fCreatedAt:
		return sc.time(&a.CreatedAt)
	case fUpdatedAt:
		return sc.time(&a.UpdatedAt)
	}
	return sc.int64Val(a.counter(f), fieldNames[f])
}

// counter returns the integer field f.
func (a *Account) counter(f field) *int64 {
	return [...]*int64{
		fID: &a.ID, fDailyLimit: &a.DailyLimit, fEmailsSent: &a.EmailsSentCount,
		fTotalReplied: &a.TotalRepliedCount, fUniqueReplied: &a.UniqueRepliedCount,
		fBounced: &a.BouncedCount, fUnsubscribed: &a.UnsubscribedCount,
		fInterested: &a.InterestedLeadsCount, fTotalOpened: &a.TotalOpenedCount,
		fUniqueOpened: &a.UniqueOpenedCount, fLeadsContacted: &a.TotalLeadsContactedCount,
	}[f]
}

// time decodes a date member through Time.UnmarshalJSON, which takes any value.
func (sc *scanner) time(t *Time) error {
	sc.ws()
	start := sc.i
	if err := sc.skip(); err != nil {
		return err
	}
	return t.UnmarshalJSON(sc.b[start:sc.i])
}

// tags decodes an account's "tags": a list of tags, or null. A new list is carved from the
// page's store of tags; a list decoded over an earlier one reuses its elements, as
// encoding/json does.
func (sc *scanner) tags(dst *[]Tag) error {
	if list, err := sc.listOrNull(`"tags"`, func() { *dst = nil }); !list {
		return err
	}
	if *dst == nil {
		return sc.newTags(dst)
	}
	tags := (*dst)[:0]
	if err := sc.elements(func() error {
		if n := len(tags); n < cap(tags) {
			tags = tags[:n+1]
		} else {
			tags = append(tags, Tag{})
		}
		if err := sc.tag(&tags[len(tags)-1]); err != nil {
			return err
		}
		return nil
	}); err != nil {
		return err
	}
	if len(tags) == 0 {
		tags = []Tag{}
	}
	*dst = tags
	return nil
}

// newTags decodes the elements of a list (its '[' consumed) into the page's store of tags.
func (sc *scanner) newTags(dst *[]Tag) error {
	if sc.tagStore == nil {
		sc.tagStore = make([]Tag, 0, 4*PageSize)
	}
	from := len(sc.tagStore)
	if err := sc.elements(func() error {
		sc.tagStore = append(sc.tagStore, Tag{})
		if err := sc.tag(&sc.tagStore[len(sc.tagStore)-1]); err != nil {
			return err
		}
		return nil
	}); err != nil {
		return err
	}
	if len(sc.tagStore) == from {
		*dst = []Tag{}
		return nil
	}
	*dst = sc.tagStore[from:len(sc.tagStore):len(sc.tagStore)]
	return nil
}

func (sc *scanner) tag(t *Tag) error {
	ok, err := sc.object("a tag")
	if err != nil || !ok {
		return err
	}
	return sc.members(func(k []byte) error {
		var err error
		switch {
		case nameIs(k, "id"):
			err = sc.int64Val(&t.ID, "tags.id")
		case nameIs(k, "name"):
			err = sc.wordVal(&t.Name, "tags.name")
		case nameIs(k, "default"):
			err = sc.boolVal(&t.Default, "tags.default")
		default:
			err = sc.skip()
		}
		return err
	})
}

// parseAccount decodes {"data": {...}}, the single-account endpoint's envelope.
func parseAccount(body []byte) (*Account, error) {
	sc := &scanner{b: body}
	if sc.peek() != '{' {
		return nil, fmt.Errorf("body is not a JSON object: it starts with %q", head(bytes.TrimSpace(body), 24))
	}
	var a *Account
	if err := sc.open(); err != nil {
		return nil, err
	}
	for first := true; ; {
		more, err := sc.next(&first, '}')
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		k, err := sc.key()
		if err != nil {
			return nil, err
		}
		if err := sc.oneAccount(k, &a); err != nil {
			return nil, err
		}
	}
	if sc.peek() != 0 {
		return nil, sc.syntaxError("the end of the body")
	}
	if a == nil {
		return nil, errors.New(`no "data" object`)
	}
	return a, nil
}

// oneAccount decodes the member k of the single-account envelope into *a.
func (sc *scanner) oneAccount(k []byte, a **Account) error {
	if !nameIs(k, "data") {
		return sc.skip()
	}
	switch sc.peek() {
	case 'n':
		*a = nil
		_, err := sc.literal()
		return err
	case '{':
		if *a == nil {
			*a = new(Account)
		}
		var own ownText
		sc.text = sc.text[:0]
		err := sc.account(*a, 1, &own)
		own.apply(*a, sc.text)
		return err
	}
	return sc.kindError(`"data"`, "an object")
}
