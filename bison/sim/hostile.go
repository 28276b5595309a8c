package sim

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// Hostile answers: what a broken or malicious server could send. Every field a client reads
// can be hostile, and these are the shapes production, or a proxy in front of it, could
// plausibly produce.

// writeHostile serves a list page bent by FaultNUL, FaultBigCounter, FaultHugeLastPage or
// FaultGrowingLastPage. On other endpoints they answer normally.
func (s *Server) writeHostile(rp *reply, r *http.Request, ft faulted) int {
	a := ft.a
	if a.rt.kind != KindList || a.ws == nil {
		a.req.Fault = 0
		return s.endpoint(rp, r, a)
	}
	var shape listShape
	switch ft.f.Kind {
	case FaultNUL:
		shape.row0 = func(w *wireAccount) {
			w.Name = "Ann\x00 Lee\x07"
			w.Email = "ann\x00@" + w.Email
			w.Status += "\x00"
			if len(w.Tags) > 0 {
				w.Tags[0].Name = "\x00" + w.Tags[0].Name + "\x1b[31m"
			}
		}
	case FaultBigCounter:
		shape.row0 = func(w *wireAccount) {
			w.DailyLimit = 1<<31 + 7
			w.EmailsSentCount = 1<<33 + 1
			w.TotalOpenedCount = 1<<40 + 3
			w.TotalLeadsContactedCount = 1<<31 + 1
		}
	case FaultHugeLastPage:
		shape.lastPage = func(int) int { return 1_000_000 }
	case FaultGrowingLastPage:
		nth := int(ft.nth)
		shape.lastPage = func(real int) int { return real + nth }
	}
	e := s.encoder()
	defer s.release(e)
	body := e.renderList(listURL(r, a.in), a.ws.set.Load(), a.rt.page, a.rt.perPage, shape)
	return rp.bytes(http.StatusOK, ctJSON, body)
}

// echoBody is a JSON error body that repeats the token in every careless way: the whole of
// it straddling the 120th character (where a client may cut an excerpt), without its last
// four characters (which a key hint supplies), its secret half, URL-encoded, JSON-escaped
// with \u007c for the bar, and base64.
func echoBody(token string) string {
	secret := token
	if i := strings.IndexByte(token, '|'); i >= 0 {
		secret = token[i+1:]
	}
	jsonEscaped := strings.ReplaceAll(token, "|", `\u007c`)
	var b strings.Builder
	b.WriteString(`{"message":"Unauthenticated. `)
	b.WriteString(strings.Repeat("-", max(0, 110-b.Len())))
	b.WriteString(token) // starts at character 110: an excerpt of 120 cuts it
	b.WriteString(`","hint":"` + token[:max(0, len(token)-4)] + `",`)
	b.WriteString(`"secret":"` + secret + `",`)
	b.WriteString(`"query":"` + url.QueryEscape(token) + `",`)
	b.WriteString(`"escaped":"` + jsonEscaped + `",`)
	b.WriteString(`"basic":"` + base64.StdEncoding.EncodeToString([]byte("Bearer "+token)) + `",`)
	b.WriteString(`"url":"https:\/\/send.example.com\/api\/sender-emails?api_token=` + url.QueryEscape(token) + `"}`)
	return b.String()
}

// oversizeBody is a page of size bytes: an envelope's opening padded with blanks, which a
// client that reads without bound would take in whole.
func oversizeBody(size int) []byte {
	head := `{"data":[`
	b := make([]byte, max(size, len(head)+2))
	copy(b, head)
	for i := len(head); i < len(b)-2; i++ {
		b[i] = ' '
	}
	copy(b[len(b)-2:], "]}")
	return b
}
