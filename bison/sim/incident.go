package sim

// Figures of the incident fleet, exported so tests and the demo can refer to them by name.
const (
	IncidentInstance        = "bison-main"
	IncidentWorkspaces      = 26
	IncidentAccounts        = 4839
	IncidentLargest         = "Jason Binyon"
	IncidentLargestAccounts = 433
	IncidentEmail           = "jason@binyoninsuranceagency.com"
	IncidentEmailSent       = 43
)

// incidentSeed fixes every generated detail of the incident fleet.
const incidentSeed = 20250301

// incidentWorkspaces lists the fleet as production had it: name, Bison id, size, and
// whether the workspace has its own key (six did not and went through the super-admin key,
// Jason Binyon among them, which is how the super-admin trap bit).
var incidentWorkspaces = [...]struct {
	name   string
	id     int
	size   int
	ownKey bool
}{
	{"Castle Agency", 2, 200, true},
	{"Northpoint Media", 3, 15, true},
	{"Summit Outreach", 5, 187, true},
	{"Blue Ridge Leads", 6, 192, false},
	{"Harbor & Finch", 8, 196, true},
	{"Apex Growth Partners", 9, 120, true},
	{IncidentLargest, 11, IncidentLargestAccounts, false},
	{"Kinetic Demand", 12, 178, true},
	{"Redwood Outbound", 14, 199, true},
	{"Sterling Legal Marketing", 15, 190, false},
	{"Brightline Solar", 17, 190, true},
	{"Copperleaf Insurance", 18, 172, true},
	{"O'Brien Insurance Group", 21, 200, true},
	{"Meridian Dental Growth", 22, 155, true},
	{"Müller Consulting", 23, 181, false},
	{"Ironclad Roofing Leads", 25, 160, true},
	{"Pinecrest Realty", 26, 194, true},
	{"Trident Staffing", 28, 168, true},
	{"Lumen B2B", 31, 200, false},
	{"Oakridge Capital", 33, 176, true},
	{"Vantage SaaS Outreach", 34, 189, true},
	{"Evergreen Home Services", 36, 168, true},
	{"Cobalt Recruiting", 38, 200, true},
	{"Foxhill Ventures", 40, 185, false},
	{"Granite Logistics", 41, 191, true},
	{"Silverline HVAC", 44, 200, true},
}

// IncidentFleet is the fleet of the incident that started this project: one instance,
// "bison-main", with a super-admin key; 26 workspaces holding 4,839 accounts; the largest,
// "Jason Binyon", holds 433 (29 pages) including jason@binyoninsuranceagency.com with 43
// emails sent, its tags split 200 CheapInboxes / 100 Zapmail / 100 Mailr / 33 other.
// Six workspaces have no key of their own. It is the same on every call.
func IncidentFleet() *Fleet {
	in := &Instance{Name: IncidentInstance, SuperAdminKey: sanctumKey(incidentSeed, 1)}
	firstID := int64(1201)
	tokenID := 7
	for _, spec := range incidentWorkspaces {
		ws := &Workspace{ID: spec.id, Name: spec.name}
		tokenID += 3
		if spec.ownKey {
			ws.Key = sanctumKey(incidentSeed, tokenID)
		}
		var domains []string
		if spec.name == IncidentLargest {
			domains = []string{
				"binyoninsuranceagency.com", "binyoninsurance.com",
				"getbinyoninsurance.com", "trybinyonagency.com",
			}
		}
		g := newGenerator(incidentSeed, spec.id, firstID, spec.size, domains)
		ws.Accounts = make([]Account, spec.size)
		for i := range ws.Accounts {
			ws.Accounts[i] = g.account(i)
		}
		if spec.name == IncidentLargest {
			splitBinyonTags(ws.Accounts)
			plantJason(ws.Accounts)
		}
		firstID = g.id(spec.size-1) + 1 + int64(spec.size%7)
		in.Workspaces = append(in.Workspaces, ws)
	}
	return &Fleet{Instances: []*Instance{in}}
}

// splitBinyonTags gives Jason Binyon's accounts the reseller split production had:
// 200 CheapInboxes (two batches), 100 Zapmail (two spellings), 100 Mailr, 33 other.
func splitBinyonTags(accounts []Account) {
	plan := make([]int, 0, len(accounts))
	add := func(tag, n int) {
		for range n {
			plan = append(plan, tag)
		}
	}
	add(tagCheap1, 120)
	add(tagCheap2, 80)
	add(tagZapmail, 60)
	add(tagZapmailLower, 40)
	add(tagMailr, 100)
	for len(plan) < len(accounts) {
		plan = append(plan, []int{tagNone, tagWarmup, tagGoogle, tagMicrosoft}[len(plan)%4])
	}
	r := newRNG(incidentSeed, saltFleet)
	for i := len(plan) - 1; i > 0; i-- { // Fisher-Yates, deterministic
		j := r.intn(i + 1)
		plan[i], plan[j] = plan[j], plan[i]
	}
	for i := range accounts {
		secondary := tagNone
		if plan[i] != tagNone && r.intn(100) < 12 {
			secondary = providerTag(accounts[i].Type)
		}
		accounts[i].Tags = tagSets[plan[i]][secondary]
	}
}

// plantJason makes sure the account the incident was noticed on is there, as it was.
func plantJason(accounts []Account) {
	at := -1
	for i, a := range accounts {
		if a.Email == IncidentEmail {
			at = i
			break
		}
	}
	if at < 0 {
		at = len(accounts) / 3
	}
	a := &accounts[at]
	a.Email = IncidentEmail
	a.Name = "Jason Binyon"
	a.Status = StatusConnected
	a.Type = TypeGoogle
	a.DailyLimit = 30
	a.EmailsSentCount = IncidentEmailSent
	a.TotalLeadsContactedCount = 41
	a.TotalRepliedCount = 2
	a.UniqueRepliedCount = 2
	a.InterestedLeadsCount = 1
	a.BouncedCount = 1
	a.UnsubscribedCount = 0
	a.TotalOpenedCount = 0
	a.UniqueOpenedCount = 0
}
