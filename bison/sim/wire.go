package sim

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// laravelTime is how Laravel serialises a timestamp column.
const laravelTime = "2006-01-02T15:04:05.000000Z"

// wireAccount is a sender email as the API's JSON carries it, including fields the contract
// does not name (imap_server, settings...), which clients must ignore.
type wireAccount struct {
	ID                       int64        `json:"id"`
	Name                     string       `json:"name"`
	Email                    string       `json:"email"`
	ImapServer               *string      `json:"imap_server"`
	ImapPort                 *int         `json:"imap_port"`
	SMTPServer               *string      `json:"smtp_server"`
	DailyLimit               int          `json:"daily_limit"`
	Type                     string       `json:"type"`
	Status                   string       `json:"status"`
	EmailsSentCount          int          `json:"emails_sent_count"`
	TotalRepliedCount        int          `json:"total_replied_count"`
	TotalOpenedCount         int          `json:"total_opened_count"`
	UnsubscribedCount        int          `json:"unsubscribed_count"`
	BouncedCount             int          `json:"bounced_count"`
	UniqueRepliedCount       int          `json:"unique_replied_count"`
	UniqueOpenedCount        int          `json:"unique_opened_count"`
	TotalLeadsContactedCount int          `json:"total_leads_contacted_count"`
	InterestedLeadsCount     int          `json:"interested_leads_count"`
	Tags                     []Tag        `json:"tags"`
	Settings                 wireSettings `json:"settings"`
	CreatedAt                string       `json:"created_at"`
	UpdatedAt                string       `json:"updated_at"`
}

type wireSettings struct {
	WarmupEnabled bool    `json:"warmup_enabled"`
	Signature     *string `json:"signature"`
	TrackOpens    bool    `json:"track_opens"`
}

type wirePage struct {
	Data  []wireAccount `json:"data"`
	Links wireLinks     `json:"links"`
	Meta  wireMeta      `json:"meta"`
}

// wireObjectPage is the malformed envelope of FaultDataNotList.
type wireObjectPage struct {
	Data  wireAccount `json:"data"`
	Links wireLinks   `json:"links"`
	Meta  wireMeta    `json:"meta"`
}

type wireLinks struct {
	First string  `json:"first"`
	Last  string  `json:"last"`
	Prev  *string `json:"prev"`
	Next  *string `json:"next"`
}

type wireMeta struct {
	CurrentPage int            `json:"current_page"`
	From        *int           `json:"from"`
	LastPage    int            `json:"last_page"`
	Links       []wirePageLink `json:"links"`
	Path        string         `json:"path"`
	PerPage     int            `json:"per_page"`
	To          *int           `json:"to"`
	Total       int            `json:"total"`
}

// wirePageLink is one entry of Laravel's meta.links, the paginator's rendered buttons.
type wirePageLink struct {
	URL    *string `json:"url"`
	Label  string  `json:"label"`
	Active bool    `json:"active"`
}

type wireOne struct {
	Data wireAccount `json:"data"`
}

type wireSwitched struct {
	Data wireTeam `json:"data"`
}

type wireTeam struct {
	ID           int    `json:"id"`
	Name         string `json:"name"`
	PersonalTeam bool   `json:"personal_team"`
}

// encoder is per-request scratch space, pooled so a page costs few allocations.
type encoder struct {
	accounts []Account
	wire     []wireAccount
	links    []wirePageLink
	times    []byte
	urls     []string
	raw      bytes.Buffer
	enc      *json.Encoder
	out      []byte
}

func newEncoder() *encoder {
	e := &encoder{
		accounts: make([]Account, 0, PageSize),
		wire:     make([]wireAccount, 0, PageSize), // never nil: an empty page is "data":[]
		urls:     make([]string, 0, 32),
	}
	e.enc = json.NewEncoder(&e.raw)
	e.enc.SetEscapeHTML(false) // PHP leaves <>& alone; it escapes / and non-ASCII instead
	return e
}

// encode renders v as Laravel does (json_encode without flags: "\/" for every slash and
// \uXXXX for every non-ASCII character) into e.out.
func (e *encoder) encode(v any) []byte {
	e.raw.Reset()
	if err := e.enc.Encode(v); err != nil {
		panic("sim: encode: " + err.Error()) // our own types: cannot fail
	}
	raw := bytes.TrimSuffix(e.raw.Bytes(), []byte{'\n'})
	e.out = appendPHPEscaped(e.out[:0], raw)
	return e.out
}

// appendPHPEscaped rewrites valid JSON the way PHP's json_encode writes it. Outside string
// literals JSON holds neither '/' nor non-ASCII bytes, so a byte-wise rewrite is safe.
func appendPHPEscaped(dst, src []byte) []byte {
	const hex = "0123456789abcdef"
	u := func(dst []byte, r rune) []byte {
		return append(dst, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
	}
	start := 0
	for i := 0; i < len(src); {
		c := src[i]
		if c != '/' && c < utf8.RuneSelf {
			i++
			continue
		}
		dst = append(dst, src[start:i]...)
		if c == '/' {
			dst = append(dst, '\\', '/')
			i++
		} else {
			r, size := utf8.DecodeRune(src[i:])
			if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
				dst = u(u(dst, r1), r2)
			} else {
				dst = u(dst, r)
			}
			i += size
		}
		start = i
	}
	return append(dst, src[start:]...)
}

// toWire converts an account, deriving the fields the contract does not name.
func toWire(a *Account, tb []byte) (wireAccount, []byte) {
	w := wireAccount{
		ID: a.ID, Name: a.Name, Email: a.Email, DailyLimit: a.DailyLimit, Type: a.Type,
		Status: a.Status, EmailsSentCount: a.EmailsSentCount, TotalRepliedCount: a.TotalRepliedCount,
		TotalOpenedCount: a.TotalOpenedCount, UnsubscribedCount: a.UnsubscribedCount,
		BouncedCount: a.BouncedCount, UniqueRepliedCount: a.UniqueRepliedCount,
		UniqueOpenedCount: a.UniqueOpenedCount, TotalLeadsContactedCount: a.TotalLeadsContactedCount,
		InterestedLeadsCount: a.InterestedLeadsCount, Tags: a.Tags,
		Settings: wireSettings{WarmupEnabled: a.ID%3 != 0, TrackOpens: a.TotalOpenedCount > 0},
	}
	if w.Tags == nil {
		w.Tags = []Tag{}
	}
	if a.Type == TypeSMTP {
		if at := strings.LastIndexByte(a.Email, '@'); at >= 0 {
			host := "mail." + a.Email[at+1:]
			port := 993
			w.ImapServer, w.SMTPServer, w.ImapPort = &host, &host, &port
		}
	}
	// One allocation for both timestamps instead of two.
	tb = a.CreatedAt.UTC().AppendFormat(tb[:0], laravelTime)
	n := len(tb)
	tb = a.UpdatedAt.UTC().AppendFormat(tb, laravelTime)
	both := string(tb)
	w.CreatedAt, w.UpdatedAt = both[:n], both[n:]
	return w, tb
}

// pageLinks renders Laravel's meta.links: previous, a window of page numbers with "..."
// gaps, next.
func pageLinks(dst []wirePageLink, pageURL func(int) *string, cur, last int) []wirePageLink {
	var prev, next *string
	if cur > 1 {
		prev = pageURL(cur - 1)
	}
	if cur < last {
		next = pageURL(cur + 1)
	}
	dst = append(dst, wirePageLink{URL: prev, Label: "&laquo; Previous"})
	shown := func(p int) bool {
		return last < 14 || p <= 2 || p > last-2 || (p >= cur-3 && p <= cur+3)
	}
	gap := false
	for p := 1; p <= last; p++ {
		if !shown(p) {
			if !gap {
				dst = append(dst, wirePageLink{Label: "..."})
				gap = true
			}
			if p < cur-3 {
				p = max(p, cur-4)
			} else {
				p = max(p, last-2)
			}
			continue
		}
		gap = false
		dst = append(dst, wirePageLink{URL: pageURL(p), Label: strconv.Itoa(p), Active: p == cur})
	}
	return append(dst, wirePageLink{URL: next, Label: "Next &raquo;"})
}

// encoder takes scratch space from the server's pool.
func (s *Server) encoder() *encoder {
	if e, ok := s.encoders.Get().(*encoder); ok {
		return e
	}
	return newEncoder()
}

// release returns scratch space, unless one odd request made it large.
func (s *Server) release(e *encoder) {
	if cap(e.out) > 1<<20 || e.raw.Cap() > 1<<20 {
		return
	}
	clear(e.accounts[:cap(e.accounts)]) // drop references to accounts of a replaced set
	s.encoders.Put(e)
}

// renderAccount renders {"data": account}.
func (e *encoder) renderAccount(a *Account) []byte {
	var w wireAccount
	w, e.times = toWire(a, e.times)
	return e.encode(&wireOne{Data: w})
}

// listShape bends a rendered page for the faults that serve hostile content.
type listShape struct {
	objectData bool               // "data" is the page's first row alone (FaultDataNotList)
	row0       func(*wireAccount) // changes the first row
	lastPage   func(real int) int // changes meta.last_page (and the links that follow it)
}

// renderList renders one page of the list endpoint as Laravel's paginator does, bent as
// shape says.
func (e *encoder) renderList(base string, set *accountSet, page, perPage int, shape listShape) []byte {
	per := PageSize
	if perPage > 0 && perPage < PageSize {
		per = perPage
	}
	total := set.len()
	last := max(1, (total+per-1)/per)
	e.accounts = e.accounts[:0]
	var from, to *int
	if page <= last && total > 0 {
		lo := (page - 1) * per
		hi := min(lo+per, total)
		e.accounts = set.appendRange(e.accounts, lo, hi)
		f, t := lo+1, hi
		from, to = &f, &t
	}
	e.wire = e.wire[:0]
	for i := range e.accounts {
		var w wireAccount
		w, e.times = toWire(&e.accounts[i], e.times)
		e.wire = append(e.wire, w)
	}
	if shape.row0 != nil && len(e.wire) > 0 {
		e.wire[0].Tags = append([]Tag(nil), e.wire[0].Tags...) // the set's tags are shared
		shape.row0(&e.wire[0])
	}
	if shape.lastPage != nil {
		last = shape.lastPage(last)
	}
	links, meta := e.paging(base, page, last, per, total, from, to)
	if shape.objectData {
		var first wireAccount
		if len(e.wire) > 0 {
			first = e.wire[0]
		}
		return e.encode(&wireObjectPage{Data: first, Links: links, Meta: meta})
	}
	return e.encode(&wirePage{Data: e.wire, Links: links, Meta: meta})
}

// paging renders a page's links and meta.
func (e *encoder) paging(base string, page, last, per, total int, from, to *int) (wireLinks, wireMeta) {
	prefix := base + "?page="
	e.urls = e.urls[:0]
	pageURL := func(p int) *string {
		// Pointers into a reused slice: the strings are needed only until encode returns.
		e.urls = append(e.urls, prefix+strconv.Itoa(p))
		return &e.urls[len(e.urls)-1]
	}
	links := wireLinks{First: *pageURL(1), Last: *pageURL(last)}
	if page > 1 {
		links.Prev = pageURL(page - 1)
	}
	if page < last {
		links.Next = pageURL(page + 1)
	}
	e.links = pageLinks(e.links[:0], pageURL, page, last)
	return links, wireMeta{
		CurrentPage: page, From: from, LastPage: last, Links: e.links, Path: base,
		PerPage: per, To: to, Total: total,
	}
}
