package sim

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The workspace (team) endpoints of the super-admin key: the listing that shows workspaces
// nobody registered, and the minting of workspace keys. Workspaces can also come and go at
// the source while the server runs (AddWorkspace, RemoveWorkspace), and a workspace's key
// can be made to serve another workspace (SetKeyScope), as a key pasted into the wrong row
// of a registry does.

// Endpoints of the super-admin key.
const (
	KindWorkspaces Kind = KindOther + 1 + iota // GET /workspaces/v1.1
	KindMint                                   // POST /workspaces/v1.1/{team_id}/api-tokens
)

// method is the HTTP method an endpoint answers.
func (k Kind) method() string {
	if k == KindSwitch || k == KindMint {
		return http.MethodPost
	}
	return http.MethodGet
}

// teamTable is an instance's workspaces, in listing order and by id. It is never edited:
// a workspace that comes or goes replaces the table.
type teamTable struct {
	list []*workspace
	byID map[int]*workspace
}

// list is the instance's workspaces now, in the order it lists them.
func (in *instance) list() []*workspace { return in.workspaces.Load().list }

// team is the instance's workspace with that id now, or nil.
func (in *instance) team(id int) *workspace { return in.workspaces.Load().byID[id] }

// parseTeamRoute reads the workspace endpoints other than switch-workspace.
func parseTeamRoute(rest string, rt *route) {
	if rest == "workspaces/v1.1" {
		rt.kind = KindWorkspaces
		return
	}
	id, ok := strings.CutPrefix(rest, "workspaces/v1.1/")
	if id, ok = strings.CutSuffix(id, "/api-tokens"); !ok {
		return
	}
	if n, err := strconv.Atoi(id); err == nil && n > 0 {
		rt.kind, rt.team = KindMint, n
	}
}

// serveTeams answers the listing and the minting, which only a super-admin key may use.
// Only faults whose Path names the endpoint apply (those of any path were written for the
// page traffic, which a listing at the start of every run would otherwise take from them),
// and of those not the ones that bend a page of accounts.
func (s *Server) serveTeams(rp *reply, r *http.Request, a answerTo) int {
	if a.cred.ws != nil {
		return rp.text(http.StatusForbidden, ctJSON, bodyForbidden)
	}
	a.req.Workspace = a.rt.team
	if f, nth := s.teamFault(a); f != nil {
		switch f.Kind {
		case FaultDelay:
			if !s.sleep(r.Context(), f.Delay) {
				return 0
			}
		case FaultTruncated, FaultDataNotList:
			a.req.Fault = f.Kind
			return rp.text(http.StatusOK, ctJSON, `{"data":`)
		case FaultNUL, FaultBigCounter, FaultHugeLastPage, FaultGrowingLastPage:
		default:
			a.req.Fault = f.Kind
			return s.writeFault(rp, r, faulted{f: f, nth: nth, a: a})
		}
	}
	if a.rt.kind == KindMint {
		return s.mint(rp, r, a)
	}
	return rp.bytes(http.StatusOK, ctJSON, renderTeams(a.in.list()))
}

// teamFault is faultFor for the team endpoints: only faults with their Path.
func (s *Server) teamFault(a answerTo) (*Fault, int64) {
	for _, r := range *s.faults.Load() {
		f := &r.f
		if f.Path != a.rt.kind || (f.Instance != "" && f.Instance != a.in.name) ||
			(f.Workspace != 0 && f.Workspace != a.rt.team) || (f.Key != "" && f.Key != a.token) {
			continue
		}
		if nth, ok := r.affects(); ok {
			return f, nth
		}
	}
	return nil, 0
}

// wireTeamFull is a workspace as the listing shows it, with fields clients must ignore.
type wireTeamFull struct {
	ID           int     `json:"id"`
	UserID       int     `json:"user_id"`
	Name         string  `json:"name"`
	PersonalTeam bool    `json:"personal_team"`
	Main         bool    `json:"main"`
	ParentID     *int    `json:"parent_id"`
	Logo         *string `json:"logo"`
	CreatedAt    string  `json:"created_at"`
	UpdatedAt    string  `json:"updated_at"`
}

// teamEpoch dates the simulated workspaces: workspace N was created N days after it.
var teamEpoch = time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)

func renderTeams(list []*workspace) []byte {
	out := struct {
		Data []wireTeamFull `json:"data"`
	}{Data: make([]wireTeamFull, 0, len(list))}
	for _, ws := range list {
		created := teamEpoch.Add(time.Duration(ws.id) * 24 * time.Hour).Format(laravelTime)
		out.Data = append(out.Data, wireTeamFull{ID: ws.id, UserID: 1, Name: *ws.name.Load(),
			CreatedAt: created, UpdatedAt: created})
	}
	body, _ := json.Marshal(out)
	return body
}

// mint creates a token scoped to the addressed workspace, which then works as its key.
func (s *Server) mint(rp *reply, r *http.Request, a answerTo) int {
	var in struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil || strings.TrimSpace(in.Name) == "" {
		return rp.text(http.StatusUnprocessableEntity, ctJSON,
			`{"message":"The name field is required.","errors":{"name":["The name field is required."]}}`)
	}
	ws := a.in.team(a.rt.team)
	if ws == nil {
		return rp.text(http.StatusNotFound, ctJSON,
			`{"message":"No query results for model [App\\Models\\Team] `+strconv.Itoa(a.rt.team)+`"}`)
	}
	id := s.tokenSeq.Add(1) + 4000
	token := strconv.FormatInt(id, 10) + "|" + randomSecret(40)
	s.addCredential(&credential{token: token, inst: a.in, ws: ws, minted: true})
	body, _ := json.Marshal(map[string]any{"data": map[string]any{"id": id, "name": in.Name, "plain_text_token": token}})
	return rp.bytes(http.StatusOK, ctJSON, body)
}

// randomSecret is n random letters and digits, as Sanctum's token secrets are.
func randomSecret(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// addCredential adds c to the key table, copy-on-write.
func (s *Server) addCredential(c *credential) {
	s.editCredentials(func(next map[string]*credential) {
		c.label = keyLabel(c.token)
		next[c.token] = c
	})
}

// editCredentials replaces the key table with an edited copy.
func (s *Server) editCredentials(edit func(map[string]*credential)) {
	s.credMu.Lock()
	defer s.credMu.Unlock()
	cur := *s.creds.Load()
	next := make(map[string]*credential, len(cur)+1)
	for t, c := range cur {
		next[t] = c
	}
	edit(next)
	s.creds.Store(&next)
}

// MintedKeys returns every token minted through the API so far: what a test checks never
// appears in any output.
func (s *Server) MintedKeys() []string {
	var out []string
	for t, c := range *s.creds.Load() {
		if c.minted {
			out = append(out, t)
		}
	}
	return out
}

// AddWorkspace creates a workspace at the source, as a new client added in Email Bison: the
// listing shows it at once, switch-workspace and mint reach it, and its Key (if any) serves
// it. Generated accounts (Accounts nil) get ids above any the instance had; explicit ones
// with ID 0 get fresh ids. It fails when there is no such instance, or the id or key is
// taken.
func (s *Server) AddWorkspace(instance string, w *Workspace) error {
	in := s.instances[instance]
	if in == nil {
		return fmt.Errorf("sim: no instance %q", instance)
	}
	in.teamMu.Lock()
	defer in.teamMu.Unlock()
	if in.team(w.ID) != nil || w.ID <= 0 {
		return fmt.Errorf("sim: instance %s: workspace id %d invalid or in use", instance, w.ID)
	}
	if w.Key != "" && (*s.creds.Load())[w.Key] != nil {
		return errors.New("sim: the key is already in use")
	}
	fw := (&Fleet{Instances: []*Instance{{Workspaces: []*Workspace{w}}}}).clone().Instances[0].Workspaces[0]
	ws := &workspace{inst: in, id: fw.ID}
	ws.name.Store(&fw.Name)
	ws.key.Store(&fw.Key)
	maxID := in.nextID.Load() - 1
	set := ws.buildAccounts(fw, &maxID)
	ws.set.Store(set)
	raiseNextID(in, max(maxID, set.maxID())+1)
	if fw.Key != "" {
		s.addCredential(&credential{token: fw.Key, inst: in, ws: ws})
	}
	cur := in.workspaces.Load()
	next := &teamTable{list: append(cur.list[:len(cur.list):len(cur.list)], ws), byID: make(map[int]*workspace, len(cur.byID)+1)}
	for id, t := range cur.byID {
		next.byID[id] = t
	}
	next.byID[ws.id] = ws
	in.workspaces.Store(next)
	return nil
}

// raiseNextID makes the instance's next account id at least n.
func raiseNextID(in *instance, n int64) {
	for {
		cur := in.nextID.Load()
		if cur >= n || in.nextID.CompareAndSwap(cur, n) {
			return
		}
	}
}

// RemoveWorkspace deletes a workspace at the source: the listing no longer shows it, its
// keys (minted ones too) are refused, a switch to it answers 404 and a super-admin key that
// had it selected serves nothing. False if there was no such workspace.
func (s *Server) RemoveWorkspace(instance string, id int) bool {
	in := s.instances[instance]
	if in == nil {
		return false
	}
	in.teamMu.Lock()
	defer in.teamMu.Unlock()
	cur := in.workspaces.Load()
	ws := cur.byID[id]
	if ws == nil {
		return false
	}
	ws.removed.Store(true)
	next := &teamTable{byID: make(map[int]*workspace, len(cur.byID))}
	for _, t := range cur.list {
		if t != ws {
			next.list = append(next.list, t)
			next.byID[t.id] = t
		}
	}
	in.workspaces.Store(next)
	s.editCredentials(func(creds map[string]*credential) {
		for t, c := range creds {
			if c.ws == ws {
				delete(creds, t)
			}
		}
	})
	return true
}

// SetKeyScope makes the key of workspace workspaceID serve workspace servesID instead: the
// key a registry row holds belongs to another workspace, the mistake `keys check` exists to
// find. Fleet and Workspace still show the key on workspaceID. False if either workspace or
// the key is missing.
func (s *Server) SetKeyScope(instance string, workspaceID, servesID int) bool {
	ws, target := s.lookup(instance, workspaceID), s.lookup(instance, servesID)
	if ws == nil || target == nil || *ws.key.Load() == "" {
		return false
	}
	token := *ws.key.Load()
	s.editCredentials(func(creds map[string]*credential) {
		creds[token] = &credential{token: token, label: keyLabel(token), inst: ws.inst, ws: target}
	})
	return true
}
