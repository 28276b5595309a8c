package sim

import (
	"cmp"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Bodies Laravel sends for its stock errors.
const (
	bodyUnauthenticated = `{"message":"Unauthenticated."}`
	bodyForbidden       = `{"message":"This action is unauthorized."}`
	bodyNotFound        = `{"message":"Not found"}`
	bodyTooMany         = `{"message":"Too Many Attempts."}`
	bodyServerError     = `{"message":"Server Error"}`
	bodyUnavailable     = `{"message":"Service Unavailable"}`
	bodyRouteNotFound   = `{"message":"The route could not be found."}`
	bodyMethod          = `{"message":"The method is not supported for this route."}`
	bodyTeamRequired    = `{"message":"The team id field is required.","errors":{"team_id":["The team id field is required."]}}`
	bodyClosing         = `{"message":"Server is shutting down."}`
)

// Bodies a proxy or CDN in front of Laravel sends.
const (
	htmlBadGateway = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" +
		"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
	htmlGatewayTimeout = "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n" +
		"<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
	htmlPage = "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Just a moment...</title></head>\n" +
		"<body><h1>Checking your browser before accessing send.example.com</h1>" +
		"<p>This process is automatic. Your browser will redirect to your requested content shortly.</p></body>\n</html>\n"
)

const (
	ctJSON = "application/json"
	ctHTML = "text/html; charset=UTF-8"
)

// route is what a request path addresses.
type route struct {
	instance  string
	kind      Kind
	page      int
	perPage   int
	accountID int64
	team      int // the workspace a mint addresses
}

// parseRoute reads /{instance}/api/{endpoint}. It never fails: what it does not know is
// KindOther, answered 404 as Laravel would.
func parseRoute(r *http.Request) route {
	p := strings.TrimPrefix(r.URL.Path, "/")
	inst, rest, _ := strings.Cut(p, "/")
	rt := route{instance: inst, kind: KindOther}
	rest, ok := strings.CutPrefix(rest, "api/")
	if !ok {
		return rt
	}
	rest = strings.TrimSuffix(rest, "/")
	switch {
	case rest == "sender-emails":
		rt.kind = KindList
		rt.page = queryInt(r.URL.RawQuery, "page")
		if rt.page < 1 {
			rt.page = 1
		}
		rt.perPage = queryInt(r.URL.RawQuery, "per_page")
	case strings.HasPrefix(rest, "sender-emails/"):
		id, err := strconv.ParseInt(strings.TrimPrefix(rest, "sender-emails/"), 10, 64)
		if err == nil && id > 0 {
			rt.kind, rt.accountID = KindAccount, id
		}
	case rest == "workspaces/v1.1/switch-workspace":
		rt.kind = KindSwitch
	default:
		parseTeamRoute(rest, &rt)
	}
	return rt
}

// queryInt reads an integer query parameter without building a url.Values map; anything
// missing or malformed is 0, which callers treat as "use the default", as Laravel does.
func queryInt(raw, key string) int {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k == key {
			n, err := strconv.Atoi(v)
			if err != nil {
				return 0
			}
			return n
		}
	}
	return 0
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(h string) string {
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// ServeHTTP answers one API request. Order matters and follows Laravel's middleware: the
// throttle answers at once; everything else waits the instance's latency first (the
// database work production spends its 187 ms on), then authenticates, then reads which
// workspace a super-admin key serves: that read happens only now, which is the trap.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.active.Add(1)
	defer s.active.Add(-1)
	if s.closed.Load() {
		writeBody(w, http.StatusServiceUnavailable, ctJSON, bodyClosing)
		return
	}
	start := time.Now()
	rt := parseRoute(r)
	in := s.instances[rt.instance]
	if in == nil {
		s.stray.add(Request{Start: start, End: time.Now(), Instance: rt.instance, Kind: KindOther, Status: http.StatusNotFound})
		writeBody(w, http.StatusNotFound, ctJSON, bodyRouteNotFound)
		return
	}
	in.enter()
	req := Request{Start: start, Instance: in.name, Kind: rt.kind, Page: rt.page, AccountID: rt.accountID}
	rp := &reply{w: w, in: in, req: &req}
	defer rp.finish(0) // even a panicking handler must leave the in-flight count right
	status := s.serve(rp, r, in, rt, &req)
	rp.finish(status)
	if status == 0 {
		// Returning would make net/http send an empty 200; a request that got no answer
		// must reach the client as a broken connection.
		panic(http.ErrAbortHandler)
	}
}

// serve does the work of ServeHTTP and returns the status written (0 for none).
func (s *Server) serve(rp *reply, r *http.Request, in *instance, rt route, req *Request) int {
	switch {
	case rt.kind == KindOther:
		return rp.text(http.StatusNotFound, ctJSON, bodyRouteNotFound)
	case r.Method != rt.kind.method():
		return rp.text(http.StatusMethodNotAllowed, ctJSON, bodyMethod)
	}

	token := bearer(r.Header.Get("Authorization"))
	if token != "" {
		req.KeyID = keyLabel(token)
	}
	if s.throttled(rp, in, req) {
		return http.StatusTooManyRequests
	}

	teamID, teamOK := 0, false
	if rt.kind == KindSwitch {
		teamID, teamOK = readTeamID(r.Body)
	}

	if !s.sleep(r.Context(), s.latencyFor(in)) {
		return 0
	}

	cred := (*s.creds.Load())[token]
	if cred == nil || cred.inst != in {
		return rp.text(http.StatusUnauthorized, ctJSON, bodyUnauthenticated)
	}
	req.SuperAdmin = cred.ws == nil
	if rt.kind == KindWorkspaces || rt.kind == KindMint {
		return s.serveTeams(rp, r, answerTo{in: in, rt: rt, req: req, cred: cred, token: token})
	}

	var ws *workspace
	if rt.kind == KindSwitch {
		if cred.ws != nil {
			return rp.text(http.StatusForbidden, ctJSON, bodyForbidden)
		}
		if !teamOK {
			return rp.text(http.StatusUnprocessableEntity, ctJSON, bodyTeamRequired)
		}
		ws = in.team(teamID)
	} else {
		ws = cred.served()
	}
	return s.answer(rp, r, answerTo{in: in, rt: rt, req: req, cred: cred, ws: ws, token: token, teamID: teamID})
}

// answerTo is an authenticated request and the workspace it addresses.
type answerTo struct {
	in     *instance
	rt     route
	req    *Request
	cred   *credential
	ws     *workspace
	token  string
	teamID int
}

// answer applies any fault, then serves the endpoint.
func (s *Server) answer(rp *reply, r *http.Request, a answerTo) int {
	f, nth := s.faultFor(a.in.name, a.ws.idOrZero(), a.token, a.rt.kind, a.rt.page)
	if f != nil {
		a.req.Fault = f.Kind
		if f.Kind != FaultDelay {
			a.req.Workspace = a.ws.idOrZero()
			return s.writeFault(rp, r, faulted{f: f, nth: nth, a: a})
		}
		if !s.sleep(r.Context(), f.Delay) {
			return 0
		}
		if a.rt.kind != KindSwitch {
			a.ws = a.cred.served() // read again: the delay is what lets another switch slip in
		}
	}
	return s.endpoint(rp, r, a)
}

// endpoint serves what the request asked for.
func (s *Server) endpoint(rp *reply, r *http.Request, a answerTo) int {
	a.req.Workspace = a.ws.idOrZero()
	e := s.encoder()
	defer s.release(e)
	ws := a.ws
	switch a.rt.kind {
	case KindSwitch:
		if ws == nil {
			return rp.text(http.StatusNotFound, ctJSON,
				`{"message":"No query results for model [App\\Models\\Team] `+strconv.Itoa(a.teamID)+`"}`)
		}
		a.cred.selected.Store(ws)
		return rp.bytes(http.StatusOK, ctJSON,
			e.encode(&wireSwitched{Data: wireTeam{ID: ws.id, Name: *ws.name.Load()}}))
	case KindAccount:
		acc, ok := ws.find(a.rt.accountID)
		if !ok {
			return rp.text(http.StatusNotFound, ctJSON, bodyNotFound)
		}
		return rp.bytes(http.StatusOK, ctJSON, e.renderAccount(&acc))
	}
	if ws == nil {
		return rp.text(http.StatusNotFound, ctJSON, bodyNotFound)
	}
	body := e.renderList(listURL(r, a.in), ws.set.Load(), a.rt.page, a.rt.perPage, listShape{})
	// The page's rows are fixed; now the data moves, before the client can ask for the
	// next page, so drift tests are deterministic.
	s.driftAfter(ws, a.rt.page)
	return rp.bytes(http.StatusOK, ctJSON, body)
}

// faulted is a request a fault affects: the fault, how many requests it has affected with
// this one, and the request.
type faulted struct {
	f   *Fault
	nth int64
	a   answerTo
}

// writeFault answers with the injected fault and returns the status written.
func (s *Server) writeFault(rp *reply, r *http.Request, ft faulted) int {
	f := ft.f
	switch f.Kind {
	case FaultStatus:
		status := cmp.Or(f.Status, http.StatusInternalServerError)
		body := cmp.Or(f.Body, defaultErrorBody(status))
		ct := ctHTML
		if t := strings.TrimSpace(body); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
			ct = ctJSON
		}
		return rp.text(status, ct, body)
	case Fault429:
		return write429(rp, f)
	case FaultHang:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		return 0
	case FaultReset:
		return writeReset(rp)
	case FaultHTML:
		return rp.text(http.StatusOK, ctHTML, htmlPage)
	case Fault401:
		return rp.text(http.StatusUnauthorized, ctJSON, bodyUnauthenticated)
	case Fault403:
		return rp.text(http.StatusForbidden, ctJSON, bodyForbidden)
	case FaultTruncated, FaultDataNotList:
		return s.writeBroken(rp, r, ft)
	case FaultRedirect:
		rp.w.Header().Set("Location", f.Location)
		return rp.text(cmp.Or(f.Status, http.StatusFound), ctHTML, "Redirecting to "+f.Location)
	case FaultEchoToken:
		return rp.text(cmp.Or(f.Status, http.StatusUnauthorized), ctJSON, echoBody(ft.a.token))
	case FaultOversize:
		return rp.bytes(http.StatusOK, ctJSON, oversizeBody(cmp.Or(f.Size, 9<<20)))
	case FaultNUL, FaultBigCounter, FaultHugeLastPage, FaultGrowingLastPage:
		return s.writeHostile(rp, r, ft)
	}
	return rp.text(http.StatusInternalServerError, ctJSON, bodyServerError)
}

func write429(rp *reply, f *Fault) int {
	if f.RetryAfter > 0 {
		if f.RetryAfterDate {
			at := time.Now().Add(f.RetryAfter + time.Second - 1).Truncate(time.Second)
			rp.w.Header().Set("Retry-After", at.UTC().Format(http.TimeFormat))
		} else {
			rp.w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(f.RetryAfter)))
		}
		rp.req.RetryAfter = f.RetryAfter
	}
	return rp.text(http.StatusTooManyRequests, ctJSON, bodyTooMany)
}

func writeReset(rp *reply) int {
	conn, _, err := http.NewResponseController(rp.w).Hijack()
	if err != nil {
		return rp.text(http.StatusInternalServerError, ctJSON, bodyServerError)
	}
	rp.finish(0)
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close with RST, not FIN, as a crashed proxy does
	}
	_ = conn.Close()
	return 0
}

// writeBroken answers FaultTruncated and FaultDataNotList.
func (s *Server) writeBroken(rp *reply, r *http.Request, ft faulted) int {
	e := s.encoder()
	defer s.release(e)
	a := ft.a
	notList := ft.f.Kind == FaultDataNotList
	var body []byte
	switch {
	case a.rt.kind == KindList && a.ws != nil:
		body = e.renderList(listURL(r, a.in), a.ws.set.Load(), a.rt.page, a.rt.perPage, listShape{objectData: notList})
	case notList:
		body = append(e.out[:0], `{"data":[]}`...) // a list where an object belongs
	case a.rt.kind == KindSwitch && a.ws != nil:
		body = e.encode(&wireSwitched{Data: wireTeam{ID: a.ws.id, Name: *a.ws.name.Load()}})
	default:
		body = append(e.out[:0], bodyNotFound...)
		if acc, ok := a.ws.find(a.rt.accountID); ok {
			body = e.renderAccount(&acc)
		}
	}
	if !notList {
		body = body[:len(body)/2]
	}
	return rp.bytes(http.StatusOK, ctJSON, body)
}

func defaultErrorBody(status int) string {
	switch status {
	case http.StatusBadGateway:
		return htmlBadGateway
	case http.StatusGatewayTimeout:
		return htmlGatewayTimeout
	case http.StatusServiceUnavailable:
		return bodyUnavailable
	case http.StatusInternalServerError:
		return bodyServerError
	}
	return `{"message":"` + http.StatusText(status) + `"}`
}

// readTeamID reads switch-workspace's {"team_id": N}; Laravel's validation accepts a number
// or a numeric string.
func readTeamID(body io.Reader) (int, bool) {
	var in struct {
		TeamID json.RawMessage `json:"team_id"`
	}
	if err := json.NewDecoder(io.LimitReader(body, 1<<16)).Decode(&in); err != nil || len(in.TeamID) == 0 {
		return 0, false
	}
	raw := strings.Trim(string(in.TeamID), `"`)
	id, err := strconv.Atoi(raw)
	return id, err == nil
}

// listURL is the list endpoint's absolute URL as the client addressed it, which is what
// Laravel puts in links and meta.path.
func listURL(r *http.Request, in *instance) string {
	return "http://" + r.Host + "/" + in.name + "/api/sender-emails"
}

// served is the workspace a credential serves at this instant.
func (c *credential) served() *workspace {
	if c.ws != nil {
		return c.ws
	}
	if ws := c.selected.Load(); ws != nil {
		if ws.removed.Load() {
			return nil // deleted at the source while selected
		}
		return ws
	}
	if list := c.inst.list(); len(list) > 0 {
		return list[0]
	}
	return nil
}

// find looks an account up in the workspace as it is now; a nil workspace has none.
func (ws *workspace) find(id int64) (Account, bool) {
	if ws == nil {
		return Account{}, false
	}
	return ws.set.Load().find(id)
}

func (ws *workspace) idOrZero() int {
	if ws == nil {
		return 0
	}
	return ws.id
}

// latencyFor draws this request's latency: uniform in base ± jitter, from a sequence
// seeded by Options.Seed.
func (s *Server) latencyFor(in *instance) time.Duration {
	l := in.latency.Load()
	d := l.base
	if l.jitter > 0 {
		u := float64(mix64(uint64(s.opts.Seed)^s.seq.Add(1))>>11) / (1 << 53)
		d += time.Duration((2*u - 1) * float64(l.jitter))
	}
	return max(d, 0)
}

// sleep waits d, and reports false if the client went away or the server is closing first.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

// reply writes a request's one answer and records the request just before the answer
// leaves, so a client holding its response finds the request logged and no longer in
// flight: tests check MaxInFlight and the log right after their last response.
type reply struct {
	w        http.ResponseWriter
	in       *instance
	req      *Request
	finished bool
}

// finish records the request once, with the status about to be written (0: none).
func (rp *reply) finish(status int) {
	if rp.finished {
		return
	}
	rp.finished = true
	rp.req.Status = status
	rp.req.End = time.Now()
	rp.in.log.add(*rp.req)
	rp.in.leave()
}

func (rp *reply) text(status int, contentType, body string) int {
	rp.finish(status)
	return writeBody(rp.w, status, contentType, body)
}

func (rp *reply) bytes(status int, contentType string, body []byte) int {
	rp.finish(status)
	return writeBytes(rp.w, status, contentType, body)
}

func writeBody(w http.ResponseWriter, status int, contentType, body string) int {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-cache, private")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
	return status
}

func writeBytes(w http.ResponseWriter, status int, contentType string, body []byte) int {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-cache, private")
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}
