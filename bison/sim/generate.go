package sim

import (
	"strconv"
	"strings"
	"time"
)

// Salts keep the streams of different generated things independent of each other.
const (
	saltAccountID = iota + 1
	saltAccount
	saltDomains
	saltRotation
	saltFleet
	saltKey
	saltName
	saltSize
	saltDomainReseller
)

// genEpoch is "now" for generated history, fixed so that a seed always gives the same
// counters whatever day the tests run.
var genEpoch = time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)

// genStart is the earliest creation date of a generated account.
var genStart = time.Date(2024, 1, 8, 0, 0, 0, 0, time.UTC)

// generator makes the accounts of one workspace from (seed, workspace id, index). It is
// immutable once built and safe for concurrent use.
type generator struct {
	seed    int64
	wsID    int
	firstID int64
	count   int
	domains []string
	// resellers[i] is the reseller tag of domains[i] (tagNone: the agency's own domain).
	resellers []int
	rot       int // first-name rotation, so workspaces don't all start with the same person
	step      int // coprime with len(firstNames), so index → first name stays a bijection
}

func newGenerator(seed int64, wsID int, firstID int64, count int, domains []string) *generator {
	if len(domains) == 0 {
		domains = sendingDomains(seed, wsID)
	}
	r := newRNG(uint64(seed), uint64(wsID), saltRotation)
	nf := len(firstNames)
	step := 1 + r.intn(nf-1)
	for gcd(step, nf) != 1 {
		step++
	}
	return &generator{
		seed: seed, wsID: wsID, firstID: firstID, count: count, domains: domains,
		resellers: domainResellers(seed, wsID, domains), rot: r.intn(nf), step: step,
	}
}

// domainResellers decides who sold each sending domain. Mailboxes are bought with their
// domain, so every mailbox of a domain carries its reseller's tag (spelled one way per
// domain, as it was typed once): about 35% of domains CheapInboxes (one of three batches),
// 18% Zapmail, 17% Mailr, 15% ScaledMail, and 15% the agency's own.
func domainResellers(seed int64, wsID int, domains []string) []int {
	out := make([]int, len(domains))
	for i, d := range domains {
		h := uint64(0)
		for _, c := range []byte(d) {
			h = h*31 + uint64(c)
		}
		r := newRNG(uint64(seed), uint64(wsID), h, saltDomainReseller)
		switch u := r.intn(100); {
		case u < 35:
			out[i] = tagCheap1 + r.intn(3)
		case u < 53:
			out[i] = tagZapmail + r.intn(2)
		case u < 70:
			out[i] = tagMailr
		case u < 85:
			out[i] = tagScaledMail + r.intn(2)
		default:
			out[i] = tagNone
		}
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// sendingDomains derives 2 to 5 look-alike domains for a workspace.
func sendingDomains(seed int64, wsID int) []string {
	r := newRNG(uint64(seed), uint64(wsID), saltDomains)
	brand := strings.ToLower(strings.ReplaceAll(brandWords[r.intn(len(brandWords))], " ", ""))
	n := 2 + r.intn(4)
	out := make([]string, 0, n)
	for len(out) < n {
		d := domainPrefixes[r.intn(len(domainPrefixes))] + brand +
			domainSuffixes[r.intn(len(domainSuffixes))] + domainTLDs[r.intn(len(domainTLDs))]
		if !contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// id is the id of generated account i: ascending, with irregular gaps as a real table has.
func (g *generator) id(i int) int64 {
	r := newRNG(uint64(g.seed), uint64(g.wsID), uint64(i), saltAccountID)
	return g.firstID + 3*int64(i) + int64(r.next()%3)
}

// index inverts id, so a single-account lookup needs no search.
func (g *generator) index(id int64) (int, bool) {
	if g.count == 0 || id < g.firstID {
		return 0, false
	}
	i64 := (id - g.firstID) / 3
	if i64 >= int64(g.count) {
		return 0, false
	}
	i := int(i64)
	return i, g.id(i) == id
}

// account generates account i of the workspace.
func (g *generator) account(i int) Account {
	return g.make(g.id(i), i, time.Time{})
}

// fresh generates an account added after the fleet was built. Its identity index lies past
// every generated one, so its email does not collide with theirs.
func (g *generator) fresh(id int64, now time.Time) Account {
	k := g.count + int(id-g.firstID)
	if k < g.count {
		k = g.count + int(id)
	}
	return g.make(id, k, now)
}

// make builds an account; a zero created time means "some time in the generated past".
func (g *generator) make(id int64, k int, created time.Time) Account {
	a := Account{ID: id}
	a.Email, a.Name = g.identity(k)
	r := newRNG(uint64(g.seed), uint64(g.wsID), uint64(id), saltAccount)

	switch u := r.intn(100); {
	case u < 88:
		a.Status = StatusConnected
	case u < 93:
		a.Status = StatusDisconnected
	case u < 97:
		a.Status = StatusFailed
	default:
		a.Status = StatusNotConnected
	}
	switch u := r.intn(100); {
	case u < 45:
		a.Type = TypeGoogle
	case u < 80:
		a.Type = TypeMicrosoft
	default:
		a.Type = TypeSMTP
	}
	a.DailyLimit = [...]int{15, 20, 25, 30, 30, 40, 50}[r.intn(7)]

	if created.IsZero() {
		span := int(genEpoch.Sub(genStart) / time.Second)
		created = genStart.Add(time.Duration(r.intn(span)) * time.Second)
		a.UpdatedAt = created.Add(time.Duration(r.intn(int(genEpoch.Sub(created)/time.Second)+1)) * time.Second)
		days := genEpoch.Sub(created).Hours() / 24
		a.setCounters(&r, days)
	} else {
		a.UpdatedAt = created
	}
	a.CreatedAt = created
	a.Tags = pickTags(&r, g.resellers[k%len(g.domains)], a.Type)
	return a
}

// setCounters fills plausible counters: every subset count stays within its superset
// (unique replies ≤ replies ≤ sent, unique opens ≤ opens, ...), as real data does.
func (a *Account) setCounters(r *rng, days float64) {
	if a.Status == StatusNotConnected || r.intn(20) == 0 {
		return // never sent anything: new or never connected
	}
	sent := int(float64(a.DailyLimit) * days * r.between(0.15, 0.9))
	a.EmailsSentCount = sent
	a.TotalLeadsContactedCount = int(float64(sent) * r.between(0.55, 0.95))
	a.BouncedCount = int(float64(sent) * r.between(0, 0.03))
	a.TotalRepliedCount = int(float64(sent) * r.between(0, 0.045))
	a.UniqueRepliedCount = int(float64(a.TotalRepliedCount) * r.between(0.7, 1.0001))
	a.InterestedLeadsCount = int(float64(a.UniqueRepliedCount) * r.between(0, 0.35))
	a.UnsubscribedCount = int(float64(sent) * r.between(0, 0.004))
	if r.intn(10) < 4 { // open tracking is off for most cold-email setups
		a.UniqueOpenedCount = int(float64(a.TotalLeadsContactedCount) * r.between(0.1, 0.5))
		a.TotalOpenedCount = int(float64(a.UniqueOpenedCount) * r.between(1, 2.5))
	}
}

// pickTags chooses an account's tags: its domain's reseller (see domainResellers), and for
// about 15% of them a provider tag beside it; on the agency's own domains a provider tag,
// "Warmup" or nothing.
func pickTags(r *rng, reseller int, typ string) []Tag {
	primary := reseller
	if primary == tagNone {
		primary = otherTag(r, typ)
	}
	secondary := tagNone
	if reseller != tagNone && r.intn(100) < 15 {
		secondary = providerTag(typ)
	}
	return tagSets[primary][secondary]
}

// otherTag is the tag of an account bought from no known reseller.
func otherTag(r *rng, typ string) int {
	switch r.intn(4) {
	case 0:
		return tagNone
	case 1:
		return tagWarmup
	default:
		return providerTag(typ)
	}
}

func providerTag(typ string) int {
	if typ == TypeMicrosoft {
		return tagMicrosoft
	}
	if typ == TypeGoogle {
		return tagGoogle
	}
	return tagWarmup
}

// identity derives email and display name from an index bijectively: domain, then first
// name, then a last-name variant, so no two indices of a workspace share an email.
func (g *generator) identity(k int) (email, name string) {
	nd := len(g.domains)
	domain := g.domains[k%nd]
	k /= nd
	nf := len(firstNames)
	first := firstNames[(k%nf*g.step+g.rot)%nf]
	k /= nf
	nl := len(lastNames)
	switch {
	case k == 0:
		r := newRNG(uint64(g.seed), uint64(g.wsID), uint64(first.local[0])+uint64(len(domain)), saltName)
		last := lastNames[(r.intn(nl)+g.rot)%nl]
		return first.local + "@" + domain, first.display + " " + last.display
	case k <= nl:
		last := lastNames[(k-1+g.rot)%nl]
		return first.local + "." + last.local + "@" + domain, first.display + " " + last.display
	default:
		j := k - 1
		last := lastNames[j%nl]
		return first.local + "." + last.local + strconv.Itoa(j/nl) + "@" + domain, first.display + " " + last.display
	}
}

// sanctumKey makes a deterministic key shaped like a Laravel Sanctum token: "<id>|<40 chars>".
func sanctumKey(seed int64, tokenID int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	r := newRNG(uint64(seed), uint64(tokenID), saltKey)
	b := make([]byte, 0, 48)
	b = strconv.AppendInt(b, int64(tokenID), 10)
	b = append(b, '|')
	for range 40 {
		b = append(b, alphabet[r.intn(len(alphabet))])
	}
	return string(b)
}
