package sim

import (
	"strings"
	"testing"
)

// The demo's fleet tags accounts as an agency's are, so that the dashboard's prices and
// capacities mean something: the mailboxes of a domain come from one reseller, ScaledMail
// among them, and domains are shared by many mailboxes.
func TestIncidentFleetTagsFollowDomains(t *testing.T) {
	t.Parallel()
	resellers := map[string]bool{}
	scaledDomains, mixed := 0, 0
	for _, w := range IncidentFleet().Instances[0].Workspaces {
		if w.Name == IncidentLargest {
			continue // its split is production's, account by account
		}
		byDomain := map[string]map[string]int{}
		for _, a := range w.Accounts {
			d := a.Email[strings.IndexByte(a.Email, '@')+1:]
			if byDomain[d] == nil {
				byDomain[d] = map[string]int{}
			}
			byDomain[d][resellerOf(a.Tags)]++
		}
		for _, split := range byDomain {
			sold := 0
			for r, n := range split {
				resellers[r] = true
				if r != "" {
					sold++
				}
				if r == "scaledmail" && n > 1 {
					scaledDomains++
				}
			}
			if sold > 1 {
				mixed++
			}
		}
	}
	for _, want := range []string{"cheapinboxes", "zapmail", "mailr", "scaledmail", ""} {
		if !resellers[want] {
			t.Errorf("no account sold by %q", want)
		}
	}
	if scaledDomains == 0 || mixed != 0 {
		t.Errorf("%d ScaledMail domains shared by several mailboxes (want some), %d domains with two resellers (want none)", scaledDomains, mixed)
	}
}

func resellerOf(tags []Tag) string {
	for _, tg := range tags {
		n := strings.ToLower(strings.TrimSpace(tg.Name))
		for _, r := range []string{"cheapinboxes", "zapmail", "mailr", "scaledmail"} {
			if strings.HasPrefix(n, r) {
				return r
			}
		}
	}
	return ""
}
