package bison

import (
	"errors"
	"fmt"
	"strings"
)

// Page is one page of a workspace's sender accounts, with the paging facts of its envelope.
type Page struct {
	Accounts    []Account
	CurrentPage int
	LastPage    int
	PerPage     int
	Total       int    // the server's count of accounts at the moment it served this page
	Next        string // absolute URL of the next page, "" on the last
	// Stripped lists the text fields that held control characters, which were removed:
	// PostgreSQL refuses NUL in text, and the others only garble logs and terminals. The
	// engine can say so once per account instead of failing the workspace on every run.
	Stripped []Stripped
}

// Stripped is one text field that held control characters (NUL, or any C0 control but tab
// and newline), and how many were removed.
type Stripped struct {
	AccountID int64
	Field     string // "email", "name", "status", "type", "tags[2].name"
	Removed   int
}

func (s Stripped) String() string {
	return fmt.Sprintf("account %d: %d control character(s) removed from %s", s.AccountID, s.Removed, s.Field)
}

// isStripped is a control character a text field must not keep.
func isStripped(c byte) bool { return c < 0x20 && c != '\t' && c != '\n' }

// stripControls removes the control characters isStripped names, and counts them. Only
// bytes below 0x20 are touched, so valid UTF-8 stays valid.
func stripControls(s string) (string, int) {
	n := 0
	for i := 0; i < len(s); i++ {
		if isStripped(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s, 0
	}
	var b strings.Builder
	b.Grow(len(s) - n)
	for i := 0; i < len(s); i++ {
		if !isStripped(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String(), n
}

// sanitize strips control characters from an account's text fields and records where.
func (a *Account) sanitize(out []Stripped) []Stripped {
	field := func(name string, s *string) {
		var n int
		if *s, n = stripControls(*s); n > 0 {
			out = append(out, Stripped{AccountID: a.ID, Field: name, Removed: n})
		}
	}
	field("email", &a.Email)
	field("name", &a.Name)
	field("status", &a.Status)
	field("type", &a.Type)
	for i := range a.Tags {
		if _, n := stripControls(a.Tags[i].Name); n > 0 {
			field(fmt.Sprintf("tags[%d].name", i), &a.Tags[i].Name)
		}
	}
	return out
}

// check rejects what no page of the API can be, whatever moved at the source: a page that
// cannot be trusted must not count towards a complete list. It keeps accepting what the
// contract allows, such as a page beyond last_page with no rows.
func (p *Page) check() error {
	switch {
	case p.Total < 0 || p.LastPage < 1 || p.CurrentPage < 1:
		return fmt.Errorf("impossible paging facts (current_page %d, last_page %d, total %d)", p.CurrentPage, p.LastPage, p.Total)
	case p.LastPage > max(p.Total, 1):
		// Every page but the last holds rows: there cannot be more pages than accounts.
		return fmt.Errorf("last_page %d with a total of %d accounts", p.LastPage, p.Total)
	case len(p.Accounts) > PageSize:
		return fmt.Errorf("%d rows on one page, more than the %d the API serves", len(p.Accounts), PageSize)
	case len(p.Accounts) > 0 && p.CurrentPage > p.LastPage:
		return fmt.Errorf("%d rows on page %d, beyond last_page %d", len(p.Accounts), p.CurrentPage, p.LastPage)
	}
	for i, a := range p.Accounts {
		if a.ID <= 0 {
			return fmt.Errorf("row %d has no account id", i+1)
		}
		for j := range i { // at most 15 rows: no map needed
			if p.Accounts[j].ID == a.ID {
				return fmt.Errorf("rows %d and %d are both account %d", j+1, i+1, a.ID)
			}
		}
	}
	return nil
}

// DecodePage parses a page body. Any body that is not the envelope (HTML, truncated JSON,
// `data` that is not a list, missing paging facts, impossible numbers) is an error that says
// what was seen instead. Control characters are stripped from text fields (Page.Stripped).
func DecodePage(body []byte) (*Page, error) {
	p, err := parsePage(body)
	if err != nil {
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	for i := range p.Accounts {
		p.Stripped = p.Accounts[i].sanitize(p.Stripped)
	}
	return p, nil
}

// DecodeAccount parses the body of a single account, {"data": {...}}.
func DecodeAccount(body []byte) (*Account, error) {
	a, err := parseAccount(body)
	if err != nil {
		return nil, err
	}
	if a.ID <= 0 {
		return nil, errors.New(`"data" has no account id`)
	}
	a.sanitize(nil)
	return a, nil
}
