package bison

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

const validPage = `{"data":[{"id":7,"email":"a@b.com","name":"A","status":"Connected","type":"smtp",
"daily_limit":30,"emails_sent_count":43,"tags":[{"id":1,"name":"Mailr","default":false}],
"created_at":"2025-03-01T10:00:00.000000Z","updated_at":null,"imap_server":"x","settings":{"a":1}}],
"links":{"first":"http://x/api/sender-emails?page=1","last":"http://x/api/sender-emails?page=2","prev":null,"next":"http://x/api/sender-emails?page=2"},
"meta":{"current_page":1,"from":1,"last_page":2,"per_page":15,"to":1,"total":16,"path":"http://x/api/sender-emails"}}`

func TestDecodePage(t *testing.T) {
	p, err := DecodePage([]byte(validPage))
	if err != nil {
		t.Fatal(err)
	}
	a := p.Accounts[0]
	if p.LastPage != 2 || p.Total != 16 || p.CurrentPage != 1 || p.Next == "" || len(p.Accounts) != 1 {
		t.Fatalf("paging facts wrong: %+v", p)
	}
	if a.ID != 7 || a.EmailsSentCount != 43 || a.TotalRepliedCount != 0 || a.Tags[0].Name != "Mailr" || a.CreatedAt.Year() != 2025 || !a.UpdatedAt.IsZero() {
		t.Fatalf("account decoded wrong: %+v", a)
	}
}

func TestDecodePageRejectsWhatIsNotAnEnvelope(t *testing.T) {
	cases := map[string]string{
		"html":           "<!DOCTYPE html><html><body>502 Bad Gateway</body></html>",
		"empty":          "",
		"truncated":      validPage[:len(validPage)/2],
		"data object":    `{"data":{"id":1},"meta":{"current_page":1,"last_page":1,"total":1}}`,
		"data null":      `{"data":null,"meta":{"current_page":1,"last_page":1,"total":1}}`,
		"no meta":        `{"data":[]}`,
		"meta no total":  `{"data":[],"meta":{"current_page":1,"last_page":1}}`,
		"array":          `[]`,
		"row without id": `{"data":[{"email":"x"}],"meta":{"current_page":1,"last_page":1,"total":1}}`,
		"row not object": `{"data":[1],"meta":{"current_page":1,"last_page":1,"total":1}}`,
		"too many rows":  `{"data":[` + strings.Repeat(`{"id":1},`, 15) + `{"id":2}],"meta":{"current_page":1,"last_page":1,"total":16}}`,
		"negative total": `{"data":[],"meta":{"current_page":1,"last_page":1,"total":-1}}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodePage([]byte(body)); err == nil {
				t.Fatalf("DecodePage(%q) accepted a bad body", body)
			}
		})
	}
}

// FuzzDecodePage: no body makes the decoder panic, and whatever it accepts is a sane page.
// The seed corpus (testdata/fuzz and the f.Add calls) runs with every `go test`.
func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(validPage))
	f.Add([]byte(`<html>`))
	f.Add([]byte(`{"data":{},"meta":{}}`))
	f.Add([]byte(`{"data":[{"id":1,"tags":null,"created_at":12}],"meta":{"current_page":1,"last_page":1,"total":1}}`))
	f.Add([]byte(`{"data":[],"meta":{"current_page":9,"last_page":2,"total":0,"per_page":"15"}}`))
	for _, body := range simPages(f) { // real pages, hostile ones included (NUL, 2^33...)
		f.Add(body)
	}
	// The body goes through the whole client path (status handling, decoding, error
	// wrapping) via a transport that answers 200 with it.
	var body []byte
	c := NewClient(Options{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: io.NopCloser(bytes.NewReader(body)), Header: http.Header{}, Request: r}, nil
	})})
	s := c.Instance("fuzz", "http://bison.invalid/api", Limits{}).Session(NewKey("1|fuzz"), Workspace{Name: "w", ID: 1}, nil)
	f.Fuzz(func(t *testing.T, b []byte) {
		body = b
		p, err := s.ListPage(context.Background(), 1)
		if err != nil {
			var m *MalformedError
			if !errors.As(err, &m) {
				t.Fatalf("a bad 200 body gave %T (%v), want *MalformedError", err, err)
			}
			return
		}
		checkAccepted(t, p)
	})
}

// checkAccepted holds an accepted page to what the engine may rely on: possible paging
// facts, rows with distinct ids, and no control character in any text.
func checkAccepted(t *testing.T, p *Page) {
	t.Helper()
	if err := p.check(); err != nil || p.CurrentPage < 1 || p.LastPage > max(p.Total, 1) {
		t.Fatalf("accepted an impossible page (%v): %+v", err, p)
	}
	for _, a := range p.Accounts {
		texts := []string{a.Email, a.Name, a.Status, a.Type}
		for _, tag := range a.Tags {
			texts = append(texts, tag.Name)
		}
		for _, s := range texts {
			if strings.IndexFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' }) >= 0 {
				t.Fatalf("accepted account %d with a control character in %q", a.ID, s)
			}
		}
	}
}

// FuzzHostilePage builds whole pages from hostile values (any text in every text field,
// any number in every number field) and checks that what the decoder accepts is sane and
// is what was sent, less the control characters it says it removed.
func FuzzHostilePage(f *testing.F) {
	f.Add("Ann\x00 Lee", "a\x00@b.c", "Connected", "Mailr\x1b", int64(1)<<33, int64(7), 1, 1, 1, uint8(1))
	f.Add("", "", "", "", int64(-1), int64(0), 0, 0, 0, uint8(0))
	f.Add("x", "y", "z", "w", int64(5), int64(3), 1, 1_000_000, 30, uint8(15))
	f.Add("\u2028", "\"", "\\", "é", int64(1)<<62, int64(2), 9, 2, 16, uint8(16))
	f.Fuzz(func(t *testing.T, name, email, status, tag string, counter, id int64, current, last, total int, rows uint8) {
		body := hostilePage(name, email, status, tag, counter, id, current, last, total, int(rows%20))
		p, err := DecodePage(body)
		if err != nil {
			return
		}
		checkAccepted(t, p)
		for i, a := range p.Accounts {
			want := Account{ID: id + int64(i), Name: strip(name), Email: strip(email), Status: strip(status), EmailsSentCount: counter,
				Tags: []Tag{{ID: 1, Name: strip(tag)}}}
			if !utf8.ValidString(name+email+status+tag) || strings.ContainsRune(name+email+status+tag, utf8.RuneError) {
				continue // invalid UTF-8 becomes U+FFFD, as encoding/json has it
			}
			if !reflect.DeepEqual(a, want) {
				t.Fatalf("row %d decoded as %+v, want %+v", i, a, want)
			}
		}
	})
}

func strip(s string) string { s, _ = stripControls(s); return s }

// hostilePage renders a page with the given values, as a careless server would.
func hostilePage(name, email, status, tag string, counter, id int64, current, last, total, rows int) []byte {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	var b strings.Builder
	b.WriteString(`{"data":[`)
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":%s,"email":%s,"status":%s,"emails_sent_count":%d,"tags":[{"id":1,"name":%s}]}`,
			id+int64(i), q(name), q(email), q(status), counter, q(tag))
	}
	fmt.Fprintf(&b, `],"links":{"next":null},"meta":{"current_page":%d,"last_page":%d,"total":%d,"per_page":15}}`, current, last, total)
	return []byte(b.String())
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
