package sim

// person is a name as displayed and as it appears in an email's local part, which differ
// for accented or punctuated names ("José" sends as jose@, "O'Brien" as obrien).
type person struct{ display, local string }

// firstNames must keep distinct local parts: generated emails are unique by construction
// only if no two first names map to the same local part.
var firstNames = [...]person{
	{"James", "james"}, {"Mary", "mary"}, {"John", "john"}, {"Patricia", "patricia"},
	{"Robert", "robert"}, {"Jennifer", "jennifer"}, {"Michael", "michael"}, {"Linda", "linda"},
	{"William", "william"}, {"Elizabeth", "elizabeth"}, {"David", "david"}, {"Barbara", "barbara"},
	{"Richard", "richard"}, {"Susan", "susan"}, {"Joseph", "joseph"}, {"Jessica", "jessica"},
	{"Thomas", "thomas"}, {"Sarah", "sarah"}, {"Charles", "charles"}, {"Karen", "karen"},
	{"Christopher", "christopher"}, {"Lisa", "lisa"}, {"Daniel", "daniel"}, {"Nancy", "nancy"},
	{"Matthew", "matthew"}, {"Betty", "betty"}, {"Anthony", "anthony"}, {"Sandra", "sandra"},
	{"Mark", "mark"}, {"Ashley", "ashley"}, {"Donald", "donald"}, {"Kimberly", "kimberly"},
	{"Steven", "steven"}, {"Emily", "emily"}, {"Paul", "paul"}, {"Donna", "donna"},
	{"Andrew", "andrew"}, {"Michelle", "michelle"}, {"Joshua", "joshua"}, {"Carol", "carol"},
	{"Kenneth", "kenneth"}, {"Amanda", "amanda"}, {"Kevin", "kevin"}, {"Melissa", "melissa"},
	{"Brian", "brian"}, {"Deborah", "deborah"}, {"George", "george"}, {"Stephanie", "stephanie"},
	{"Timothy", "timothy"}, {"Rebecca", "rebecca"}, {"Ronald", "ronald"}, {"Sharon", "sharon"},
	{"Jason", "jason"}, {"Laura", "laura"}, {"Edward", "edward"}, {"Cynthia", "cynthia"},
	{"Jeffrey", "jeffrey"}, {"Kathleen", "kathleen"}, {"Ryan", "ryan"}, {"Amy", "amy"},
	{"Jacob", "jacob"}, {"Angela", "angela"}, {"Gary", "gary"}, {"Shirley", "shirley"},
	{"Nicholas", "nicholas"}, {"Anna", "anna"}, {"Eric", "eric"}, {"Brenda", "brenda"},
	{"Jonathan", "jonathan"}, {"Pamela", "pamela"}, {"Stephen", "stephen"}, {"Emma", "emma"},
	{"Larry", "larry"}, {"Nicole", "nicole"}, {"Justin", "justin"}, {"Helen", "helen"},
	{"Scott", "scott"}, {"Samantha", "samantha"}, {"Brandon", "brandon"}, {"Katherine", "katherine"},
	{"Benjamin", "benjamin"}, {"Christine", "christine"}, {"Samuel", "samuel"}, {"Debra", "debra"},
	{"Gregory", "gregory"}, {"Rachel", "rachel"}, {"Alexander", "alexander"}, {"Carolyn", "carolyn"},
	{"Frank", "frank"}, {"Janet", "janet"}, {"Patrick", "patrick"}, {"Catherine", "catherine"},
	{"Raymond", "raymond"}, {"Maria", "maria"}, {"Jack", "jack"}, {"Heather", "heather"},
	{"Dennis", "dennis"}, {"Diane", "diane"}, {"Jerry", "jerry"}, {"Olivia", "olivia"},
	{"Tyler", "tyler"}, {"Julie", "julie"}, {"Aaron", "aaron"}, {"Joyce", "joyce"},
	{"José", "jose"}, {"Zoë", "zoe"}, {"Renée", "renee"}, {"André", "andre"},
	{"Chloé", "chloe"}, {"Björn", "bjorn"}, {"Siobhán", "siobhan"}, {"Łukasz", "lukasz"},
	{"Nathan", "nathan"}, {"Victoria", "victoria"}, {"Ethan", "ethan"}, {"Grace", "grace"},
	{"Noah", "noah"}, {"Hannah", "hannah"}, {"Liam", "liam"}, {"Sophia", "sophia"},
	{"Mason", "mason"}, {"Ava", "ava"}, {"Logan", "logan"}, {"Mia", "mia"},
	{"Lucas", "lucas"}, {"Chris", "chris"}, {"Jenna", "jenna"}, {"Sam", "sam"},
	{"Alex", "alex"}, {"Mike", "mike"}, {"Kate", "kate"}, {"Dan", "dan"},
	{"Tom", "tom"},
}

// lastNames must keep distinct, digit-free local parts for the same reason as firstNames.
var lastNames = [...]person{
	{"Smith", "smith"}, {"Johnson", "johnson"}, {"Williams", "williams"}, {"Brown", "brown"},
	{"Jones", "jones"}, {"Garcia", "garcia"}, {"Miller", "miller"}, {"Davis", "davis"},
	{"Rodriguez", "rodriguez"}, {"Martinez", "martinez"}, {"Hernandez", "hernandez"},
	{"Lopez", "lopez"}, {"Gonzalez", "gonzalez"}, {"Wilson", "wilson"}, {"Anderson", "anderson"},
	{"Thomas", "thomas"}, {"Taylor", "taylor"}, {"Moore", "moore"}, {"Jackson", "jackson"},
	{"Martin", "martin"}, {"Lee", "lee"}, {"Perez", "perez"}, {"Thompson", "thompson"},
	{"White", "white"}, {"Harris", "harris"}, {"Sanchez", "sanchez"}, {"Clark", "clark"},
	{"Ramirez", "ramirez"}, {"Lewis", "lewis"}, {"Robinson", "robinson"}, {"Walker", "walker"},
	{"Young", "young"}, {"Allen", "allen"}, {"King", "king"}, {"Wright", "wright"},
	{"Scott", "scott"}, {"Torres", "torres"}, {"Nguyen", "nguyen"}, {"Hill", "hill"},
	{"Flores", "flores"}, {"Green", "green"}, {"Adams", "adams"}, {"Nelson", "nelson"},
	{"Baker", "baker"}, {"Hall", "hall"}, {"Rivera", "rivera"}, {"Campbell", "campbell"},
	{"Mitchell", "mitchell"}, {"Carter", "carter"}, {"Roberts", "roberts"}, {"O'Brien", "obrien"},
	{"D'Angelo", "dangelo"}, {"Müller", "muller"}, {"Núñez", "nunez"}, {"Binyon", "binyon"},
	{"Castle", "castle"}, {"Becker", "becker"}, {"Fischer", "fischer"}, {"Kowalski", "kowalski"},
	{"Murphy", "murphy"}, {"Kelly", "kelly"}, {"Reed", "reed"}, {"Cook", "cook"},
	{"Morgan", "morgan"}, {"Bell", "bell"}, {"Bailey", "bailey"}, {"Cooper", "cooper"},
	{"Howard", "howard"}, {"Ward", "ward"}, {"Cox", "cox"}, {"Diaz", "diaz"},
	{"Richardson", "richardson"}, {"Wood", "wood"}, {"Watson", "watson"}, {"Brooks", "brooks"},
	{"Bennett", "bennett"}, {"Gray", "gray"}, {"James", "james"}, {"Hughes", "hughes"},
}

// brandWords make both generated workspace names and sending domains.
var brandWords = [...]string{
	"Castle", "Summit", "Harbor", "Apex", "Northpoint", "Blue Ridge", "Redwood", "Sterling",
	"Copperleaf", "Meridian", "Ironclad", "Pinecrest", "Trident", "Lumen", "Oakridge",
	"Vantage", "Evergreen", "Cobalt", "Foxhill", "Granite", "Silverline", "Westbrook",
	"Brightline", "Kinetic", "Keystone", "Beacon", "Cedar", "Falcon", "Horizon", "Juniper",
	"Lakeside", "Maple", "Neptune", "Orchid", "Pioneer", "Quartz", "Riverbend", "Sapphire",
	"Timber", "Union", "Valor", "Willow", "Yellowstone", "Zenith", "Arbor", "Bluebird",
	"Crescent", "Driftwood", "Ember", "Frontier", "Goldleaf", "Highland", "Ivory", "Jetstream",
	"Kingsley", "Landmark", "Monarch", "Northstar", "Oasis", "Parkway", "Rockwell", "Skyline",
}

// agencyKinds complete a brand word into a workspace name ("Castle" + "Agency").
var agencyKinds = [...]string{
	"Agency", "Media", "Growth", "Partners", "Outreach", "Leads", "Digital", "Consulting",
	"Group", "Marketing", "Insurance", "Realty", "Capital", "Solar", "Roofing", "Dental Growth",
	"Legal Marketing", "Staffing", "Labs", "Ventures", "Home Services", "Recruiting", "B2B",
	"HVAC", "Financial", "Logistics",
}

// domainPrefixes and domainSuffixes shape sending domains the way cold-email setups do:
// many look-alike domains around one brand (trycastle.com, castlehq.io).
var (
	domainPrefixes = [...]string{"", "", "try", "get", "go", "meet", "hello", "join"}
	domainSuffixes = [...]string{"", "hq", "mail", "team", "group", "co", "leads", "reach"}
	domainTLDs     = [...]string{".com", ".com", ".com", ".io", ".co", ".net"}
)

// tagCatalog is every tag the generator uses, with production's mess: resellers under
// two spellings, trailing spaces, numbered batches.
var tagCatalog = [...]Tag{
	{ID: 1, Name: "Mailr"},
	{ID: 2, Name: "CheapInboxes - 1"},
	{ID: 3, Name: "CheapInboxes - 2"},
	{ID: 4, Name: "CheapInboxes - 3"},
	{ID: 5, Name: "Zapmail"},
	{ID: 6, Name: "zapmail"},
	{ID: 7, Name: "Microsoft ", Default: true},
	{ID: 8, Name: "Google", Default: true},
	{ID: 9, Name: "Warmup"},
	{ID: 10, Name: "ScaledMail"},
	{ID: 11, Name: "Scaledmail "},
}

// Indices into tagCatalog, 1-based so that 0 means "no tag".
const (
	tagNone = iota
	tagMailr
	tagCheap1
	tagCheap2
	tagCheap3
	tagZapmail
	tagZapmailLower
	tagMicrosoft
	tagGoogle
	tagWarmup
	tagScaledMail
	tagScaledMailLower
	numTagChoices
)

// tagSets holds one shared, immutable slice per (primary, secondary) tag choice, so that
// generating an account allocates no tags. It is built once and never written again.
var tagSets = buildTagSets()

func buildTagSets() [numTagChoices][numTagChoices][]Tag {
	var sets [numTagChoices][numTagChoices][]Tag
	for p := range numTagChoices {
		for s := range numTagChoices {
			var ts []Tag
			if p != tagNone {
				ts = append(ts, tagCatalog[p-1])
			}
			if s != tagNone && s != p {
				ts = append(ts, tagCatalog[s-1])
			}
			if ts == nil {
				ts = []Tag{}
			}
			sets[p][s] = ts[:len(ts):len(ts)]
		}
	}
	return sets
}
