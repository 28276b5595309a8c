package bison

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
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
		if len(p.Accounts) > PageSize || p.Total < 0 || p.LastPage < 0 {
			t.Fatalf("accepted an impossible page: %+v", p)
		}
		for _, a := range p.Accounts {
			if a.ID <= 0 {
				t.Fatalf("accepted a row without id: %+v", a)
			}
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
