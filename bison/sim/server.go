package sim

import (
	"cmp"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// ProductionLatency is the time production took to answer a page, for demos that should
// feel like the real thing.
const ProductionLatency = 187 * time.Millisecond

// defaultRequestLogLimit bounds the request log per instance (about 9 MB), so a demo left
// running for days does not grow without end; it still holds a full sync of a
// million-account fleet (some 17,000 pages per instance).
const defaultRequestLogLimit = 1 << 16

// Options tune a Server. The zero value answers at once and logs requests.
type Options struct {
	// Latency is how long each request waits before it is answered (production: about
	// ProductionLatency). Jitter spreads it uniformly over Latency ± Jitter.
	Latency time.Duration
	Jitter  time.Duration
	// Seed drives the jitter sequence, so a run's latencies can be repeated.
	Seed int64
	// RequestLogLimit is how many requests the log keeps per instance, oldest dropped
	// first. 0 means 65,536; negative turns the log off.
	RequestLogLimit int
}

// Server serves a Fleet over HTTP on a loopback port. All its methods are safe for
// concurrent use, also while it serves.
type Server struct {
	opts      Options
	url       string // "http://127.0.0.1:PORT"
	srv       *http.Server
	instances map[string]*instance // fixed at construction, so read without locks
	order     []*instance

	credMu sync.Mutex // serialises rewrites of creds
	creds  atomic.Pointer[map[string]*credential]

	ruleMu sync.Mutex // serialises rewrites of faults and drifts
	faults atomic.Pointer[[]*faultRule]
	drifts atomic.Pointer[[]*driftRule]

	encoders sync.Pool // *encoder scratch space

	seq     atomic.Uint64 // request sequence, for jitter
	stray   *requestLog   // requests for instances the fleet does not have
	closing chan struct{}
	closed  atomic.Bool
	active  atomic.Int64 // handlers running, so Close can wait for them
	once    sync.Once

	tokenSeq atomic.Int64 // ids of minted tokens
}

// instance is the served state of one Email Bison installation.
type instance struct {
	name       string
	seed       int64
	workspaces atomic.Pointer[teamTable] // replaced whole when one comes or goes
	superKey   atomic.Pointer[string]
	nextID     atomic.Int64 // next account id: higher than any the instance ever had
	latency    atomic.Pointer[latencyOf]
	limiter    atomic.Pointer[tokenBucket]
	log        *requestLog
	inFlight   atomic.Int64
	maxFlight  atomic.Int64

	teamMu sync.Mutex // serialises AddWorkspace and RemoveWorkspace
}

type latencyOf struct{ base, jitter time.Duration }

// workspace is the served state of one workspace.
type workspace struct {
	inst *instance
	id   int
	name atomic.Pointer[string]
	key  atomic.Pointer[string]
	mu   sync.Mutex // serialises writers of set
	set  atomic.Pointer[accountSet]
	gen  *generator // makes accounts added later
	// removed is set when the workspace is deleted at the source (RemoveWorkspace).
	removed atomic.Bool
}

// credential is what a bearer token grants.
type credential struct {
	token    string
	label    string
	inst     *instance
	ws       *workspace // nil for a super-admin key
	selected atomic.Pointer[workspace]
	minted   bool // created through the API (POST .../api-tokens)
}

// NewServer starts serving f on 127.0.0.1 at a free port. The server keeps its own copy of
// f, so the caller may go on editing f. It panics when the fleet is inconsistent (duplicate
// instance names, workspace ids, keys or account ids) or no port can be had: both are
// mistakes of the test, not conditions to handle.
func NewServer(f *Fleet, opts Options) *Server {
	s := &Server{
		opts:      opts,
		instances: make(map[string]*instance, len(f.Instances)),
		closing:   make(chan struct{}),
		stray:     newRequestLog(opts.RequestLogLimit),
	}
	creds := make(map[string]*credential)
	for _, fi := range f.clone().Instances {
		in := s.buildInstance(fi, creds)
		s.instances[in.name] = in
		s.order = append(s.order, in)
	}
	s.creds.Store(&creds)
	empty := []*faultRule{}
	s.faults.Store(&empty)
	noDrift := []*driftRule{}
	s.drifts.Store(&noDrift)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("sim: listen on loopback: %v", err))
	}
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		// Resets and hangs are the point here; the standard library's complaints about them
		// would only bury the test output.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	// Serve only fails once the listener is gone, which Close does on purpose; a client
	// of a server that died otherwise sees refused connections, which is what it should see.
	go func() { _ = s.srv.Serve(ln) }()
	return s
}

func (s *Server) buildInstance(fi *Instance, creds map[string]*credential) *instance {
	if _, dup := s.instances[fi.Name]; dup || fi.Name == "" {
		panic(fmt.Sprintf("sim: instance name %q empty or used twice", fi.Name))
	}
	in := &instance{
		name: fi.Name,
		seed: s.opts.Seed ^ int64(mix64(uint64(len(fi.Name))^hashString(fi.Name))),
		log:  newRequestLog(s.opts.RequestLogLimit),
	}
	teams := &teamTable{byID: make(map[int]*workspace, len(fi.Workspaces))}
	in.latency.Store(&latencyOf{base: s.opts.Latency, jitter: s.opts.Jitter})
	in.superKey.Store(&fi.SuperAdminKey)
	if fi.SuperAdminKey != "" {
		addCredential(creds, &credential{token: fi.SuperAdminKey, inst: in})
	}

	maxID := int64(0)
	for _, fw := range fi.Workspaces {
		maxID = max(maxID, maxAccountID(fw))
	}
	seenIDs := make(map[int64]int)
	for _, fw := range fi.Workspaces {
		if _, dup := teams.byID[fw.ID]; dup {
			panic(fmt.Sprintf("sim: instance %s: workspace id %d used twice", fi.Name, fw.ID))
		}
		ws := &workspace{inst: in, id: fw.ID}
		name, key := fw.Name, fw.Key
		ws.name.Store(&name)
		ws.key.Store(&key)
		set := ws.buildAccounts(fw, &maxID)
		for _, a := range set.extra {
			if other, dup := seenIDs[a.ID]; dup {
				panic(fmt.Sprintf("sim: instance %s: account id %d in workspaces %d and %d", fi.Name, a.ID, other, fw.ID))
			}
			seenIDs[a.ID] = fw.ID
		}
		ws.set.Store(set)
		teams.list = append(teams.list, ws)
		teams.byID[fw.ID] = ws
		if fw.Key != "" {
			addCredential(creds, &credential{token: fw.Key, inst: in, ws: ws})
		}
	}
	in.workspaces.Store(teams)
	checkGeneratedRanges(fi.Name, teams.list)
	for _, ws := range teams.list {
		maxID = max(maxID, ws.set.Load().maxID())
	}
	in.nextID.Store(maxID + 1)
	return in
}

// buildAccounts makes a workspace's account set, generated or explicit, giving ids to the
// accounts that have none; maxID is the highest id given so far in the instance.
func (ws *workspace) buildAccounts(fw *Workspace, maxID *int64) *accountSet {
	set := &accountSet{}
	if fw.Accounts == nil {
		if fw.FirstID == 0 {
			fw.FirstID = *maxID + 1 + int64(fw.ID%97)
		}
		g := newGenerator(fw.Seed, fw.ID, fw.FirstID, fw.Count, nil)
		set.gen, set.hi = g, fw.Count
		ws.gen = g
		if fw.Count > 0 {
			*maxID = max(*maxID, g.id(fw.Count-1))
		}
		return set
	}
	ws.gen = newGenerator(ws.inst.seed, fw.ID, 0, 0, domainsOf(fw.Accounts))
	set.gen = ws.gen
	set.extra = fw.Accounts
	for i := range set.extra {
		if set.extra[i].ID == 0 {
			*maxID++
			set.extra[i].ID = *maxID
		}
	}
	slices.SortFunc(set.extra, func(a, b Account) int { return cmp.Compare(a.ID, b.ID) })
	return set
}

// checkGeneratedRanges rejects fleets where one account id would be in two workspaces:
// generated id ranges must not overlap, and no explicit account may take an id a
// generated workspace holds. Explicit ids were already checked against each other.
func checkGeneratedRanges(inst string, wss []*workspace) {
	type span struct {
		lo, hi int64
		ws     *workspace
	}
	var spans []span
	for _, ws := range wss {
		if set := ws.set.Load(); set.hi > set.lo {
			spans = append(spans, span{set.gen.id(set.lo), set.gen.id(set.hi - 1), ws})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	for i := 1; i < len(spans); i++ {
		if spans[i].lo <= spans[i-1].hi {
			panic(fmt.Sprintf("sim: instance %s: generated account ids of workspaces %d and %d overlap",
				inst, spans[i-1].ws.id, spans[i].ws.id))
		}
	}
	for _, ws := range wss {
		for _, a := range ws.set.Load().extra {
			i := sort.Search(len(spans), func(i int) bool { return spans[i].hi >= a.ID })
			if i == len(spans) || spans[i].lo > a.ID {
				continue
			}
			if _, ok := spans[i].ws.set.Load().find(a.ID); ok && spans[i].ws != ws {
				panic(fmt.Sprintf("sim: instance %s: account id %d in workspaces %d and %d",
					inst, a.ID, ws.id, spans[i].ws.id))
			}
		}
	}
}

func maxAccountID(w *Workspace) int64 {
	m := int64(0)
	if w.Accounts != nil {
		for _, a := range w.Accounts {
			m = max(m, a.ID)
		}
		return m
	}
	if w.Count > 0 && w.FirstID > 0 {
		return w.FirstID + 3*int64(w.Count)
	}
	return 0
}

// domainsOf finds the sending domains an explicit workspace already uses, so accounts
// added to it later look like their neighbours.
func domainsOf(accs []Account) []string {
	var out []string
	for _, a := range accs {
		for i := len(a.Email) - 1; i >= 0; i-- {
			if a.Email[i] == '@' {
				if d := a.Email[i+1:]; d != "" && !contains(out, d) {
					out = append(out, d)
				}
				break
			}
		}
		if len(out) == 4 {
			break
		}
	}
	return out
}

func addCredential(creds map[string]*credential, c *credential) {
	if _, dup := creds[c.token]; dup {
		panic("sim: the same key is given twice (" + keyLabel(c.token) + ")")
	}
	c.label = keyLabel(c.token)
	creds[c.token] = c
}

// keyLabel names a key without revealing it: "…" and its last 4 characters, as the
// contract asks wherever a token must be identified.
func keyLabel(token string) string {
	if len(token) < 12 {
		return "…"
	}
	return "…" + token[len(token)-4:]
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// BaseURL is the API root of the named instance, e.g. http://127.0.0.1:PORT/bison-main/api,
// the value a client stores as base_url.
func (s *Server) BaseURL(instance string) string {
	return s.url + "/" + instance + "/api"
}

// URL is the server's root, without an instance.
func (s *Server) URL() string { return s.url }

// Close stops serving: it drops every connection, releases hanging requests and waits
// (up to a few seconds) for the handlers to return, so a test that closes its server does
// not leak goroutines into the next one.
func (s *Server) Close() {
	s.once.Do(func() {
		s.closed.Store(true)
		_ = s.srv.Close()
		close(s.closing)
		deadline := time.Now().Add(5 * time.Second)
		for s.active.Load() > 0 && time.Now().Before(deadline) {
			runtime.Gosched()
			time.Sleep(time.Millisecond)
		}
	})
}

// lookup finds a served workspace.
func (s *Server) lookup(instName string, wsID int) *workspace {
	in := s.instances[instName]
	if in == nil {
		return nil
	}
	return in.team(wsID)
}
